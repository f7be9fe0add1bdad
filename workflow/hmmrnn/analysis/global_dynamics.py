"""Global latent dynamics of a family's representative (§6.1-6.5): PCA, trajectories, fixed point, spectra,
orbit radius against noise.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
import torch

from ..claims.checks import Check, statistic_rows
from ..dynamics.fixed_points import ConvergenceStatistics, FixedPoints, find_fixed_points, input_free_convergence
from ..dynamics.jacobians import jacobian_eigenvalues
from ..dynamics.orbit import RadiusRegression, RotationStatistics, orbit_radius, radius_regression, rotation_statistics
from ..dynamics.pca import PCABasis, pca_basis
from ..dynamics.simulation import Weights, argmax_outputs, sample_states, simulate, to_numpy
from ..dynamics.spectra import eigen_fractions, mobius
from ..seeds import numpy_rng, torch_generator
from ..study import ModelKey
from ..tables import GLOBAL_SCHEMA, RADIUS_SCHEMA, SPECTRUM_SCHEMA
from .density import DensityGrid, density_contours, stack_grids
from .rows import ratio, with_key
from .runs import (
    DTYPE,
    bounded_prefix,
    mask_diverged,
    noise_level_runs,
    project_padded,
    standard_normal,
    variance_ratios,
)
from .settings import ContourSettings, EigenSettings, GlobalSettings

__all__ = ["GlobalAnalysis", "analyze_global"]

log = logging.getLogger(__name__)


def _spectrum_rows(eigenvalues: np.ndarray, counts: Sequence[int], source: str) -> list[dict[str, Any]]:
    rows = []
    with np.errstate(divide="ignore", invalid="ignore"):
        w = mobius(eigenvalues)
    for index, (values, count) in enumerate(zip(eigenvalues, counts, strict=True)):
        for rank, value in enumerate(values):
            rows.append(
                {
                    "source": source,
                    "index": index,
                    "count": int(count),
                    "rank": rank,
                    "real": float(value.real),
                    "imag": float(value.imag),
                    "modulus": float(abs(value)),
                    "mobius_real": float(w[index, rank].real),
                    "mobius_imag": float(w[index, rank].imag),
                }
            )
    return rows


class GlobalAnalysis(NamedTuple):
    """Results of :func:`analyze_global`.

    Attributes
    ----------
    summary : DataFrame (``GLOBAL_SCHEMA``, one row)
    radius : DataFrame (``RADIUS_SCHEMA``, one row per noise level)
    spectrum : DataFrame (``SPECTRUM_SCHEMA``)
    statistics : DataFrame (``CLAIM_STATISTICS_SCHEMA``; the checks of claims 3, 4 and 6, judged by the claim rules)
    arrays : dict of ndarray
        Plotting data: ``explained_variance_ratio``; ``no_input`` (n, L+1, 3) and ``no_input_outputs``;
        ``input`` (m, L+1, 3), ``input_outputs`` and ``input_speed`` (m, L) (full-space step sizes);
        ``fixed_points`` (F, 3); ``orbit_eigenvalues`` (k, H) complex; ``noise_levels``; ``kde_x``, ``kde_y``
        (S, G), ``kde_density`` (S, G, G), ``kde_levels`` (S, 3) and ``kde_proportions`` (3,).
    """

    summary: pd.DataFrame
    radius: pd.DataFrame
    spectrum: pd.DataFrame
    statistics: pd.DataFrame
    arrays: dict[str, np.ndarray]


def analyze_global(
    weights: Weights,
    key: Mapping[str, Any],
    *,
    settings: GlobalSettings,
    contours: ContourSettings,
    eigenvalues: EigenSettings,
    max_state_norm: float,
    claims: Mapping[str, Any],
    seed: int,
) -> GlobalAnalysis:
    """PCA of a long noisy run, trajectories with and without input, the fixed point and the orbit (§6.1-6.5).

    1. Noisy run (σ = 1) of ``pca_steps`` from h = 0 → PCA basis, orbit radius R (full space), output switches,
       rotation in PC1-PC2, eigenvalue fractions of the Jacobians along its first ``jacobian_steps`` steps.
    2. Input-free and noisy trajectories from states drawn from that run (plotting).
    3. Input-free runs of ``fixed_point_steps`` from ``fixed_point_initial_states`` drawn states: collapse
       statistics (claim 3) and a Levenberg-Marquardt fixed-point search whose result is not assumed.
    4. Runs from h = 0 per noise level: radius in PC1-PC2 and in full space, kernel density contours, and the
       regression of radius on the noise standard deviation (claim 6).

    Parameters
    ----------
    weights : Weights
    key : mapping with ``hmm, hidden_size, input_dim, seed``
    settings : GlobalSettings
        Config ``analysis.global_dynamics``.
    contours : ContourSettings
        Config ``analysis.contours``: the noise levels of step 4 and their density contours.
    eigenvalues : EigenSettings
        Config ``analysis.eigenvalues``: the critical complex pairs of step 1.
    max_state_norm : float
        Config ``analysis.max_state_norm``: a state beyond it counts as diverged.
    claims : mapping
        The measurement settings of config ``analysis.claims`` (:data:`hmmrnn.study.CLAIM_MEASUREMENTS`: uses
        ``orbit.norm_window``; thresholds are judged apart).
    seed : int
        Root seed of the analysis streams.
    """
    g = settings
    weights = Weights(*(w.to(DTYPE) for w in (weights.W_ih, weights.W_hh, weights.W_o)))
    device, H, d = weights.W_hh.device, weights.hidden_size, weights.input_dim
    streams = (seed, "global", *(key[name] for name in ModelKey._fields))

    def generator(purpose: str) -> torch.Generator:
        return torch_generator(*streams, purpose, device=device)

    rng = numpy_rng(*streams, "initial_states")

    # 1. the σ = 1 run
    log.info("global dynamics step 1: the σ = 1 run")
    noise = standard_normal(generator("pca_run"), g.pca_steps, d, device=device)
    run = bounded_prefix(
        simulate(weights, torch.zeros(1, H, dtype=DTYPE, device=device), noise[None])[0], max_state_norm
    )
    if run.shape[0] < 3:
        raise ValueError(f"{dict(key)}: the noisy run diverges within {run.shape[0]} steps; nothing to analyse")
    basis = pca_basis(run, min(g.pca_components, H, run.shape[0]))
    projected = project_padded(basis, run, 3)
    outputs = to_numpy(argmax_outputs(weights, run))
    radius_full = orbit_radius(run)
    num_switches = int((outputs[1:] != outputs[:-1]).sum())
    rotation = rotation_statistics(projected[:, :2])
    first, last = claims["orbit"]["norm_window"]
    first, last = min(first, run.shape[0] - 1), min(last, run.shape[0])
    mean_norm = float(run[first:last].norm(dim=1).mean())

    num_jacobians = min(g.jacobian_steps, run.shape[0] - 1)
    run_eigenvalues = jacobian_eigenvalues(
        weights, run[:num_jacobians], noise[1 : num_jacobians + 1], gating=eigenvalues.gating
    )
    fractions = eigen_fractions(run_eigenvalues, eps_re=eigenvalues.eps_re, eps_im=eigenvalues.eps_im)
    sample = np.unique(np.linspace(0, num_jacobians - 1, min(g.spectrum_samples, num_jacobians)).round().astype(int))

    # 2. plotted trajectories
    log.info("global dynamics step 2: plotted trajectories")
    starts = sample_states(run, min(g.no_input_trajectories, run.shape[0]), rng)
    free = simulate(weights, starts, torch.zeros(starts.shape[0], g.no_input_steps, d, dtype=DTYPE, device=device))
    free = mask_diverged(torch.cat([starts[:, None], free], dim=1), max_state_norm)
    starts = sample_states(run, min(g.input_trajectories, run.shape[0]), rng)
    driven_noise = standard_normal(generator("input_trajectories"), starts.shape[0], g.input_steps, d, device=device)
    driven = mask_diverged(torch.cat([starts[:, None], simulate(weights, starts, driven_noise)], dim=1), max_state_norm)

    # 3. collapse without input and the fixed-point search
    initial, fixed, collapse, spectrum = _fixed_point_step(weights, g, run, radius_full, rng)

    # 4. orbit radius vs noise
    radius_rows, grids, regression = _radius_step(weights, contours, max_state_norm, basis, generator, streams)

    fixed_norms = to_numpy(fixed.states.norm(dim=1)) if len(fixed.states) else np.array([math.nan])
    summary = {
        "num_steps": int(run.shape[0]),
        "is_bounded": run.shape[0] == g.pca_steps,
        **dict(
            zip(["pc1_variance_ratio", "pc2_variance_ratio", "pc3_variance_ratio"], variance_ratios(basis), strict=True)
        ),
        "orbit_radius": radius_full,
        "orbit_radius_pc": orbit_radius(projected[:, :2]),
        "num_switches": num_switches,
        "switch_rate": num_switches / (len(outputs) - 1),
        "winding_number": rotation.winding_number,
        "dominant_fraction": rotation.dominant_fraction,
        "mean_norm_ratio": ratio(mean_norm, radius_full),
        "critical_fraction": fractions.critical_fraction,
        "unstable_fraction": fractions.unstable_fraction,
        "mean_unstable_count": float(fractions.unstable_counts.mean()),
        "num_initial_states": int(initial.shape[0]),
        "num_fixed_points": len(fixed.states),
        "fixed_point_norm": float(fixed_norms[0]),
        "fixed_point_speed": float(fixed.speeds[0]) if len(fixed.speeds) else math.nan,
        "fixed_point_spectral_radius": float(fixed.eigenvalues[0].abs().max()) if len(fixed.states) else math.nan,
        "endpoint_spread": collapse.max_distance,
        "endpoint_residual": collapse.residual,
        "endpoint_norm": collapse.norm,
        "endpoint_spectral_radius": collapse.max_spectral_radius,
        "radius_slope": regression.slope,
        "radius_intercept": regression.intercept,
        "radius_r_squared": regression.r_squared,
    }

    checks = _global_checks(summary, collapse, rotation, regression, run.shape[0] / g.pca_steps)

    arrays = {
        "explained_variance_ratio": basis.explained_variance_ratio,
        "no_input": project_padded(basis, free, 3),
        "no_input_outputs": to_numpy(argmax_outputs(weights, torch.nan_to_num(free))),
        "input": project_padded(basis, driven, 3),
        "input_outputs": to_numpy(argmax_outputs(weights, torch.nan_to_num(driven))),
        "input_speed": to_numpy((driven[:, 1:] - driven[:, :-1]).norm(dim=-1)),
        "fixed_points": project_padded(basis, fixed.states, 3) if len(fixed.states) else np.zeros((0, 3)),
        "orbit_eigenvalues": to_numpy(run_eigenvalues[torch.as_tensor(sample, device=device)]),
        "noise_levels": np.asarray(contours.noise_levels, dtype=float),
        "kde_proportions": np.asarray(contours.proportions, dtype=float),
        **stack_grids(grids, "kde_"),
    }
    return GlobalAnalysis(
        summary=with_key([summary], key, GLOBAL_SCHEMA),
        radius=with_key(radius_rows, key, RADIUS_SCHEMA),
        spectrum=with_key(spectrum, key, SPECTRUM_SCHEMA),
        statistics=statistic_rows(checks, **{name: key[name] for name in ModelKey._fields}),
        arrays=arrays,
    )


def _global_checks(
    summary: Mapping[str, Any],
    collapse: ConvergenceStatistics,
    rotation: RotationStatistics,
    regression: RadiusRegression,
    bounded_fraction: float,
) -> list[Check]:
    """The checks of claims 3, 4 and 6 (thresholds as keys of ``analysis.claims``)."""
    fitted_at_one = regression.slope + regression.intercept
    checks = [
        Check(3, "num_initial_states", summary["num_initial_states"], ">=", "fixed_point.min_initial_states"),
        Check(3, "num_fixed_points", summary["num_fixed_points"], "==", 1),
        Check(3, "relative_spread", collapse.relative_max_distance, "<", "fixed_point.max_relative_spread"),
        Check(3, "relative_residual", collapse.relative_residual, "<", "fixed_point.max_relative_residual"),
        Check(3, "relative_norm", collapse.relative_norm, "<", "fixed_point.max_relative_norm"),
        Check(4, "bounded_fraction", bounded_fraction, ">=", 1.0),  # the σ = 1 run never diverges
        Check(4, "mean_norm_ratio", summary["mean_norm_ratio"], ">", "orbit.min_norm_ratio"),
        Check(4, "switch_rate", summary["switch_rate"], ">=", "orbit.min_switch_rate"),
        Check(
            4,
            "winding_ratio",
            ratio(abs(rotation.winding_number), summary["num_switches"] / 2),
            ">=",
            "orbit.min_winding_ratio",
        ),
        Check(4, "dominant_fraction", rotation.dominant_fraction, ">=", "orbit.min_dominant_fraction"),
        Check(6, "r_squared", regression.r_squared, ">=", "radius.min_r_squared"),
        Check(
            6,
            "intercept_ratio",
            ratio(abs(regression.intercept), fitted_at_one),
            "<=",
            "radius.max_intercept_ratio",
        ),
    ]

    return checks


def _fixed_point_step(
    weights: Weights, g: GlobalSettings, run: torch.Tensor, radius_full: float, rng: np.random.Generator
) -> tuple[torch.Tensor, FixedPoints, ConvergenceStatistics, list[dict[str, Any]]]:
    """Step 3 of :func:`analyze_global`: collapse of input-free runs from states of ``run``, the fixed-point search
    and the spectra of the fixed points and of the runs' end points (one per ReLU gate pattern)."""
    device = weights.W_hh.device
    log.info("global dynamics step 3: collapse without input and the fixed-point search")
    initial = sample_states(run, min(g.fixed_point_initial_states, run.shape[0]), rng)
    tolerance = g.fixed_point_tolerance * radius_full
    fixed = find_fixed_points(
        weights,
        initial,
        num_map_steps=g.fixed_point_steps,
        num_refine_steps=g.fixed_point_refine_steps,
        max_speed=0.5 * tolerance**2,
        unique_tolerance=tolerance,
    )
    collapse = input_free_convergence(
        weights, initial, num_steps=g.fixed_point_steps, orbit_radius=radius_full, num_jacobian_steps=1
    )
    ends = initial
    for _ in range(g.fixed_point_steps):
        ends = torch.relu(ends @ weights.W_hh.T)
    finite_ends = ends[torch.isfinite(ends).all(dim=1)]
    patterns, inverse = torch.unique(finite_ends @ weights.W_hh.T > 0, dim=0, return_inverse=True)
    representatives = torch.zeros(len(patterns), dtype=torch.int64, device=device).scatter_(
        0, inverse, torch.arange(len(inverse), device=device)
    )
    end_spectra = to_numpy(jacobian_eigenvalues(weights, finite_ends[representatives])) if len(patterns) else None

    spectrum = _spectrum_rows(to_numpy(fixed.eigenvalues), to_numpy(fixed.num_candidates), "fixed_point")
    if end_spectra is not None:
        spectrum += _spectrum_rows(end_spectra, to_numpy(torch.bincount(inverse, minlength=len(patterns))), "endpoint")

    return initial, fixed, collapse, spectrum


def _radius_step(
    weights: Weights,
    contours: ContourSettings,
    max_state_norm: float,
    basis: PCABasis,
    generator: Callable[[str], torch.Generator],
    streams: tuple,
) -> tuple[list[dict[str, Any]], list[DensityGrid], RadiusRegression]:
    """Step 4 of :func:`analyze_global`: per noise level the orbit radius and density contours; radius on noise."""
    log.info("global dynamics step 4: orbit radius vs noise")
    level_runs = noise_level_runs(weights, contours, generator("noise_levels"), max_state_norm)
    radius_rows, grids = [], []
    kde_rng = numpy_rng(*streams, "kde")
    for level, states in zip(contours.noise_levels, level_runs, strict=True):
        plane = project_padded(basis, states, 2) if states.shape[0] else np.zeros((0, 2))
        radius_rows.append(
            {
                "noise_std": float(level),
                "num_steps": int(states.shape[0]),
                "radius_pc": orbit_radius(plane) if len(plane) else math.nan,
                "radius": orbit_radius(states) if states.shape[0] else math.nan,
            }
        )
        grids.append(
            density_contours(
                plane,
                proportions=contours.proportions,
                bw_adjust=contours.bw_adjust,
                max_points=contours.max_points,
                grid_size=contours.grid_size,
                rng=kde_rng,
            )
        )
    radii = np.array([row["radius_pc"] for row in radius_rows])
    finite = np.isfinite(radii)
    if finite.sum() >= 2:
        regression = radius_regression(np.asarray(contours.noise_levels)[finite], radii[finite])
    else:
        regression = RadiusRegression(math.nan, math.nan, math.nan)

    return radius_rows, grids, regression
