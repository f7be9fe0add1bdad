"""Checks of the local-dynamics figures (hmmrnn.plotting.local) on synthetic arrays that follow the data contract.

Each test reads back what a figure drew (images, bar heights, line data, point colours, texts) and compares it with
the values that went in, so a wrong key, axis or colour rule fails.
"""

import matplotlib
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from matplotlib.collections import LineCollection, PathCollection, PolyCollection
from matplotlib.colors import to_rgb, to_rgba
from matplotlib.image import AxesImage
from matplotlib.text import Text

from hmmrnn.plotting.alignment import figure_alignment, load_alignment
from hmmrnn.plotting.local import (
    RT_BIN_COLORS,
    LocalResults,
    figure_dispersion,
    figure_interventions,
    figure_local_dynamics,
    figure_mean_activities,
    figure_noise_sensitivity,
    figure_preactivation_maps,
    figure_residency,
    figure_subspace_residency,
    figure_weight_blocks,
    load_local_results,
    residency_bins,
)
from hmmrnn.tables import ZONES

matplotlib.use("Agg")


def synthetic_local_arrays(
    rng: np.random.Generator,
    *,
    num_states: int = 120,
    ns_found: bool = True,
    gammas: tuple[float, ...] = (0.0, 0.5, 1.0),
    group_sizes: tuple[int, ...] = (3, 3),
    num_blocks: int = 1,
    num_population: int = 10,
    subspace_sizes: tuple[int, ...] = (),
    num_intervened: int = 2,
) -> dict[str, np.ndarray]:
    """``local.npz`` arrays with every key and shape of the contract; sizes are small and values random."""
    n_track, num_traj, num_steps, map_steps, activity_steps = 80, 4, 5, 40, 60
    mus, shown_mus, num_display, display_steps = np.round(np.arange(0, 2.01, 0.5), 2), np.array([0.0, 1.0, 2.0]), 2, 6

    def residency(count: int) -> dict[str, np.ndarray]:
        time = rng.uniform(1, 40, count)
        zone = np.where(time < 2, 2, np.where(time <= 8, 1, np.where(rng.random(count) < 0.8, 0, 3)))
        return {
            "pc": rng.normal(size=(count, 2)),
            "residency_time": time,
            "sign_changes": rng.integers(0, 15, count).astype(float),
            "unstable_directions": rng.integers(0, 4, count),
            "zone": zone.astype(np.int64),
        }

    whole = residency(num_states)
    arrays = {
        "pca_explained": np.array([0.55, 0.15]),
        "zone_cuts": np.array([2.0, 8.0]),
        "residency_pc": whole["pc"],
        "residency_time": whole["residency_time"],
        "sign_changes": whole["sign_changes"],
        "unstable_directions": whole["unstable_directions"],
        "zone": whole["zone"],
        "subspace_pairs": np.array([[0, 1], [1, 2], [0, 2]][: len(subspace_sizes)], dtype=np.int64).reshape(-1, 2),
        "subspace_shown_components": np.array([1, 3]),
    }
    for pair, count in enumerate(subspace_sizes):
        arrays |= {f"subspace{pair}_{name}": value for name, value in residency(count).items()}
    num_gammas = len(gammas)
    found = 2 if ns_found else 0
    arrays |= {
        "ns_found": np.array(ns_found),
        "track_pc": rng.normal(size=(n_track + 1, 2)) if ns_found else np.zeros((0, 2)),
        "track_outputs": rng.choice([0, 2], n_track + 1) if ns_found else np.zeros(0, dtype=np.int64),
        "ns_gammas": np.array(gammas, dtype=float),
        "ns_trajectories": rng.normal(size=(found, num_gammas, num_traj, num_steps + 1, 2)),
        "ns_trace": rng.uniform(0, 40, (found, num_gammas, num_steps + 1)),
        "ns_distance": rng.uniform(0, 6, (found, num_gammas, num_steps + 1)),
    }
    num_groups = len(group_sizes)
    kick = np.arange(sum(group_sizes), dtype=np.int64) * 7 + 3
    arrays |= {
        "kick_directions": np.array([[0, 2], [2, 0], [0, 1], [1, 0]][:num_groups], dtype=np.int64).reshape(-1, 2),
        "kick_neurons": kick,
        "kick_group": np.repeat(np.arange(num_groups), group_sizes).astype(np.int64),
        "map_pc": rng.normal(size=(map_steps, 2)),
        "map_preactivation": rng.normal(size=(map_steps, len(kick))),
        "map_outputs": rng.choice([0, 2], map_steps),
    }
    pairs = [(i, j) for i in range(num_groups) for j in range(i + 1, num_groups)][:num_blocks]
    arrays["block_pairs"] = np.array(pairs, dtype=np.int64).reshape(-1, 2)
    for block, (i, j) in enumerate(pairs):
        members = kick[(arrays["kick_group"] == i) | (arrays["kick_group"] == j)]
        population = np.arange(num_population, dtype=np.int64) + 100
        arrays |= {
            f"block{block}_kick_kick": rng.normal(size=(len(members), len(members))),
            f"block{block}_kick_population": rng.normal(size=(len(members), num_population)),
            f"block{block}_population_population": rng.normal(size=(num_population, num_population)),
            f"block{block}_kick": members,
            f"block{block}_population": population,
            f"block{block}_num_population_1": np.array(num_population // 2),
        }
    shown_groups = min(num_groups, 2)
    arrays |= {
        "activity_kick": rng.uniform(0, 1, (shown_groups, activity_steps)) if shown_groups else np.zeros((0, 0)),
        "activity_population": rng.uniform(0, 1, (2, activity_steps)) if shown_groups else np.zeros((0, 0)),
        "activity_outputs": np.repeat([0, 2, 0, 2, 0], activity_steps // 5) if shown_groups else np.zeros(0, int),
        "activity_shown_steps": np.array(activity_steps - 10),
    }
    groups = min(num_intervened, num_groups)
    shape = (groups, 3, len(mus))
    arrays |= {
        "intervention_groups": np.arange(groups, dtype=np.int64),
        "intervention_mus": mus,
        "intervention_shown_mus": shown_mus,
        "intervention_display": rng.normal(size=(groups, 3, len(shown_mus), num_display, display_steps + 1, 2)),
        "intervention_critical_mean": rng.uniform(0, 10, shape),
        "intervention_critical_std": rng.uniform(0, 2, shape),
        "intervention_switch_rate": rng.uniform(0, 1, shape),
    }
    return arrays


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    matplotlib.pyplot.close("all")


def texts(figure) -> str:
    """Every text drawn in ``figure`` (titles, labels, messages), one per line."""
    return "\n".join(text.get_text() for text in figure.findobj(Text))


def axes_titled(figure, prefix: str) -> list:
    return [ax for ax in figure.get_axes() if ax.get_title().startswith(prefix)]


def scatter_colors(ax) -> tuple[np.ndarray, np.ndarray]:
    """Offsets and face colours of the first scatter of ``ax``."""
    collection = next(c for c in ax.collections if isinstance(c, PathCollection))
    return collection.get_offsets(), collection.get_facecolors()


# --------------------------------------------------------------------------------------------------------------


def test_residency_bins_follow_the_edges():
    times = np.array([1.0, 1.5, 2.0, 3.9, 4.0, 8.9, 9.0, 20.0])
    assert residency_bins(times, np.array([2.0, 8.0])).tolist() == [0, 0, 1, 1, 2, 2, 3, 3]
    # other cut-offs move the first and last edges; a transition cut above 4 empties the [cut, 4) bin
    assert residency_bins(np.array([2.5, 5.5, 7.0]), np.array([3.0, 6.0])).tolist() == [0, 2, 3]
    assert residency_bins(np.array([4.5, 5.0]), np.array([5.0, 8.0])).tolist() == [0, 2]


def test_rt_scatter_colours_states_by_bin(rng):
    arrays = synthetic_local_arrays(rng, num_states=4)
    arrays["residency_time"] = np.array([1.5, 20.0, 3.0, 6.0])
    arrays["residency_pc"] = np.array([[0.0, 0.0], [1.0, 1.0], [2.0, 2.0], [3.0, 3.0]])
    figure = figure_residency([LocalResults("two", arrays)])
    offsets, colors = scatter_colors(axes_titled(figure, "(a)")[0])
    expected = {0.0: RT_BIN_COLORS[0], 1.0: RT_BIN_COLORS[3], 2.0: RT_BIN_COLORS[1], 3.0: RT_BIN_COLORS[2]}
    for (x, _), color in zip(offsets, colors, strict=True):
        np.testing.assert_allclose(color, to_rgba(expected[x]))
    assert to_rgba(RT_BIN_COLORS[3]) == to_rgba("grey")


def test_zone_bars_are_the_mean_unstable_directions_per_zone(rng):
    arrays = synthetic_local_arrays(rng, num_states=300)
    figure = figure_residency([LocalResults("two", arrays)])
    ax = axes_titled(figure, "(c)")[0]
    heights = [patch.get_height() for patch in ax.patches]
    expected = [arrays["unstable_directions"][arrays["zone"] == ZONES.index(z)].mean() for z in ZONES[2::-1]]
    np.testing.assert_allclose(heights, expected)
    labels = [tick.get_text() for tick in ax.get_xticklabels()]
    assert labels == ["RT < 2\n(Transition)", "2 <= RT <= 8\n(Kick-Zone)", "RT > 8\n(Cluster)"]


def test_sign_change_histogram_counts_every_state(rng):
    arrays = synthetic_local_arrays(rng, num_states=150)
    ax = axes_titled(figure_residency([LocalResults("two", arrays)]), "(b)")[0]
    assert len(ax.patches) == int(arrays["sign_changes"].max())
    assert sum(patch.get_height() for patch in ax.patches) == 150


def test_unstable_scatter_uses_three_categories(rng):
    arrays = synthetic_local_arrays(rng, num_states=50)
    offsets, colors = scatter_colors(axes_titled(figure_residency([LocalResults("two", arrays)]), "(d)")[0])
    category = np.minimum(arrays["unstable_directions"], 2)
    order = np.argsort(category, kind="stable")
    np.testing.assert_allclose(offsets, arrays["residency_pc"][order])
    assert len({tuple(color) for color in colors}) == len(np.unique(category))


def test_residency_has_one_row_per_family(rng):
    results = [LocalResults(f"family {i}", synthetic_local_arrays(rng)) for i in range(3)]
    figure = figure_residency(results)
    assert len(axes_titled(figure, "(a)")) == 3
    assert all(f"family {i}: Residency Analysis" in texts(figure) for i in range(3))


def test_subspace_residency_rows_and_titles(rng):
    results = [
        LocalResults("fully", synthetic_local_arrays(rng, subspace_sizes=(40, 0, 30))),
        LocalResults("chain", synthetic_local_arrays(rng)),
    ]
    figure = figure_subspace_residency(results)
    assert len(axes_titled(figure, "(a)")) == 2  # the empty subspace draws a message instead
    content = texts(figure)
    assert "Outputs 0 & 1 Subspace (PC1 vs PC3)" in content and "Outputs 0 & 2 Subspace (PC1 vs PC3)" in content
    assert "no states in this output-pair subspace" in content and "no output-pair subspace" in content
    ax = axes_titled(figure, "(a)")[0]
    assert ax.get_xlabel() == "subspace PC1" and ax.get_ylabel() == "subspace PC3"


def test_weight_blocks_use_a_symmetric_range_and_show_the_matrices(rng):
    arrays = synthetic_local_arrays(rng, group_sizes=(3, 3, 3), num_blocks=3)
    arrays["block1_population_population"][0, 0] = -25.0  # the largest |w| is negative
    figure = figure_weight_blocks([LocalResults("fully", arrays)], all_blocks=True)
    images = [image for ax in figure.get_axes() for image in ax.get_images()]
    assert len(images) == 9
    for block in range(3):
        matrices = [
            arrays[f"block{block}_{name}"] for name in ("kick_kick", "kick_population", "population_population")
        ]
        limit = max(np.abs(matrix).max() for matrix in matrices)
        for image, matrix in zip(images[3 * block : 3 * block + 3], matrices, strict=True):
            assert isinstance(image, AxesImage) and image.get_cmap().name == "bwr"
            assert image.norm.vmin == -image.norm.vmax == -limit
            np.testing.assert_array_equal(image.get_array(), matrix)
    assert images[3].norm.vmax == 25.0
    kick_kick = images[0].axes
    assert [line.get_ydata()[0] for line in kick_kick.lines if line.get_ydata()[0] == line.get_ydata()[1]] == [2.5]
    assert "Weight value" in texts(figure) and "Integrating Pop. ⇄ Integrating Pop." in texts(figure)


def test_weight_blocks_first_block_only_and_zero_blocks(rng):
    results = [
        LocalResults("fully", synthetic_local_arrays(rng, group_sizes=(3, 3, 3), num_blocks=3)),
        LocalResults("none", synthetic_local_arrays(rng, group_sizes=(), num_blocks=0)),
    ]
    figure = figure_weight_blocks(results)
    assert sum(len(ax.get_images()) for ax in figure.get_axes()) == 3
    assert "no pair of kick groups found" in texts(figure)


def test_noise_sensitivity_panels(rng):
    arrays = synthetic_local_arrays(rng)
    figure = figure_local_dynamics([LocalResults("two", arrays)])
    titles = [ax.get_title() for ax in figure.get_axes()]
    names = [f"{c} (γ={g})" for c in ("Cluster", "Transition") for g in ("0", "0.5", "1")]
    assert all(name in titles for name in names)
    ax = axes_titled(figure, "Transition (γ=0.5)")[0]
    segments = next(c for c in ax.collections if isinstance(c, LineCollection)).get_segments()
    trajectories = arrays["ns_trajectories"][1, 1]
    np.testing.assert_allclose(segments[0], trajectories[0, :2])
    assert len(segments) == trajectories.shape[0] * (trajectories.shape[1] - 1)
    star = [c for c in ax.collections if isinstance(c, PathCollection) and c.get_label() == "start"][0]
    np.testing.assert_allclose(star.get_offsets()[0], trajectories[0, 0])


def test_dispersion_curves_are_the_traces_of_the_right_condition(rng):
    arrays = synthetic_local_arrays(rng)
    figure = figure_dispersion([LocalResults("two", arrays), LocalResults("three", synthetic_local_arrays(rng))])
    trace_ax = axes_titled(figure, "two: trace of covariance")[0]
    distance_ax = axes_titled(figure, "two: mean distance")[0]
    lines = {line.get_label(): line for line in trace_ax.lines}
    assert set(lines) == {"Cluster (γ=0.5)", "Cluster (γ=1)", "Transition (γ=0.5)", "Transition (γ=1)"}
    for start, condition in enumerate(("Cluster", "Transition")):
        for index, gamma in ((1, "0.5"), (2, "1")):
            np.testing.assert_allclose(lines[f"{condition} (γ={gamma})"].get_ydata(), arrays["ns_trace"][start, index])
    distance = {line.get_label(): line.get_ydata() for line in distance_ax.lines}
    np.testing.assert_allclose(distance["Transition (γ=1)"], arrays["ns_distance"][1, 2])
    assert to_rgba(lines["Cluster (γ=0.5)"].get_color()) == to_rgba("royalblue")
    assert to_rgba(lines["Transition (γ=1)"].get_color()) == to_rgba("darkred")


def test_preactivation_maps(rng):
    arrays = synthetic_local_arrays(rng)
    figure = figure_preactivation_maps([LocalResults("two", arrays)])
    panels = axes_titled(figure, "neuron ")
    assert len(panels) == 6
    assert panels[3].get_title().startswith(f"neuron {arrays['kick_neurons'][3]} (group 2→0)")
    limit = np.abs(arrays["map_preactivation"]).max()
    lines = next(c for c in panels[4].collections if isinstance(c, LineCollection))
    assert lines.norm.vmin == -lines.norm.vmax == -limit and lines.get_cmap().name == "seismic"
    np.testing.assert_allclose(lines.get_array(), arrays["map_preactivation"][1:, 4])
    assert "Pre-Activation Value" in texts(figure)


def test_preactivation_titles_carry_the_zone_means(rng):
    arrays = synthetic_local_arrays(rng, group_sizes=(2,))
    table = pd.DataFrame(
        {
            "neuron": arrays["kick_neurons"],
            "zone_cluster_preactivation": [-1.5, -2.0],
            "zone_kick_preactivation": [0.1, 0.0],
            "zone_transition_preactivation": [2.25, 1.0],
        }
    )
    figure = figure_preactivation_maps([LocalResults("two", arrays, kick_neurons=table)])
    assert "cl -1.50 · kz 0.10 · tr 2.25" in axes_titled(figure, "neuron ")[0].get_title()


def test_mean_activities(rng):
    arrays = synthetic_local_arrays(rng)
    ax = figure_mean_activities([LocalResults("two", arrays)]).get_axes()[0]
    shown = int(arrays["activity_shown_steps"])
    lines = {line.get_label(): line for line in ax.lines}
    assert set(lines) == {"Kick group 0→2", "Kick group 2→0", "Integrating pop 1", "Integrating pop 2"}
    np.testing.assert_allclose(lines["Kick group 2→0"].get_ydata(), arrays["activity_kick"][1, :shown])
    assert lines["Integrating pop 1"].get_linestyle() == "--"
    assert to_rgba(lines["Integrating pop 2"].get_color()) == to_rgba("red")
    bands = next(c for c in ax.collections if isinstance(c, PolyCollection))
    outputs = arrays["activity_outputs"][:shown]
    assert len(bands.get_paths()) == 1 + np.count_nonzero(np.diff(outputs))


def test_interventions(rng):
    arrays = synthetic_local_arrays(rng)
    table = pd.DataFrame(
        {"group": [1], "intervention": ["noise_projection"], "mu": [0.0], "used_fallback": [True]}
    )  # only the columns the figure reads
    figure = figure_interventions([LocalResults("two", arrays, interventions=table)])
    assert len(axes_titled(figure, "Kick neurons")) == 2 and len(axes_titled(figure, "Control")) == 2
    bottoms = [ax for ax in figure.get_axes() if ax.get_ylabel() == "# Critical pairs"]
    assert len(bottoms) == 6
    # group 1, noise projection: the grey points are the μ not shown, the highlighted ones μ = 0, 1, 2
    ax = bottoms[4]
    mus = arrays["intervention_mus"]
    plotted = np.concatenate([container.lines[0].get_ydata() for container in ax.containers])
    order = np.concatenate([mus[~np.isin(mus, [0, 1, 2])], [0.0, 1.0, 2.0]])
    expected = arrays["intervention_critical_mean"][1, 1][np.searchsorted(mus, order)]
    np.testing.assert_allclose(plotted, expected)
    highlighted = {c.get_label(): to_rgba(c.lines[0].get_color()) for c in ax.containers if c.get_label()}
    assert highlighted["μ = 0"] == to_rgba("darkblue") and highlighted["μ = 1"] == to_rgba("black")
    assert highlighted["μ = 2"] == to_rgba("darkred")
    assert "windows at the μ = 1 switches" in texts(figure)
    top = axes_titled(figure, "Kick neurons")[0]
    colours = {c.get_label(): tuple(c.get_colors()[0][:3]) for c in top.collections if isinstance(c, LineCollection)}
    assert colours["μ = 0 (inhibition)"] == to_rgb("darkblue") and colours["μ = 1 (nominal)"] == to_rgb("grey")
    assert colours["μ = 2 (excitation)"] == to_rgb("darkred")


def alignment_table() -> pd.DataFrame:
    rows = []
    values = {
        ("linear2", 0): (0.50, True),
        ("linear2", 1): (0.54, True),
        ("linear2", 2): (0.90, False),
        ("linear3", 0): (0.30, False),
        ("linear3", 1): (0.34, False),
    }
    for (hmm, seed), (projection, converged) in values.items():
        for output in range(3):
            rows.append(
                {
                    "hmm": hmm,
                    "hidden_size": 150,
                    "input_dim": 100,
                    "seed": seed,
                    "num_states": int(hmm[-1]),
                    "output": output,
                    "frequency": 0.5,
                    "projection": projection,
                    "angle_degrees": 10.0,
                    "is_included": output != 1,
                    "mean_projection": projection,
                    "is_converged": converged,
                }
            )
    return pd.DataFrame(rows)


@pytest.mark.parametrize("converged_only", [True, False])
def test_alignment_means_over_converged_seeds_with_fallback(converged_only):
    figure = figure_alignment(alignment_table(), converged_only, {"linear2": "M=2", "linear3": "M=3"})
    ax = figure.get_axes()[0]
    container = next(c for c in ax.containers if c.get_label().startswith("mean ± std"))
    linear2 = [0.50, 0.54] if converged_only else [0.50, 0.54, 0.90]
    linear3 = [0.30, 0.34]  # no converged seed: all seeds either way
    np.testing.assert_allclose(container.lines[0].get_xdata(), [2, 3])
    np.testing.assert_allclose(container.lines[0].get_ydata(), [np.mean(linear2), np.mean(linear3)])
    bars = container.lines[2][0].get_segments()
    np.testing.assert_allclose([s[1, 1] - s[0, 1] for s in bars], [2 * np.std(linear2), 2 * np.std(linear3)])
    assert ax.get_xlabel() == "Number of HMM States" and ax.get_ylabel() == "Projections on Plane"
    seeds = [c for c in ax.collections if isinstance(c, PathCollection)]
    assert sum(len(c.get_offsets()) for c in seeds) == 5  # every seed is drawn once
    assert ("none converged: all seeds" in texts(figure)) == converged_only


def test_degenerate_inputs_still_draw_a_figure(rng):
    bare = synthetic_local_arrays(
        rng, num_states=0, ns_found=False, group_sizes=(), num_blocks=0, subspace_sizes=(0,), num_intervened=0
    )
    result = [LocalResults("bare", bare)]
    expected = {
        figure_local_dynamics: ["no states in this space", "no cluster/transition point found"],
        figure_residency: ["no states in this space"],
        figure_subspace_residency: ["no states in this output-pair subspace"],
        figure_noise_sensitivity: ["no cluster/transition point found"],
        figure_dispersion: ["no cluster/transition point found"],
        figure_preactivation_maps: ["no kick neurons found"],
        figure_weight_blocks: ["no pair of kick groups found"],
        figure_interventions: ["no kick group to intervene on"],
        figure_mean_activities: ["no kick groups found"],
    }
    for function, messages in expected.items():
        content, empty = texts(function(result)), texts(function([]))
        matplotlib.pyplot.close("all")
        assert all(message in content for message in messages), function.__name__
        assert "no " in empty and "in the study" in empty, function.__name__
    assert "no readout alignment" in texts(figure_alignment(alignment_table().iloc[:0], True, {}))
    bare["ns_gammas"] = np.zeros(0)  # a producer may also empty the γ grid
    assert "no cluster/transition point found" in texts(figure_noise_sensitivity(result))
    assert "no cluster/transition point found" in texts(figure_dispersion(result))


def test_zero_population_and_missing_zones(rng):
    arrays = synthetic_local_arrays(rng, num_population=0, num_states=30)
    arrays["zone"][:] = ZONES.index("cluster")  # transition and kick-zone empty
    figure = figure_weight_blocks([LocalResults("two", arrays)])
    assert "no integrating population" in texts(figure)
    assert sum(len(ax.get_images()) for ax in figure.get_axes()) == 1
    ax = axes_titled(figure_residency([LocalResults("two", arrays)]), "(c)")[0]
    assert [patch.get_height() for patch in ax.patches][:2] == [0.0, 0.0] and "n=0" in texts(ax.figure)


def test_loaders_read_the_contract_files(tmp_path, rng):
    import pyarrow.parquet as pq

    from hmmrnn.tables import ALIGNMENT_SCHEMA, INTERVENTION_SCHEMA, ZONES_SCHEMA

    arrays = synthetic_local_arrays(rng)
    np.savez(tmp_path / "local.npz", **arrays)
    pq.write_table(ZONES_SCHEMA.empty_table(), tmp_path / "zones.parquet")
    pq.write_table(INTERVENTION_SCHEMA.empty_table(), tmp_path / "interventions.parquet")
    files = {
        "arrays": [str(tmp_path / "local.npz")],
        "zones": [str(tmp_path / "zones.parquet")],
        "interventions": [str(tmp_path / "interventions.parquet")],
        "code": ["ignored.py"],
    }
    (result,) = load_local_results(["linear2"], {"linear2": "linear chain, M=2"}, files)
    assert result.label == "linear chain, M=2" and result.noise_sensitivity is None
    assert list(result.zones.columns) == ZONES_SCHEMA.names and set(result.arrays) == set(arrays)
    np.testing.assert_array_equal(result.arrays["ns_trajectories"], arrays["ns_trajectories"])
    frame = alignment_table()
    pq.write_table(
        pa.Table.from_pandas(frame, preserve_index=False).select(ALIGNMENT_SCHEMA.names),
        tmp_path / "alignment.parquet",
    )
    loaded = load_alignment([tmp_path / "alignment.parquet", tmp_path / "alignment.parquet"])
    assert len(loaded) == 2 * len(frame) and list(loaded.columns) == ALIGNMENT_SCHEMA.names
