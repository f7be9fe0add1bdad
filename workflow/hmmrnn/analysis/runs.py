"""Noisy runs that the analyses share: float64 weights, standard-normal draws, runs cut before divergence."""

from __future__ import annotations

import logging
import math

import numpy as np
import torch

from ..dynamics.pca import PCABasis, project
from ..dynamics.simulation import Weights, simulate, to_numpy
from .settings import ContourSettings

__all__ = [
    "noise_level_runs",
    "DTYPE",
    "as_state",
    "bounded_prefix",
    "contiguous_runs",
    "has_direction_switch",
    "index_array",
    "mask_diverged",
    "noise_window",
    "noisy_run",
    "normal_like",
    "project_padded",
    "random_initial_state",
    "standard_normal",
    "switch_times",
    "variance_ratios",
]

log = logging.getLogger(__name__)


DTYPE = torch.float64


def bounded_prefix(states: torch.Tensor, max_norm: float) -> torch.Tensor:
    """The leading rows of a ``(num_timesteps, hidden_size)`` run before its first non-finite or too large state."""
    bad = ~torch.isfinite(states).all(dim=-1) | (states.norm(dim=-1) > max_norm)
    if bool(bad.any()):
        first = int(bad.to(torch.int8).argmax())
        log.warning("the run diverges at step %d of %d; keeping the steps before it", first, states.shape[0])
        return states[:first]
    return states


def mask_diverged(trajectories: torch.Tensor, max_norm: float) -> torch.Tensor:
    """(batch, time, hidden) trajectories with every state from the first diverged one on set to nan."""
    bad = ~torch.isfinite(trajectories).all(dim=-1) | (trajectories.norm(dim=-1) > max_norm)
    after = torch.cumsum(bad.to(torch.int64), dim=1) > 0
    return trajectories.masked_fill(after.unsqueeze(-1), math.nan)


def contiguous_runs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start indices and lengths of the maximal runs of True in a 1-D boolean array."""
    padded = np.concatenate([[False], np.asarray(mask, dtype=bool), [False]])
    edges = np.flatnonzero(np.diff(padded.astype(np.int8)))
    starts, ends = edges[::2], edges[1::2]
    return starts, ends - starts


def project_padded(basis: PCABasis, states: torch.Tensor | np.ndarray, width: int) -> np.ndarray:
    """PCA coordinates with at least ``width`` columns (zeros beyond the basis's components)."""
    coordinates = np.asarray(project(basis, to_numpy(states)))
    if coordinates.shape[-1] >= width:
        return coordinates[..., :width]
    pad = np.zeros((*coordinates.shape[:-1], width - coordinates.shape[-1]))
    return np.concatenate([coordinates, pad], axis=-1)


def standard_normal(generator: torch.Generator, *shape: int, device: torch.device) -> torch.Tensor:
    return torch.randn(*shape, generator=generator, dtype=DTYPE, device=device)


def variance_ratios(basis: PCABasis | None, count: int = 3) -> list[float]:
    ratios = [] if basis is None else [float(v) for v in basis.explained_variance_ratio[:count]]
    return ratios + [math.nan] * (count - len(ratios))


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


def normal_like(generator: torch.Generator, like: torch.Tensor, *shape: int) -> torch.Tensor:
    return torch.randn(*shape, generator=generator, dtype=like.dtype, device=like.device)


def as_state(weights: Weights, state: torch.Tensor, name: str) -> torch.Tensor:
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
    h = as_state(weights, initial_state, "initial_state").reshape(1, -1)
    W = weights.W_hh
    if warmup_steps > 0:
        h = simulate(weights, h, noise_std * normal_like(generator, W, 1, warmup_steps, weights.input_dim))[:, -1]
    inputs = noise_std * normal_like(generator, W, num_steps, weights.input_dim)
    states = simulate(weights, h, inputs[None])[0]
    return torch.cat([h, states]), inputs


def switch_times(outputs: np.ndarray) -> np.ndarray:
    """Indices t ≥ 1 with ``o_t ≠ o_{t-1}`` along the last axis of a 1-D sequence."""
    return np.flatnonzero(outputs[1:] != outputs[:-1]) + 1


def has_direction_switch(outputs: torch.Tensor, source: int, target: int) -> torch.Tensor:
    """(batch,) bool: the output sequences (batch, T) contain at least one ``source -> target`` step."""
    return ((outputs[:, :-1] == source) & (outputs[:, 1:] == target)).any(dim=1)


def index_array(indices, hidden_size: int, name: str) -> np.ndarray:
    array = np.asarray(indices, dtype=np.int64).ravel()
    if array.size and (array.min() < 0 or array.max() >= hidden_size):
        raise ValueError(f"{name} must lie in [0, {hidden_size}); found {array.tolist()}")
    if np.unique(array).size != array.size:
        raise ValueError(f"{name} contains duplicates: {array.tolist()}")
    return array


def noise_level_runs(
    weights: Weights, contours: ContourSettings, generator: torch.Generator, max_norm: float
) -> list[torch.Tensor]:
    """One bounded run per noise level, all from h = 0, each with its own draws scaled to its standard deviation."""
    device = weights.W_hh.device
    levels = torch.tensor(contours.noise_levels, dtype=DTYPE, device=device)
    noise = standard_normal(generator, len(levels), contours.noise_steps, weights.input_dim, device=device)
    start = torch.zeros(len(levels), weights.hidden_size, dtype=DTYPE, device=device)
    runs = simulate(weights, start, noise * levels[:, None, None])
    return [bounded_prefix(run, max_norm) for run in runs]
