"""Evaluation metrics (PAPER_SPEC §2 generator, §5 metrics, §8.1 convergence) on small seeded inputs."""

import math

import numpy as np
import pytest
import torch

from hmmrnn.convergence import ConvergenceThresholds, DynamicsStats, assess_convergence, noise_dynamics
from hmmrnn.dynamics.simulation import Weights
from hmmrnn.evaluation.alignment import sinkhorn_alignment
from hmmrnn.evaluation.loss import sinkhorn_floor, sinkhorn_loss
from hmmrnn.evaluation.model import evaluate_model
from hmmrnn.evaluation.sequences import generate_sequences
from hmmrnn.evaluation.statistics import (
    emission_stats,
    emission_transition_counts,
    empirical_emission_transition_matrix,
    output_frequency_stats,
    squared_transition_difference,
    volatility,
)
from hmmrnn.hmm import change_probability, fully_connected, linear_chain, sample_hmm, stationary_output_frequencies
from hmmrnn.hmm import stationary_emission_transition_matrix as closed_form_transition_matrix
from hmmrnn.training import one_hot

ALIGN = {"epsilon": 0.1, "max_iters": 1000, "tol": 0.1}
LOSS = {"sinkhorn_blur": 0.2, "sinkhorn_p": 2, "sinkhorn_scaling": 0.5, "sinkhorn_backend": "hmmrnn"}


def encode(symbols) -> torch.Tensor:
    return one_hot(np.asarray(symbols, dtype=np.uint8), 3, "cpu")


# --- §5.1 alignment --------------------------------------------------------------------------------------------


def test_identical_sets_align_at_distance_zero_with_identical_transition_matrices():
    _, outputs = sample_hmm(linear_chain(3, 0.05), 60, 20, np.random.default_rng(0))
    result = sinkhorn_alignment(encode(outputs), encode(outputs), **ALIGN)
    assert result.converged and 1 <= result.num_iterations < ALIGN["max_iters"]
    np.testing.assert_array_equal(outputs[result.matched_indices], outputs)
    assert result.mean == 0.0 and result.std == 0.0 and np.all(result.distances == 0.0)
    reordered = outputs[np.random.default_rng(1).permutation(len(outputs))]
    np.testing.assert_array_equal(
        empirical_emission_transition_matrix(reordered, 3), empirical_emission_transition_matrix(outputs, 3)
    )


def test_matching_recovers_a_known_permutation():
    rng = np.random.default_rng(2)
    reference = rng.integers(0, 3, size=(50, 12))
    assert len(np.unique(reference, axis=0)) == len(reference)  # all sequences distinct, so the match is unique
    permutation = rng.permutation(len(reference))
    result = sinkhorn_alignment(encode(reference), encode(reference[permutation]), **ALIGN)
    np.testing.assert_array_equal(result.matched_indices, permutation)
    assert result.mean == 0.0


def test_hand_solvable_alignment_follows_the_transport_plan_not_the_nearest_neighbour():
    # reference 000 and 111; candidates 001 and 002. Costs sqrt(2 * mismatches):
    #   001: to 000 sqrt(2), to 111 2;   002: to 000 sqrt(2), to 111 sqrt(6).
    # Nearest neighbour would send both to 000; with equal marginals each reference takes one candidate and the
    # cheaper assignment is 001 -> 111 (2) and 002 -> 000 (sqrt 2): 3.41 < sqrt(2) + sqrt(6) = 3.86.
    reference, candidate = [[0, 0, 0], [1, 1, 1]], [[0, 0, 1], [0, 0, 2]]
    result = sinkhorn_alignment(encode(reference), encode(candidate), epsilon=0.1, max_iters=1000, tol=1e-6)
    np.testing.assert_array_equal(result.matched_indices, [1, 0])
    np.testing.assert_allclose(result.distances, [2.0, math.sqrt(2.0)])
    assert result.mean == pytest.approx((2.0 + math.sqrt(2.0)) / 2)
    assert result.std == pytest.approx((2.0 - math.sqrt(2.0)) / 2)


def test_cost_is_euclidean_not_squared():
    # mismatch counts: r0-c0 8, r1-c1 1, r0-c1 4, r1-c0 4. Euclidean: sqrt(16) + sqrt(2) = 5.41 < 2 sqrt(8) = 5.66,
    # so c0 -> r0 and c1 -> r1; a squared cost would prefer the other pairing (16 + 2 > 8 + 8), and nearest
    # neighbours would send both candidates to r1.
    reference = [[0, 0, 0, 0, 0, 0, 0, 0], [2, 2, 2, 1, 0, 0, 1, 0]]
    candidate = [[2, 2, 1, 1, 1, 2, 1, 1], [2, 2, 2, 0, 0, 0, 1, 0]]
    result = sinkhorn_alignment(encode(reference), encode(candidate), epsilon=0.1, max_iters=1000, tol=1e-6)
    np.testing.assert_array_equal(result.matched_indices, [0, 1])
    np.testing.assert_allclose(result.distances, [4.0, math.sqrt(2.0)])


def test_matching_is_many_to_one_for_unequal_sets():
    # two references, four candidates: three copies of 0000 go to 0000 and 2220 goes to 2222 (one mismatch)
    reference, candidate = [[0, 0, 0, 0], [2, 2, 2, 2]], [[0, 0, 0, 0], [2, 2, 2, 0], [0, 0, 0, 0], [0, 0, 0, 0]]
    result = sinkhorn_alignment(encode(reference), encode(candidate), **ALIGN)
    np.testing.assert_array_equal(result.matched_indices, [0, 1, 0, 0])
    np.testing.assert_allclose(result.distances, [0.0, math.sqrt(2.0), 0.0, 0.0])


def test_blocked_sinkhorn_equals_a_dense_log_domain_reference():
    rng = np.random.default_rng(3)
    hmm = linear_chain(2, 0.05)
    x, y = (encode(sample_hmm(hmm, n, 30, rng)[1]) for n in (45, 35))
    result = sinkhorn_alignment(x, y, **ALIGN, block_rows=8)  # 6 blocks, the last one ragged
    # dense reference written straight from §5.1
    cost, eps = torch.cdist(x, y), ALIGN["epsilon"]
    u, v = torch.zeros(45), torch.zeros(35)
    iterations = 0
    while iterations < ALIGN["max_iters"]:
        iterations += 1
        u_new = eps * (math.log(1 / 45 + 1e-8) - torch.logsumexp((v[None, :] - cost) / eps, dim=1))
        v_new = eps * (math.log(1 / 35 + 1e-8) - torch.logsumexp((u_new[:, None] - cost) / eps, dim=0))
        change = (u_new - u).abs().sum() + (v_new - v).abs().sum()
        u, v = u_new, v_new
        if change < ALIGN["tol"]:
            break
    plan = torch.exp((u[:, None] + v[None, :] - cost) / eps)
    assert result.num_iterations == iterations > 1
    np.testing.assert_array_equal(result.matched_indices, plan.argmax(dim=0).numpy())
    np.testing.assert_allclose(result.distances, cost[plan.argmax(dim=0), torch.arange(35)].numpy(), rtol=1e-6)


def test_alignment_reports_non_convergence_and_bad_shapes():
    x = encode(np.random.default_rng(4).integers(0, 3, size=(20, 10)))
    result = sinkhorn_alignment(x, x.flip(0), epsilon=0.1, max_iters=1, tol=0.0)
    assert result.num_iterations == 1 and not result.converged
    with pytest.raises(ValueError, match=r"\(20, 30\) and \(20, 29\)"):
        sinkhorn_alignment(x, x[:, :-1], **ALIGN)


# --- §5.2–§5.4 emission statistics -----------------------------------------------------------------------------


def test_transition_counts_and_matrix_on_hand_built_sequences():
    outputs = np.array([[0, 0, 1], [1, 2, 2]], dtype=np.uint8)  # pairs 0->0, 0->1, 1->2, 2->2
    expected_counts = [[1, 1, 0, 0], [0, 0, 1, 0], [0, 0, 1, 0], [0, 0, 0, 0]]
    np.testing.assert_array_equal(emission_transition_counts(outputs, 4), expected_counts)
    matrix = empirical_emission_transition_matrix(outputs, 4)
    np.testing.assert_allclose(matrix, [[0.5, 0.5, 0, 0], [0, 0, 1, 0], [0, 0, 1, 0], [0, 0, 0, 0]])  # unused row 0
    np.testing.assert_allclose(squared_transition_difference(matrix, np.eye(4)), (matrix - np.eye(4)) ** 2)
    with pytest.raises(ValueError, match=r"\[0, 2\)"):
        emission_transition_counts(outputs, 2)


def test_volatility_on_hand_built_sequences():
    outputs = np.array([[0, 0, 1, 1, 2], [2, 2, 2, 2, 2], [0, 2, 0, 2, 0]], dtype=np.uint8)
    stats = volatility(outputs)
    np.testing.assert_array_equal(stats.changes, [2, 0, 4])
    assert stats.mean_changes == pytest.approx(2.0)
    assert stats.std_changes == pytest.approx(math.sqrt(8 / 3))
    assert stats.mean_proportion == pytest.approx(0.5)  # proportions 0.5, 0, 1 over T - 1 = 4 transitions
    assert stats.std_proportion == pytest.approx(math.sqrt(1 / 6))


def test_output_frequencies_on_hand_built_sequences():
    outputs = np.array([[0, 0, 1, 2], [2, 2, 2, 2]], dtype=np.uint8)  # per sequence [.5, .25, .25] and [0, 0, 1]
    stats = output_frequency_stats(outputs, 3)
    np.testing.assert_allclose(stats.mean, [0.25, 0.125, 0.625])
    np.testing.assert_allclose(stats.std, [0.25, 0.125, 0.375])


@pytest.mark.parametrize("hmm", [linear_chain(2, 0.05), fully_connected(3, 0.95, 0.98)], ids=["linear2", "fully"])
def test_large_hmm_samples_match_the_closed_form_statistics(hmm):
    _, outputs = sample_hmm(hmm, 2000, 100, np.random.default_rng(5))
    stats = emission_stats(outputs, 3)
    np.testing.assert_allclose(stats.transition_matrix, closed_form_transition_matrix(hmm), atol=0.03)
    np.testing.assert_allclose(stats.frequency_mean, stationary_output_frequencies(hmm), atol=0.03)
    assert stats.mean_proportion == pytest.approx(change_probability(hmm), abs=0.005)
    assert stats.mean_changes == pytest.approx(99 * change_probability(hmm), abs=0.5)


# --- §2 generator ----------------------------------------------------------------------------------------------


def confident_network() -> Weights:
    """h = (relu(x), relu(-x)); both units push output 0 with a gain of 1e4, so its logit is 1e4 |x|."""
    return Weights(
        W_ih=torch.tensor([[1.0], [-1.0]]),
        W_hh=torch.zeros(2, 2),
        W_o=torch.tensor([[1e4, 1e4], [0.0, 0.0], [0.0, 0.0]]),
    )


def test_authors_generator_emits_a_uniform_first_symbol_then_the_preferred_output():
    n = 3000
    outputs = generate_sequences(confident_network(), n, 6, torch.Generator().manual_seed(0), emit_from_zero=True)
    assert outputs.shape == (n, 6) and outputs.dtype == np.uint8
    first = np.bincount(outputs[:, 0], minlength=3) / n
    np.testing.assert_allclose(first, [1 / 3, 1 / 3, 1 / 3], atol=0.04)  # 4.5 standard errors
    assert (outputs[:, 1:] == 0).mean() > 0.99


def test_training_convention_generator_emits_the_preferred_output_from_the_first_step():
    outputs = generate_sequences(confident_network(), 3000, 6, torch.Generator().manual_seed(0), emit_from_zero=False)
    assert (outputs[:, 0] == 0).mean() > 0.99 and (outputs == 0).mean() > 0.99


def test_generator_is_deterministic_for_a_seed_and_uses_it():
    weights = Weights(W_ih=torch.randn(8, 4), W_hh=0.3 * torch.randn(8, 8), W_o=torch.randn(3, 8))

    def run(seed: int) -> np.ndarray:
        return generate_sequences(weights, 200, 15, torch.Generator().manual_seed(seed), emit_from_zero=False)

    np.testing.assert_array_equal(run(7), run(7))
    assert (run(7) != run(8)).any()


def test_evaluate_model_wires_samples_generator_and_alignments_together():
    hmm = linear_chain(2, 0.05)
    weights = Weights(W_ih=torch.randn(6, 3), W_hh=0.2 * torch.randn(6, 6), W_o=torch.randn(3, 6))
    sinkhorn = {f"sinkhorn_{name}": value for name, value in ALIGN.items()}
    settings = {"num_sequences": 40, "eval_seq_len": 12, "emit_from_zero": True, **sinkhorn}
    result = evaluate_model(
        hmm, weights, rng=np.random.default_rng(9), generator=torch.Generator().manual_seed(9), **settings
    )
    # the same streams, consumed in the documented order: S1, S2, S3 from rng, then the network
    rng = np.random.default_rng(9)
    s1, s2, s3 = (sample_hmm(hmm, 40, 12, rng)[1] for _ in range(3))
    rnn = generate_sequences(weights, 40, 12, torch.Generator().manual_seed(9), emit_from_zero=True)
    np.testing.assert_array_equal(result.rnn.transition_matrix, emission_stats(rnn, 3).transition_matrix)
    np.testing.assert_array_equal(result.hmm.frequency_mean, emission_stats(s1, 3).frequency_mean)
    np.testing.assert_array_equal(
        result.alignment.matched_indices, sinkhorn_alignment(encode(s1), encode(rnn), **ALIGN).matched_indices
    )
    assert result.baseline.mean == sinkhorn_alignment(encode(s2), encode(s3), **ALIGN).mean
    np.testing.assert_allclose(
        result.transition_sq_diff, (result.hmm.transition_matrix - result.rnn.transition_matrix) ** 2
    )


# --- §8.1 floor and convergence --------------------------------------------------------------------------------


def test_floor_between_batches_of_one_hmm_is_far_below_the_loss_against_another_hmm():
    rng = np.random.default_rng(6)
    slow, fast = linear_chain(2, 0.05), fully_connected(3, 0.95, 0.98)
    floor = sinkhorn_floor(slow, num_sequences=64, batch_size=64, num_timesteps=20, rng=rng, **LOSS)
    _, slow_outputs = sample_hmm(slow, 64, 20, rng)
    _, fast_outputs = sample_hmm(fast, 64, 20, rng)
    cross = sinkhorn_loss(slow_outputs, fast_outputs, 3, batch_size=64, **LOSS)
    assert 0 < floor < 0.5 * cross
    # batching: the loss with batches of 32 is the mean of the two batch losses
    halves = [
        sinkhorn_loss(slow_outputs[s], fast_outputs[s], 3, batch_size=32, **LOSS) for s in (slice(32), slice(32, 64))
    ]
    assert sinkhorn_loss(slow_outputs, fast_outputs, 3, batch_size=32, **LOSS) == pytest.approx(np.mean(halves))


THRESHOLDS = ConvergenceThresholds(
    max_loss_ratio=1.10,
    max_distance_ratio=1.10,
    max_transition_sq_diff=0.02,
    max_switch_rel_error=0.25,
    max_frequency_error=0.05,
    max_norm_growth=2.0,
    max_decay_ratio=1e-3,
)
BOUNDED = DynamicsStats(is_finite=True, orbit_norm=5.0, norm_growth=1.0, decay_ratio=1e-9, switch_rate=0.07)
STATIC = emission_stats(np.array([[0, 0, 2, 2, 2, 0]], dtype=np.uint8), 3)


def test_iid_coin_flips_fail_transitions_and_switches_although_the_loss_ratio_passes():
    hmm = linear_chain(2, 0.05)
    rng = np.random.default_rng(7)
    _, target = sample_hmm(hmm, 1000, 100, rng)
    _, other = sample_hmm(hmm, 1000, 100, rng)
    coin_flips = rng.choice(3, size=(1000, 100), p=stationary_output_frequencies(hmm)).astype(np.uint8)
    common = {"loss_floor": 10.0, "distance_score": 4.5, "baseline_distance": 4.5, "dynamics": BOUNDED}
    target_stats = emission_stats(target, 3)

    plateau = assess_convergence(
        val_loss=10.5, rnn=emission_stats(coin_flips, 3), hmm=target_stats, thresholds=THRESHOLDS, **common
    )
    assert plateau.is_loss_ok and plateau.is_distance_ok and plateau.is_frequencies_ok and plateau.is_dynamics_ok
    assert not plateau.is_transitions_ok and not plateau.is_switches_ok
    assert not plateau.is_converged and plateau.as_dict()["is_converged"] is False

    # a second sample of the HMM itself passes every criterion
    twin = assess_convergence(
        val_loss=10.5, rnn=emission_stats(other, 3), hmm=target_stats, thresholds=THRESHOLDS, **common
    )
    assert twin.is_converged, twin

    # and every single failing criterion is enough to reject it
    assert not assess_convergence(
        val_loss=12.0, rnn=emission_stats(other, 3), hmm=target_stats, thresholds=THRESHOLDS, **common
    ).is_converged
    unstable = {**common, "dynamics": BOUNDED._replace(norm_growth=math.nan, is_finite=False)}
    assert not assess_convergence(
        val_loss=10.5, rnn=emission_stats(other, 3), hmm=target_stats, thresholds=THRESHOLDS, **unstable
    ).is_converged


def diagonal_network(recurrent_gain: float) -> Weights:
    """Two noise-driven units with recurrent weight ``recurrent_gain`` and two silent ones."""
    return Weights(
        W_ih=torch.eye(4, 2, dtype=torch.float64),
        W_hh=recurrent_gain * torch.eye(4, dtype=torch.float64),
        W_o=torch.tensor([[1.0, -1.0, 0, 0], [-1.0, 1.0, 0, 0], [0, 0, 1.0, 1.0]], dtype=torch.float64),
    )


def run_dynamics(weights: Weights) -> DynamicsStats:
    generator = torch.Generator().manual_seed(0)
    return noise_dynamics(weights, num_trajectories=8, num_timesteps=600, decay_steps=100, generator=generator)


def test_noise_dynamics_of_a_contracting_network_are_bounded_and_decay_without_input():
    stats = run_dynamics(diagonal_network(0.5))  # stationary under noise, 0.5**100 of it left without input
    assert stats.is_finite and stats.norm_growth == pytest.approx(1.0, abs=0.2) and stats.switch_rate > 0.05
    assert 0 <= stats.decay_ratio < 1e-20


def test_noise_dynamics_flag_a_neutral_and_an_expanding_network():
    neutral = run_dynamics(diagonal_network(1.0))  # reflected random walk: norm grows like sqrt(t), never decays
    assert 1.2 < neutral.norm_growth < 2.0 and neutral.decay_ratio > 0.5
    expanding = run_dynamics(diagonal_network(1.2))
    assert expanding.norm_growth > 1e10
    for stats in (neutral, expanding):
        record = assess_convergence(
            val_loss=1.0,
            loss_floor=1.0,
            distance_score=1.0,
            baseline_distance=1.0,
            rnn=STATIC,
            hmm=STATIC,
            dynamics=stats,
            thresholds=THRESHOLDS,
        )
        assert not record.is_dynamics_ok and not record.is_converged
        assert record.is_loss_ok and record.is_transitions_ok and record.is_switches_ok
