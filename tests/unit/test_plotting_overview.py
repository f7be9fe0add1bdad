"""Figs 1 and 9: what the drawn artists hold must be the data given (rasters, edges, emission annotations)."""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import yaml  # noqa: E402
from matplotlib.colors import to_rgba  # noqa: E402
from matplotlib.patches import FancyArrowPatch  # noqa: E402

from hmmrnn.hmm import linear_chain  # noqa: E402
from hmmrnn.plotting import OUTPUT_COLORS  # noqa: E402
from hmmrnn.plotting.overview import draw_emission_matrix, draw_transition_graph, figure_architectures, figure_paradigm
from hmmrnn.study import family_labels, hmm_matrices  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
# a 3-state HMM whose transition 0 -> 2 (0.0005) is below the drawing threshold and whose pairs are asymmetric
ASYMMETRIC = np.array([[0.9, 0.0995, 0.0005], [0.2, 0.7, 0.1], [0.3, 0.3, 0.4]])


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def drawn_edges(ax) -> dict[str, str]:
    """gid of every arrow -> the text of its label."""
    labels = {text.get_gid(): text.get_text() for text in ax.texts if text.get_gid()}
    return {
        patch.get_gid(): labels[patch.get_gid().replace("edge", "label")]
        for patch in ax.patches
        if isinstance(patch, FancyArrowPatch)
    }


def test_paradigm_rasters_show_the_given_sequences_in_the_output_colours():
    rng = np.random.default_rng(0)
    hmm_outputs = rng.integers(0, 3, size=(7, 11)).astype(np.uint8)
    rnn_outputs = np.zeros((7, 11), dtype=np.uint8)
    rnn_outputs[:, 5:] = 2  # frequencies 0: 5/11, 2: 6/11
    figure = figure_paradigm(hmm_outputs, rnn_outputs, ASYMMETRIC, "own, M=3", "H=8, d=4, seed 0")
    rasters = {ax.get_title().split(" ")[0]: ax for ax in figure.axes if ax.images}
    assert set(rasters) == {"HMM", "representative"}
    np.testing.assert_array_equal(rasters["HMM"].images[0].get_array(), hmm_outputs)
    np.testing.assert_array_equal(rasters["representative"].images[0].get_array(), rnn_outputs)
    image = rasters["HMM"].images[0]
    for symbol, color in enumerate(OUTPUT_COLORS):
        assert image.cmap(image.norm(symbol)) == pytest.approx(to_rgba(color))
    expected = np.bincount(hmm_outputs.ravel(), minlength=3) / hmm_outputs.size
    assert "  ".join(f"{k}: {f:.2f}" for k, f in enumerate(expected)) in rasters["HMM"].get_title()
    assert "0: 0.45  1: 0.00  2: 0.55" in rasters["representative"].get_title()
    legend = rasters["representative"].get_legend()
    assert [text.get_text() for text in legend.get_texts()] == ["output 0", "output 1", "output 2"]
    # the small transition graph is the HMM's
    (graph,) = [ax for ax in figure.axes if ax.get_title() == "own, M=3"]
    assert "edge 0->1" in drawn_edges(graph)


def test_paradigm_rejects_rasters_of_different_shapes():
    with pytest.raises(ValueError, match=r"\(4, 5\) and \(4, 6\)"):
        figure_paradigm(np.zeros((4, 5)), np.zeros((4, 6)), ASYMMETRIC, "x", "y")


def test_transitions_below_the_threshold_are_not_drawn_and_the_others_carry_their_probability():
    _, ax = plt.subplots()
    draw_transition_graph(ax, ASYMMETRIC, min_probability=1e-3)
    assert drawn_edges(ax) == {
        "edge 0->1": "0.1",  # 0.0995 to two significant digits
        "edge 1->0": "0.2",
        "edge 1->2": "0.1",
        "edge 2->0": "0.3",
        "edge 2->1": "0.3",
    }
    loops = {text.get_gid(): text.get_text() for text in ax.texts if str(text.get_gid()).startswith("self")}
    assert loops == {"self 0": "↻ 0.9", "self 1": "↻ 0.7", "self 2": "↻ 0.4"}


def test_equal_transitions_both_ways_share_one_arrow():
    _, ax = plt.subplots()
    draw_transition_graph(ax, linear_chain(3, 0.05).transition_matrix)
    q = 0.05**0.5  # PAPER_SPEC §1.2: q = p^(1/(M-1)); states 0 and 2 are not linked
    assert drawn_edges(ax) == {"edge 0-1": f"{q:.2g}", "edge 1-2": f"{q:.2g}"}


def test_emission_heat_map_annotates_each_entry_at_its_cell():
    emission = np.array([[0.7, 0.2, 0.1], [0.05, 0.15, 0.8]])
    _, ax = plt.subplots()
    draw_emission_matrix(ax, emission)
    np.testing.assert_array_equal(ax.images[0].get_array(), emission)
    annotated = np.full(emission.shape, np.nan)
    for text in ax.texts:
        column, row = text.get_position()
        annotated[int(row), int(column)] = float(text.get_text())
    np.testing.assert_allclose(annotated, emission)


def test_architectures_have_one_column_per_family_in_config_order_including_a_custom_hmm():
    config = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    custom = {
        "kind": "custom",
        "transition_matrix": [[0.9, 0.1], [0.2, 0.8]],
        "emission_matrix": [[0.7, 0.2, 0.1], [0.1, 0.2, 0.7]],
        "start_distribution": [0.5, 0.5],
        "seq_len": 10,
        "eval_seq_len": 10,
        "epochs": 4,
        "grad_clip": 0.5,
    }
    config["hmms"] = {"own": custom, **config["hmms"]}  # first, so neither sorted nor built-in order would pass
    matrices = {hmm: hmm_matrices(config, hmm) for hmm in config["hmms"]}
    labels = family_labels(config)
    figure = figure_architectures(matrices, labels)
    families = list(config["hmms"])
    graphs, heat_maps = figure.axes[: len(families)], figure.axes[len(families) :]
    assert [ax.get_title() for ax in graphs] == [labels[hmm] for hmm in families]
    assert labels["own"] == "own, M=2"
    for ax, hmm in zip(heat_maps, families, strict=True):
        np.testing.assert_allclose(ax.images[0].get_array(), matrices[hmm]["emission_matrix"])
    assert drawn_edges(graphs[0]) == {"edge 0->1": "0.1", "edge 1->0": "0.2"}
