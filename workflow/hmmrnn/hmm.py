"""Hidden Markov models with categorical emissions: construction, checks, sampling and closed-form statistics.

Conventions follow PAPER_SPEC §1: ``transition_matrix[i, j] = P(s' = j | s = i)``,
``emission_matrix[i, k] = P(o = k | s = i)``, and sequences start from ``start_distribution``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from .errors import ConfigError

__all__ = [
    "HMM",
    "build_hmm",
    "change_probability",
    "check_hmm",
    "cyclic_ring",
    "stationary_emission_transition_matrix",
    "fully_connected",
    "linear_chain",
    "stationary_output_frequencies",
    "sample_hmm",
    "stationary_distribution",
]

_ATOL = 1e-6


@dataclass(frozen=True)
class HMM:
    """A categorical HMM.

    Parameters
    ----------
    transition_matrix : (num_states, num_states) ndarray
        Row-stochastic state transition probabilities.
    emission_matrix : (num_states, num_outputs) ndarray
        Row-stochastic emission probabilities.
    start_distribution : (num_states,) ndarray
        Distribution of the first state.
    """

    transition_matrix: np.ndarray
    emission_matrix: np.ndarray
    start_distribution: np.ndarray

    @property
    def num_states(self) -> int:
        return self.transition_matrix.shape[0]

    @property
    def num_outputs(self) -> int:
        return self.emission_matrix.shape[1]


def linear_chain(num_states: int, target_prob: float, num_outputs: int = 3) -> HMM:
    """Linear-chain HMM of §1.2: tridiagonal transitions with ``q = target_prob ** (1 / (M - 1))``.

    Emissions interpolate linearly from a state favouring output 0 to one favouring output 2, with
    ``P(output 1) = 0.01`` in every state.
    """
    if num_states < 2:
        raise ConfigError(f"linear_chain needs num_states >= 2, found {num_states}")
    if num_outputs != 3:
        raise ConfigError(f"linear_chain emissions are defined for 3 outputs, found {num_outputs}")
    q = target_prob ** (1.0 / (num_states - 1))
    idx = np.arange(num_states)
    adjacent = np.abs(idx[:, None] - idx[None, :]) == 1
    transition = np.where(adjacent, q, 0.0)
    transition[idx, idx] = 1.0 - transition.sum(axis=1)
    alpha = idx / (num_states - 1)
    emission = np.stack([0.99 * (1 - alpha), np.full(num_states, 0.01), 0.99 * alpha], axis=1)
    return HMM(transition, emission, np.full(num_states, 1.0 / num_states))


def fully_connected(num_states: int, stay_prob: float, emission_peak: float) -> HMM:
    """Fully-connected HMM of §1.3: stay with ``stay_prob``, else jump uniformly; state i favours output i."""
    if num_states < 2:
        raise ConfigError(f"fully_connected needs num_states >= 2, found {num_states}")
    transition = np.full((num_states, num_states), (1.0 - stay_prob) / (num_states - 1))
    np.fill_diagonal(transition, stay_prob)
    emission = np.full((num_states, num_states), (1.0 - emission_peak) / (num_states - 1))
    np.fill_diagonal(emission, emission_peak)
    return HMM(transition, emission, np.full(num_states, 1.0 / num_states))


def cyclic_ring(stay_prob: float, emission_matrix: np.ndarray) -> HMM:
    """Bidirectional ring 0-1-...-(M-1)-0 (§1.4): stay with ``stay_prob``, else step to either neighbour."""
    emission = np.asarray(emission_matrix, dtype=float)
    num_states = emission.shape[0]
    idx = np.arange(num_states)
    ring_distance = np.minimum(np.abs(idx[:, None] - idx[None, :]), num_states - np.abs(idx[:, None] - idx[None, :]))
    transition = np.where(ring_distance == 1, (1.0 - stay_prob) / 2, 0.0)
    np.fill_diagonal(transition, stay_prob)
    return HMM(transition, emission, np.full(num_states, 1.0 / num_states))


def check_hmm(hmm: HMM, name: str) -> HMM:
    """Raise :class:`ConfigError` naming ``name`` unless ``hmm`` is a well-formed HMM; return it unchanged."""
    A, E, pi = hmm.transition_matrix, hmm.emission_matrix, hmm.start_distribution
    where = f"hmms.{name}"
    if A.ndim != 2 or A.shape[0] != A.shape[1]:
        raise ConfigError(f"{where}.transition_matrix must be square (num_states, num_states), found shape {A.shape}")
    if E.ndim != 2 or E.shape[0] != A.shape[0]:
        raise ConfigError(
            f"{where}.emission_matrix must have shape ({A.shape[0]}, num_outputs) to match the transition "
            f"matrix, found shape {E.shape}"
        )
    if pi.shape != (A.shape[0],):
        raise ConfigError(f"{where}.start_distribution must have shape ({A.shape[0]},), found shape {pi.shape}")
    for key, arr in (("transition_matrix", A), ("emission_matrix", E), ("start_distribution", pi)):
        if not np.all(np.isfinite(arr)) or np.any(arr < 0):
            raise ConfigError(f"{where}.{key} must be finite and non-negative")
        sums = arr.sum(axis=-1)
        if not np.allclose(sums, 1.0, atol=_ATOL):
            raise ConfigError(f"{where}.{key}: every row must sum to 1, found sums {np.round(sums, 6).tolist()}")
    return hmm


def build_hmm(name: str, spec: Mapping[str, Any]) -> HMM:
    """Build and check the HMM described by one entry of the config's ``hmms`` mapping."""
    kind = spec.get("kind")
    try:
        if kind == "linear_chain":
            hmm = linear_chain(int(spec["num_states"]), float(spec["target_prob"]))
        elif kind == "fully_connected":
            hmm = fully_connected(int(spec["num_states"]), float(spec["stay_prob"]), float(spec["emission_peak"]))
        elif kind == "cyclic":
            hmm = cyclic_ring(float(spec["stay_prob"]), np.asarray(spec["emission_matrix"], dtype=float))
        elif kind == "custom":
            transition = np.asarray(spec["transition_matrix"], dtype=float)
            emission = np.asarray(spec["emission_matrix"], dtype=float)
            start = spec.get("start_distribution")
            num_states = transition.shape[0] if transition.ndim else 0
            start = np.full(num_states, 1.0 / max(num_states, 1)) if start is None else np.asarray(start, float)
            hmm = HMM(transition, emission, start)
        else:
            raise ConfigError(
                f"hmms.{name}.kind: unknown HMM kind {kind!r}; use one of linear_chain, fully_connected, cyclic, custom"
            )
    except KeyError as missing:
        raise ConfigError(f"hmms.{name}: kind {kind!r} needs the key {missing.args[0]!r}") from None
    except ValueError as err:  # ragged nested lists
        raise ConfigError(f"hmms.{name}: matrices must be rectangular lists of numbers ({err})") from None
    return check_hmm(hmm, name)


def sample_hmm(
    hmm: HMM, num_sequences: int, num_timesteps: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Sample independent state and output sequences, vectorised over sequences.

    Returns
    -------
    states : (num_sequences, num_timesteps) int64 ndarray
    outputs : (num_sequences, num_timesteps) uint8 ndarray of output symbols
    """
    cum_start = np.cumsum(hmm.start_distribution)
    cum_transition = np.cumsum(hmm.transition_matrix, axis=1)
    cum_emission = np.cumsum(hmm.emission_matrix, axis=1)
    draws = rng.random((num_sequences, num_timesteps))
    states = np.empty((num_sequences, num_timesteps), dtype=np.int64)
    states[:, 0] = _categorical(cum_start[None, :], draws[:, 0])
    for t in range(1, num_timesteps):  # the Markov recurrence is the only loop
        states[:, t] = _categorical(cum_transition[states[:, t - 1]], draws[:, t])
    emission_draws = rng.random((num_sequences, num_timesteps))
    outputs = _categorical(cum_emission[states], emission_draws).astype(np.uint8)
    return states, outputs


def _categorical(cumulative: np.ndarray, uniform: np.ndarray) -> np.ndarray:
    """Inverse-CDF draw: index of the first cumulative probability above ``uniform`` (broadcast over rows)."""
    last = cumulative.shape[-1] - 1
    return np.minimum((cumulative <= uniform[..., None]).sum(axis=-1), last)


def stationary_distribution(transition_matrix: np.ndarray) -> np.ndarray:
    """Stationary distribution pi with ``pi @ A = pi`` (left eigenvector of eigenvalue 1), shape (num_states,)."""
    num_states = transition_matrix.shape[0]
    system = np.vstack([transition_matrix.T - np.eye(num_states), np.ones((1, num_states))])
    rhs = np.zeros(num_states + 1)
    rhs[-1] = 1.0
    return np.linalg.lstsq(system, rhs, rcond=None)[0]


def stationary_output_frequencies(hmm: HMM) -> np.ndarray:
    """Stationary marginal output frequencies ``pi @ E``, shape (num_outputs,)."""
    return stationary_distribution(hmm.transition_matrix) @ hmm.emission_matrix


def stationary_emission_transition_matrix(hmm: HMM) -> np.ndarray:
    """Stationary one-step output transition matrix ``P(o_{t+1} = j | o_t = i)``, shape (num_outputs, num_outputs).

    Rows of outputs that are never emitted are left as zeros.
    """
    pi = stationary_distribution(hmm.transition_matrix)
    E, A = hmm.emission_matrix, hmm.transition_matrix
    joint = (pi[:, None] * E).T @ A @ E  # joint[i, j] = P(o_t = i, o_{t+1} = j)
    marginal = joint.sum(axis=1, keepdims=True)
    return np.divide(joint, marginal, out=np.zeros_like(joint), where=marginal > 0)


def change_probability(hmm: HMM) -> float:
    """Stationary probability that the emitted symbol differs between two consecutive steps."""
    pi = stationary_distribution(hmm.transition_matrix)
    joint = (pi[:, None] * hmm.emission_matrix).T @ hmm.transition_matrix @ hmm.emission_matrix
    return float(1.0 - np.trace(joint))
