"""HMM construction, checks, sampling and closed-form statistics (PAPER_SPEC §1)."""

import numpy as np
import pytest

from hmmrnn.errors import ConfigError
from hmmrnn.hmm import (
    HMM,
    build_hmm,
    change_probability,
    cyclic_ring,
    fully_connected,
    linear_chain,
    sample_hmm,
    stationary_distribution,
    stationary_emission_transition_matrix,
    stationary_output_frequencies,
)
from hmmrnn.seeds import numpy_rng


def test_two_state_chain_has_closed_form_stationary_distribution():
    a, b = 0.1, 0.3
    pi = stationary_distribution(np.array([[1 - a, a], [b, 1 - b]]))
    np.testing.assert_allclose(pi, np.array([b, a]) / (a + b))


@pytest.mark.parametrize("num_states", [2, 3, 4, 5])
def test_linear_chain_reaches_farthest_state_with_target_probability(num_states):
    hmm = linear_chain(num_states, 0.05)
    q = hmm.transition_matrix[0, 1]
    assert q ** (num_states - 1) == pytest.approx(0.05)
    # tridiagonal, symmetric, row-stochastic
    np.testing.assert_allclose(hmm.transition_matrix, hmm.transition_matrix.T)
    np.testing.assert_allclose(hmm.transition_matrix.sum(axis=1), 1.0)
    assert np.count_nonzero(np.triu(hmm.transition_matrix, 2)) == 0
    # emissions interpolate from output 0 to output 2; output 1 always 0.01
    np.testing.assert_allclose(hmm.emission_matrix[:, 1], 0.01)
    np.testing.assert_allclose(hmm.emission_matrix[0], [0.99, 0.01, 0.0])
    np.testing.assert_allclose(hmm.emission_matrix[-1], [0.0, 0.01, 0.99])


def test_two_state_chain_statistics_match_hand_derivation():
    hmm = linear_chain(2, 0.05)
    np.testing.assert_allclose(hmm.transition_matrix, [[0.95, 0.05], [0.05, 0.95]])
    np.testing.assert_allclose(stationary_output_frequencies(hmm), [0.495, 0.01, 0.495])
    # P(o'=0 | o=0): from state 0 (the only source of output 0) stay w.p. 0.95 and emit 0 w.p. 0.99
    expected_stay = 0.95 * 0.99
    assert stationary_emission_transition_matrix(hmm)[0, 0] == pytest.approx(expected_stay)
    # output 1 is emitted independently of the state: the next output is distributed as the marginal
    np.testing.assert_allclose(stationary_emission_transition_matrix(hmm)[1], [0.495, 0.01, 0.495])


def test_cyclic_ring_matches_the_paper_matrix():
    emission = [[0.9, 0.1, 0], [0.1, 0.9, 0], [0, 0.1, 0.9], [0, 0.9, 0.1]]
    hmm = cyclic_ring(0.95, emission)
    expected = [[0.95, 0.025, 0, 0.025], [0.025, 0.95, 0.025, 0], [0, 0.025, 0.95, 0.025], [0.025, 0, 0.025, 0.95]]
    np.testing.assert_allclose(hmm.transition_matrix, expected)
    np.testing.assert_allclose(stationary_output_frequencies(hmm), [0.25, 0.5, 0.25])


def test_fully_connected_has_uniform_frequencies():
    hmm = fully_connected(3, 0.95, 0.98)
    np.testing.assert_allclose(hmm.transition_matrix[0], [0.95, 0.025, 0.025])
    np.testing.assert_allclose(stationary_output_frequencies(hmm), np.full(3, 1 / 3))


@pytest.mark.parametrize(
    "hmm",
    [
        linear_chain(3, 0.05),
        fully_connected(3, 0.95, 0.98),
        cyclic_ring(0.9, [[0.9, 0.1, 0], [0.1, 0.9, 0], [0, 0.1, 0.9], [0, 0.9, 0.1]]),
    ],
    ids=["linear3", "fully", "cyclic"],
)
def test_large_sample_matches_closed_form_statistics(hmm):
    states, outputs = sample_hmm(hmm, 4000, 50, numpy_rng(0, "test"))
    # latent states: stationary marginal and empirical transition matrix
    np.testing.assert_allclose(
        np.bincount(states.ravel(), minlength=hmm.num_states) / states.size,
        stationary_distribution(hmm.transition_matrix),
        atol=0.01,
    )
    pairs = np.zeros((hmm.num_states, hmm.num_states))
    np.add.at(pairs, (states[:, :-1].ravel(), states[:, 1:].ravel()), 1)
    np.testing.assert_allclose(pairs / pairs.sum(axis=1, keepdims=True), hmm.transition_matrix, atol=0.01)
    # outputs: frequencies, output transition matrix and change probability
    np.testing.assert_allclose(
        np.bincount(outputs.ravel(), minlength=3) / outputs.size, stationary_output_frequencies(hmm), atol=0.01
    )
    out_pairs = np.zeros((3, 3))
    np.add.at(out_pairs, (outputs[:, :-1].ravel(), outputs[:, 1:].ravel()), 1)
    rows = out_pairs.sum(axis=1, keepdims=True)
    empirical = np.divide(out_pairs, rows, out=np.zeros_like(out_pairs), where=rows > 100)
    closed = np.where(rows > 100, stationary_emission_transition_matrix(hmm), 0.0)
    np.testing.assert_allclose(empirical, closed, atol=0.03)
    assert np.mean(outputs[:, 1:] != outputs[:, :-1]) == pytest.approx(change_probability(hmm), abs=0.01)


def test_sampling_is_deterministic_per_seed_and_differs_across_seeds():
    hmm = linear_chain(2, 0.05)
    first = sample_hmm(hmm, 10, 20, numpy_rng(1, "data"))[1]
    again = sample_hmm(hmm, 10, 20, numpy_rng(1, "data"))[1]
    other = sample_hmm(hmm, 10, 20, numpy_rng(2, "data"))[1]
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)


def test_start_distribution_is_respected():
    hmm = HMM(np.eye(2), np.eye(2)[:, [0, 1, 1]] * [1, 1, 0], np.array([0.0, 1.0]))
    states, outputs = sample_hmm(hmm, 50, 5, numpy_rng(0))
    assert np.all(states == 1) and np.all(outputs == 1)


def test_build_hmm_custom_and_errors():
    spec = {"kind": "custom", "transition_matrix": [[0.9, 0.1], [0.2, 0.8]], "emission_matrix": [[1, 0, 0], [0, 0, 1]]}
    hmm = build_hmm("own", spec)
    np.testing.assert_allclose(hmm.start_distribution, [0.5, 0.5])
    bad_rows = {**spec, "transition_matrix": [[0.9, 0.2], [0.2, 0.8]]}
    with pytest.raises(ConfigError, match=r"hmms\.own\.transition_matrix.*sum to 1"):
        build_hmm("own", bad_rows)
    with pytest.raises(ConfigError, match=r"hmms\.own\.emission_matrix.*shape"):
        build_hmm("own", {**spec, "emission_matrix": [[1, 0, 0]]})
    with pytest.raises(ConfigError, match="non-negative"):
        build_hmm("own", {**spec, "transition_matrix": [[1.1, -0.1], [0.2, 0.8]]})
    with pytest.raises(ConfigError, match="unknown HMM kind"):
        build_hmm("own", {"kind": "spiral"})
    with pytest.raises(ConfigError, match="needs the key 'target_prob'"):
        build_hmm("chain", {"kind": "linear_chain", "num_states": 3})
