"""Closed-form checks of the local-dynamics and single-neuron analyses (the step modules of
hmmrnn.analysis).

Most tests use hand-built networks whose answers follow from their construction:

* a shift register that replays a chosen dominant-logit sequence (residency time and sign-change counter);
* a "clock": a ring of 2·dwell chain units carrying one active unit round the ring (global inhibition keeps the
  bump exactly one-hot with norm 1); the first half of the ring emits output 0, the second half output 2, so the
  output switches deterministically every ``dwell`` steps. Planted kick units are inhibited by the chain except
  for one unit shortly before a switch, and two decoys each violate exactly one kick-candidate filter;
* a "doubled" network whose hidden state (v⁺, v⁻) implements the linear map v' = a·v + x exactly.
"""

import math

import numpy as np
import pytest
import torch

from hmmrnn.analysis.activities import mean_activities, oscillation_statistics
from hmmrnn.analysis.alignment import readout_alignment
from hmmrnn.analysis.interventions import (
    control_mask,
    critical_pair_counts,
    intervene,
    kick_mask,
    modified_jacobians,
    noise_projection_mask,
    simulate_modified,
    top_presynaptic,
)
from hmmrnn.analysis.kick_neurons import component_ranks, discover_kick_neurons, silencing_effect
from hmmrnn.analysis.locate import LocateError, locate_cluster_and_transition
from hmmrnn.analysis.noise_sensitivity import dispersion, noise_sensitivity
from hmmrnn.analysis.populations import circuit_statistics, integrating_populations, ordered_weight_blocks
from hmmrnn.analysis.residency import residency_times, residency_zones, zone_means
from hmmrnn.analysis.runs import noise_window
from hmmrnn.dynamics.jacobians import jacobian_eigenvalues
from hmmrnn.dynamics.pca import PCABasis
from hmmrnn.dynamics.simulation import Weights, simulate

F64 = torch.float64
torch.set_num_threads(1)


def assert_close(actual, expected, rtol: float = 1e-7, atol: float = 1e-7) -> None:
    np.testing.assert_allclose(np.asarray(actual), np.asarray(expected), rtol=rtol, atol=atol)


def generator(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def unit(size: int, index: int) -> torch.Tensor:
    return torch.eye(size, dtype=F64)[index]


# --------------------------------------------------------------------------------------------------------------
# Hand-built networks
# --------------------------------------------------------------------------------------------------------------


def shift_register(dominant_logits, rival_logits=None) -> Weights:
    """h = e_s after s steps from e_0 (no input effect); logits of e_s are (v_s, rival_s, -100)."""
    v = torch.as_tensor(dominant_logits, dtype=F64)
    L = v.numel()
    W = torch.diag(torch.ones(L - 1, dtype=F64), -1)  # W[s+1, s] = 1
    W_o = torch.full((3, L), -100.0, dtype=F64)
    W_o[0] = v
    if rival_logits is not None:
        W_o[1] = torch.as_tensor(rival_logits, dtype=F64)
    return Weights(W_ih=torch.zeros(L, 1, dtype=F64), W_hh=W, W_o=W_o)


DWELL = 20
KICK_GAINS = (3.0, 4.0, 5.0)


class Clock:
    """Index bookkeeping of :func:`clock_network` (dwell = DWELL)."""

    chain = 2 * DWELL
    kick_02 = [chain + 0, chain + 1, chain + 2]  # fire 3, 2, 1 steps before the switch into position DWELL
    kick_20 = [chain + 3, chain + 4, chain + 5]  # ... before the switch into position 0
    decoy_active = chain + 6  # active in ~9 % of cluster states (fails the < 5 % filter)
    decoy_silent = chain + 7  # exactly 0 in clusters (fails "mean cluster z < 0")
    hidden_size = chain + 8


def clock_network(noise_gain: float = 0.05) -> Weights:
    L, alpha = Clock.chain, 0.125
    H = Clock.hidden_size
    W = torch.zeros(H, H, dtype=F64)
    for j in range(L):
        W[(j + 1) % L, j] = 1 + alpha
    W[:L, :L] -= alpha  # e_p -> (1 + α) e_{p+1} - α·1 = e_{p+1} after ReLU (exact in binary floats)
    for group, switch_position in ((Clock.kick_02, DWELL), (Clock.kick_20, 0)):
        for m, (u, gain) in enumerate(zip(group, KICK_GAINS, strict=True)):
            W[u, :L] = -0.5
            W[u, (switch_position - 4 + m) % L] = gain  # fires when the bump reaches position switch - 3 + m
    W[Clock.decoy_active, :L] = -1.0
    W[Clock.decoy_active, DWELL - 2] = 6.0
    W[Clock.decoy_active, [5, DWELL + 5]] = 0.3  # fires in two cluster states per cycle
    W[Clock.decoy_silent, DWELL - 2] = 8.0
    W_ih = torch.zeros(H, 2, dtype=F64)
    W_ih[L : L + 6] = noise_gain * torch.randn(6, 2, generator=generator(123), dtype=F64)
    W_o = torch.zeros(3, H, dtype=F64)
    W_o[0, :DWELL] = 5.0
    W_o[2, DWELL:L] = 5.0
    return Weights(W_ih=W_ih, W_hh=W, W_o=W_o)


def doubled_linear_network(a: float, dim: int) -> Weights:
    """Hidden (v⁺, v⁻): z = ((A v + x), -(A v + x)) with v = h⁺ - h⁻, so v' = A v + x exactly (A = a·I)."""
    A = a * torch.eye(dim, dtype=F64)
    W = torch.cat([torch.cat([A, -A], 1), torch.cat([-A, A], 1)])
    W_ih = torch.cat([torch.eye(dim, dtype=F64), -torch.eye(dim, dtype=F64)])
    return Weights(W_ih=W_ih, W_hh=W, W_o=torch.ones(3, 2 * dim, dtype=F64))


def random_weights(hidden_size: int, input_dim: int, seed: int) -> Weights:
    g = generator(seed)
    return Weights(
        W_ih=torch.randn(hidden_size, input_dim, generator=g, dtype=F64) / math.sqrt(input_dim),
        W_hh=1.2 * torch.randn(hidden_size, hidden_size, generator=g, dtype=F64) / math.sqrt(hidden_size),
        W_o=torch.randn(3, hidden_size, generator=g, dtype=F64),
    )


# --------------------------------------------------------------------------------------------------------------
# Residency (§6.8)
# --------------------------------------------------------------------------------------------------------------

LOGITS = [0, 1, 2, 2, 1, 1, 3, 0, 0, 5]  # increments + + 0 - 0 + - 0 +


def test_sign_change_counter_on_hand_built_logit_sequence():
    # prev undefined, +, 0 (no count, prev <- 0), - (1), 0, + (2), - (3), 0, + (4): 4 changes, never switches
    weights = shift_register(LOGITS)
    result = residency_times(
        weights, unit(10, 0)[None], num_rollouts=3, max_steps=9, noise_std=1.0, generator=generator(0)
    )
    assert_close(result.residency_time, [9.0])
    assert_close(result.sign_changes, [4.0])
    assert_close(result.switch_fraction, [0.0])
    assert result.dominant_output.tolist() == [0]


def test_residency_time_equals_steps_to_a_deterministic_switch():
    # output 1 wins at e_6: switch on the 6th step; the sign of that step is not counted (only step 4's change)
    rival = [-100.0] * 10
    rival[6] = 10.0
    weights = shift_register(LOGITS, rival)
    states = unit(10, 0).expand(7, -1)
    result = residency_times(
        weights, states, num_rollouts=5, max_steps=9, noise_std=1.0, generator=generator(0), chunk_size=4
    )
    assert_close(result.residency_time, np.full(7, 6.0))
    assert_close(result.sign_changes, np.full(7, 1.0))
    assert_close(result.switch_fraction, np.ones(7))
    # from e_3 the switch comes after 3 steps; a state past the rival unit never switches (RT = S_max)
    later = residency_times(
        weights,
        torch.stack([unit(10, 3), unit(10, 7)]),
        num_rollouts=2,
        max_steps=9,
        noise_std=1.0,
        generator=generator(0),
    )
    assert_close(later.residency_time, [3.0, 9.0])


def test_residency_time_of_memoryless_coin_matches_truncated_geometric_mean():
    # h' = (relu(x), relu(-x)): output 0 iff x > 0, a fair coin per step -> E[RT] = sum_{s<S} 2^-s
    weights = Weights(
        W_ih=torch.tensor([[1.0], [-1.0]], dtype=F64),
        W_hh=torch.zeros(2, 2, dtype=F64),
        W_o=torch.tensor([[1.0, -1.0], [-1.0, 1.0], [-5.0, -5.0]], dtype=F64),
    )
    S = 10
    result = residency_times(
        weights,
        torch.tensor([[1.0, 0.0]], dtype=F64),
        num_rollouts=20000,
        max_steps=S,
        noise_std=1.0,
        generator=generator(1),
        compute_unstable=False,
    )
    assert abs(result.residency_time[0] - 2 * (1 - 2.0**-S)) < 0.05
    assert abs(result.switch_fraction[0] - (1 - 2.0**-S)) < 0.01
    assert result.unstable_directions.tolist() == [-1]


def test_unstable_directions_use_the_input_free_gate():
    weights = Weights(
        W_ih=torch.zeros(2, 1, dtype=F64),
        W_hh=torch.diag(torch.tensor([2.0, 0.5], dtype=F64)),
        W_o=torch.eye(3, 2, dtype=F64),
    )
    states = torch.tensor([[1.0, 1.0], [0.0, 1.0]], dtype=F64)  # gates (1, 1) -> λ = 2, 0.5; (0, 1) -> 0, 0.5
    result = residency_times(weights, states, num_rollouts=1, max_steps=1, noise_std=0.0, generator=generator(0))
    assert result.unstable_directions.tolist() == [1, 0]


def test_zone_labels_and_summary_from_given_values():
    rt = [1.0, 1.99, 2.0, 5.0, 8.0, 8.01, 9.0, 30.0]
    prob = [0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.8, 0.95]
    sc = [0, 1, 2, 3, 4, 10, 7, 20]
    u = [0, 0, 1, 2, 3, 0, 5, 1]
    zones = residency_zones(
        rt, prob, transition_cut=2, kick_cut=8, cluster_prob=0.8, sign_changes=sc, unstable_directions=u
    )
    assert zones.labels.tolist() == [
        "transition",
        "transition",
        "kick_zone",
        "kick_zone",
        "kick_zone",
        "cluster",
        "none",
        "cluster",
    ]
    summary = {s.zone: s for s in zones.summary}
    assert [summary[z].count for z in ("cluster", "kick_zone", "transition", "none")] == [2, 3, 2, 1]
    assert_close(summary["cluster"][2:], [19.005, 15.0, 0.5])
    assert_close(summary["kick_zone"][2:], [5.0, 3.0, 2.0])
    assert_close(summary["transition"][2:], [1.495, 0.5, 0.0])
    means = zone_means(np.arange(8.0), zones.labels)
    assert_close(means["cluster"], 6.0)
    empty = residency_zones([1.0], [0.9], transition_cut=2, kick_cut=8, cluster_prob=0.8)
    assert math.isnan({s.zone: s for s in empty.summary}["cluster"].mean_residency_time)


# --------------------------------------------------------------------------------------------------------------
# Cluster and transition points (§8.9)
# --------------------------------------------------------------------------------------------------------------

LOCATE = dict(
    num_steps=200,
    warmup_steps=0,
    noise_std=1.0,
    init_scale=0.1,
    skip_switches=3,
    min_switch_time=50,
    cluster_fraction=0.5,
    max_back=100,
    num_rollouts=4,
    max_steps=25,
    cluster_min_residency=9,
    cluster_prob=0.8,
    transition_max_time=3,
    max_simulations=2,
)


def test_locate_finds_dwell_midpoint_and_two_step_transition_onset_on_the_clock():
    # track[t] sits at ring position t mod 40: switches at t = 20 (0->2), 40 (2->0), 60, 80, ...; the first three
    # are skipped, so the first candidate is tt = 80; tc = (80 + 60) / 2 = 70 has RT 10; the states at tt-1 and
    # tt-2 switch in 1 and 2 steps, tt-3 in 3 steps (not < 3) -> tk = 78
    weights = clock_network()
    found = locate_cluster_and_transition(
        weights, initial_state=unit(Clock.hidden_size, 0), generator=generator(0), **LOCATE
    )
    assert (found.switch_time, found.cluster_time, found.transition_time) == (80, 70, 78)
    assert found.cluster_residency_time == 10.0
    assert (found.source_output, found.target_output) == (2, 0)
    assert found.track.shape == (201, Clock.hidden_size) and found.noise.shape == (201, 2)
    assert torch.equal(found.noise[0], torch.zeros(2, dtype=F64))
    replay = simulate(weights, found.track[:1], found.noise[None, 1:])[0]  # noise[t] produced track[t]
    assert_close(replay, found.track[1:], atol=1e-12)
    directed = locate_cluster_and_transition(
        weights, initial_state=unit(Clock.hidden_size, 0), generator=generator(0), source_output=0, **LOCATE
    )
    assert (directed.switch_time, directed.cluster_time, directed.transition_time) == (100, 90, 98)


def test_locate_fails_loudly_when_no_cluster_point_is_slow_enough():
    settings = {**LOCATE, "cluster_min_residency": 11}  # every cluster point has RT 10
    with pytest.raises(LocateError, match="after 2 simulations"):
        locate_cluster_and_transition(
            clock_network(), initial_state=unit(Clock.hidden_size, 0), generator=generator(0), **settings
        )


# --------------------------------------------------------------------------------------------------------------
# Noise sensitivity (§6.10)
# --------------------------------------------------------------------------------------------------------------


def test_noise_sensitivity_dispersion_is_zero_at_gamma_zero_and_scales_with_gamma():
    a, dim, K, T = 0.5, 2, 400, 5
    weights = doubled_linear_network(a, dim)
    h0 = torch.tensor([0.3, 0.0, 0.0, 0.2], dtype=F64)
    nominal = torch.randn(T + 1, dim, generator=generator(7), dtype=F64)
    result = noise_sensitivity(
        weights,
        h0,
        nominal,
        gammas=[0.0, 0.5, 1.0],
        num_trajectories=K,
        num_steps=T,
        noise_std=1.0,
        generator=generator(8),
    )
    assert result.trajectories.shape == (3, K, T + 1, 2 * dim)
    assert torch.equal(result.trajectories[:, :, 0], h0.expand(3, K, -1))
    spread = dispersion(result.trajectories)
    assert np.all(spread.trace_covariance[0] == 0) and np.all(spread.mean_distance[0] == 0)
    assert spread.trace_covariance[1, -1] < spread.trace_covariance[2, -1]
    assert spread.mean_distance[1, -1] < spread.mean_distance[2, -1]
    # in v = h⁺ - h⁻ the dynamics are linear: the γξ part scales exactly with γ, and at γ = 1 the trace is
    # dim·Σ_{j<t} a^{2j} in expectation
    v = result.trajectories[..., :dim] - result.trajectories[..., dim:]
    linear = dispersion(v)
    assert_close(linear.trace_covariance[1], 0.25 * linear.trace_covariance[2], rtol=1e-9, atol=1e-12)
    expected = dim * sum(a ** (2 * j) for j in range(T))
    assert abs(linear.trace_covariance[2, -1] / expected - 1) < 0.2


def test_noise_alignment_continuation_and_authors_variant():
    weights = random_weights(6, 3, seed=2)
    h0 = torch.rand(6, generator=generator(3), dtype=F64)
    nominal = torch.randn(5, 3, generator=generator(4), dtype=F64)
    for alignment, rows in (("continuation", slice(1, 5)), ("authors", slice(0, 4))):
        result = noise_sensitivity(
            weights,
            h0,
            nominal,
            gammas=[0.0],
            num_trajectories=2,
            num_steps=4,
            noise_std=1.0,
            generator=generator(5),
            noise_alignment=alignment,
        )
        expected = simulate(weights, h0[None], nominal[None, rows])[0]
        assert_close(result.trajectories[0, 1, 1:], expected, atol=1e-12)


def test_noise_window_pads_past_the_end_of_the_track():
    noise = torch.arange(12.0, dtype=F64).reshape(6, 2)
    inside = noise_window(noise, 1, 3, noise_std=1.0, generator=generator(0))
    assert torch.equal(inside, noise[1:5])
    padded = noise_window(noise, 4, 3, noise_std=1.0, generator=generator(0))
    assert padded.shape == (4, 2) and torch.equal(padded[:2], noise[4:])


# --------------------------------------------------------------------------------------------------------------
# Kick neurons (§8.3)
# --------------------------------------------------------------------------------------------------------------

DISCOVER = dict(
    num_steps=640,
    warmup_steps=0,
    noise_std=1.0,
    window=(-3, 1),
    cluster_margin=4,
    min_switches=15,
    max_cluster_active_fraction=0.05,
    num_kick=3,
)


def discover_on_clock(seed: int):
    return discover_kick_neurons(clock_network(), unit(Clock.hidden_size, 10), generator=generator(seed), **DISCOVER)


def test_discover_kick_neurons_returns_the_planted_units_and_rejects_the_decoys():
    kick = discover_on_clock(0)
    assert kick.directions == ((0, 2), (2, 0))
    # score = (gain + 0.5)/5 for a planted unit: order by decreasing gain
    assert kick.groups[0].tolist() == Clock.kick_02[::-1]
    assert kick.groups[1].tolist() == Clock.kick_20[::-1]
    # each decoy outscores every planted unit but fails exactly one filter
    assert kick.cluster_active_fraction[Clock.decoy_active] > 0.05 and kick.cluster_mean[Clock.decoy_active] < 0
    assert kick.cluster_mean[Clock.decoy_silent] == 0 and kick.cluster_active_fraction[Clock.decoy_silent] == 0
    for decoy in (Clock.decoy_active, Clock.decoy_silent):
        assert np.isnan(kick.scores[0, decoy])
        assert kick.transition_mean[0, decoy] - kick.cluster_mean[decoy] > np.nanmax(kick.scores[0])
    assert_close(kick.scores[0, Clock.kick_02], [(g + 0.5) / 5 for g in KICK_GAINS], atol=0.05)
    assert (kick.cluster_mean[Clock.kick_02 + Clock.kick_20] < 0).all()
    assert kick.indices.tolist() == Clock.kick_02[::-1] + Clock.kick_20[::-1]


def test_kick_discovery_is_deterministic_given_the_seed():
    first, again, other = discover_on_clock(4), discover_on_clock(4), discover_on_clock(5)
    assert [g.tolist() for g in first.groups] == [g.tolist() for g in again.groups]
    np.testing.assert_array_equal(first.transition_mean, again.transition_mean)
    assert [g.tolist() for g in first.groups] == [g.tolist() for g in other.groups]
    assert not np.array_equal(first.transition_mean, other.transition_mean)  # the noise does enter


def test_silencing_the_pre_switch_chain_unit_stops_the_switch_but_silencing_readout_free_units_does_not():
    weights = clock_network()
    start = unit(Clock.hidden_size, 10)  # inside the output-0 cluster; the 0->2 switch comes after 10 steps
    common = dict(source_output=0, target_output=2, num_trajectories=8, num_steps=15, noise_std=1.0)
    blocked = silencing_effect(weights, [DWELL - 1], start, generator=generator(0), **common)
    assert (blocked.control_rate, blocked.silenced_rate, blocked.relative_reduction) == (1.0, 0.0, 1.0)
    harmless = silencing_effect(weights, Clock.kick_02, start, generator=generator(0), **common)
    assert (harmless.control_rate, harmless.silenced_rate, harmless.relative_reduction) == (1.0, 1.0, 0.0)


def test_component_ranks_by_magnitude():
    assert component_ranks([0.1, -5.0, 2.0, 0.0], [1, 2, 0]).tolist() == [1, 2, 3]


# --------------------------------------------------------------------------------------------------------------
# Populations and weight blocks (§8.4, §6.12)
# --------------------------------------------------------------------------------------------------------------


def population_matrix() -> np.ndarray:
    g_a = [10, 0, 0, 0, -1, -3, -0.5, 2, 1, 1]
    g_b = [-10, 0, 0, 0, 2, 1, 0.5, -2, -0.5, 1]
    W = np.zeros((10, 10))
    W[[0, 1]] = g_a  # kick group A = {0, 1}: mean weight onto A is g_a
    W[[2, 3]] = g_b
    return W


def test_integrating_populations_by_sign_rule_and_authors_rule():
    W = population_matrix()
    pops = integrating_populations(W, [0, 1], [2, 3], num_per_population=2)
    assert pops.population_1.tolist() == [5, 4]  # g_A < 0 < g_B, top |product| 3 and 2; ordered by g_A
    assert pops.population_2.tolist() == [8, 7]  # g_A > 0 > g_B
    assert pops.ordered.tolist() == [5, 4, 8, 7]
    # authors: the 4 most negative products (kick neuron 0 included), by g_A, split in halves
    authors = integrating_populations(W, [0, 1], [2, 3], num_per_population=2, method="authors")
    assert (authors.population_1.tolist(), authors.population_2.tolist()) == ([5, 4], [7, 0])


def test_ordered_weight_blocks_and_circuit_statistics():
    W = np.arange(100.0).reshape(10, 10)
    blocks = ordered_weight_blocks(W, [[3, 1], [0]], [[5, 4], [8, 7]])
    assert blocks.kick.tolist() == [3, 1, 0] and blocks.population.tolist() == [5, 4, 8, 7]
    assert blocks.kick_population.shape == (3, 4)
    assert blocks.kick_population[0, 2] == W[3, 8]  # rows are targets (kick), columns sources (population)
    assert blocks.population_population[1, 0] == W[4, 5]
    assert blocks.kick_kick[2, 1] == W[0, 1]
    assert blocks.max_abs == 88.0  # W[8, 8], the largest entry inside the blocks

    C = np.zeros((4, 4))
    C[0, 1] = C[1, 0] = 1.0
    C[2, 3] = C[3, 2] = 3.0
    C[:2, 2:] = C[2:, :2] = -1.0
    C[0, 0] = 100.0  # self-connections are not "within-group" weights
    stats = circuit_statistics(C, [[0, 1], [2, 3]], [[0, 1], [2, 3]])
    assert (stats.within_kick, stats.cross_kick) == (2.0, -1.0)
    assert (stats.within_population, stats.cross_population) == (2.0, -1.0)


# --------------------------------------------------------------------------------------------------------------
# Mean activities (§6.13)
# --------------------------------------------------------------------------------------------------------------


def test_mean_activities_on_the_clock():
    weights = clock_network()
    halves = [list(range(DWELL)), list(range(DWELL, 2 * DWELL))]
    acts = mean_activities(
        weights,
        unit(Clock.hidden_size, 0),
        [Clock.kick_02, Clock.kick_20],
        halves,
        num_steps=160,
        warmup_steps=0,
        noise_std=1.0,
        generator=generator(0),
    )
    # state i is at position i + 1: switches where position i + 1 is 20 or 40 (mod 40)
    assert acts.switch_times.tolist() == [19, 39, 59, 79, 99, 119, 139, 159]
    assert acts.segment_bounds.tolist() == [0, 19, 39, 59, 79, 99, 119, 139, 159, 160]
    assert_close(acts.population.sum(axis=0), np.full(160, 1 / DWELL))
    stats = oscillation_statistics(acts, pre_switch_steps=3, cluster_margin=4, directions=[(0, 2), (2, 0)])
    assert stats.population_correlation < -0.99
    # in the 3 steps before its switch each planted unit fires once with its gain: mean (3 + 4 + 5) / 9
    assert_close(stats.kick_pre_switch, [12 / 9, 12 / 9], atol=0.05)
    assert_close(stats.kick_cluster, [0.0, 0.0])


# --------------------------------------------------------------------------------------------------------------
# Interventions (§6.14)
# --------------------------------------------------------------------------------------------------------------


def positive_linear_toy(seed: int) -> tuple[Weights, torch.Tensor, torch.Tensor]:
    """All weights, states and inputs non-negative: the ReLU never clips, the dynamics are linear."""
    g = generator(seed)
    weights = Weights(
        W_ih=torch.rand(4, 3, generator=g, dtype=F64),
        W_hh=0.2 * torch.rand(4, 4, generator=g, dtype=F64),
        W_o=torch.eye(3, 4, dtype=F64),
    )
    return weights, torch.rand(2, 4, generator=g, dtype=F64), torch.rand(2, 6, 3, generator=g, dtype=F64)


def test_modified_dynamics_mu_one_is_exact_and_mu_scales_the_linear_recursion():
    weights, h0, x = positive_linear_toy(0)
    ones = torch.ones(4, dtype=F64)
    assert torch.equal(simulate_modified(weights, h0, x, ones, ones), simulate(weights, h0, x))
    mu = 0.7
    states = simulate_modified(weights, h0, x, mu * ones, ones)
    h, expected = h0, []
    for t in range(6):
        h = mu * h @ weights.W_hh.T + x[:, t] @ weights.W_ih.T
        expected.append(h)
    assert_close(states, torch.stack(expected, dim=1), atol=1e-12)


def test_mu_zero_removes_a_units_recurrent_drive_and_total_scope_silences_it():
    weights, h0, x = positive_linear_toy(1)
    c_rec, c_in = (torch.as_tensor(c, dtype=F64) for c in kick_mask(4, [2]).scales(0.0))
    states = simulate_modified(weights, h0, x, c_rec, c_in)
    assert_close(states[:, :, 2], torch.relu(x @ weights.W_ih[2]), atol=1e-12)
    cut = Weights(weights.W_ih, weights.W_hh.clone(), weights.W_o)
    cut.W_hh[2] = 0
    assert_close(states, simulate(cut, h0, x), atol=1e-12)
    c_rec, c_in = (torch.as_tensor(c, dtype=F64) for c in kick_mask(4, [2], scope="total").scales(0.0))
    assert torch.all(simulate_modified(weights, h0, x, c_rec, c_in)[:, :, 2] == 0)


def test_row_scaled_jacobian_matches_finite_differences_and_column_variant_shares_its_spectrum():
    weights = random_weights(5, 3, seed=3)
    g = generator(4)
    h, x = torch.randn(5, generator=g, dtype=F64).abs(), torch.randn(3, generator=g, dtype=F64)
    c_rec, c_in = np.array([0.0, 0.5, 1.0, 1.5, 2.0]), np.array([1.0, 0.3, 1.0, 2.0, 0.0])
    rec, inp = torch.as_tensor(c_rec), torch.as_tensor(c_in)

    def step(state: torch.Tensor) -> torch.Tensor:
        return simulate_modified(weights, state[None], x[None, None], rec, inp)[0, 0]

    eps = 1e-6
    finite = torch.stack([(step(h + eps * e) - step(h - eps * e)) / (2 * eps) for e in torch.eye(5, dtype=F64)], 1)
    row = modified_jacobians(weights, c_rec, c_in, h, x)
    assert_close(row, finite, atol=1e-6)
    column = modified_jacobians(weights, c_rec, c_in, h, x, scaling="column")
    assert not np.allclose(column.numpy(), finite.numpy(), atol=1e-3)
    spectrum = np.sort_complex(np.linalg.eigvals(row.numpy()).round(10))
    assert_close(np.sort_complex(np.linalg.eigvals(column.numpy()).round(10)), spectrum, atol=1e-9)


def test_intervention_masks_from_presynaptic_partners():
    W = np.zeros((8, 8))
    W[0] = [0, 5, 0.1, 4, -1, 3, 0, 0]  # top-3 positive sources of kick neuron 0: 1, 3, 5
    W[1] = [2, 0, 0, 0, 0, -3, 6, -1]  # kick neuron 1: only two positive sources, 6 and 0
    W[2] = [0, 0, 0, 0, 0, 0, 0, 7]
    assert top_presynaptic(W, [1], 3).tolist() == [0, 6]
    noise = noise_projection_mask(W, [0, 1], [0, 1, 2], num_presynaptic=3)
    assert not noise.recurrent.any() and np.flatnonzero(noise.input).tolist() == [3, 5, 6]
    control = control_mask(W, [0, 1, 2], num_presynaptic=1)  # top-1 partners: 1, 6, 7
    assert not control.recurrent.any() and np.flatnonzero(control.input).tolist() == [3, 4, 5]
    kick = kick_mask(8, [0, 2])
    c_rec, c_in = kick.scales(0.3)
    assert_close(c_rec, [0.3, 1, 0.3, 1, 1, 1, 1, 1]) and assert_close(c_in, np.ones(8))


def test_critical_pair_counts_per_window_skip_switches_near_the_ends():
    critical = complex(0.01, 0.5)  # |Re w| < 0.1, Im w > 0.06

    def to_lambda(w: complex) -> complex:  # inverse Möbius map
        return (1 + w) / (1 - w)

    per_step = [1, 0, 2, 0, 1, 1, 0, 0, 2, 1]
    eigenvalues = np.zeros((10, 3), dtype=complex)
    for t, n in enumerate(per_step):
        eigenvalues[t, :n] = to_lambda(critical)
        eigenvalues[t, n:] = [to_lambda(complex(0.5, 0.5)), to_lambda(critical.conjugate()), 0][: 3 - n]
    counts = critical_pair_counts(eigenvalues, [1, 4, 8, 9], window=2, eps_re=0.1, eps_im=0.06)
    # switch 1: window [-1, 3) leaves the run; 4: steps 2..5 -> 2+0+1+1; 8: steps 6..9 -> 0+0+2+1; 9: past the end
    assert counts.tolist() == [4, 3]


def test_intervene_on_the_clock_blocks_switches_at_mu_zero_and_overshoots_at_mu_two():
    weights = clock_network()
    start = unit(Clock.hidden_size, 10)
    settings = dict(
        initial_state=start,
        nominal_noise=torch.zeros(31, 2, dtype=F64),
        source_output=0,
        target_output=2,
        num_trajectories=4,
        num_steps=30,
        gamma=0.5,
        num_statistics_steps=60,
        init_scale=0.1,
        window=5,
        eps_re=0.1,
        eps_im=0.06,
        min_switches=2,
        noise_std=1.0,
        num_display=2,
    )
    # plane of the two half-ring sums: the bump e_p projects to 1/√DWELL; kick units and decoys project to 0
    components = np.zeros((2, Clock.hidden_size))
    components[0, :DWELL] = components[1, DWELL : 2 * DWELL] = 1 / math.sqrt(DWELL)
    basis = PCABasis(np.zeros(Clock.hidden_size), components, np.ones(2))
    mask = kick_mask(Clock.hidden_size, [DWELL - 1])
    result = intervene(weights, mask, [0.0, 1.0, 2.0], generator=generator(0), basis=basis, **settings)
    # μ = 0: the bump dies at unit DWELL - 1 (no switch); μ = 2: it passes with double amplitude
    assert result.switch_rate.tolist() == [0.0, 1.0, 1.0]
    assert_close(result.max_excursion, np.array([1.0, 1.0, 2.0]) / math.sqrt(DWELL))
    assert result.display.shape == (3, 2, 31, Clock.hidden_size)
    assert torch.equal(result.display[:, :, 0], start.expand(3, 2, -1))
    assert len(result.critical_counts) == 3 and result.critical_mean.shape == (3,)
    again = intervene(weights, mask, [0.0, 1.0, 2.0], generator=generator(0), basis=basis, **settings)
    assert torch.equal(again.display, result.display)


def test_intervene_critical_counts_follow_the_switch_windows_of_the_statistics_run():
    H, d, T_s, window = 12, 4, 200, 3
    weights = random_weights(H, d, seed=6)
    settings = dict(
        initial_state=torch.rand(H, generator=generator(1), dtype=F64),
        nominal_noise=torch.zeros(6, d, dtype=F64),
        source_output=0,
        target_output=1,
        num_trajectories=3,
        num_steps=5,
        gamma=0.5,
        num_statistics_steps=T_s,
        init_scale=0.1,
        window=window,
        eps_re=0.1,
        eps_im=0.06,
        min_switches=2,
        noise_std=1.0,
        num_display=1,
    )
    mask = kick_mask(H, [0, 1])
    result = intervene(weights, mask, [1.0, 0.0], generator=generator(2), **settings)
    # documented draw order: ξ (H,), then the statistics noise (T_s, d); μ = 0 on units 0, 1 = zeroed rows of W_hh
    g = generator(2)
    xi = 0.1 * (2 * torch.randn(H, generator=g, dtype=F64) - 1)
    noise = torch.randn(T_s, d, generator=g, dtype=F64)
    cut = Weights(weights.W_ih, weights.W_hh.clone(), weights.W_o)
    cut.W_hh[[0, 1]] = 0
    for m, net in enumerate((weights, cut)):
        run = simulate(net, xi[None], noise[None])[0]
        outputs = (run @ net.W_o.T).argmax(dim=-1).numpy()
        switches = np.flatnonzero(outputs[1:] != outputs[:-1]) + 1
        assert result.num_switches[m] == switches.size >= 2 and not result.used_fallback[m]
        eigenvalues = jacobian_eigenvalues(net, torch.cat([xi[None], run[:-1]]), noise)
        expected = critical_pair_counts(eigenvalues, switches, window=window, eps_re=0.1, eps_im=0.06)
        np.testing.assert_array_equal(result.critical_counts[m], expected)
    assert result.critical_counts[0].size > 0


# --------------------------------------------------------------------------------------------------------------
# Readout alignment (§6.15)
# --------------------------------------------------------------------------------------------------------------


def test_readout_alignment_in_plane_orthogonal_and_diagonal():
    W_o = np.array([[1.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0], [2.0, 0.0, 2.0, 0.0]])
    components = np.array([[1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0]])
    result = readout_alignment(W_o, components, [0.5, 0.0, 0.5], min_frequency=0.05)
    assert_close(result.projection, [1.0, 0.0, 1 / math.sqrt(2)])
    assert_close(result.angle_degrees, [0.0, 90.0, 45.0])
    assert result.is_included.tolist() == [True, False, True]
    assert_close(result.mean_projection, (1 + 1 / math.sqrt(2)) / 2)
    skewed = readout_alignment(W_o, np.array([[1.0, 1.0, 0, 0], [1.0, -1.0, 0, 0]]), [1, 1, 1], min_frequency=0.05)
    assert_close(skewed.projection, [1.0, 0.0, 1 / math.sqrt(2)])  # any basis of the same plane


# --------------------------------------------------------------------------------------------------------------
# Determinism
# --------------------------------------------------------------------------------------------------------------


def test_residency_and_noise_sensitivity_are_deterministic_given_the_seed():
    weights = random_weights(10, 4, seed=9)
    states = torch.rand(5, 10, generator=generator(1), dtype=F64)

    def run(seed: int):
        return residency_times(weights, states, num_rollouts=6, max_steps=15, noise_std=1.0, generator=generator(seed))

    first, again, other = run(3), run(3), run(4)
    for a, b in zip(first, again, strict=True):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first.residency_time, other.residency_time)
    nominal = torch.zeros(4, 4, dtype=F64)
    common = dict(gammas=[1.0], num_trajectories=3, num_steps=3, noise_std=1.0)
    one = noise_sensitivity(weights, states[0], nominal, generator=generator(5), **common).trajectories
    two = noise_sensitivity(weights, states[0], nominal, generator=generator(5), **common).trajectories
    assert torch.equal(one, two)
