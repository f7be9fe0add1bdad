"""Noise-integrating populations, the ordered weight blocks and the circuit statistics (§6.12, §8.4)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal, NamedTuple

import numpy as np

from ..dynamics.simulation import to_numpy
from .runs import index_array

__all__ = [
    "CircuitStatistics",
    "IntegratingPopulations",
    "WeightBlocks",
    "circuit_statistics",
    "integrating_populations",
    "ordered_weight_blocks",
]


class IntegratingPopulations(NamedTuple):
    """Two noise-integrating populations defined by their projections onto two kick groups.

    Attributes
    ----------
    population_1 : (n1,) int ndarray
        Inhibits group A, excites group B (``g_A < 0 < g_B``), ordered by increasing g_A.
    population_2 : (n2,) int ndarray
        Excites A, inhibits B (``g_A > 0 > g_B``), ordered by increasing g_A.
    g_a, g_b : (hidden_size,) ndarray
        ``g_A[j] = mean_{a∈A} W[a, j]`` and likewise for B.
    """

    population_1: np.ndarray
    population_2: np.ndarray
    g_a: np.ndarray
    g_b: np.ndarray

    @property
    def ordered(self) -> np.ndarray:
        """Population 1 then population 2 (the column order of Fig. 6)."""
        return np.concatenate([self.population_1, self.population_2])


def integrating_populations(
    W_hh,
    kick_a,
    kick_b,
    *,
    num_per_population: int,
    method: Literal["sign", "authors"] = "sign",
) -> IntegratingPopulations:
    """Noise-integrating populations of a pair of kick groups (§6.12, §8.4).

    ``method="sign"`` (default, §8.4 rule): candidates are non-kick neurons with ``g_A·g_B < 0``; population 1
    = {g_A < 0 < g_B}, population 2 = {g_A > 0 > g_B}; each keeps its top ``num_per_population`` by
    ``|g_A·g_B|``, then is ordered by increasing g_A. ``method="authors"`` (§6.12): all neurons (kick neurons
    included) ranked by ascending ``g_A·g_B``, the first ``2·num_per_population`` ordered by increasing g_A and
    split positionally in halves (§9.33).

    Parameters
    ----------
    W_hh : (hidden_size, hidden_size) tensor or ndarray
        Rows are targets.
    kick_a, kick_b : (n,) int array-like
    num_per_population : int
        n_pop = 35.
    method : {"sign", "authors"}
    """
    W = to_numpy(W_hh).astype(float)
    H = W.shape[0]
    a = index_array(kick_a, H, "kick_a")
    b = index_array(kick_b, H, "kick_b")
    if a.size == 0 or b.size == 0:
        raise ValueError("both kick groups must be non-empty")
    g_a, g_b = W[a].mean(axis=0), W[b].mean(axis=0)
    product = g_a * g_b
    if method == "sign":
        not_kick = np.ones(H, dtype=bool)
        not_kick[np.concatenate([a, b])] = False

        def keep(members: np.ndarray) -> np.ndarray:
            top = members[np.argsort(-np.abs(product[members]), kind="stable")][:num_per_population]
            return top[np.argsort(g_a[top], kind="stable")]

        first = keep(np.flatnonzero(not_kick & (g_a < 0) & (g_b > 0)))
        second = keep(np.flatnonzero(not_kick & (g_a > 0) & (g_b < 0)))
    elif method == "authors":
        top = np.argsort(product, kind="stable")[: 2 * num_per_population]
        top = top[np.argsort(g_a[top], kind="stable")]
        first, second = top[: top.size // 2], top[top.size // 2 :]
    else:
        raise ValueError(f"method must be 'sign' or 'authors'; found {method!r}")
    return IntegratingPopulations(first.astype(np.int64), second.astype(np.int64), g_a, g_b)


class WeightBlocks(NamedTuple):
    """The three weight blocks of Fig. 6 (rows = targets, columns = sources).

    Attributes
    ----------
    kick_kick : (n_kick, n_kick) ndarray
        ``W[K, K]``.
    kick_population : (n_kick, n_pop) ndarray
        ``W[K, P]``: populations → kick neurons.
    population_population : (n_pop, n_pop) ndarray
        ``W[P, P]``.
    kick : (n_kick,) int ndarray
    population : (n_pop,) int ndarray
    """

    kick_kick: np.ndarray
    kick_population: np.ndarray
    population_population: np.ndarray
    kick: np.ndarray
    population: np.ndarray

    @property
    def max_abs(self) -> float:
        """Largest |weight| over the blocks: a symmetric colour range ±max_abs keeps white at 0 (§9.34)."""
        return float(
            max(
                np.abs(block).max(initial=0.0)
                for block in (self.kick_kick, self.kick_population, self.population_population)
            )
        )


def ordered_weight_blocks(W_hh, kick_groups: Sequence, populations: Sequence) -> WeightBlocks:
    """Kick⇄kick, kick⇄population and population⇄population blocks of ``W_hh`` in group order (§6.12 step 4).

    Parameters
    ----------
    W_hh : (hidden_size, hidden_size) tensor or ndarray
    kick_groups : sequence of (n_g,) int array-like
        Concatenated in order (e.g. the groups of :class:`KickNeurons`).
    populations : sequence of (n_p,) int array-like
        Concatenated in order (e.g. population_1, population_2).
    """
    W = to_numpy(W_hh).astype(float)
    kick = index_array(np.concatenate([np.asarray(g, dtype=np.int64).ravel() for g in kick_groups]), W.shape[0], "kick")
    population = index_array(
        np.concatenate([np.asarray(p, dtype=np.int64).ravel() for p in populations]), W.shape[0], "populations"
    )
    return WeightBlocks(
        W[np.ix_(kick, kick)], W[np.ix_(kick, population)], W[np.ix_(population, population)], kick, population
    )


class CircuitStatistics(NamedTuple):
    """Mean weights of the kick/population circuit (claim 12).

    Attributes
    ----------
    within_kick : float
        Mean off-diagonal weight inside each kick group (pooled).
    cross_kick : float
        Mean weight between different kick groups (both directions).
    within_population : float
        Mean off-diagonal weight inside each population (pooled).
    cross_population : float
        Mean weight between different populations (both directions).
    """

    within_kick: float
    cross_kick: float
    within_population: float
    cross_population: float


def circuit_statistics(W_hh, kick_groups: Sequence, populations: Sequence) -> CircuitStatistics:
    """Within- and cross-group mean weights of kick groups and populations (claim 12).

    Parameters
    ----------
    W_hh : (hidden_size, hidden_size) tensor or ndarray
    kick_groups, populations : sequence of int array-like
    """
    W = to_numpy(W_hh).astype(float)

    def within_and_cross(groups: Sequence) -> tuple[float, float]:
        sets = [index_array(g, W.shape[0], "group") for g in groups]
        within = [W[np.ix_(s, s)][~np.eye(s.size, dtype=bool)] for s in sets]
        cross = [W[np.ix_(s, t)].ravel() for i, s in enumerate(sets) for j, t in enumerate(sets) if i != j]
        pooled_within = np.concatenate(within) if within else np.zeros(0)
        pooled_cross = np.concatenate(cross) if cross else np.zeros(0)
        return (
            float(pooled_within.mean()) if pooled_within.size else math.nan,
            float(pooled_cross.mean()) if pooled_cross.size else math.nan,
        )

    kick = within_and_cross(kick_groups)
    population = within_and_cross(populations)
    return CircuitStatistics(kick[0], kick[1], population[0], population[1])
