"""Mean activities of kick groups and populations around switches, and their oscillation statistics (§6.13)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import torch

from ..dynamics.simulation import Weights, to_numpy
from .runs import index_array, noisy_run, switch_times

__all__ = ["MeanActivities", "OscillationStatistics", "mean_activities", "oscillation_statistics"]


class MeanActivities(NamedTuple):
    """Group-mean activities along one noisy run.

    Attributes
    ----------
    kick : (num_kick_groups, num_steps) ndarray
        Mean of h over each kick group at steps 1..T.
    population : (num_populations, num_steps) ndarray
        Mean of h over each population.
    outputs : (num_steps,) int ndarray
    switch_times : (num_switches,) int ndarray
        Indices i ≥ 1 (into the arrays above) with ``outputs[i] ≠ outputs[i-1]``: the output-segment boundaries.
    """

    kick: np.ndarray
    population: np.ndarray
    outputs: np.ndarray
    switch_times: np.ndarray

    @property
    def segment_bounds(self) -> np.ndarray:
        """``[0, switch_times..., num_steps]``: segment s spans ``[bounds[s], bounds[s+1])``."""
        return np.concatenate([[0], self.switch_times, [self.outputs.size]]).astype(np.int64)


def mean_activities(
    weights: Weights,
    initial_state: torch.Tensor,
    kick_groups: Sequence,
    populations: Sequence,
    *,
    num_steps: int,
    warmup_steps: int,
    noise_std: float,
    generator: torch.Generator,
) -> MeanActivities:
    """Mean activity of kick groups and integrating populations along one noisy run (§6.13).

    Parameters
    ----------
    weights : Weights
    initial_state : (hidden_size,) tensor
        ξ in §6.13 (:func:`random_initial_state`).
    kick_groups, populations : sequence of int array-like
    num_steps : int
        300 in §6.13.
    warmup_steps : int
        0 in §6.13.
    noise_std : float
    generator : torch.Generator
    """
    states, _ = noisy_run(
        weights, initial_state, num_steps=num_steps, warmup_steps=warmup_steps, noise_std=noise_std, generator=generator
    )
    h = to_numpy(states[1:])
    H = weights.hidden_size

    def means(groups: Sequence) -> np.ndarray:
        rows = [h[:, index_array(g, H, "group")].mean(axis=1) for g in groups]
        return np.stack(rows) if rows else np.zeros((0, num_steps))

    outputs = to_numpy((states[1:] @ weights.W_o.T).argmax(dim=-1)).astype(np.int64)
    return MeanActivities(means(kick_groups), means(populations), outputs, switch_times(outputs))


class OscillationStatistics(NamedTuple):
    """Claim 14 statistics of :class:`MeanActivities`.

    Attributes
    ----------
    population_correlation : float
        Pearson correlation of the first two population mean activities (NaN with fewer than two).
    kick_pre_switch : (num_kick_groups,) ndarray
        Mean kick-group activity in the ``pre_switch_steps`` steps before each (of its direction's) switches.
    kick_cluster : (num_kick_groups,) ndarray
        Mean kick-group activity over steps more than ``cluster_margin`` from every switch.
    """

    population_correlation: float
    kick_pre_switch: np.ndarray
    kick_cluster: np.ndarray


def oscillation_statistics(
    activities: MeanActivities,
    *,
    pre_switch_steps: int,
    cluster_margin: int,
    directions: Sequence[tuple[int, int]] | None = None,
) -> OscillationStatistics:
    """Anti-phase of the populations and pre-switch kick bursts (claim 14).

    Parameters
    ----------
    activities : MeanActivities
    pre_switch_steps : int
        3 in claim 14: steps i-3..i-1 before a switch at i.
    cluster_margin : int
    directions : sequence of (int, int) or None
        Per kick group, the direction whose switches count (all switches when None).
    """
    outputs, switches = activities.outputs, activities.switch_times
    T = outputs.size
    if activities.population.shape[0] >= 2:
        correlation = float(np.corrcoef(activities.population[0], activities.population[1])[0, 1])
    else:
        correlation = math.nan
    distance = (
        np.min(np.abs(np.arange(T)[:, None] - switches[None, :]), axis=1) if switches.size else np.full(T, np.inf)
    )
    cluster = distance > cluster_margin
    num_groups = activities.kick.shape[0]
    if directions is not None and len(directions) != num_groups:
        raise ValueError(f"directions has {len(directions)} entries for {num_groups} kick groups")
    pre, rest = np.full(num_groups, np.nan), np.full(num_groups, np.nan)
    offsets = np.arange(-pre_switch_steps, 0)
    for g in range(num_groups):  # loop over the (few) groups only
        times = switches[switches >= pre_switch_steps]
        if directions is not None:
            a, b = directions[g]
            times = times[(outputs[times - 1] == a) & (outputs[times] == b)]
        if times.size:
            pre[g] = activities.kick[g, times[:, None] + offsets[None, :]].mean()
        if cluster.any():
            rest[g] = activities.kick[g, cluster].mean()
    return OscillationStatistics(correlation, pre, rest)
