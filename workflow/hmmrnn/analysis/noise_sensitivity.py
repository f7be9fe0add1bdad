"""Sensitivity of the cluster and transition points to aligned input noise, and the dispersion it causes (§6.10)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, NamedTuple

import numpy as np
import torch

from ..dynamics.simulation import Weights, simulate, to_numpy
from .runs import as_state, normal_like

__all__ = ["Dispersion", "NoiseAlignment", "NoiseSensitivity", "dispersion", "noise_sensitivity"]


NoiseAlignment = Literal["continuation", "authors"]


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


def mixed_inputs(
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
    h0 = as_state(weights, initial_state, "initial_state").reshape(-1)
    g = torch.as_tensor(np.asarray(gammas, dtype=float), dtype=W.dtype, device=W.device)
    fresh = noise_std * normal_like(generator, W, num_trajectories, num_steps, weights.input_dim)
    inputs = mixed_inputs(nominal_noise.to(dtype=W.dtype, device=W.device), fresh, g, num_steps, noise_alignment)
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
