"""Orchestration of the global-dynamics analyses (hmmrnn.analysis) and the claim rows, on hand-made inputs."""

import copy
import dataclasses
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
import torch
import yaml

from hmmrnn import study
from hmmrnn.analysis.density import density_contours
from hmmrnn.analysis.evolution import analyze_evolution, second_order_scaling_deviation
from hmmrnn.analysis.global_dynamics import analyze_global
from hmmrnn.analysis.representative import candidate_file, representative_key, select_representatives
from hmmrnn.analysis.runs import bounded_prefix, contiguous_runs
from hmmrnn.analysis.settings import (
    ContourSettings,
    EigenSettings,
    EvolutionSettings,
    GlobalSettings,
    SubspaceSettings,
)
from hmmrnn.analysis.subspaces import analyze_subspaces
from hmmrnn.analysis.transitions import loss_rise_near, sampled_epochs
from hmmrnn.claims.checks import Check, claim_rows, judge, statistic_rows
from hmmrnn.dynamics.simulation import Weights
from hmmrnn.errors import ConfigError
from hmmrnn.io import read_parquet, write_parquet_atomic
from hmmrnn.tables import (
    CLAIM_STATISTICS_SCHEMA,
    CLAIMS_SCHEMA,
    EVOLUTION_SCHEMA,
    GLOBAL_SCHEMA,
    RADIUS_SCHEMA,
    REPRESENTATIVE_SCHEMA,
    SECOND_ORDER_SCHEMA,
    SPECTRUM_SCHEMA,
    SUBSPACE_SCHEMA,
    TRANSITION_SCHEMA,
)

REPO = Path(__file__).resolve().parents[2]
CONFIG = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
F64 = torch.float64
KEY = {"hmm": "toy", "hidden_size": 4, "input_dim": 2, "seed": 0}


def merged(base: dict, override: dict) -> dict:
    """``override`` merged into a copy of ``base`` (dicts recursively, as Snakemake merges config files)."""
    result = copy.deepcopy(base)
    for name, value in override.items():
        result[name] = merged(result[name], value) if isinstance(value, dict) and name in result else value
    return result


def conforms(frame: pd.DataFrame, schema: pa.Schema) -> None:
    table = pa.Table.from_pandas(frame, schema=schema, preserve_index=False)
    assert table.schema.names == schema.names


# ---------------------------------------------------------------------------------------------------------------
# representative models
# ---------------------------------------------------------------------------------------------------------------


def hand_made_tables() -> tuple[pd.DataFrame, pd.DataFrame]:
    rows = [
        # hmm, H, d, seed, converged, distance
        ("a", 150, 100, 0, False, 1.0),
        ("a", 150, 100, 1, True, 3.0),
        ("a", 150, 100, 2, True, 2.0),
        ("a", 50, 1, 0, True, 0.5),  # another cell: never a candidate
        ("b", 150, 100, 0, False, 5.0),
        ("b", 150, 100, 1, False, 4.0),
        ("c", 150, 100, 0, True, 1.0),
        ("c", 150, 100, 3, True, 9.0),
    ]
    training = pd.DataFrame(
        [(h, H, d, s, c) for h, H, d, s, c, _ in rows],
        columns=["hmm", "hidden_size", "input_dim", "seed", "is_converged"],
    )
    metrics = pd.DataFrame(
        [(h, H, d, s, source, "distance_mean", v) for h, H, d, s, _, v in rows for source in ("rnn", "hmm")],
        columns=["hmm", "hidden_size", "input_dim", "seed", "source", "metric", "value"],
    )
    metrics.loc[metrics["source"] == "hmm", "value"] = 0.0  # the baseline rows must not be used
    return training, metrics


def test_representative_is_the_best_converged_seed_else_the_best_unconverged_or_the_override():
    training, metrics = hand_made_tables()
    table = select_representatives(
        training,
        metrics,
        candidates={"a": [0, 1, 2], "b": [0, 1], "c": [0, 3]},
        hidden_size=150,
        input_dim=100,
        seeds={"c": 3},
    )
    conforms(table, REPRESENTATIVE_SCHEMA)
    chosen = table.set_index("hmm")
    assert chosen.loc["a", "seed"] == 2 and chosen.loc["a", "is_converged"]  # seed 0 scores best but did not converge
    assert (chosen.loc["a", "num_candidates"], chosen.loc["a", "num_converged"]) == (3, 2)
    assert chosen.loc["b", "seed"] == 1 and not chosen.loc["b", "is_converged"]  # fallback, recorded as unconverged
    assert chosen.loc["c", "seed"] == 3 and chosen.loc["c", "is_override"]
    assert chosen.loc["a", "distance_mean"] == 2.0
    assert representative_key(table, "b") == {"hmm": "b", "hidden_size": 150, "input_dim": 100, "seed": 1}
    assert candidate_file(["s0.pt", "s1.pt"], [0, 1], 1) == "s1.pt"
    with pytest.raises(ValueError, match="missing from the training table"):
        select_representatives(training, metrics, candidates={"b": [0, 7]}, hidden_size=150, input_dim=100, seeds={})


def test_study_lists_candidates_figure_families_and_rejects_a_bad_override():
    assert study.representative_candidates(CONFIG) == {hmm: [0, 1, 2] for hmm in CONFIG["hmms"]}
    assert study.evolution_families(CONFIG) == list(CONFIG["hmms"])
    families = study.global_figure_families(CONFIG)
    assert families["fig03"] == ["linear2"] and families["fig13"] == ["fully", "cyclic"]
    assert families["fig15"] == ["linear3", "linear4", "linear5", "fully", "cyclic"]
    e2e = merged(CONFIG, yaml.safe_load((REPO / "tests" / "e2e" / "config.yaml").read_text()))
    assert study.representative_candidates(e2e) == {"linear2": [0], "cyclic": [0], "own": [0]}
    assert study.global_figure_families(e2e)["fig14"] == ["cyclic", "own"]
    no_snapshots = merged(CONFIG, {"training": {"evolution": {"every": 0}}})
    assert study.global_figure_families(no_snapshots)["fig04"] == []
    assert study.evolution_group(CONFIG, "linear2")["max_epochs"] == {"linear2": 250}
    assert study.evolution_group(CONFIG, "fully")["max_epochs"] == {}
    study.check_analysis_config(CONFIG)
    with pytest.raises(ConfigError, match=r"analysis\.representative\.seeds\.fully: no model fully .* seed=7"):
        study.check_analysis_config(merged(CONFIG, {"analysis": {"representative": {"seeds": {"fully": 7}}}}))
    with pytest.raises(ConfigError, match=r"analysis\.figures\.multi_orbit: unknown HMM \['ring'\]"):
        study.check_analysis_config(merged(CONFIG, {"analysis": {"figures": {"multi_orbit": ["ring"]}}}))


# ---------------------------------------------------------------------------------------------------------------
# building blocks
# ---------------------------------------------------------------------------------------------------------------


def test_claim_rows_compare_statistics_with_thresholds_and_fail_missing_ones():
    rows = claim_rows(
        [
            Check(3, "spread", 1e-5, "<", 1e-3),
            Check(3, "count", 1, "==", 1),
            Check(6, "r_squared", 0.95, ">=", 0.99),
            Check(7, "missing", math.nan, "<=", 0.1),
            Check(7, "infinite", math.inf, ">", 0.0),
        ],
        **KEY,
    )
    conforms(rows, CLAIMS_SCHEMA)
    assert rows["is_passed"].tolist() == [True, True, False, False, False]
    assert (rows["hmm"] == "toy").all() and rows["claim"].tolist() == [3, 3, 6, 7, 7]
    with pytest.raises(ValueError, match="unknown operator"):
        claim_rows([Check(1, "x", 1.0, "~", 1.0)], **KEY)


def test_judged_statistics_equal_the_claim_rows_of_their_resolved_thresholds(tmp_path):
    thresholds = {"fixed_point": {"max_relative_spread": 1e-3}, "radius": {"min_r_squared": 0.99}}
    checks = [
        Check(3, "spread", 1e-5, "<", "fixed_point.max_relative_spread"),
        Check(3, "count", 1, "==", 1),
        Check(6, "r_squared", 0.95, ">=", "radius.min_r_squared"),
        Check(7, "missing", math.nan, "<=", 0.1),
    ]
    statistics = statistic_rows(checks, **KEY)
    conforms(statistics, CLAIM_STATISTICS_SCHEMA)
    write_parquet_atomic(statistics, tmp_path / "statistics.parquet", CLAIM_STATISTICS_SCHEMA)  # as the rules do
    judged = judge(read_parquet(tmp_path / "statistics.parquet", CLAIM_STATISTICS_SCHEMA), thresholds)
    resolved = [checks[0]._replace(threshold=1e-3), checks[1], checks[2]._replace(threshold=0.99), checks[3]]
    pd.testing.assert_frame_equal(judged, claim_rows(resolved, **KEY))
    both = pd.concat([statistics, statistics.assign(seed=KEY["seed"] + 1)], ignore_index=True)
    assert judge(both, thresholds)["seed"].tolist() == [KEY["seed"]] * 4 + [KEY["seed"] + 1] * 4
    with pytest.raises(KeyError, match="radius.min_r_squared"):
        judge(statistics, {"fixed_point": {"max_relative_spread": 1e-3}})


def test_density_contour_at_proportion_p_leaves_about_p_of_the_points_outside():
    rng = np.random.default_rng(0)
    points = rng.normal(size=(4000, 2)) * [2.0, 0.5] + [3.0, -1.0]
    grid = density_contours(
        points,
        proportions=(0.01, 0.05, 0.2),
        bw_adjust=0.5,
        max_points=1000,
        grid_size=80,
        rng=np.random.default_rng(1),
    )
    assert grid.density.shape == (80, 80) and grid.levels[0] < grid.levels[1] < grid.levels[2]
    # density at each point by nearest grid node
    ix = np.abs(grid.x[None, :] - points[:, :1]).argmin(axis=1)
    iy = np.abs(grid.y[None, :] - points[:, 1:]).argmin(axis=1)
    inside = grid.density[iy, ix] >= grid.levels[1]
    assert inside.mean() == pytest.approx(0.95, abs=0.03)
    degenerate = density_contours(
        np.zeros((50, 2)), proportions=(0.05,), bw_adjust=1, max_points=10, grid_size=5, rng=np.random.default_rng(0)
    )
    assert np.isnan(degenerate.levels).all()


def test_runs_epochs_and_bounded_prefix():
    starts, lengths = contiguous_runs(np.array([1, 1, 0, 1, 0, 0, 1, 1, 1], dtype=bool))
    assert starts.tolist() == [0, 3, 6] and lengths.tolist() == [2, 1, 3]
    assert contiguous_runs(np.zeros(4, dtype=bool))[1].size == 0
    every_five = [1, *range(5, 96, 5)]
    assert sampled_epochs(every_five, 10) == [1, 10, 20, 30, 40, 50, 60, 70, 80, 90]
    assert sampled_epochs(range(1, 501), 10, max_epoch=250) == list(range(1, 242, 10))
    states = torch.tensor([[1.0, 0.0], [2.0, 0.0], [math.inf, 0.0], [1.0, 0.0]])
    assert bounded_prefix(states, 10.0).shape[0] == 2
    assert bounded_prefix(states[:2], 1.5).shape[0] == 1


def test_loss_rise_is_measured_at_a_local_maximum_after_a_decrease_near_the_transition():
    epochs = np.arange(1, 101)
    loss = 10 - 0.05 * epochs + 1.0 * np.exp(-0.5 * ((epochs - 50) / 3) ** 2)  # a bump at epoch 50
    history = pd.DataFrame({"epoch": epochs, "val_loss": loss})
    rise = loss_rise_near(history, 50, window=20, smoothing=1)
    running_min = loss[:49].min()
    assert rise == pytest.approx(loss[49] / running_min - 1, rel=1e-9)
    assert loss_rise_near(history, 90, window=10, smoothing=1) == 0.0  # no maximum near epoch 90
    assert math.isnan(loss_rise_near(history, None, window=10, smoothing=1))
    rising = pd.DataFrame({"epoch": epochs, "val_loss": np.r_[np.linspace(1, 2, 50), np.linspace(2, 0.5, 50)]})
    assert loss_rise_near(rising, 50, window=10, smoothing=1) == 0.0  # rose from the start: no second descent


# ---------------------------------------------------------------------------------------------------------------
# the analyses on networks with known answers
# ---------------------------------------------------------------------------------------------------------------


def small_config(**override):
    small = {
        "global_dynamics": {
            "pca_steps": 2000,
            "no_input_trajectories": 5,
            "no_input_steps": 10,
            "input_trajectories": 2,
            "input_steps": 20,
            "jacobian_steps": 200,
            "spectrum_samples": 10,
            "fixed_point_initial_states": 20,
            "fixed_point_steps": 100,
            "fixed_point_refine_steps": 5,
        },
        "contours": {"noise_steps": 3000, "max_points": 200, "grid_size": 20},
        "subspaces": {"steps": 2000, "min_run_length": 5, "max_trajectory_steps": 30},
        "evolution": {"epoch_stride": 1, "num_steps": 300, "second_order_trials": 8, "pca_points": 40},
        "claims": {"fixed_point": {"min_initial_states": 20}, "orbit": {"norm_window": [100, 2000]}},
    }
    return merged(CONFIG, {"analysis": merged(small, override)})


def contracting_network() -> Weights:
    """h' = ReLU(0.5 h + W_ih x): the origin is the only fixed point and every Jacobian has |λ| ≤ 0.5."""
    g = torch.Generator().manual_seed(0)
    W_ih = torch.randn(4, 2, generator=g, dtype=F64)
    W_o = torch.tensor([[1.0, -1.0, 0.0, 0.0], [0.0, 0.0, 1.0, -1.0], [-1.0, 1.0, -1.0, 1.0]], dtype=F64)
    return Weights(W_ih=W_ih, W_hh=0.5 * torch.eye(4, dtype=F64), W_o=W_o)


def test_global_analysis_finds_the_single_fixed_point_and_a_linear_radius():
    config = small_config()
    analysis = config["analysis"]
    result = analyze_global(
        contracting_network(),
        KEY,
        settings=GlobalSettings.from_params(analysis["global_dynamics"]),
        contours=ContourSettings.from_params(analysis["contours"]),
        eigenvalues=EigenSettings.from_params(analysis["eigenvalues"]),
        max_state_norm=analysis["max_state_norm"],
        claims=config["analysis"]["claims"],
        seed=1,
    )
    for frame, schema in (
        (result.summary, GLOBAL_SCHEMA),
        (result.radius, RADIUS_SCHEMA),
        (result.spectrum, SPECTRUM_SCHEMA),
        (judge(result.statistics, config["analysis"]["claims"]), CLAIMS_SCHEMA),
    ):
        conforms(frame, schema)
    summary = result.summary.iloc[0]
    assert summary["num_fixed_points"] == 1 and summary["fixed_point_norm"] < 1e-9
    assert summary["endpoint_spectral_radius"] <= 0.5 + 1e-12 and summary["unstable_fraction"] == 0.0
    assert summary["is_bounded"] and summary["num_steps"] == 2000
    assert summary["radius_r_squared"] > 0.99  # Fact A: radius ∝ noise std
    claims = judge(result.statistics, config["analysis"]["claims"]).set_index("check")["is_passed"]
    assert claims[
        ["num_initial_states", "num_fixed_points", "relative_spread", "relative_residual", "relative_norm"]
    ].all()
    assert claims[["r_squared", "intercept_ratio"]].all()
    fixed = result.spectrum[result.spectrum["source"] == "fixed_point"]
    assert len(fixed) == 4 and (fixed["modulus"] <= 0.5 + 1e-12).all()
    arrays = result.arrays
    assert arrays["no_input"].shape == (5, 11, 3) and arrays["input"].shape == (2, 21, 3)
    assert arrays["kde_density"].shape == (5, 20, 20) and np.isfinite(arrays["kde_levels"]).all()
    start_spread = np.abs(arrays["no_input"][:, 0] - arrays["fixed_points"][0]).max()
    assert np.abs(arrays["no_input"][:, -1] - arrays["fixed_points"][0]).max() < 1e-2 * start_spread  # 0.5^10


def test_subspace_analysis_has_one_row_per_pair_and_a_claim():
    config = small_config()
    analysis = config["analysis"]
    result = analyze_subspaces(
        contracting_network(),
        KEY,
        settings=SubspaceSettings.from_params(analysis["subspaces"]),
        contours=ContourSettings.from_params(analysis["contours"]),
        max_state_norm=analysis["max_state_norm"],
        claims=config["analysis"]["claims"],
        seed=1,
    )
    conforms(result.table, SUBSPACE_SCHEMA)
    conforms(judge(result.statistics, config["analysis"]["claims"]), CLAIMS_SCHEMA)
    assert result.table[["output_a", "output_b"]].values.tolist() == [[0, 1], [1, 2], [0, 2]]
    assert result.table["occupancy"].sum() == pytest.approx(1.0)  # every switch is between some pair
    assert judge(result.statistics, config["analysis"]["claims"])["check"].iloc[0] == "num_pairs_checked"
    assert result.arrays["kde_density"].shape == (3, 5, 20, 20)


def rotation_snapshots() -> dict[str, torch.Tensor]:
    """Epochs 1-3: W = 0.5 I (no complex eigenvalue); epochs 4-6: a rotation by 0.5 rad (|λ| = 1, Im w > 0)."""
    c, s = math.cos(0.5), math.sin(0.5)
    contracting = 0.5 * torch.eye(2, dtype=F64)
    rotating = torch.tensor([[c, -s], [s, c]], dtype=F64)
    W_hh = torch.stack([contracting] * 3 + [rotating] * 3)
    W_ih = torch.eye(2, dtype=F64).expand(6, 2, 2).clone()
    W_o = torch.tensor([[1.0, 0.0], [0.0, 1.0], [-1.0, -1.0]], dtype=F64).expand(6, 3, 2).clone()
    return {
        "epoch": torch.arange(1, 7),
        "rnn.weight_hh_l0": W_hh,
        "rnn.weight_ih_l0": W_ih,
        "readout.weight": W_o,
        "hidden_size": 2,  # plain values in evolution.pt are ignored
    }


def test_evolution_detects_the_epoch_at_which_complex_eigenvalues_appear():
    config = small_config(evolution={"transition_report": "after"}, claims={"double_descent": {"smoothing": 1}})
    analysis = config["analysis"]
    history = pd.DataFrame({"epoch": np.arange(1, 7), "val_loss": [5.0, 4.0, 3.0, 3.5, 2.0, 1.0]})
    result = analyze_evolution(
        rotation_snapshots(),
        history,
        {**KEY, "hidden_size": 2},
        settings=EvolutionSettings.from_params(study.evolution_group(config, "toy")),
        eigenvalues=EigenSettings.from_params(analysis["eigenvalues"]),
        max_state_norm=analysis["max_state_norm"],
        claims=config["analysis"]["claims"],
        seed=1,
    )
    for frame, schema in (
        (result.epochs, EVOLUTION_SCHEMA),
        (result.second_order, SECOND_ORDER_SCHEMA),
        (result.transition, TRANSITION_SCHEMA),
        (judge(result.statistics, config["analysis"]["claims"]), CLAIMS_SCHEMA),
    ):
        conforms(frame, schema)
    epochs = result.epochs.set_index("epoch")
    assert (epochs.loc[[1, 2, 3], "critical_fraction"] == 0).all()
    assert (epochs.loc[[4, 5, 6], "critical_fraction"] > 0.02).all()
    assert (epochs["unstable_fraction"] == 0).all()  # |λ| = 1 is not unstable
    transition = result.transition.iloc[0]
    assert transition["transition_epoch"] == 4 and transition["coarse_transition_epoch"] == 4
    assert 4 in transition["epochs_shown"] and result.arrays["coordinates"].shape == (
        len(transition["epochs_shown"]),
        40,
        2,
    )
    assert len(result.second_order) == 6 * 2
    claims = judge(result.statistics, config["analysis"]["claims"]).set_index("check")
    assert claims.loc["transition_epoch_found", "is_passed"]
    assert claims.loc["critical_fraction_before", "is_passed"]
    assert math.isfinite(claims.loc["second_order_scaling_deviation", "statistic"])  # claim 8's σ² scaling
    assert claims.loc["loss_rise_near_transition", "statistic"] == pytest.approx(3.5 / 3.0 - 1)


def test_second_order_response_scales_with_the_noise_variance_exactly_when_the_base_trajectory_is_fixed():
    """E[δh⁽²⁾] is quadratic in the perturbation noise around a given noise-free trajectory: without warm-up
    (the base does not depend on σ), or from h̄ = 0 without trial offset (ReLU is positively homogeneous, so the
    warm-up base scales with σ and the gates do not change), E[δh⁽²⁾](σ)/σ² is the same for every σ. Started
    away from the origin, the noisy warm-up moves the base with σ, and the ratio changes."""
    settings = EvolutionSettings.from_params(study.evolution_group(small_config(), "toy"))
    g = torch.Generator().manual_seed(0)
    H, d = 6, 3
    weights = Weights(
        W_ih=torch.randn(H, d, generator=g, dtype=F64),
        W_hh=0.9 * torch.linalg.qr(torch.randn(H, H, generator=g, dtype=F64))[0],
        W_o=torch.randn(3, H, generator=g, dtype=F64),
    )
    stds, streams = [0.5, 1.0, 2.0], (0, "scaling")
    away = 5 * torch.ones(H, dtype=F64)
    fixed_base = dataclasses.replace(settings, second_order_warmup_steps=0)
    homogeneous = dataclasses.replace(settings, second_order_init_scale=0.0)
    assert settings.second_order_warmup_steps > 0
    assert second_order_scaling_deviation(weights, away, fixed_base, stds, streams) < 1e-12
    assert second_order_scaling_deviation(weights, torch.zeros(H, dtype=F64), homogeneous, stds, streams) < 1e-12
    assert second_order_scaling_deviation(weights, away, homogeneous, stds, streams) > 1e-3
