"""Local dynamics and single-neuron mechanisms: residency zones, cluster/transition points, noise sensitivity,
kick neurons, noise-integrating populations, mean activities, causal interventions and readout alignment.

Formulas follow PAPER_SPEC §6.8-6.15, the objective rules of §8.3-8.5, 8.9-8.11 and 8.16, and the fixes of
§9.20-9.25 and 9.30-9.35. The network is the bias-free ReLU RNN ``h_t = ReLU(W_hh h_{t-1} + W_ih x_t)`` with
deterministic outputs ``argmax(W_o h_t)``. Switch-time convention used throughout: a switch "at t" means
``o_t ≠ o_{t-1}``, so ``h_t`` is the first state with the new output; the pre-activation ``z_t = W_hh h_{t-1} +
W_ih x_t`` is the one whose rectification is ``h_t``.

Heavy functions take :class:`hmmrnn.simulate.Weights` and run in torch on the weights' device and dtype; every
batch of trajectories is simulated at once (Python loops run over time steps only, plus one loop over the
modulation grid for eigen-decompositions). Randomness enters only through an explicit ``torch.Generator`` on the
weights' device. Summary statistics come back as NumPy values.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from typing import Literal, NamedTuple

import numpy as np
import torch

from .dynamics import PCABasis, _gates, jacobian_eigenvalues, jacobians, mobius, project
from .simulate import Weights, simulate, to_numpy
from .tables import ZONES

__all__ = [
    "ZONES",
    "CircuitStatistics",
    "Dispersion",
    "IntegratingPopulations",
    "Intervention",
    "InterventionMask",
    "KickNeurons",
    "LocateError",
    "LocatedAreas",
    "MeanActivities",
    "NoiseSensitivity",
    "OscillationStatistics",
    "ReadoutAlignment",
    "Residency",
    "ResidencyZones",
    "SilencingEffect",
    "WeightBlocks",
    "ZoneSummary",
    "circuit_statistics",
    "component_ranks",
    "control_mask",
    "critical_pair_counts",
    "discover_kick_neurons",
    "dispersion",
    "integrating_populations",
    "intervene",
    "kick_mask",
    "locate_cluster_and_transition",
    "mean_activities",
    "modified_jacobians",
    "modified_weights",
    "noise_projection_mask",
    "noise_sensitivity",
    "noise_window",
    "noisy_run",
    "ordered_weight_blocks",
    "oscillation_statistics",
    "random_initial_state",
    "readout_alignment",
    "residency_times",
    "residency_zones",
    "silencing_effect",
    "simulate_modified",
    "top_presynaptic",
    "zone_means",
]

log = logging.getLogger(__name__)

Gating = Literal["pre_activation", "authors"]
NoiseAlignment = Literal["continuation", "authors"]


# --------------------------------------------------------------------------------------------------------------
# Small helpers shared by the analyses
# --------------------------------------------------------------------------------------------------------------


def random_initial_state(weights: Weights, scale: float, generator: torch.Generator) -> torch.Tensor:
    """The reference code's random start ``ξ = scale·(2n - 1)``, n ~ N(0, I) (§6.0; mean -scale, §9.32).

    Parameters
    ----------
    weights : Weights
    scale : float
        0.1 in the reference code.
    generator : torch.Generator
        On the weights' device.

    Returns
    -------
    (hidden_size,) tensor
    """
    W = weights.W_hh
    return scale * (2 * torch.randn(weights.hidden_size, generator=generator, dtype=W.dtype, device=W.device) - 1)


def noise_window(
    noise: torch.Tensor, index: int, num_steps: int, *, noise_std: float, generator: torch.Generator
) -> torch.Tensor:
    """Rows ``noise[index .. index + num_steps]`` of a recorded noise track, padded past its end with fresh draws.

    With ``noise[t]`` the input that produced ``track[t]`` (as in :class:`LocatedAreas`), row 0 of the result is
    the input that produced the initial condition ``track[index]`` and rows 1.. are its nominal continuation —
    the layout :func:`noise_sensitivity` and :func:`intervene` expect (§6.10: "extend noise_vec by extra rows").

    Parameters
    ----------
    noise : (num_timesteps, input_dim) tensor
    index : int
    num_steps : int
    noise_std : float
        Std of the padding rows.
    generator : torch.Generator
        Used only when padding is needed.

    Returns
    -------
    (num_steps + 1, input_dim) tensor
    """
    if not 0 <= index < noise.shape[0]:
        raise ValueError(f"index {index} outside the noise track of length {noise.shape[0]}")
    rows = noise[index : index + num_steps + 1]
    missing = num_steps + 1 - rows.shape[0]
    if missing > 0:
        pad = noise_std * torch.randn(
            missing, noise.shape[1], generator=generator, dtype=noise.dtype, device=noise.device
        )
        rows = torch.cat([rows, pad])
    return rows


def _normal(generator: torch.Generator, like: torch.Tensor, *shape: int) -> torch.Tensor:
    return torch.randn(*shape, generator=generator, dtype=like.dtype, device=like.device)


def _as_state(weights: Weights, state: torch.Tensor, name: str) -> torch.Tensor:
    W = weights.W_hh
    h = torch.as_tensor(state).to(dtype=W.dtype, device=W.device)
    if h.shape[-1] != weights.hidden_size:
        raise ValueError(f"{name} must end in hidden_size={weights.hidden_size}; found shape {tuple(h.shape)}")
    return h


def noisy_run(
    weights: Weights,
    initial_state: torch.Tensor,
    *,
    num_steps: int,
    warmup_steps: int,
    noise_std: float,
    generator: torch.Generator,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Warm-up, then ``num_steps`` recorded steps: returns states h_0..h_T (T+1, H) and inputs x_1..x_T (T, d)."""
    h = _as_state(weights, initial_state, "initial_state").reshape(1, -1)
    W = weights.W_hh
    if warmup_steps > 0:
        h = simulate(weights, h, noise_std * _normal(generator, W, 1, warmup_steps, weights.input_dim))[:, -1]
    inputs = noise_std * _normal(generator, W, num_steps, weights.input_dim)
    states = simulate(weights, h, inputs[None])[0]
    return torch.cat([h, states]), inputs


def _switch_times(outputs: np.ndarray) -> np.ndarray:
    """Indices t ≥ 1 with ``o_t ≠ o_{t-1}`` along the last axis of a 1-D sequence."""
    return np.flatnonzero(outputs[1:] != outputs[:-1]) + 1


def _has_direction_switch(outputs: torch.Tensor, source: int, target: int) -> torch.Tensor:
    """(batch,) bool: the output sequences (batch, T) contain at least one ``source -> target`` step."""
    return ((outputs[:, :-1] == source) & (outputs[:, 1:] == target)).any(dim=1)


def _index_array(indices, hidden_size: int, name: str) -> np.ndarray:
    array = np.asarray(indices, dtype=np.int64).ravel()
    if array.size and (array.min() < 0 or array.max() >= hidden_size):
        raise ValueError(f"{name} must lie in [0, {hidden_size}); found {array.tolist()}")
    if np.unique(array).size != array.size:
        raise ValueError(f"{name} contains duplicates: {array.tolist()}")
    return array


# --------------------------------------------------------------------------------------------------------------
# Residency times and zones (§6.8)
# --------------------------------------------------------------------------------------------------------------


class Residency(NamedTuple):
    """Per-state residency statistics (§6.8 step 2).

    Attributes
    ----------
    residency_time : (num_states,) float ndarray
        RT: mean over rollouts of the steps until ``argmax(W_o h)`` leaves the state's own output (``max_steps``
        when it never does).
    sign_changes : (num_states,) float ndarray
        SC: mean number of sign changes of the dominant logit's increments before the switch.
    switch_fraction : (num_states,) float ndarray
        Fraction of rollouts that switched within ``max_steps``.
    unstable_directions : (num_states,) int ndarray
        U: number of eigenvalues of ``diag(1[W_hh h > 0]) W_hh`` with ``|λ| > 1`` (-1 when not computed).
    dominant_output : (num_states,) int ndarray
        ``argmax(W_o h)``.
    max_probability : (num_states,) float ndarray
        ``max softmax(W_o h)``.
    """

    residency_time: np.ndarray
    sign_changes: np.ndarray
    switch_fraction: np.ndarray
    unstable_directions: np.ndarray
    dominant_output: np.ndarray
    max_probability: np.ndarray


def residency_times(
    weights: Weights,
    states: torch.Tensor,
    *,
    num_rollouts: int,
    max_steps: int,
    noise_std: float,
    generator: torch.Generator,
    chunk_size: int = 65536,
    compute_unstable: bool = True,
) -> Residency:
    """Residency time, logit-gradient sign changes and unstable directions of every state (§6.8 step 2).

    For each state h (independently): ``c = argmax(W_o h)``, ``ℓ_prev = (W_o h)_c``; ``num_rollouts`` noisy
    rollouts of at most ``max_steps`` steps. Per rollout, with step counter s = 0 and an undefined previous sign,
    each step does ``h' ← ReLU(W h' + W_n x)``; if ``argmax(W_o h') ≠ c`` it records ``(s + 1, n_sc)`` and stops;
    otherwise ``sign = sgn(ℓ - ℓ_prev)`` with ``ℓ = (W_o h')_c``, and ``n_sc += 1`` when the previous sign is
    defined, ``sign ≠ prev_sign`` and ``sign ≠ 0``; then ``prev_sign ← sign``, ``ℓ_prev ← ℓ``, ``s += 1``.
    Rollouts that never switch record ``(max_steps, n_sc)``.

    All ``num_states · num_rollouts`` rollouts run at once, ``chunk_size`` at a time; within a chunk, finished
    rollouts are dropped, so fast (transition) states cost little. The random draws therefore depend on
    ``chunk_size`` (the statistics do not).

    Parameters
    ----------
    weights : Weights
    states : (num_states, hidden_size) tensor
    num_rollouts : int
        R (20 in §6.8, 100 in §6.9/§8.9).
    max_steps : int
        S_max.
    noise_std : float
        σ of the rollout input noise.
    generator : torch.Generator
        On the weights' device; one ``(rows, input_dim)`` draw per step and chunk.
    chunk_size : int
        Rollouts simulated together (bounds memory at ~chunk_size·(hidden_size + input_dim) numbers).
    compute_unstable : bool
        Whether to decompose the input-free Jacobians for U (skipped: U = -1).
    """
    if num_rollouts < 1 or max_steps < 1 or chunk_size < 1:
        raise ValueError(f"need num_rollouts, max_steps, chunk_size ≥ 1; got {num_rollouts}, {max_steps}, {chunk_size}")
    W, W_ih, W_o = weights.W_hh, weights.W_ih, weights.W_o
    h_all = _as_state(weights, states, "states")
    if h_all.ndim != 2:
        raise ValueError(f"states must be (num_states, hidden_size); found shape {tuple(h_all.shape)}")
    num_states = h_all.shape[0]
    logits0 = h_all @ W_o.T
    dominant = logits0.argmax(dim=-1)
    max_probability = torch.softmax(logits0, dim=-1).amax(dim=-1)
    start_logit = logits0.gather(1, dominant[:, None])[:, 0]

    total = num_states * num_rollouts
    steps = torch.full((total,), float(max_steps), dtype=W.dtype, device=W.device)
    changes = torch.zeros(total, dtype=W.dtype, device=W.device)
    switched = torch.zeros(total, dtype=torch.bool, device=W.device)
    for begin in range(0, total, chunk_size):
        rows = torch.arange(begin, min(begin + chunk_size, total), device=W.device)
        owner = rows // num_rollouts
        h, c, previous_logit = h_all[owner], dominant[owner], start_logit[owner]
        previous_sign = torch.zeros(rows.numel(), dtype=torch.int8, device=W.device)
        has_previous = torch.zeros(rows.numel(), dtype=torch.bool, device=W.device)
        count = torch.zeros(rows.numel(), dtype=W.dtype, device=W.device)
        for s in range(max_steps):
            if rows.numel() == 0:
                break
            h = torch.relu(h @ W.T + (noise_std * _normal(generator, W, rows.numel(), weights.input_dim)) @ W_ih.T)
            logits = h @ W_o.T
            done = logits.argmax(dim=-1) != c
            logit = logits.gather(1, c[:, None])[:, 0]
            sign = torch.sign(logit - previous_logit).to(torch.int8)
            count += (has_previous & (sign != previous_sign) & (sign != 0) & ~done).to(W.dtype)
            steps[rows[done]] = float(s + 1)
            changes[rows[done]] = count[done]
            switched[rows[done]] = True
            keep = ~done
            rows, h, c, count = rows[keep], h[keep], c[keep], count[keep]
            previous_logit, previous_sign = logit[keep], sign[keep]
            has_previous = torch.ones(rows.numel(), dtype=torch.bool, device=W.device)
        changes[rows] = count  # rollouts that never switched

    if compute_unstable:
        unstable = (jacobian_eigenvalues(weights, h_all).abs() > 1).sum(dim=-1)
    else:
        unstable = torch.full((num_states,), -1, dtype=torch.int64)
    return Residency(
        residency_time=to_numpy(steps.reshape(num_states, num_rollouts).mean(dim=1)),
        sign_changes=to_numpy(changes.reshape(num_states, num_rollouts).mean(dim=1)),
        switch_fraction=to_numpy(switched.reshape(num_states, num_rollouts).to(W.dtype).mean(dim=1)),
        unstable_directions=to_numpy(unstable).astype(np.int64),
        dominant_output=to_numpy(dominant).astype(np.int64),
        max_probability=to_numpy(max_probability),
    )


class ZoneSummary(NamedTuple):
    """Mean statistics of the states of one zone (NaN for an empty zone or a statistic not given)."""

    zone: str
    count: int
    mean_residency_time: float
    mean_sign_changes: float
    mean_unstable_directions: float


class ResidencyZones(NamedTuple):
    """Zone labels and per-zone summaries.

    Attributes
    ----------
    labels : (num_states,) str ndarray
        One of :data:`ZONES` per state.
    summary : tuple of ZoneSummary
        One per zone, in the order of :data:`ZONES`.
    """

    labels: np.ndarray
    summary: tuple[ZoneSummary, ...]


def residency_zones(
    residency_time,
    max_probability,
    *,
    transition_cut: float,
    kick_cut: float,
    cluster_prob: float,
    sign_changes=None,
    unstable_directions=None,
) -> ResidencyZones:
    """Label states as cluster / kick_zone / transition / none (§6.8 step 3) and summarise each zone.

    transition: ``RT < transition_cut``; kick_zone: ``transition_cut ≤ RT ≤ kick_cut``; cluster: ``RT > kick_cut``
    and ``max_probability > cluster_prob``; none: ``RT > kick_cut`` with ``max_probability ≤ cluster_prob``.

    Parameters
    ----------
    residency_time : (num_states,) array-like
    max_probability : (num_states,) array-like
        ``max softmax(W_o h)``.
    transition_cut, kick_cut : float
        2 and 8 in the paper.
    cluster_prob : float
        0.8 in the reference code.
    sign_changes, unstable_directions : (num_states,) array-like or None
        Summarised per zone when given.
    """
    rt = np.asarray(residency_time, dtype=float).ravel()
    prob = np.asarray(max_probability, dtype=float).ravel()
    if rt.shape != prob.shape:
        raise ValueError(f"residency_time and max_probability differ in shape: {rt.shape} vs {prob.shape}")
    if not transition_cut <= kick_cut:
        raise ValueError(f"need transition_cut ≤ kick_cut; got {transition_cut}, {kick_cut}")
    labels = np.full(rt.shape, "none", dtype="<U10")
    labels[rt < transition_cut] = "transition"
    labels[(rt >= transition_cut) & (rt <= kick_cut)] = "kick_zone"
    labels[(rt > kick_cut) & (prob > cluster_prob)] = "cluster"

    def mean(values, mask: np.ndarray) -> float:
        if values is None or not mask.any():
            return math.nan
        return float(np.asarray(values, dtype=float).ravel()[mask].mean())

    summary = tuple(
        ZoneSummary(
            zone,
            int((labels == zone).sum()),
            mean(rt, labels == zone),
            mean(sign_changes, labels == zone),
            mean(unstable_directions, labels == zone),
        )
        for zone in ZONES
    )
    return ResidencyZones(labels, summary)


def zone_means(values, labels) -> dict[str, np.ndarray]:
    """Mean of ``values`` over the states of each zone (claims 5 and 11: step sizes, kick pre-activations).

    Parameters
    ----------
    values : (num_states, ...) array-like
    labels : (num_states,) str array-like
        From :func:`residency_zones`.

    Returns
    -------
    dict zone -> (...) ndarray (NaN for an empty zone)
    """
    array = to_numpy(values).astype(float)
    zone_labels = np.asarray(labels)
    if array.shape[0] != zone_labels.shape[0]:
        raise ValueError(f"values ({array.shape[0]} rows) and labels ({zone_labels.shape[0]}) differ in length")
    return {
        zone: array[zone_labels == zone].mean(axis=0)
        if (zone_labels == zone).any()
        else np.full(array.shape[1:], np.nan)
        for zone in ZONES
    }


# --------------------------------------------------------------------------------------------------------------
# Cluster and transition points (§6.9, §8.9)
# --------------------------------------------------------------------------------------------------------------


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
        switches = _switch_times(outputs)
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


# --------------------------------------------------------------------------------------------------------------
# Noise sensitivity (§6.10)
# --------------------------------------------------------------------------------------------------------------


class NoiseSensitivity(NamedTuple):
    """Trajectories from one initial condition under partially resampled noise.

    Attributes
    ----------
    gammas : (num_gammas,) ndarray
    trajectories : (num_gammas, num_trajectories, num_steps + 1, hidden_size) tensor
        Index 0 along time is the initial condition.
    """

    gammas: np.ndarray
    trajectories: torch.Tensor


def _mixed_inputs(
    nominal_noise: torch.Tensor,
    fresh_kxtxd: torch.Tensor,
    gammas: torch.Tensor,
    num_steps: int,
    alignment: NoiseAlignment,
) -> torch.Tensor:
    """Inputs ``(1-γ)·nominal + γ·ξ`` of shape (G, K, T, d); nominal rows 1..T ("continuation") or 0..T-1."""
    if nominal_noise.ndim != 2 or nominal_noise.shape[0] < num_steps + 1:
        raise ValueError(
            f"nominal_noise must be (≥ num_steps + 1 = {num_steps + 1}, input_dim); found {tuple(nominal_noise.shape)}"
        )
    if alignment == "continuation":
        nominal = nominal_noise[1 : num_steps + 1]
    elif alignment == "authors":
        nominal = nominal_noise[:num_steps]
    else:
        raise ValueError(f"noise_alignment must be 'continuation' or 'authors'; found {alignment!r}")
    g = gammas[:, None, None, None]
    return (1 - g) * nominal[None, None] + g * fresh_kxtxd[None]


def noise_sensitivity(
    weights: Weights,
    initial_state: torch.Tensor,
    nominal_noise: torch.Tensor,
    *,
    gammas: Sequence[float],
    num_trajectories: int,
    num_steps: int,
    noise_std: float,
    generator: torch.Generator,
    noise_alignment: NoiseAlignment = "continuation",
) -> NoiseSensitivity:
    """Trajectories from one state with input ``x_t = (1-γ)·nominal_t + γ·ξ_t`` (§6.10, §9.30).

    All trajectories start exactly at ``initial_state``; ξ ~ N(0, noise_std²) is drawn once per trajectory and
    step, (num_trajectories, num_steps, input_dim), and shared by all γ (common random numbers: the γ
    dependence is then not confounded by sampling noise). γ = 0 gives identical trajectories.

    Parameters
    ----------
    weights : Weights
    initial_state : (hidden_size,) tensor
    nominal_noise : (≥ num_steps + 1, input_dim) tensor
        Row 0 = the input that produced ``initial_state``, rows 1.. = its nominal continuation
        (:func:`noise_window`).
    gammas : sequence of float
        (0, 0.5, 1) in §6.10.
    num_trajectories, num_steps : int
        K = 100 and T = 5.
    noise_std : float
    generator : torch.Generator
    noise_alignment : {"continuation", "authors"}
        ``"continuation"`` (default) replays rows 1..T; ``"authors"`` replays rows 0..T-1, i.e. re-uses the
        noise that produced the initial condition at the first step, as the reference code does.
    """
    W = weights.W_hh
    h0 = _as_state(weights, initial_state, "initial_state").reshape(-1)
    g = torch.as_tensor(np.asarray(gammas, dtype=float), dtype=W.dtype, device=W.device)
    fresh = noise_std * _normal(generator, W, num_trajectories, num_steps, weights.input_dim)
    inputs = _mixed_inputs(nominal_noise.to(dtype=W.dtype, device=W.device), fresh, g, num_steps, noise_alignment)
    batch = g.numel() * num_trajectories
    states = simulate(weights, h0.expand(batch, -1), inputs.reshape(batch, num_steps, -1))
    trajectories = torch.cat([h0.expand(batch, 1, -1), states], dim=1)
    return NoiseSensitivity(to_numpy(g), trajectories.reshape(g.numel(), num_trajectories, num_steps + 1, -1))


class Dispersion(NamedTuple):
    """Spread of a bundle of trajectories per time step.

    Attributes
    ----------
    trace_covariance : (..., num_steps) ndarray
        ``Σ_dims Σ_k (h_t^k - h̄_t)² / (K - 1)``.
    mean_distance : (..., num_steps) ndarray
        ``mean_k ‖h_t^k - h̄_t‖``.
    """

    trace_covariance: np.ndarray
    mean_distance: np.ndarray


def dispersion(trajectories) -> Dispersion:
    """Trace of the sample covariance and mean distance to the mean trajectory, per step (§6.10 Figure B).

    Deviations are taken relative to the first trajectory before centring (the statistics are shift-invariant),
    so identical trajectories give exactly zero.

    Parameters
    ----------
    trajectories : (..., num_trajectories, num_steps, hidden_size) tensor or ndarray
    """
    h = to_numpy(trajectories).astype(np.float64)
    if h.ndim < 3 or h.shape[-3] < 2:
        raise ValueError(f"need (..., num_trajectories ≥ 2, num_steps, hidden_size); found shape {h.shape}")
    relative = h - h[..., :1, :, :]
    centred = relative - relative.mean(axis=-3, keepdims=True)
    squared = (centred**2).sum(axis=-1)  # (..., K, T)
    return Dispersion(squared.sum(axis=-2) / (h.shape[-3] - 1), np.sqrt(squared).mean(axis=-2))


# --------------------------------------------------------------------------------------------------------------
# Kick neurons (§6.11, §8.3)
# --------------------------------------------------------------------------------------------------------------


class KickNeurons(NamedTuple):
    """Automatically discovered kick neurons (§8.3 a-c).

    Attributes
    ----------
    directions : tuple of (int, int)
        Switch directions (source, target), in group order.
    groups : tuple of (num_kick,) int ndarray
        Kick neurons of each direction, by decreasing score (fewer when not enough candidates exist).
    scores : (num_directions, hidden_size) ndarray
        ``transition_mean - cluster_mean`` for candidates of that direction, NaN otherwise.
    transition_mean : (num_directions, hidden_size) ndarray
        Mean pre-activation over the switch windows of each direction.
    cluster_mean : (hidden_size,) ndarray
        Mean pre-activation over cluster states.
    cluster_active_fraction : (hidden_size,) ndarray
        Fraction of cluster states with ``z > 0``.
    num_switches : (num_directions,) int ndarray
        Switches of each direction whose window lies inside the run.
    num_cluster_states : int
    """

    directions: tuple[tuple[int, int], ...]
    groups: tuple[np.ndarray, ...]
    scores: np.ndarray
    transition_mean: np.ndarray
    cluster_mean: np.ndarray
    cluster_active_fraction: np.ndarray
    num_switches: np.ndarray
    num_cluster_states: int

    @property
    def indices(self) -> np.ndarray:
        """All kick neurons, group after group."""
        return np.concatenate(self.groups) if self.groups else np.zeros(0, dtype=np.int64)


def discover_kick_neurons(
    weights: Weights,
    initial_state: torch.Tensor,
    *,
    num_steps: int,
    warmup_steps: int,
    noise_std: float,
    window: tuple[int, int],
    cluster_margin: int,
    min_switches: int,
    max_cluster_active_fraction: float,
    num_kick: int,
    generator: torch.Generator,
    directions: Sequence[tuple[int, int]] | None = None,
) -> KickNeurons:
    """Kick neurons from pre-activation profiles around output switches (§8.3 a-c).

    a. One noisy run (``warmup_steps`` discarded, then ``num_steps`` recorded), outputs ``o_t = argmax W_o h_t``
       and pre-activations ``z_t = W h_{t-1} + W_n x_t``. Directions: ``directions`` if given, otherwise every
       ordered pair (a, b) with at least ``min_switches`` switches a→b, in lexicographic order (for linear chains
       (0, 2) then (2, 0), as §8.3 asks).
    b. For a switch at t, its window is ``z_{t+window[0]} .. z_{t+window[1]}`` (both ends included; switches whose
       window leaves the run are dropped); transition mean = mean over the windows of a direction. Cluster states
       = states more than ``cluster_margin`` steps from every switch; cluster mean and active fraction
       (``z > 0``) over them.
    c. Candidates: active fraction ``< max_cluster_active_fraction``, cluster mean < 0 and transition mean > 0;
       score = transition mean - cluster mean. Each candidate joins the direction where its transition mean
       peaks; each group keeps its top ``num_kick`` by score.

    Parameters
    ----------
    weights : Weights
    initial_state : (hidden_size,) tensor
    num_steps, warmup_steps : int
    noise_std : float
    window : (int, int)
        (-3, 1) in §8.3.
    cluster_margin : int
        10 in §8.3.
    min_switches : int
        20 in §8.3; with explicit ``directions`` a direction below it raises.
    max_cluster_active_fraction : float
        0.05.
    num_kick : int
        n_kick = 3.
    generator : torch.Generator
    directions : sequence of (int, int) or None
    """
    first, last = window
    if first > last:
        raise ValueError(f"window must be (start, end) with start ≤ end; got {window}")
    states, inputs = noisy_run(
        weights, initial_state, num_steps=num_steps, warmup_steps=warmup_steps, noise_std=noise_std, generator=generator
    )
    z = to_numpy(states[:-1] @ weights.W_hh.T + inputs @ weights.W_ih.T)  # z[i] produced states[i + 1]
    outputs = to_numpy((states[1:] @ weights.W_o.T).argmax(dim=-1))  # o[i] of states[i + 1]
    switches = _switch_times(outputs)
    pairs = np.stack([outputs[switches - 1], outputs[switches]], axis=1) if switches.size else np.zeros((0, 2), int)
    inside = (switches + first >= 0) & (switches + last < outputs.size)

    if directions is None:
        observed, counts = np.unique(pairs[inside], axis=0, return_counts=True)
        chosen = [tuple(int(v) for v in pair) for pair, n in zip(observed, counts, strict=True) if n >= min_switches]
    else:
        chosen = [(int(a), int(b)) for a, b in directions]
    if not chosen:
        raise ValueError(f"no switch direction occurs ≥ {min_switches} times in {num_steps} steps")

    distance = np.full(outputs.size, np.inf)
    if switches.size:
        position = np.searchsorted(switches, np.arange(outputs.size))
        after = np.abs(switches[np.minimum(position, switches.size - 1)] - np.arange(outputs.size))
        before = np.abs(np.arange(outputs.size) - switches[np.maximum(position - 1, 0)])
        distance = np.minimum(after, before)
    cluster = distance > cluster_margin
    if not cluster.any():
        raise ValueError(f"no state lies more than {cluster_margin} steps from a switch")
    cluster_mean = z[cluster].mean(axis=0)
    active_fraction = (z[cluster] > 0).mean(axis=0)

    offsets = np.arange(first, last + 1)
    transition_mean = np.empty((len(chosen), weights.hidden_size))
    num_switches = np.empty(len(chosen), dtype=np.int64)
    for d, (a, b) in enumerate(chosen):  # loop over the (few) directions only
        times = switches[inside & (pairs[:, 0] == a) & (pairs[:, 1] == b)]
        num_switches[d] = times.size
        if times.size < max(min_switches, 1):
            raise ValueError(f"direction {a}->{b} has {times.size} usable switches; need ≥ {max(min_switches, 1)}")
        transition_mean[d] = z[times[:, None] + offsets[None, :]].mean(axis=(0, 1))

    candidate = (active_fraction < max_cluster_active_fraction) & (cluster_mean < 0) & (transition_mean > 0)
    scores = np.where(candidate, transition_mean - cluster_mean, np.nan)
    peak = np.argmax(transition_mean, axis=0)  # group assignment: the direction where a neuron peaks
    groups = []
    for d, (a, b) in enumerate(chosen):
        members = np.flatnonzero(candidate[d] & (peak == d))
        order = members[np.argsort(-scores[d, members], kind="stable")][:num_kick]
        if order.size < num_kick:
            log.warning("direction %d->%d: only %d kick-neuron candidates (wanted %d)", a, b, order.size, num_kick)
        groups.append(order.astype(np.int64))
    return KickNeurons(
        tuple(chosen),
        tuple(groups),
        scores,
        transition_mean,
        cluster_mean,
        active_fraction,
        num_switches,
        int(cluster.sum()),
    )


def component_ranks(values, indices) -> np.ndarray:
    """1-based rank of each index by decreasing ``|values|`` (§8.3 d: kick neurons' rank in ``|E[δh⁽²⁾]|``).

    Parameters
    ----------
    values : (hidden_size,) array-like
    indices : (n,) int array-like
    """
    magnitude = np.abs(to_numpy(values).ravel())
    rank = np.empty(magnitude.size, dtype=np.int64)
    rank[np.argsort(-magnitude, kind="stable")] = np.arange(1, magnitude.size + 1)
    return rank[_index_array(indices, magnitude.size, "indices")]


class SilencingEffect(NamedTuple):
    """Switch rates of one direction with and without silencing a group (§8.3 d).

    Attributes
    ----------
    control_rate : float
        Fraction of unmodified trajectories with at least one source→target switch.
    silenced_rate : float
        The same with the group silenced (identical noise).
    """

    control_rate: float
    silenced_rate: float

    @property
    def relative_reduction(self) -> float:
        """``1 - silenced/control`` (NaN when the control never switches)."""
        return 1 - self.silenced_rate / self.control_rate if self.control_rate > 0 else math.nan


def silencing_effect(
    weights: Weights,
    group,
    initial_state: torch.Tensor,
    *,
    source_output: int,
    target_output: int,
    num_trajectories: int,
    num_steps: int,
    noise_std: float,
    generator: torch.Generator,
    scope: Literal["total", "recurrent"] = "total",
) -> SilencingEffect:
    """Causal cross-check of a kick group: does silencing it stop its direction's switches? (§8.3 d)

    ``num_trajectories`` noisy trajectories of ``num_steps`` steps start at ``initial_state`` (a state of the
    source cluster, e.g. ``track[tc]`` of :func:`locate_cluster_and_transition`), once unmodified and once with
    the group silenced, with the same noise. The output sequence includes the initial state's output.

    Parameters
    ----------
    weights : Weights
    group : (n,) int array-like
    initial_state : (hidden_size,) tensor
    source_output, target_output : int
    num_trajectories, num_steps : int
        100 and 50 in §8.3.
    noise_std : float
    generator : torch.Generator
    scope : {"total", "recurrent"}
        ``"total"`` (default, the brute-force script): the group's whole pre-activation × 0; ``"recurrent"``:
        only its recurrent drive (as the intervention code, §9.22).
    """
    mask = kick_mask(weights.hidden_size, group, scope=scope)
    W = weights.W_hh
    h0 = _as_state(weights, initial_state, "initial_state").reshape(-1)
    noise = noise_std * _normal(generator, W, num_trajectories, num_steps, weights.input_dim)
    ones = torch.ones(weights.hidden_size, dtype=W.dtype, device=W.device)
    recurrent = torch.stack([ones, torch.where(torch.as_tensor(mask.recurrent, device=W.device), 0.0, ones)])
    external = torch.stack([ones, torch.where(torch.as_tensor(mask.input, device=W.device), 0.0, ones)])
    batch = 2 * num_trajectories
    states = simulate_modified(
        weights,
        h0.expand(batch, -1),
        noise.repeat(2, 1, 1),
        recurrent.repeat_interleave(num_trajectories, dim=0),
        external.repeat_interleave(num_trajectories, dim=0),
    )
    outputs = torch.cat([h0.expand(batch, 1, -1), states], dim=1) @ weights.W_o.T
    hits = _has_direction_switch(outputs.argmax(dim=-1), source_output, target_output).reshape(2, num_trajectories)
    rates = hits.to(W.dtype).mean(dim=1)
    return SilencingEffect(float(rates[0]), float(rates[1]))


# --------------------------------------------------------------------------------------------------------------
# Noise-integrating populations and weight blocks (§6.12, §8.4)
# --------------------------------------------------------------------------------------------------------------


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
    a = _index_array(kick_a, H, "kick_a")
    b = _index_array(kick_b, H, "kick_b")
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
    kick = _index_array(
        np.concatenate([np.asarray(g, dtype=np.int64).ravel() for g in kick_groups]), W.shape[0], "kick"
    )
    population = _index_array(
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
        sets = [_index_array(g, W.shape[0], "group") for g in groups]
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


# --------------------------------------------------------------------------------------------------------------
# Mean activities (§6.13)
# --------------------------------------------------------------------------------------------------------------


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
        rows = [h[:, _index_array(g, H, "group")].mean(axis=1) for g in groups]
        return np.stack(rows) if rows else np.zeros((0, num_steps))

    outputs = to_numpy((states[1:] @ weights.W_o.T).argmax(dim=-1)).astype(np.int64)
    return MeanActivities(means(kick_groups), means(populations), outputs, _switch_times(outputs))


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


# --------------------------------------------------------------------------------------------------------------
# Causal interventions (§6.14)
# --------------------------------------------------------------------------------------------------------------


class InterventionMask(NamedTuple):
    """Which neurons an intervention scales by μ.

    Attributes
    ----------
    recurrent : (hidden_size,) bool ndarray
        ``c_rec[i] = μ`` (recurrent drive ``(W h)_i`` scaled).
    input : (hidden_size,) bool ndarray
        ``c_in[i] = μ`` (input drive ``(W_n x)_i`` scaled).
    """

    recurrent: np.ndarray
    input: np.ndarray

    def scales(self, mu: float) -> tuple[np.ndarray, np.ndarray]:
        """``(c_rec, c_in)``: μ on the masked neurons, 1 elsewhere."""
        return np.where(self.recurrent, mu, 1.0), np.where(self.input, mu, 1.0)


def kick_mask(hidden_size: int, group, *, scope: Literal["recurrent", "total"] = "recurrent") -> InterventionMask:
    """Kick-neuron intervention: scale the group's recurrent drive (§6.14; default as the reference code).

    ``scope="total"`` also scales the group's input drive, i.e. its whole pre-activation (§9.22).
    """
    index = _index_array(group, hidden_size, "group")
    recurrent = np.zeros(hidden_size, dtype=bool)
    recurrent[index] = True
    if scope == "recurrent":
        return InterventionMask(recurrent, np.zeros(hidden_size, dtype=bool))
    if scope == "total":
        return InterventionMask(recurrent, recurrent.copy())
    raise ValueError(f"scope must be 'recurrent' or 'total'; found {scope!r}")


def top_presynaptic(W_hh, targets, num_presynaptic: int) -> np.ndarray:
    """Union over targets k of the ``num_presynaptic`` sources j with the largest positive ``W[k, j]``.

    Parameters
    ----------
    W_hh : (hidden_size, hidden_size) tensor or ndarray
    targets : (n,) int array-like
    num_presynaptic : int
        60 (noise projection) / 35 (control) in §6.14.

    Returns
    -------
    (m,) int ndarray, sorted
    """
    W = to_numpy(W_hh).astype(float)
    rows = W[_index_array(targets, W.shape[0], "targets")]  # (n, H)
    order = np.argsort(-rows, axis=1, kind="stable")[:, :num_presynaptic]
    positive = np.take_along_axis(rows, order, axis=1) > 0
    return np.unique(order[positive]).astype(np.int64)


def noise_projection_mask(W_hh, group, all_kick, *, num_presynaptic: int) -> InterventionMask:
    """Noise-projection intervention: scale the input drive of the group's top presynaptic partners (§6.14).

    ``c_in[j] = μ`` for j in :func:`top_presynaptic` (group, ``num_presynaptic``) minus all kick neurons.
    """
    W = to_numpy(W_hh)
    H = W.shape[0]
    chosen = np.zeros(H, dtype=bool)
    chosen[top_presynaptic(W, group, num_presynaptic)] = True
    chosen[_index_array(all_kick, H, "all_kick")] = False
    return InterventionMask(np.zeros(H, dtype=bool), chosen)


def control_mask(W_hh, all_kick, *, num_presynaptic: int) -> InterventionMask:
    """Control intervention: scale the input drive of neurons outside every kick neuron's top partners (§6.14).

    ``c_in[j] = μ`` for j not in :func:`top_presynaptic` (all kick neurons, ``num_presynaptic``) and not a kick
    neuron.
    """
    W = to_numpy(W_hh)
    H = W.shape[0]
    chosen = np.ones(H, dtype=bool)
    chosen[top_presynaptic(W, all_kick, num_presynaptic)] = False
    chosen[_index_array(all_kick, H, "all_kick")] = False
    return InterventionMask(np.zeros(H, dtype=bool), chosen)


def modified_weights(weights: Weights, recurrent_scale, input_scale) -> Weights:
    """The modified network as an ordinary one: ``W_hh' = diag(c_rec) W_hh``, ``W_ih' = diag(c_in) W_ih``.

    ``ReLU((W h)∘c_rec + (W_n x)∘c_in) = ReLU(W_hh' h + W_ih' x)``, so every analysis of
    :mod:`hmmrnn.dynamics` applies unchanged; in particular its Jacobian ``diag(1[z > 0]) W_hh'`` is the correct
    row-scaled ``D diag(c_rec) W`` (§9.21).

    Parameters
    ----------
    weights : Weights
    recurrent_scale, input_scale : (hidden_size,) array-like
    """
    W = weights.W_hh
    c_rec = torch.as_tensor(np.asarray(recurrent_scale, dtype=float), dtype=W.dtype, device=W.device)
    c_in = torch.as_tensor(np.asarray(input_scale, dtype=float), dtype=W.dtype, device=W.device)
    if c_rec.shape != (weights.hidden_size,) or c_in.shape != (weights.hidden_size,):
        raise ValueError(
            f"scales must have shape ({weights.hidden_size},); found {tuple(c_rec.shape)}, {tuple(c_in.shape)}"
        )
    return Weights(W_ih=c_in[:, None] * weights.W_ih, W_hh=c_rec[:, None] * W, W_o=weights.W_o)


def simulate_modified(
    weights: Weights,
    h0: torch.Tensor,
    inputs: torch.Tensor,
    recurrent_scale: torch.Tensor,
    input_scale: torch.Tensor,
) -> torch.Tensor:
    """Iterate ``h_t = ReLU((W h_{t-1})∘c_rec + (W_n x_t)∘c_in)`` with per-trajectory scales (§6.14).

    Parameters
    ----------
    weights : Weights
    h0 : (batch, hidden_size) tensor
    inputs : (batch, num_timesteps, input_dim) tensor
    recurrent_scale, input_scale : (batch, hidden_size) or (hidden_size,) tensor
        c_rec and c_in; different rows let one call run a whole μ grid.

    Returns
    -------
    (batch, num_timesteps, hidden_size) tensor of h_1..h_T
    """
    W = weights.W_hh
    c_rec = torch.as_tensor(recurrent_scale).to(dtype=W.dtype, device=W.device)
    c_in = torch.as_tensor(input_scale).to(dtype=W.dtype, device=W.device)
    drive_bxtxh = (inputs.to(dtype=W.dtype, device=W.device) @ weights.W_ih.T) * c_in.unsqueeze(-2)
    states = torch.empty(drive_bxtxh.shape, dtype=W.dtype, device=W.device)
    h = h0.to(dtype=W.dtype, device=W.device)
    for t in range(drive_bxtxh.shape[1]):
        h = torch.relu((h @ W.T) * c_rec + drive_bxtxh[:, t])
        states[:, t] = h
    return states


def modified_jacobians(
    weights: Weights,
    recurrent_scale,
    input_scale,
    hidden_prev: torch.Tensor,
    inputs: torch.Tensor | None = None,
    *,
    scaling: Literal["row", "column"] = "row",
    gating: Gating = "pre_activation",
) -> torch.Tensor:
    """One-step Jacobians of the modified dynamics (§6.14 step 1, §9.20-9.21).

    ``scaling="row"`` (default, correct): ``J = D diag(c_rec) W`` with ``D = diag(1[z > 0])``,
    ``z = (W h)∘c_rec + (W_n x)∘c_in``. ``scaling="column"`` (reference code): ``J = D W diag(c_rec)``. The two
    matrices differ but share their spectrum (``eig(XY) = eig(YX)`` with ``X = D W``, ``Y = diag(c_rec)``, and
    diagonal matrices commute), so eigenvalue statistics do not depend on this choice.

    Parameters
    ----------
    weights : Weights
    recurrent_scale, input_scale : (hidden_size,) array-like
    hidden_prev : (..., hidden_size) tensor
    inputs : (..., input_dim) tensor or None
    scaling : {"row", "column"}
    gating : {"pre_activation", "authors"}
        As :func:`hmmrnn.dynamics.jacobians`, on the modified network.

    Returns
    -------
    (..., hidden_size, hidden_size) tensor
    """
    modified = modified_weights(weights, recurrent_scale, input_scale)
    if scaling == "row":
        return jacobians(modified, hidden_prev, inputs, gating=gating)
    if scaling == "column":
        gate = _gates(modified, hidden_prev, inputs, gating).to(modified.W_hh.dtype)
        c_rec = modified.W_hh.new_tensor(np.asarray(recurrent_scale, dtype=float))
        return gate.unsqueeze(-1) * (weights.W_hh * c_rec)
    raise ValueError(f"scaling must be 'row' or 'column'; found {scaling!r}")


def critical_pair_counts(eigenvalues, switch_times, *, window: int, eps_re: float, eps_im: float) -> np.ndarray:
    """Critical complex pairs pooled over a window of Jacobians around each switch (§6.14 step 3, §9.25).

    For a switch at index a, the Jacobians ``a - window .. a + window - 1`` are pooled and their Möbius images
    with ``|Re w| < eps_re`` and ``Im w > eps_im`` are counted (one per conjugate pair). Switches whose window
    leaves ``[0, num_steps)`` are skipped.

    Parameters
    ----------
    eigenvalues : (num_steps, hidden_size) complex ndarray or tensor
        Spectrum of the Jacobian at each step (index i ↔ the step producing state i + 1).
    switch_times : (num_switches,) int array-like
        Indices a into the same axis.
    window : int
        15.
    eps_re, eps_im : float
        0.1 and 0.06.

    Returns
    -------
    (num_windows,) int ndarray
    """
    values = to_numpy(eigenvalues)
    if values.ndim != 2:
        raise ValueError(f"eigenvalues must be (num_steps, hidden_size); found shape {values.shape}")
    w = mobius(values)
    per_step = ((np.abs(w.real) < eps_re) & (w.imag > eps_im)).sum(axis=1)
    times = np.asarray(switch_times, dtype=np.int64).ravel()
    times = times[(times - window >= 0) & (times + window <= values.shape[0])]
    cumulative = np.concatenate([[0], np.cumsum(per_step)])
    return (cumulative[times + window] - cumulative[times - window]).astype(np.int64)


class Intervention(NamedTuple):
    """Effect of one intervention over a modulation grid.

    Attributes
    ----------
    mus : (num_mus,) ndarray
    switch_rate : (num_mus,) ndarray
        Fraction of trajectories from the initial condition with at least one source→target switch.
    max_excursion : (num_mus,) ndarray
        Mean over trajectories of the largest distance from the PCA centre (in the basis' plane when one is
        given, in the full space otherwise).
    display : (num_mus, num_display, num_steps + 1, hidden_size) tensor
        The first trajectories of each μ (index 0 = the initial condition).
    num_switches : (num_mus,) int ndarray
        Output switches of the statistics run.
    used_fallback : (num_mus,) bool ndarray
        Whether the windows were centred on the unmodified run's switches (fewer than ``min_switches``).
    critical_counts : tuple of (num_windows,) int ndarray
        Critical pairs per switch window, one array per μ.
    """

    mus: np.ndarray
    switch_rate: np.ndarray
    max_excursion: np.ndarray
    display: torch.Tensor
    num_switches: np.ndarray
    used_fallback: np.ndarray
    critical_counts: tuple[np.ndarray, ...]

    @property
    def critical_mean(self) -> np.ndarray:
        """(num_mus,) mean critical pairs per window (NaN without windows)."""
        return np.array([c.mean() if c.size else np.nan for c in self.critical_counts])

    @property
    def critical_std(self) -> np.ndarray:
        """(num_mus,) std of critical pairs per window (NaN without windows)."""
        return np.array([c.std() if c.size else np.nan for c in self.critical_counts])


def intervene(
    weights: Weights,
    mask: InterventionMask,
    mus: Sequence[float],
    *,
    initial_state: torch.Tensor,
    nominal_noise: torch.Tensor,
    source_output: int,
    target_output: int,
    num_trajectories: int,
    num_steps: int,
    gamma: float,
    num_statistics_steps: int,
    init_scale: float,
    window: int,
    eps_re: float,
    eps_im: float,
    min_switches: int,
    noise_std: float,
    num_display: int,
    generator: torch.Generator,
    gating: Gating = "pre_activation",
    noise_alignment: NoiseAlignment = "continuation",
    fallback_to_unmodified: bool = True,
    basis: PCABasis | None = None,
) -> Intervention:
    """Scale a set of neurons' recurrent and/or input drive by μ and measure switching and criticality (§6.14).

    Random numbers are shared across μ (drawn once, in this order): the statistics run's start ξ (hidden_size),
    its noise (num_statistics_steps, input_dim), and the fresh part ξ of the trajectories' input
    (num_trajectories, num_steps, input_dim). All μ (plus one unmodified run) are simulated in one batch.

    1. Trajectories: ``num_trajectories`` × ``num_steps`` from ``initial_state`` with input
       ``(1-γ)·nominal + γ·ξ`` (alignment as in :func:`noise_sensitivity`); switch rate = fraction with at least
       one ``source_output -> target_output`` step (the initial state's output included).
    2. Statistics run: from ξ, ``num_statistics_steps`` noisy steps; Jacobian of every step of the modified
       network (row scaling; the reference code's column scaling has the same spectrum, see
       :func:`modified_jacobians`), gated as ``gating``; switch times a; :func:`critical_pair_counts` per window.
       With fewer than ``min_switches`` switches and ``fallback_to_unmodified``, the unmodified run's switch times
       are used (the reference code's fallback to μ = 1); without fallback such a μ has no windows.

    Parameters
    ----------
    weights : Weights
    mask : InterventionMask
        :func:`kick_mask`, :func:`noise_projection_mask` or :func:`control_mask`.
    mus : sequence of float
        0, 0.1, …, 2.
    initial_state : (hidden_size,) tensor
        e.g. ``track[tc]`` of :func:`locate_cluster_and_transition`.
    nominal_noise : (≥ num_steps + 1, input_dim) tensor
        As in :func:`noise_sensitivity` (:func:`noise_window`).
    source_output, target_output : int
        The direction whose switches count.
    num_trajectories, num_steps : int
        100 × 100.
    gamma : float
        0.5.
    num_statistics_steps : int
        T = 1000.
    init_scale : float
        Scale of the statistics run's ξ.
    window, eps_re, eps_im : see :func:`critical_pair_counts`
    min_switches : int
        2.
    noise_std : float
    num_display : int
        Trajectories kept per μ for plotting.
    generator : torch.Generator
    gating : {"pre_activation", "authors"}
    noise_alignment : {"continuation", "authors"}
    fallback_to_unmodified : bool
    basis : PCABasis or None
        Plane for ``max_excursion``.
    """
    W = weights.W_hh
    H, d = weights.hidden_size, weights.input_dim
    mu = np.asarray(mus, dtype=float).ravel()
    M, K, T = mu.size, num_trajectories, num_steps
    recurrent = np.stack([mask.scales(m)[0] for m in mu] + [np.ones(H)])  # (M + 1, H); last row = unmodified
    external = np.stack([mask.scales(m)[1] for m in mu] + [np.ones(H)])
    c_rec = torch.as_tensor(recurrent, dtype=W.dtype, device=W.device)
    c_in = torch.as_tensor(external, dtype=W.dtype, device=W.device)

    xi = random_initial_state(weights, init_scale, generator)
    statistics_noise = noise_std * _normal(generator, W, num_statistics_steps, d)
    fresh = noise_std * _normal(generator, W, K, T, d)

    # 1. trajectories from the initial condition, all μ at once
    h0 = _as_state(weights, initial_state, "initial_state").reshape(-1)
    gamma_tensor = torch.tensor([gamma], dtype=W.dtype, device=W.device)
    inputs = _mixed_inputs(nominal_noise.to(dtype=W.dtype, device=W.device), fresh, gamma_tensor, T, noise_alignment)[0]
    states = simulate_modified(
        weights,
        h0.expand(M * K, -1),
        inputs.repeat(M, 1, 1),
        c_rec[:M].repeat_interleave(K, dim=0),
        c_in[:M].repeat_interleave(K, dim=0),
    )
    trajectories = torch.cat([h0.expand(M * K, 1, -1), states], dim=1).reshape(M, K, T + 1, H)
    outputs = (trajectories @ weights.W_o.T).argmax(dim=-1)
    switch_rate = _has_direction_switch(outputs.reshape(M * K, T + 1), source_output, target_output)
    switch_rate = switch_rate.reshape(M, K).to(W.dtype).mean(dim=1)
    if basis is not None:
        excursion = project(basis, trajectories).norm(dim=-1)
    else:
        excursion = trajectories.norm(dim=-1)
    max_excursion = excursion.amax(dim=-1).mean(dim=-1)

    # 2. statistics runs (M modified + 1 unmodified) and critical pairs per switch window
    run = simulate_modified(
        weights, xi.expand(M + 1, -1), statistics_noise.expand(M + 1, -1, -1), c_rec, c_in
    )  # (M + 1, T_s, H): states 1..T_s
    previous = torch.cat([xi.expand(M + 1, 1, -1), run[:, :-1]], dim=1)
    run_outputs = to_numpy((run @ weights.W_o.T).argmax(dim=-1))
    nominal_switches = _switch_times(run_outputs[M])
    counts, num_switches, fallback = [], np.zeros(M, dtype=np.int64), np.zeros(M, dtype=bool)
    for m in range(M):  # eigen-decompositions per μ (each μ is a different matrix)
        switches = _switch_times(run_outputs[m])
        num_switches[m] = switches.size
        if switches.size < min_switches and fallback_to_unmodified:
            switches, fallback[m] = nominal_switches, True
        modified = modified_weights(weights, recurrent[m], external[m])
        eigenvalues = jacobian_eigenvalues(modified, previous[m], statistics_noise, gating=gating)
        # Jacobian index i is the step producing state i + 1; a switch at state i + 1 = index i of run_outputs
        counts.append(critical_pair_counts(eigenvalues, switches, window=window, eps_re=eps_re, eps_im=eps_im))
    return Intervention(
        mus=mu,
        switch_rate=to_numpy(switch_rate),
        max_excursion=to_numpy(max_excursion),
        display=trajectories[:, :num_display].clone(),
        num_switches=num_switches,
        used_fallback=fallback,
        critical_counts=tuple(counts),
    )


# --------------------------------------------------------------------------------------------------------------
# Readout alignment (§6.15, §8.16)
# --------------------------------------------------------------------------------------------------------------


class ReadoutAlignment(NamedTuple):
    """How much each readout axis lies in the PC plane.

    Attributes
    ----------
    projection : (num_outputs,) ndarray
        ``p_i = ‖P ŵ_i‖`` with P the orthogonal projector onto the plane and ŵ_i the normalised readout row.
    angle_degrees : (num_outputs,) ndarray
        ``arccos(p_i)`` in degrees.
    is_included : (num_outputs,) bool ndarray
        Outputs averaged in ``mean_projection``.
    mean_projection : float
        p̄: mean of ``projection`` over the included outputs.
    """

    projection: np.ndarray
    angle_degrees: np.ndarray
    is_included: np.ndarray
    mean_projection: float


def readout_alignment(W_o, pc_components, output_frequencies, *, min_frequency: float) -> ReadoutAlignment:
    """Projection of each normalised readout row onto the span of the PCs and its angle to it (§6.15, §8.16).

    Parameters
    ----------
    W_o : (num_outputs, hidden_size) tensor or ndarray
    pc_components : (num_components, hidden_size) ndarray or tensor
        e.g. ``PCABasis.components`` (PC1, PC2); orthonormalised here, so any basis of the plane works.
    output_frequencies : (num_outputs,) array-like
        Stationary HMM output frequencies.
    min_frequency : float
        Outputs with frequency ≥ this are averaged (0.05 in §8.16; gives {0, 2} for linear chains).
    """
    readout = to_numpy(W_o).astype(float)
    components = to_numpy(pc_components).astype(float)
    frequency = np.asarray(output_frequencies, dtype=float).ravel()
    if components.ndim != 2 or components.shape[1] != readout.shape[1]:
        raise ValueError(f"pc_components must be (n, {readout.shape[1]}); found shape {components.shape}")
    if frequency.shape != (readout.shape[0],):
        raise ValueError(f"output_frequencies must have shape ({readout.shape[0]},); found {frequency.shape}")
    q, _ = np.linalg.qr(components.T)  # (H, n) orthonormal basis of the plane
    unit = readout / np.linalg.norm(readout, axis=1, keepdims=True)
    inside = unit @ q
    projection = np.clip(np.linalg.norm(inside, axis=1), 0.0, 1.0)
    outside = np.linalg.norm(unit - inside @ q.T, axis=1)
    angle = np.degrees(np.arctan2(outside, projection))  # = arccos(p), without its ill-conditioning near p = 1
    included = frequency >= min_frequency
    if not included.any():
        raise ValueError(f"no output has frequency ≥ {min_frequency}: {frequency.tolist()}")
    return ReadoutAlignment(projection, angle, included, float(projection[included].mean()))
