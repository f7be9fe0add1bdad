"""Residency times of states and their zones: cluster, kick zone, transition (§6.8)."""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
import torch

from ..dynamics.jacobians import jacobian_eigenvalues
from ..dynamics.simulation import Weights, to_numpy
from ..tables import ZONES
from .runs import as_state, normal_like

__all__ = ["Residency", "ResidencyZones", "ZoneSummary", "residency_times", "residency_zones", "zone_means"]


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
    h_all = as_state(weights, states, "states")
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
            h = torch.relu(h @ W.T + (noise_std * normal_like(generator, W, rows.numel(), weights.input_dim)) @ W_ih.T)
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
