"""Readout alignment of the orbit's principal components with the output weights (§6.15, §8.16)."""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
import torch

from ..dynamics.pca import PCABasis, pca_basis
from ..dynamics.simulation import Weights, to_numpy
from ..hmm import HMM, stationary_output_frequencies
from ..seeds import torch_generator
from ..study import ModelKey
from ..tables import ALIGNMENT_SCHEMA
from .rows import with_key
from .runs import DTYPE, bounded_prefix, noisy_run

__all__ = ["ReadoutAlignment", "analyze_alignment", "readout_alignment"]

log = logging.getLogger(__name__)


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


def analyze_alignment(
    weights: Weights,
    key: Mapping[str, Any],
    hmm: HMM,
    *,
    num_steps: int,
    min_frequency: float,
    noise_std: float,
    max_state_norm: float,
    is_converged: bool,
    seed: int,
) -> pd.DataFrame:
    """Projection of each readout axis on the PC1-PC2 plane of a noisy run from h_0 ~ N(0, I) (§6.15, §8.16).

    The plane is fitted on the run's states before any state norm exceeds ``max_state_norm`` (an unstable
    network's run is cut there, as in the global analysis); with fewer than 3 such states the projections are nan.
    Returns the rows of ``ALIGNMENT_SCHEMA`` for this model (one per output).
    """
    weights = Weights(*(w.to(DTYPE) for w in (weights.W_ih, weights.W_hh, weights.W_o)))
    generator = torch_generator(
        seed, "alignment", *(key[name] for name in ModelKey._fields), device=weights.W_hh.device
    )
    start = torch.randn(weights.hidden_size, generator=generator, dtype=DTYPE, device=weights.W_hh.device)
    log.info("readout alignment: a noisy run of %d steps", num_steps)
    states, _ = noisy_run(weights, start, num_steps=num_steps, warmup_steps=0, noise_std=noise_std, generator=generator)
    states = bounded_prefix(states[1:], max_state_norm)
    frequencies = stationary_output_frequencies(hmm)
    if states.shape[0] >= 3:
        basis: PCABasis = pca_basis(states, min(2, weights.hidden_size))
        alignment = readout_alignment(weights.W_o, basis.components, frequencies, min_frequency=min_frequency)
    else:
        log.error("%s: the noisy run diverges within %d steps; no readout alignment", dict(key), states.shape[0])
        nan = np.full(frequencies.size, math.nan)
        alignment = ReadoutAlignment(nan, nan, frequencies >= min_frequency, math.nan)
    rows = [
        {
            "num_states": hmm.num_states,
            "output": i,
            "frequency": float(frequencies[i]),
            "projection": float(alignment.projection[i]),
            "angle_degrees": float(alignment.angle_degrees[i]),
            "is_included": bool(alignment.is_included[i]),
            "mean_projection": alignment.mean_projection,
            "is_converged": is_converged,
        }
        for i in range(frequencies.size)
    ]
    return with_key(rows, key, ALIGNMENT_SCHEMA)
