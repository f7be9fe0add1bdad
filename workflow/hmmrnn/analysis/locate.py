"""The cluster and transition points of a switch direction (§6.9, §8.9)."""

from __future__ import annotations

import logging
from typing import NamedTuple

import numpy as np
import torch

from ..dynamics.simulation import Weights, to_numpy
from .residency import residency_times
from .runs import noisy_run, random_initial_state, switch_times

__all__ = ["LocateError", "LocatedAreas", "locate_cluster_and_transition"]

log = logging.getLogger(__name__)


class LocateError(RuntimeError):
    """No acceptable cluster/transition pair was found within the allowed number of simulations."""


class LocatedAreas(NamedTuple):
    """A noisy track with a slow cluster point and the onset of the following transition.

    Attributes
    ----------
    track : (num_steps + 1, hidden_size) tensor
        h_track[0] (after warm-up) .. h_track[T].
    outputs : (num_steps + 1,) int ndarray
        ``argmax(W_o h_track[t])``.
    noise : (num_steps + 1, input_dim) tensor
        ``noise[t]`` produced ``track[t]`` (row 0 is zero).
    switch_time : int
        tt: ``outputs[tt] ≠ outputs[tt - 1]``.
    cluster_time : int
        tc: the cluster point (dwell mid-point).
    transition_time : int
        tk: earliest state of the contiguous pre-switch run that switches surely and fast.
    cluster_residency_time : float
        RT of ``track[tc]``.
    num_simulations : int
        Simulations used (1 = first).
    """

    track: torch.Tensor
    outputs: np.ndarray
    noise: torch.Tensor
    switch_time: int
    cluster_time: int
    transition_time: int
    cluster_residency_time: float
    num_simulations: int

    @property
    def source_output(self) -> int:
        return int(self.outputs[self.switch_time - 1])

    @property
    def target_output(self) -> int:
        return int(self.outputs[self.switch_time])


def locate_cluster_and_transition(
    weights: Weights,
    *,
    num_steps: int,
    warmup_steps: int,
    noise_std: float,
    init_scale: float,
    skip_switches: int,
    min_switch_time: int,
    cluster_fraction: float,
    max_back: int,
    num_rollouts: int,
    max_steps: int,
    cluster_min_residency: float,
    cluster_prob: float,
    transition_max_time: float,
    max_simulations: int,
    generator: torch.Generator,
    source_output: int | None = None,
    target_output: int | None = None,
    initial_state: torch.Tensor | None = None,
) -> LocatedAreas:
    """Deterministic cluster/transition locator (§8.9, replacing locate_areas' retry loop of §6.9, §9.31).

    Per simulation: start at ``initial_state`` (default: a fresh ξ, :func:`random_initial_state`), run
    ``warmup_steps`` noisy steps, record ``track[0]`` and ``num_steps`` noisy steps with stored noise. Candidate
    switches tt: all switches except the first ``skip_switches``, with ``tt > min_switch_time`` and, when given,
    ``outputs[tt-1] == source_output`` / ``outputs[tt] == target_output``. Candidates are tried in order of
    decreasing dwell ``tt - t_prev`` (t_prev = the preceding switch; earlier first on ties):

    1. ``tc = max(⌊τ·tt + (1-τ)·t_prev⌋, tt - max_back)``; accept the cluster point when
       ``RT(track[tc]) ≥ cluster_min_residency`` and ``max softmax(W_o track[tc]) > cluster_prob``
       (:func:`residency_times`, ``num_rollouts`` rollouts of ≤ ``max_steps`` steps; all cluster points of a
       simulation are evaluated in one batch).
    2. The states ``track[tc+1 .. tt-1]`` are evaluated the same way; the contiguous run ending at ``tt - 1`` of
       states with mean time-to-switch ``< transition_max_time`` and switch fraction 1 gives
       ``tk`` = its earliest state. A candidate whose ``track[tt-1]`` fails is rejected.

    Raises :class:`LocateError` after ``max_simulations`` simulations without an accepted candidate.

    Parameters
    ----------
    weights : Weights
    num_steps, warmup_steps : int
        T = 2000 and 20 in §6.9.
    noise_std : float
    init_scale : float
        Scale of ξ (0.1); unused when ``initial_state`` is given.
    skip_switches : int
        3 in §6.9 (at least the first switch is always skipped: it has no predecessor).
    min_switch_time : int
        T_min = 200.
    cluster_fraction : float
        τ = 0.5.
    max_back : int
        back = 100.
    num_rollouts, max_steps : int
        100 and dT = 25.
    cluster_min_residency : float
        thr_fr = 9.
    cluster_prob : float
        0.8.
    transition_max_time : float
        3.
    max_simulations : int
        20.
    generator : torch.Generator
        On the weights' device.
    source_output, target_output : int or None
        Restrict the switch direction. The reference code's ``logit=L`` means "new output ≠ L"; for linear
        chains (outputs 0 and 2 only) that is ``source_output=L``.
    initial_state : (hidden_size,) tensor or None
        Fixed start of every simulation (the noise still differs between simulations).
    """
    if not 0 <= cluster_fraction <= 1:
        raise ValueError(f"cluster_fraction must lie in [0, 1]; got {cluster_fraction}")
    if transition_max_time > cluster_min_residency:
        raise ValueError("transition_max_time must not exceed cluster_min_residency")
    W = weights.W_hh
    rollout = dict(num_rollouts=num_rollouts, max_steps=max_steps, noise_std=noise_std, compute_unstable=False)
    tried = 0
    for simulation in range(1, max_simulations + 1):
        start = random_initial_state(weights, init_scale, generator) if initial_state is None else initial_state
        track, inputs = noisy_run(
            weights, start, num_steps=num_steps, warmup_steps=warmup_steps, noise_std=noise_std, generator=generator
        )
        noise = torch.cat([torch.zeros(1, weights.input_dim, dtype=W.dtype, device=W.device), inputs])
        outputs = to_numpy((track @ weights.W_o.T).argmax(dim=-1)).astype(np.int64)
        switches = switch_times(outputs)
        first = max(skip_switches, 1)  # the first switch has no predecessor
        tt_all, t_prev_all = switches[first:], switches[first - 1 : -1]
        keep = tt_all > min_switch_time
        if source_output is not None:
            keep &= outputs[tt_all - 1] == source_output
        if target_output is not None:
            keep &= outputs[tt_all] == target_output
        tt_all, t_prev_all = tt_all[keep], t_prev_all[keep]
        order = np.lexsort((tt_all, -(tt_all - t_prev_all)))  # decreasing dwell, earlier first on ties
        tt_all, t_prev_all = tt_all[order], t_prev_all[order]
        tc_all = np.maximum(
            np.floor(cluster_fraction * tt_all + (1 - cluster_fraction) * t_prev_all).astype(np.int64),
            tt_all - max_back,
        )
        tried += tt_all.size
        if tt_all.size:  # all cluster points of this simulation in one batch
            cluster = residency_times(weights, track[torch.as_tensor(tc_all)], generator=generator, **rollout)
            accepted = (cluster.residency_time >= cluster_min_residency) & (cluster.max_probability > cluster_prob)
            for i in np.flatnonzero(accepted):  # usually the first accepted candidate also has a transition run
                tt, tc = int(tt_all[i]), int(tc_all[i])
                before = residency_times(weights, track[tc + 1 : tt], generator=generator, **rollout)
                fast = (before.residency_time < transition_max_time) & (before.switch_fraction == 1)
                if fast.size == 0 or not fast[-1]:
                    continue
                slow = np.flatnonzero(~fast)
                tk = tc + 1 + (int(slow[-1]) + 1 if slow.size else 0)
                return LocatedAreas(track, outputs, noise, tt, tc, tk, float(cluster.residency_time[i]), simulation)
        log.info("simulation %d: none of %d candidate switches accepted", simulation, tt_all.size)
    direction = f" {source_output}->{target_output}" if source_output is not None or target_output is not None else ""
    raise LocateError(
        f"no cluster point with RT ≥ {cluster_min_residency} and max softmax > {cluster_prob} followed by a sure"
        f" transition (time < {transition_max_time}) was found for switches{direction} after {max_simulations}"
        f" simulations of {num_steps} steps ({tried} candidates tried)"
    )
