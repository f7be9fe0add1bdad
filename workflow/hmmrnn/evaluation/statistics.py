"""Sample statistics of output sequences: emission transitions, output frequencies, volatility (§5)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

__all__ = [
    "EmissionStats",
    "FrequencyStats",
    "VolatilityStats",
    "emission_stats",
    "emission_transition_counts",
    "empirical_emission_transition_matrix",
    "output_frequency_stats",
    "squared_transition_difference",
    "volatility",
]


def check_symbols(outputs: np.ndarray, num_outputs: int | None = None, min_timesteps: int = 1) -> np.ndarray:
    symbols = np.asarray(outputs)
    if symbols.ndim != 2 or symbols.shape[0] < 1 or symbols.shape[1] < min_timesteps:
        raise ValueError(
            f"outputs must have shape (num_sequences >= 1, num_timesteps >= {min_timesteps}), found {symbols.shape}"
        )
    if not np.issubdtype(symbols.dtype, np.integer):
        raise ValueError(f"outputs must hold integer symbols, found dtype {symbols.dtype}")
    symbols = symbols.astype(np.int64)
    if num_outputs is not None and (symbols.min() < 0 or symbols.max() >= num_outputs):
        raise ValueError(f"outputs must lie in [0, {num_outputs}), found values in [{symbols.min()}, {symbols.max()}]")
    return symbols


def emission_transition_counts(outputs: np.ndarray, num_outputs: int) -> np.ndarray:
    """Counts of consecutive symbol pairs ``o_{t-1} -> o_t`` pooled over sequences and t = 2..T (§5.2).

    Parameters
    ----------
    outputs : (num_sequences, num_timesteps) integer ndarray
    num_outputs : int
        K.

    Returns
    -------
    (num_outputs, num_outputs) int64 ndarray, ``counts[i, j]`` = number of steps from symbol i to symbol j
    """
    symbols = check_symbols(outputs, num_outputs, min_timesteps=2)
    pairs = symbols[:, :-1] * num_outputs + symbols[:, 1:]
    return np.bincount(pairs.ravel(), minlength=num_outputs * num_outputs).reshape(num_outputs, num_outputs)


def empirical_emission_transition_matrix(outputs: np.ndarray, num_outputs: int) -> np.ndarray:
    """Row-normalised :func:`emission_transition_counts`; rows of symbols never left stay zero (§5.2).

    Returns
    -------
    (num_outputs, num_outputs) float64 ndarray, ``P(o_t = j | o_{t-1} = i)``
    """
    counts = emission_transition_counts(outputs, num_outputs).astype(np.float64)
    totals = counts.sum(axis=1, keepdims=True)
    return np.divide(counts, totals, out=np.zeros_like(counts), where=totals > 0)


def squared_transition_difference(reference: np.ndarray, candidate: np.ndarray) -> np.ndarray:
    """Element-wise ``(reference - candidate)**2`` of two transition matrices (§5.2).

    Parameters
    ----------
    reference, candidate : (num_outputs, num_outputs) ndarray

    Returns
    -------
    (num_outputs, num_outputs) float64 ndarray
    """
    reference, candidate = np.asarray(reference, dtype=np.float64), np.asarray(candidate, dtype=np.float64)
    if reference.shape != candidate.shape or reference.ndim != 2:
        raise ValueError(f"need two (K, K) matrices of one shape, found {reference.shape} and {candidate.shape}")
    return (reference - candidate) ** 2


class FrequencyStats(NamedTuple):
    """Per-sequence output frequencies summarised over sequences (§5.3).

    Attributes
    ----------
    mean, std : (num_outputs,) float64 ndarray
    """

    mean: np.ndarray
    std: np.ndarray


def output_frequency_stats(outputs: np.ndarray, num_outputs: int) -> FrequencyStats:
    """Fraction of steps showing each symbol in every sequence; mean and std over sequences (§5.3).

    Parameters
    ----------
    outputs : (num_sequences, num_timesteps) integer ndarray
    num_outputs : int

    Returns
    -------
    FrequencyStats
    """
    symbols = check_symbols(outputs, num_outputs)
    num_sequences, num_timesteps = symbols.shape
    keys = np.arange(num_sequences)[:, None] * num_outputs + symbols
    counts = np.bincount(keys.ravel(), minlength=num_sequences * num_outputs).reshape(num_sequences, num_outputs)
    frequencies = counts / num_timesteps
    return FrequencyStats(mean=frequencies.mean(axis=0), std=frequencies.std(axis=0))


class VolatilityStats(NamedTuple):
    """Symbol changes per sequence (§5.4).

    Attributes
    ----------
    changes : (num_sequences,) int64 ndarray
        Number of t in 2..T with ``o_t != o_{t-1}``.
    mean_changes, std_changes : float
        Over sequences (the count plotted by the authors).
    mean_proportion, std_proportion : float
        Of ``changes / (T - 1)`` (the proportion defined in the paper).
    """

    changes: np.ndarray
    mean_changes: float
    std_changes: float
    mean_proportion: float
    std_proportion: float


def volatility(outputs: np.ndarray) -> VolatilityStats:
    """Count and proportion of steps where the symbol changes, per sequence (§5.4).

    Parameters
    ----------
    outputs : (num_sequences, num_timesteps) integer ndarray, num_timesteps >= 2

    Returns
    -------
    VolatilityStats
    """
    symbols = check_symbols(outputs, min_timesteps=2)
    changes = np.count_nonzero(symbols[:, 1:] != symbols[:, :-1], axis=1).astype(np.int64)
    proportion = changes / (symbols.shape[1] - 1)
    return VolatilityStats(
        changes=changes,
        mean_changes=float(changes.mean()),
        std_changes=float(changes.std()),
        mean_proportion=float(proportion.mean()),
        std_proportion=float(proportion.std()),
    )


@dataclass(frozen=True)
class EmissionStats:
    """The §5.2–§5.4 summary of one set of sequences.

    Attributes
    ----------
    transition_matrix : (num_outputs, num_outputs) ndarray
    frequency_mean, frequency_std : (num_outputs,) ndarray
    mean_changes, std_changes, mean_proportion, std_proportion : float
    """

    transition_matrix: np.ndarray
    frequency_mean: np.ndarray
    frequency_std: np.ndarray
    mean_changes: float
    std_changes: float
    mean_proportion: float
    std_proportion: float


def emission_stats(outputs: np.ndarray, num_outputs: int) -> EmissionStats:
    """Transition matrix, frequencies and volatility of ``(num_sequences, num_timesteps)`` symbols."""
    frequencies = output_frequency_stats(outputs, num_outputs)
    changes = volatility(outputs)
    return EmissionStats(
        transition_matrix=empirical_emission_transition_matrix(outputs, num_outputs),
        frequency_mean=frequencies.mean,
        frequency_std=frequencies.std,
        mean_changes=changes.mean_changes,
        std_changes=changes.std_changes,
        mean_proportion=changes.mean_proportion,
        std_proportion=changes.std_proportion,
    )
