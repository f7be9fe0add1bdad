"""The local-analysis pipeline (hmmrnn.analysis.local) and the study-level claims (hmmrnn.claims)."""

import matplotlib
import numpy as np
import pandas as pd
import pytest
import torch
import yaml

from hmmrnn import study
from hmmrnn.analysis.alignment import analyze_alignment
from hmmrnn.analysis.local import LOCAL_CLAIMS, analyze_local, mu_grid
from hmmrnn.analysis.settings import EigenSettings, LocalSettings
from hmmrnn.claims.alignment import alignment_claims
from hmmrnn.claims.checks import judge
from hmmrnn.claims.study import emission_claims, grid_claims
from hmmrnn.claims.summary import CLAIM_TITLES, claims_summary
from hmmrnn.dynamics.simulation import Weights
from hmmrnn.hmm import build_hmm
from hmmrnn.plotting.local import (
    LocalResults,
    figure_dispersion,
    figure_interventions,
    figure_local_dynamics,
    figure_mean_activities,
    figure_noise_sensitivity,
    figure_preactivation_maps,
    figure_residency,
    figure_weight_blocks,
)
from hmmrnn.tables import ZONES
from tests.unit.test_analysis_steps import random_weights
from tests.unit.test_plotting_local import texts

KEY = {"hmm": "toy", "hidden_size": 12, "input_dim": 3, "seed": 0}


def small_settings() -> LocalSettings:
    config = yaml.safe_load(open("config/config.yaml"))
    params = study.local_group(config, "linear2")
    params["residency"].update(num_states=300, num_rollouts=3, max_steps=15)
    params["locate"].update(num_steps=300, min_switch_time=20, num_rollouts=5, max_simulations=1)
    params["noise_sensitivity"].update(num_trajectories=6, num_display=2)
    params["kick_neurons"].update(num_steps=400, min_switches=2, max_cluster_active_fraction=1.0, map_steps=30)
    params["kick_neurons"].update(silencing_trajectories=5, silencing_steps=10)
    params["populations"].update(num_per_population=2)
    params["mean_activities"].update(num_steps=60, shown_steps=50)
    params["interventions"].update(mu_step=1.0, num_trajectories=4, num_steps=10, statistics_steps=60, window=3)
    return LocalSettings.from_params(params)


def shared_settings(config) -> dict:
    """The other arguments of :func:`analyze_local` for a family without pair subspaces."""
    analysis = config["analysis"]
    return {
        "subspaces": None,
        "eigenvalues": EigenSettings.from_params(analysis["eigenvalues"]),
        "max_state_norm": analysis["max_state_norm"],
    }


@pytest.fixture(scope="module")
def analysis():
    config = yaml.safe_load(open("config/config.yaml"))
    run = lambda seed: analyze_local(  # noqa: E731
        random_weights(12, 3, 7),
        KEY,
        settings=small_settings(),
        **shared_settings(config),
        claims=config["analysis"]["claims"],
        seed=seed,
    )
    return run(1), run(1), run(2)


def test_same_seed_gives_identical_tables_and_kick_indices(analysis):
    first, again, other = analysis
    for name in ("zones", "noise_sensitivity", "kick_neurons", "populations", "interventions", "statistics"):
        pd.testing.assert_frame_equal(getattr(first, name), getattr(again, name))
    for name, array in first.arrays.items():
        np.testing.assert_array_equal(array, again.arrays[name], err_msg=name)
    assert not np.array_equal(first.arrays["residency_time"], other.arrays["residency_time"])


def test_zone_table_matches_the_per_state_arrays(analysis):
    result = analysis[0]
    arrays, table = result.arrays, result.zones.set_index("zone")
    codes = arrays["zone"]
    for code, zone in enumerate(ZONES):
        mask = codes == code
        assert table.loc[zone, "count"] == mask.sum()
        if mask.any():
            assert table.loc[zone, "mean_residency_time"] == pytest.approx(arrays["residency_time"][mask].mean())
    # the §6.8 cut-offs: transition states have RT below the first cut-off, clusters above the second
    cuts = arrays["zone_cuts"]
    assert (arrays["residency_time"][codes == ZONES.index("transition")] < cuts[0]).all()
    assert (arrays["residency_time"][codes == ZONES.index("cluster")] > cuts[1]).all()


def test_claims_follow_the_tables(analysis):
    result = analysis[0]
    claims = judge(result.statistics, yaml.safe_load(open("config/config.yaml"))["analysis"]["claims"])
    assert set(claims["claim"]) >= {5, 9, 10, 11, 12, 13}
    if result.arrays["ns_found"]:  # γ = 0 replays identical noise: zero dispersion, exactly
        row = claims[claims["check"] == "trace_at_gamma_0"].iloc[0]
        assert row["statistic"] == 0 and row["is_passed"]
    kicks = result.kick_neurons
    assert kicks["neuron"].tolist() == result.arrays["kick_neurons"].tolist()
    assert (kicks.groupby("group")["neuron"].nunique() <= 3).all()


def test_mu_grid_contains_the_shown_values():
    settings = small_settings().interventions
    grid = mu_grid(settings)
    assert grid[0] == 0 and grid[-1] == settings.mu_max
    assert set(np.round(settings.shown_mus, 9)) <= set(grid)


def alignment_table(projections: dict[int, float], converged: bool = True) -> pd.DataFrame:
    rows = [
        {"hmm": f"linear{m}", "hidden_size": 150, "input_dim": 100, "seed": s, "num_states": m, "output": 0,
         "frequency": 0.5, "projection": p + 0.01 * s, "angle_degrees": 0.0, "is_included": True,
         "mean_projection": p + 0.01 * s, "is_converged": converged}
        for m, p in projections.items()
        for s in (0, 1)
    ]  # fmt: skip
    return pd.DataFrame(rows)


def test_alignment_claim_passes_only_when_the_projection_falls_with_m():
    families = ["linear2", "linear3", "linear4", "linear5"]
    falling = alignment_claims(
        alignment_table({2: 0.5, 3: 0.32, 4: 0.27, 5: 0.26}), families, converged_only=True, min_drop=0.1
    )
    assert falling["is_passed"].all()
    assert falling.loc[falling["check"] == "projection_drop", "statistic"].item() == pytest.approx(0.24)
    rising = alignment_claims(
        alignment_table({2: 0.2, 3: 0.3, 4: 0.4, 5: 0.5}), families, converged_only=True, min_drop=0.1
    )
    assert not rising["is_passed"].any()


def test_emission_claims_and_summary_fractions():
    training = pd.DataFrame(
        {
            "hmm": ["a", "a", "b"],
            "hidden_size": 8,
            "input_dim": 4,
            "seed": [0, 1, 0],
            "distance_ratio": [1.0, 1.2, 0.9],
            "max_transition_sq_diff": [0.01, 0.01, 0.01],
            "max_frequency_error": [0.01, 0.01, 0.01],
            "switch_rel_error": [0.1, 0.1, 0.1],
        }
    )
    thresholds = {
        "max_distance_ratio": 1.1,
        "max_transition_sq_diff": 0.02,
        "max_frequency_error": 0.05,
        "max_switch_rel_error": 0.25,
    }
    claims = emission_claims(training, thresholds, min_fraction=0.9)
    grid = claims[claims["seed"] == -1].iloc[0]
    assert grid["statistic"] == pytest.approx(2 / 3) and not grid["is_passed"]
    summary = claims_summary(claims).set_index("claim")
    # 3 models + the grid row; models a/0 and b/0 pass every check
    assert summary.loc[1, "num_models"] == 4
    assert summary.loc[1, "fraction_models_passing"] == pytest.approx(2 / 4)
    assert summary.loc[1, "status"] == "partly"
    assert set(summary.index) == set(CLAIM_TITLES)
    assert (summary.drop(index=1)["status"] == "not checked").all()


def distance_metrics(distances: dict[tuple[int, int], float], baseline: float) -> pd.DataFrame:
    """Metrics rows of family ``a``: distance mean (and a zero std) per (hidden_size, input_dim), one seed."""
    rows = [
        ("a", hidden_size, input_dim, 0, source, metric, value if metric == "distance_mean" else 0.0)
        for (hidden_size, input_dim), distance in distances.items()
        for source, value in (("rnn", distance), ("hmm", baseline))
        for metric in ("distance_mean", "distance_std")
    ]
    return pd.DataFrame(rows, columns=["hmm", "hidden_size", "input_dim", "seed", "source", "metric", "value"])


def test_grid_claims_on_a_grid_and_not_checked_on_one_cell():
    # distance falls with d; H=200 beats H=150 by 0.01 on average = 0.01 of the baseline 1.0
    grid = {(150, 1): 3.0, (150, 100): 1.5, (200, 1): 2.99, (200, 100): 1.49}
    claims = grid_claims(distance_metrics(grid, 1.0), ["a"], hidden_sizes=(150, 200), max_gain=0.02)
    statistics = claims.set_index("check")["statistic"]
    assert statistics["spearman_input_dim_distance"] == pytest.approx(-1.0)
    assert statistics["distance_smallest_minus_largest_input_dim"] == pytest.approx(1.5)
    assert statistics["gain_hidden_150_to_200_over_baseline"] == pytest.approx(0.01)
    assert claims["is_passed"].all() and (claims["seed"] == -1).all()
    # one cell (the quick study): nothing to compare, so no rows and the summary says "not checked", not failed
    one_cell = grid_claims(distance_metrics({(150, 100): 1.5}, 1.0), ["a"], hidden_sizes=(150, 200), max_gain=0.02)
    assert one_cell.empty
    assert claims_summary(one_cell).set_index("claim").loc[2, "status"] == "not checked"


def expanding_weights() -> Weights:
    """h' = ReLU(3 h + W_ih x): every noisy run leaves any bounded region within a few dozen steps."""
    weights = random_weights(12, 3, 7)
    return Weights(W_ih=weights.W_ih, W_hh=3 * torch.eye(12, dtype=torch.float64), W_o=weights.W_o)


def test_a_diverging_network_gives_empty_tables_failed_claims_and_figures_that_say_why():
    config = yaml.safe_load(open("config/config.yaml"))
    result = analyze_local(
        expanding_weights(),
        KEY,
        settings=small_settings(),
        **shared_settings(config),
        claims=config["analysis"]["claims"],
        seed=1,
    )
    for name in ("zones", "noise_sensitivity", "kick_neurons", "populations", "interventions"):
        assert getattr(result, name).empty, name
    claims = judge(result.statistics, config["analysis"]["claims"])
    assert sorted(claims["claim"]) == list(LOCAL_CLAIMS) and set(claims["check"]) == {"run_bounded"}
    assert not claims["is_passed"].any() and (claims["statistic"] < 1).all()
    reason = str(result.arrays["diverged"])
    assert reason.startswith("the noisy run diverges")
    local = [LocalResults("unstable", result.arrays)]
    for function in (
        figure_local_dynamics,
        figure_residency,
        figure_noise_sensitivity,
        figure_dispersion,
        figure_preactivation_maps,
        figure_weight_blocks,
        figure_interventions,
        figure_mean_activities,
    ):
        assert reason in texts(function(local)), function.__name__
        matplotlib.pyplot.close("all")


def test_alignment_of_a_diverging_network_uses_its_bounded_steps_and_is_nan_without_three():
    def alignment(max_state_norm: float) -> pd.DataFrame:
        return analyze_alignment(
            expanding_weights(),
            KEY,
            build_hmm("linear2", {"kind": "linear_chain", "num_states": 2, "target_prob": 0.05}),
            num_steps=200,
            min_frequency=0.05,
            noise_std=1.0,
            max_state_norm=max_state_norm,
            is_converged=False,
            seed=0,
        )

    bounded = alignment(1e6)  # the run grows like 3^t: about a dozen steps stay below 10^6
    assert len(bounded) == 3 and bounded["projection"].between(0, 1).all()
    unbounded = alignment(1e-3)  # no state is that small
    assert len(unbounded) == 3 and unbounded["projection"].isna().all() and unbounded["mean_projection"].isna().all()
