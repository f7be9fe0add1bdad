"""Orbits linking pairs of outputs (§6.4): a global PCA, one PCA per output pair and their noise scaling."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
import torch

from ..claims.checks import Check, statistic_rows
from ..dynamics.pca import pca_basis, project
from ..dynamics.simulation import Weights, argmax_outputs, simulate, to_numpy
from ..seeds import numpy_rng, torch_generator
from ..study import ModelKey
from ..tables import SUBSPACE_SCHEMA
from .density import DensityGrid, density_contours, stack_grids
from .rows import ratio, with_key
from .runs import (
    DTYPE,
    bounded_prefix,
    contiguous_runs,
    noise_level_runs,
    project_padded,
    standard_normal,
    variance_ratios,
)
from .settings import ContourSettings, SubspaceSettings

__all__ = ["SubspaceAnalysis", "analyze_subspaces"]

log = logging.getLogger(__name__)


class SubspaceAnalysis(NamedTuple):
    """Results of :func:`analyze_subspaces`.

    Attributes
    ----------
    table : DataFrame (``SUBSPACE_SCHEMA``, one row per pair)
    statistics : DataFrame (``CLAIM_STATISTICS_SCHEMA``; the checks of claim 17, judged by the claim rules)
    arrays : dict of ndarray
        ``pairs`` (P, 2), ``shown_components`` (2,), per pair i ``trajectory_{i}`` (n_i, pair_components) and
        ``trajectory_outputs_{i}`` (the longest pair sequence, empty if none), ``explained_{i}``; contours per pair
        and noise level ``kde_x``, ``kde_y`` (P, S, G), ``kde_density`` (P, S, G, G), ``kde_levels`` (P, S, 3),
        ``noise_levels``, ``kde_proportions``.
    """

    table: pd.DataFrame
    statistics: pd.DataFrame
    arrays: dict[str, np.ndarray]


def analyze_subspaces(
    weights: Weights,
    key: Mapping[str, Any],
    *,
    settings: SubspaceSettings,
    contours: ContourSettings,
    max_state_norm: float,
    claims: Mapping[str, Any],
    seed: int,
) -> SubspaceAnalysis:
    """Orbits linking pairs of outputs: a global PCA, one PCA per output pair and their noise scaling (§6.4).

    A noisy run (σ = 1) of ``steps`` from h_0 ~ N(0, I) is projected on a global PCA; for each output pair the
    states whose argmax output is in the pair get their own PCA. Pair sequences are maximal runs of such states;
    the longest is kept for plotting. Contours: runs from h = 0 per noise level, states in the pair, projected
    through both PCAs onto ``shown_components``. Claim 17: every pair with at least ``min_occupancy`` of the output
    switches has a pair sequence longer than ``min_run_length``.

    Parameters
    ----------
    weights : Weights
    key : mapping with ``hmm, hidden_size, input_dim, seed``
    settings : SubspaceSettings
        Config ``analysis.subspaces``.
    contours : ContourSettings
        Config ``analysis.contours``.
    max_state_norm : float
        Config ``analysis.max_state_norm``: a state beyond it counts as diverged.
    claims : mapping
        The measurement settings of config ``analysis.claims``.
    seed : int
        Root seed of the analysis streams.
    """
    s = settings
    weights = Weights(*(w.to(DTYPE) for w in (weights.W_ih, weights.W_hh, weights.W_o)))
    device, H, d = weights.W_hh.device, weights.hidden_size, weights.input_dim
    streams = (seed, "subspaces", *(key[name] for name in ModelKey._fields))

    def generator(purpose: str) -> torch.Generator:
        return torch_generator(*streams, purpose, device=device)

    log.info("subspaces step 1: the σ = 1 run (%d steps) and its global PCA", s.steps)
    start = standard_normal(generator("start"), 1, H, device=device)
    noise = standard_normal(generator("run"), 1, s.steps, d, device=device)
    run = bounded_prefix(simulate(weights, start, noise)[0], max_state_norm)
    if run.shape[0] < 3:
        raise ValueError(f"{dict(key)}: the noisy run diverges within {run.shape[0]} steps; nothing to analyse")
    outputs = to_numpy(argmax_outputs(weights, run))
    global_basis = pca_basis(run, min(s.global_components, H, run.shape[0]))
    coordinates = np.asarray(project(global_basis, to_numpy(run)))
    switched = outputs[1:] != outputs[:-1]
    num_switches = int(switched.sum())
    log.info("subspaces step 2: runs per noise level")
    level_runs = noise_level_runs(weights, contours, generator("noise_levels"), max_state_norm)
    level_outputs = [to_numpy(argmax_outputs(weights, states)) for states in level_runs]
    shown = [component - 1 for component in s.shown_components]
    kde_rng = numpy_rng(*streams, "kde")

    rows, checks, arrays, pair_grids = [], [], {}, []
    for index, (a, b) in enumerate(s.pairs):
        log.info("subspaces step 3.%d: output pair %d-%d", index + 1, a, b)
        in_pair = np.isin(outputs, (a, b))
        between = switched & np.isin(outputs[:-1], (a, b)) & np.isin(outputs[1:], (a, b))
        occupancy = ratio(float(between.sum()), float(num_switches))
        run_starts, run_lengths = contiguous_runs(in_pair)
        longest = int(run_lengths.max()) if run_lengths.size else 0
        num_components = min(s.pair_components, coordinates.shape[1], int(in_pair.sum()))
        basis = pca_basis(coordinates[in_pair], num_components) if num_components >= 2 else None
        trajectory = np.zeros((0, s.pair_components))
        trajectory_outputs = np.zeros(0, dtype=np.int64)
        grids = [DensityGrid.empty(contours.grid_size, 3) for _ in contours.noise_levels]
        if basis is not None:
            begin = int(run_starts[run_lengths.argmax()])
            stop = begin + min(longest, s.max_trajectory_steps)
            trajectory = project_padded(basis, coordinates[begin:stop], s.pair_components)
            trajectory_outputs = outputs[begin:stop]
            for level, (states, level_output) in enumerate(zip(level_runs, level_outputs, strict=True)):
                kept = np.isin(level_output, (a, b))
                if kept.sum() < s.min_points:
                    continue
                global_coordinates = np.asarray(project(global_basis, to_numpy(states)[kept]))
                plane = project_padded(basis, global_coordinates, s.pair_components)[:, shown]
                grids[level] = density_contours(
                    plane,
                    proportions=contours.proportions,
                    bw_adjust=contours.bw_adjust,
                    max_points=contours.max_points,
                    grid_size=contours.grid_size,
                    rng=kde_rng,
                )
        pair_grids.append(grids)
        arrays[f"trajectory_{index}"] = trajectory
        arrays[f"trajectory_outputs_{index}"] = trajectory_outputs
        arrays[f"explained_{index}"] = np.asarray(variance_ratios(basis, s.pair_components))
        ratios = variance_ratios(basis)
        rows.append(
            {
                "output_a": a,
                "output_b": b,
                "occupancy": occupancy,
                "num_points": int(in_pair.sum()),
                "longest_run": longest,
                "num_long_runs": int((run_lengths > s.min_run_length).sum()),
                "pc1_variance_ratio": ratios[0],
                "pc2_variance_ratio": ratios[1],
                "pc3_variance_ratio": ratios[2],
            }
        )
        if np.isfinite(occupancy) and occupancy >= claims["pair_orbits"]["min_occupancy"]:
            checks.append(Check(17, f"longest_run_{a}{b}", longest, ">", s.min_run_length))
    checks.insert(0, Check(17, "num_pairs_checked", len(checks), ">=", 1))

    arrays.update(
        pairs=np.asarray(s.pairs, dtype=np.int64),
        shown_components=np.asarray(s.shown_components, dtype=np.int64),
        noise_levels=np.asarray(contours.noise_levels, dtype=float),
        kde_proportions=np.asarray(contours.proportions, dtype=float),
    )
    for name, values in stack_grids([grid for grids in pair_grids for grid in grids], "kde_").items():
        arrays[name] = values.reshape(len(s.pairs), len(contours.noise_levels), *values.shape[1:])
    return SubspaceAnalysis(
        table=with_key(rows, key, SUBSPACE_SCHEMA),
        statistics=statistic_rows(checks, **{name: key[name] for name in ModelKey._fields}),
        arrays=arrays,
    )
