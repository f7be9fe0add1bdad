"""Global latent dynamics of a family's representative model: the analyses of PAPER_SPEC §6.1-6.7 and their claims.

This module orchestrates :mod:`hmmrnn.dynamics` into per-family results. Each ``analyze_*`` function takes the
weights (or evolution snapshots) of one model and returns tidy tables (schemas in :mod:`hmmrnn.tables`), the
claim rows of §10 and a dict of plotting arrays (written as ``.npz``). Every draw comes from a stream derived from
the analysis seed, the purpose and the model key (:mod:`hmmrnn.seeds`), so results do not depend on run order.
States are float64 on the weights' device; runs of unstable models are cut before the first state whose norm
exceeds ``max_state_norm`` (they are reported, and their claims fail, instead of crashing the workflow).
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any, NamedTuple, get_args, get_type_hints

import numpy as np
import pandas as pd
import torch
from scipy.stats import gaussian_kde

from .dynamics import (
    PCABasis,
    RadiusRegression,
    SecondOrder,
    eigen_fractions,
    evolution_epochs_to_show,
    find_fixed_points,
    heatmap_threshold,
    input_free_convergence,
    jacobian_eigenvalues,
    mobius,
    orbit_radius,
    pca_basis,
    project,
    radius_regression,
    refine_transition_epoch,
    rotation_statistics,
    sample_states,
    second_order_perturbation,
    transition_epoch,
    transition_rate,
    weights_at_epoch,
)
from .seeds import numpy_rng, torch_generator
from .simulate import Weights, argmax_outputs, simulate, to_numpy
from .tables import (
    EVOLUTION_SCHEMA,
    GLOBAL_SCHEMA,
    RADIUS_SCHEMA,
    REPRESENTATIVE_SCHEMA,
    SECOND_ORDER_SCHEMA,
    SPECTRUM_SCHEMA,
    SUBSPACE_SCHEMA,
    TRANSITION_SCHEMA,
    Check,
    claim_rows,
)

__all__ = [
    "ContourSettings",
    "DensityGrid",
    "EigenSettings",
    "EvolutionAnalysis",
    "EvolutionSettings",
    "GlobalAnalysis",
    "GlobalSettings",
    "SubspaceAnalysis",
    "SubspaceSettings",
    "analyze_evolution",
    "analyze_global",
    "analyze_subspaces",
    "bounded_prefix",
    "candidate_file",
    "contiguous_runs",
    "density_contours",
    "loss_rise_near",
    "representative_key",
    "sampled_epochs",
    "select_representatives",
    "write_arrays_atomic",
]

log = logging.getLogger(__name__)

DTYPE = torch.float64
KEY_COLUMNS = ["hmm", "hidden_size", "input_dim", "seed"]


# --------------------------------------------------------------------------------------------------------------
# Settings (built from the params dicts of hmmrnn.study)
# --------------------------------------------------------------------------------------------------------------


class _FromParams:
    """``from_params`` for frozen settings dataclasses: unknown or missing keys raise, so every setting takes effect.

    A mapping given for a field annotated with another settings class (or ``SettingsClass | None``) becomes that
    class; lists become tuples, nested lists nested tuples.
    """

    @classmethod
    def from_params(cls, params: Mapping[str, Any]):
        names = {field.name for field in fields(cls)}
        unknown, missing = sorted(set(params) - names), sorted(names - set(params))
        if unknown or missing:
            raise ValueError(f"{cls.__name__}: unknown settings {unknown}, missing settings {missing}")
        hints = get_type_hints(cls)

        def convert(name: str, value: Any) -> Any:
            if isinstance(value, Mapping):
                nested = [
                    t
                    for t in (hints[name], *get_args(hints[name]))
                    if isinstance(t, type) and issubclass(t, _FromParams)
                ]
                if nested:
                    return nested[0].from_params(value)
            return _tuples(value)

        return cls(**{name: convert(name, value) for name, value in params.items()})


def _tuples(value: Any) -> Any:
    return tuple(_tuples(item) for item in value) if isinstance(value, list) else value


@dataclass(frozen=True)
class EigenSettings(_FromParams):
    """Critical complex pairs ``|Re w| < eps_re``, ``Im w > eps_im``; Jacobian ``gating`` (§6.5, §9.20)."""

    eps_re: float
    eps_im: float
    gating: str


@dataclass(frozen=True)
class ContourSettings(_FromParams):
    """Noise levels (standard deviations) and the kernel density contours of their runs (§6.2)."""

    noise_levels: tuple[float, ...]
    noise_steps: int
    bw_adjust: float
    max_points: int
    grid_size: int
    line_level: float
    fill_levels: tuple[float, float]

    @property
    def proportions(self) -> tuple[float, float, float]:
        """Iso-proportions of the contours: (lower fill, line, upper fill)."""
        return (self.fill_levels[0], self.line_level, self.fill_levels[1])


@dataclass(frozen=True)
class GlobalSettings(_FromParams):
    """Settings of :func:`analyze_global` (config ``analysis.global_dynamics`` plus shared keys)."""

    pca_steps: int
    pca_components: int
    no_input_trajectories: int
    no_input_steps: int
    input_trajectories: int
    input_steps: int
    jacobian_steps: int
    spectrum_samples: int
    fixed_point_initial_states: int
    fixed_point_steps: int
    fixed_point_refine_steps: int
    fixed_point_tolerance: float
    max_state_norm: float
    eigenvalues: EigenSettings
    contours: ContourSettings


@dataclass(frozen=True)
class SubspaceSettings(_FromParams):
    """Settings of :func:`analyze_subspaces` (config ``analysis.subspaces`` plus shared keys)."""

    steps: int
    global_components: int
    pair_components: int
    pairs: tuple[tuple[int, int], ...]
    shown_components: tuple[int, int]
    min_run_length: int
    max_trajectory_steps: int
    min_points: int
    max_state_norm: float
    contours: ContourSettings


@dataclass(frozen=True)
class EvolutionSettings(_FromParams):
    """Settings of :func:`analyze_evolution` (config ``analysis.evolution`` plus shared keys)."""

    epoch_stride: int
    max_epoch: int | None
    num_steps: int
    warmup_steps: int
    init_scale: float
    discard_steps: int
    transition_jump: float
    transition_report: str
    refine: bool
    refine_level: float
    converged_rate_epochs: int
    rate_fallback_on: str
    second_order_variant: str
    second_order_trials: int
    second_order_horizon: int
    second_order_warmup_steps: int
    second_order_init_scale: float
    heatmap_percentile: float
    pca_points: int
    pca_clip: float
    max_state_norm: float
    eigenvalues: EigenSettings


# --------------------------------------------------------------------------------------------------------------
# Representative model per family (§8.13)
# --------------------------------------------------------------------------------------------------------------


def select_representatives(
    training: pd.DataFrame,
    metrics: pd.DataFrame,
    *,
    candidates: Mapping[str, Sequence[int]],
    hidden_size: int,
    input_dim: int,
    overrides: Mapping[str, int],
) -> pd.DataFrame:
    """One representative model per family: the converged candidate with the lowest Sinkhorn-aligned distance.

    Among the family's seeds ``candidates[hmm]`` at ``(hidden_size, input_dim)``, converged models are preferred;
    if none converged the best-scoring unconverged one is taken (and recorded as unconverged). Ties and missing
    distances go to the lower seed. ``overrides[hmm]`` names the seed instead.

    Parameters
    ----------
    training : DataFrame
        The training table (``TRAINING_SCHEMA``; uses ``is_converged``).
    metrics : DataFrame
        The metrics table (``METRICS_SCHEMA``; uses the ``rnn`` rows of ``distance_mean``).
    candidates : mapping of family -> seeds
    hidden_size, input_dim : int
    overrides : mapping of family -> seed

    Returns
    -------
    DataFrame with the columns of ``REPRESENTATIVE_SCHEMA``, one row per family of ``candidates``
    """
    distance = metrics.loc[
        (metrics["source"] == "rnn") & (metrics["metric"] == "distance_mean"), [*KEY_COLUMNS, "value"]
    ]
    table = training[[*KEY_COLUMNS, "is_converged"]].merge(
        distance.rename(columns={"value": "distance_mean"}), on=KEY_COLUMNS, how="left"
    )
    rows = []
    for hmm, seeds in candidates.items():
        cell = table[
            (table["hmm"] == hmm)
            & (table["hidden_size"] == hidden_size)
            & (table["input_dim"] == input_dim)
            & table["seed"].isin(list(seeds))
        ]
        missing = sorted(set(seeds) - set(cell["seed"]))
        if missing:
            raise ValueError(
                f"{hmm}: seeds {missing} at hidden_size={hidden_size}, input_dim={input_dim} are missing from the "
                "training table; rebuild results/tables/training.parquet"
            )
        if hmm in overrides:
            chosen = cell[cell["seed"] == overrides[hmm]]
            if chosen.empty:
                raise ValueError(f"{hmm}: override seed {overrides[hmm]} is not among the candidates {sorted(seeds)}")
        else:
            pool = cell[cell["is_converged"]] if cell["is_converged"].any() else cell
            chosen = pool.sort_values(["distance_mean", "seed"], na_position="last")
            if not cell["is_converged"].any():
                log.warning("%s: no candidate converged; taking the best-scoring unconverged seed", hmm)
        row = chosen.iloc[0]
        rows.append(
            {
                "hmm": hmm,
                "hidden_size": hidden_size,
                "input_dim": input_dim,
                "seed": int(row["seed"]),
                "distance_mean": float(row["distance_mean"]),
                "is_converged": bool(row["is_converged"]),
                "is_override": hmm in overrides,
                "num_candidates": len(cell),
                "num_converged": int(cell["is_converged"].sum()),
            }
        )
    return pd.DataFrame(rows, columns=REPRESENTATIVE_SCHEMA.names)


def representative_key(representatives: pd.DataFrame, hmm: str) -> dict[str, Any]:
    """The model key (``hmm, hidden_size, input_dim, seed``) of family ``hmm``'s representative."""
    row = representatives[representatives["hmm"] == hmm]
    if len(row) != 1:
        raise ValueError(f"the representatives table has {len(row)} rows for {hmm!r}; rerun select_representatives")
    return {name: (str if name == "hmm" else int)(row.iloc[0][name]) for name in KEY_COLUMNS}


def candidate_file(paths: Sequence[str], seeds: Sequence[int], seed: int) -> str:
    """The file of ``seed`` among the candidates' files ``paths`` (listed in the order of ``seeds``)."""
    if len(paths) != len(seeds):
        raise ValueError(f"{len(paths)} candidate files for {len(seeds)} seeds")
    by_seed = dict(zip((int(s) for s in seeds), paths, strict=True))
    if seed not in by_seed:
        raise ValueError(f"the representative seed {seed} is not among the candidate seeds {sorted(by_seed)}")
    return by_seed[seed]


def load_representative_weights(
    representatives_path: str, hmm: str, model_paths: Sequence[str], seeds: Sequence[int]
) -> tuple[dict[str, Any], Weights]:
    """Key and float64 weights of family ``hmm``'s representative, picked among the candidates' ``final.pt``."""
    from .files import load_checkpoint, read_parquet
    from .tables import REPRESENTATIVE_SCHEMA

    key = representative_key(read_parquet(representatives_path, REPRESENTATIVE_SCHEMA), hmm)
    checkpoint = load_checkpoint(candidate_file(model_paths, seeds, key["seed"]), required=("state_dict",))
    return key, Weights.from_state_dict(checkpoint["state_dict"], torch.float64)


# --------------------------------------------------------------------------------------------------------------
# Small building blocks
# --------------------------------------------------------------------------------------------------------------


def bounded_prefix(states: torch.Tensor, max_norm: float) -> torch.Tensor:
    """The leading rows of a ``(num_timesteps, hidden_size)`` run before its first non-finite or too large state."""
    bad = ~torch.isfinite(states).all(dim=-1) | (states.norm(dim=-1) > max_norm)
    if bool(bad.any()):
        first = int(bad.to(torch.int8).argmax())
        log.warning("the run diverges at step %d of %d; keeping the steps before it", first, states.shape[0])
        return states[:first]
    return states


def _mask_diverged(trajectories: torch.Tensor, max_norm: float) -> torch.Tensor:
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


def _project_padded(basis: PCABasis, states: torch.Tensor | np.ndarray, width: int) -> np.ndarray:
    """PCA coordinates with at least ``width`` columns (zeros beyond the basis's components)."""
    coordinates = np.asarray(project(basis, to_numpy(states)))
    if coordinates.shape[-1] >= width:
        return coordinates[..., :width]
    pad = np.zeros((*coordinates.shape[:-1], width - coordinates.shape[-1]))
    return np.concatenate([coordinates, pad], axis=-1)


def _normal(generator: torch.Generator, *shape: int, device: torch.device) -> torch.Tensor:
    return torch.randn(*shape, generator=generator, dtype=DTYPE, device=device)


def _variance_ratios(basis: PCABasis | None, count: int = 3) -> list[float]:
    ratios = [] if basis is None else [float(v) for v in basis.explained_variance_ratio[:count]]
    return ratios + [math.nan] * (count - len(ratios))


def _ratio(numerator: float, denominator: float) -> float:
    return float(numerator / denominator) if denominator and np.isfinite(denominator) else math.nan


class DensityGrid(NamedTuple):
    """A Gaussian kernel density on a grid and its iso-proportion levels (§6.2).

    Attributes
    ----------
    x, y : (grid_size,) ndarray
    density : (grid_size, grid_size) ndarray; rows follow ``y``
    levels : (num_proportions,) ndarray
        ``levels[i]``: the density whose upper level set holds ``1 - proportions[i]`` of the mass (the contour
        leaves ``proportions[i]`` of the mass outside), as seaborn's ``kdeplot(levels=...)``.
    """

    x: np.ndarray
    y: np.ndarray
    density: np.ndarray
    levels: np.ndarray

    @classmethod
    def empty(cls, grid_size: int, num_proportions: int) -> DensityGrid:
        nan = np.full(grid_size, math.nan)
        return cls(nan, nan.copy(), np.full((grid_size, grid_size), math.nan), np.full(num_proportions, math.nan))


def density_contours(
    points: np.ndarray,
    *,
    proportions: Sequence[float],
    bw_adjust: float,
    max_points: int,
    grid_size: int,
    rng: np.random.Generator,
) -> DensityGrid:
    """Gaussian KDE of 2-D points on a grid, with the density levels of given iso-proportions.

    The bandwidth is ``bw_adjust`` times Scott's factor ``n^(-1/6)`` of all ``n`` finite points (seaborn's
    ``bw_adjust``); the estimate is fitted on at most ``max_points`` of them drawn without replacement. The grid
    spans the points plus three bandwidths. Degenerate inputs (fewer than 3 points, singular covariance) give an
    all-nan grid.

    Parameters
    ----------
    points : (num_points, 2) ndarray
    proportions : sequence of float in (0, 1)
    bw_adjust : float
    max_points, grid_size : int
    rng : numpy.random.Generator
    """
    points = np.asarray(points, dtype=float)
    points = points[np.isfinite(points).all(axis=1)]
    n = points.shape[0]
    if n < 3:
        return DensityGrid.empty(grid_size, len(proportions))
    fit = points[np.sort(rng.choice(n, size=min(n, max_points), replace=False))] if n > max_points else points
    factor = bw_adjust * n ** (-1 / 6)
    try:
        kde = gaussian_kde(fit.T, bw_method=factor)
    except (np.linalg.LinAlgError, ValueError):
        return DensityGrid.empty(grid_size, len(proportions))
    spread = 3 * np.sqrt(np.diag(kde.covariance))
    x = np.linspace(points[:, 0].min() - spread[0], points[:, 0].max() + spread[0], grid_size)
    y = np.linspace(points[:, 1].min() - spread[1], points[:, 1].max() + spread[1], grid_size)
    grid_x, grid_y = np.meshgrid(x, y)
    density = kde(np.vstack([grid_x.ravel(), grid_y.ravel()])).reshape(grid_size, grid_size)
    ordered = np.sort(density.ravel())[::-1]
    mass = np.cumsum(ordered) / ordered.sum()
    index = np.searchsorted(mass, 1 - np.asarray(proportions, dtype=float))
    levels = ordered[np.clip(index, 0, ordered.size - 1)]
    return DensityGrid(x, y, density, levels)


def _stack_grids(grids: Sequence[DensityGrid], prefix: str) -> dict[str, np.ndarray]:
    return {
        f"{prefix}x": np.stack([grid.x for grid in grids]),
        f"{prefix}y": np.stack([grid.y for grid in grids]),
        f"{prefix}density": np.stack([grid.density for grid in grids]),
        f"{prefix}levels": np.stack([grid.levels for grid in grids]),
    }


def _noise_level_runs(
    weights: Weights, contours: ContourSettings, generator: torch.Generator, max_norm: float
) -> list[torch.Tensor]:
    """One bounded run per noise level, all from h = 0, each with its own draws scaled to its standard deviation."""
    device = weights.W_hh.device
    levels = torch.tensor(contours.noise_levels, dtype=DTYPE, device=device)
    noise = _normal(generator, len(levels), contours.noise_steps, weights.input_dim, device=device)
    start = torch.zeros(len(levels), weights.hidden_size, dtype=DTYPE, device=device)
    runs = simulate(weights, start, noise * levels[:, None, None])
    return [bounded_prefix(run, max_norm) for run in runs]


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


def _with_key(rows: pd.DataFrame | list[dict[str, Any]], key: Mapping[str, Any], schema) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=[name for name in schema.names if name not in KEY_COLUMNS])
    return frame.assign(**{name: key[name] for name in KEY_COLUMNS})[schema.names]


# --------------------------------------------------------------------------------------------------------------
# Global dynamics: PCA, trajectories, fixed point, spectra, orbit radius vs noise (§6.1-6.3, §6.5)
# --------------------------------------------------------------------------------------------------------------


class GlobalAnalysis(NamedTuple):
    """Results of :func:`analyze_global`.

    Attributes
    ----------
    summary : DataFrame (``GLOBAL_SCHEMA``, one row)
    radius : DataFrame (``RADIUS_SCHEMA``, one row per noise level)
    spectrum : DataFrame (``SPECTRUM_SCHEMA``)
    claims : DataFrame (``CLAIMS_SCHEMA``; claims 3, 4 and 6)
    arrays : dict of ndarray
        Plotting data: ``explained_variance_ratio``; ``no_input`` (n, L+1, 3) and ``no_input_outputs``;
        ``input`` (m, L+1, 3), ``input_outputs`` and ``input_speed`` (m, L) (full-space step sizes);
        ``fixed_points`` (F, 3); ``orbit_eigenvalues`` (k, H) complex; ``noise_levels``; ``kde_x``, ``kde_y``
        (S, G), ``kde_density`` (S, G, G), ``kde_levels`` (S, 3) and ``kde_proportions`` (3,).
    """

    summary: pd.DataFrame
    radius: pd.DataFrame
    spectrum: pd.DataFrame
    claims: pd.DataFrame
    arrays: dict[str, np.ndarray]


def analyze_global(
    weights: Weights, key: Mapping[str, Any], *, settings: GlobalSettings, claims: Mapping[str, Any], seed: int
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
    claims : mapping
        Config ``analysis.claims`` (uses ``fixed_point``, ``orbit``, ``radius``).
    seed : int
        Root seed of the analysis streams.
    """
    g = settings
    weights = Weights(*(w.to(DTYPE) for w in (weights.W_ih, weights.W_hh, weights.W_o)))
    device, H, d = weights.W_hh.device, weights.hidden_size, weights.input_dim
    streams = (seed, "global", *(key[name] for name in KEY_COLUMNS))

    def generator(purpose: str) -> torch.Generator:
        return torch_generator(*streams, purpose, device=device)

    rng = numpy_rng(*streams, "initial_states")

    # 1. the σ = 1 run
    log.info("global dynamics step 1: the σ = 1 run")
    noise = _normal(generator("pca_run"), g.pca_steps, d, device=device)
    run = bounded_prefix(
        simulate(weights, torch.zeros(1, H, dtype=DTYPE, device=device), noise[None])[0], g.max_state_norm
    )
    if run.shape[0] < 3:
        raise ValueError(f"{dict(key)}: the noisy run diverges within {run.shape[0]} steps; nothing to analyse")
    basis = pca_basis(run, min(g.pca_components, H, run.shape[0]))
    projected = _project_padded(basis, run, 3)
    outputs = to_numpy(argmax_outputs(weights, run))
    radius_full = orbit_radius(run)
    num_switches = int((outputs[1:] != outputs[:-1]).sum())
    rotation = rotation_statistics(projected[:, :2])
    first, last = claims["orbit"]["norm_window"]
    first, last = min(first, run.shape[0] - 1), min(last, run.shape[0])
    mean_norm = float(run[first:last].norm(dim=1).mean())

    num_jacobians = min(g.jacobian_steps, run.shape[0] - 1)
    eigenvalues = jacobian_eigenvalues(
        weights, run[:num_jacobians], noise[1 : num_jacobians + 1], gating=g.eigenvalues.gating
    )
    fractions = eigen_fractions(eigenvalues, eps_re=g.eigenvalues.eps_re, eps_im=g.eigenvalues.eps_im)
    sample = np.unique(np.linspace(0, num_jacobians - 1, min(g.spectrum_samples, num_jacobians)).round().astype(int))

    # 2. plotted trajectories
    log.info("global dynamics step 2: plotted trajectories")
    starts = sample_states(run, min(g.no_input_trajectories, run.shape[0]), rng)
    free = simulate(weights, starts, torch.zeros(starts.shape[0], g.no_input_steps, d, dtype=DTYPE, device=device))
    free = _mask_diverged(torch.cat([starts[:, None], free], dim=1), g.max_state_norm)
    starts = sample_states(run, min(g.input_trajectories, run.shape[0]), rng)
    driven_noise = _normal(generator("input_trajectories"), starts.shape[0], g.input_steps, d, device=device)
    driven = _mask_diverged(
        torch.cat([starts[:, None], simulate(weights, starts, driven_noise)], dim=1), g.max_state_norm
    )

    # 3. collapse without input and the fixed-point search
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

    # 4. orbit radius vs noise
    log.info("global dynamics step 4: orbit radius vs noise")
    contours = g.contours
    level_runs = _noise_level_runs(weights, contours, generator("noise_levels"), g.max_state_norm)
    radius_rows, grids = [], []
    kde_rng = numpy_rng(*streams, "kde")
    for level, states in zip(contours.noise_levels, level_runs, strict=True):
        plane = _project_padded(basis, states, 2) if states.shape[0] else np.zeros((0, 2))
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

    fixed_norms = to_numpy(fixed.states.norm(dim=1)) if len(fixed.states) else np.array([math.nan])
    summary = {
        "num_steps": int(run.shape[0]),
        "is_bounded": run.shape[0] == g.pca_steps,
        **dict(
            zip(
                ["pc1_variance_ratio", "pc2_variance_ratio", "pc3_variance_ratio"], _variance_ratios(basis), strict=True
            )
        ),
        "orbit_radius": radius_full,
        "orbit_radius_pc": orbit_radius(projected[:, :2]),
        "num_switches": num_switches,
        "switch_rate": num_switches / (len(outputs) - 1),
        "winding_number": rotation.winding_number,
        "dominant_fraction": rotation.dominant_fraction,
        "mean_norm_ratio": _ratio(mean_norm, radius_full),
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

    fixed_claims, orbit, radius_claims = claims["fixed_point"], claims["orbit"], claims["radius"]
    fitted_at_one = regression.slope + regression.intercept
    checks = [
        Check(3, "num_initial_states", summary["num_initial_states"], ">=", fixed_claims["min_initial_states"]),
        Check(3, "num_fixed_points", summary["num_fixed_points"], "==", 1),
        Check(3, "relative_spread", collapse.relative_max_distance, "<", fixed_claims["max_relative_spread"]),
        Check(3, "relative_residual", collapse.relative_residual, "<", fixed_claims["max_relative_residual"]),
        Check(3, "relative_norm", collapse.relative_norm, "<", fixed_claims["max_relative_norm"]),
        Check(4, "bounded_fraction", run.shape[0] / g.pca_steps, ">=", 1.0),  # the σ = 1 run never diverges
        Check(4, "mean_norm_ratio", summary["mean_norm_ratio"], ">", orbit["min_norm_ratio"]),
        Check(4, "switch_rate", summary["switch_rate"], ">=", orbit["min_switch_rate"]),
        Check(
            4, "winding_ratio", _ratio(abs(rotation.winding_number), num_switches / 2), ">=", orbit["min_winding_ratio"]
        ),
        Check(4, "dominant_fraction", rotation.dominant_fraction, ">=", orbit["min_dominant_fraction"]),
        Check(6, "r_squared", regression.r_squared, ">=", radius_claims["min_r_squared"]),
        Check(
            6,
            "intercept_ratio",
            _ratio(abs(regression.intercept), fitted_at_one),
            "<=",
            radius_claims["max_intercept_ratio"],
        ),
    ]

    arrays = {
        "explained_variance_ratio": basis.explained_variance_ratio,
        "no_input": _project_padded(basis, free, 3),
        "no_input_outputs": to_numpy(argmax_outputs(weights, torch.nan_to_num(free))),
        "input": _project_padded(basis, driven, 3),
        "input_outputs": to_numpy(argmax_outputs(weights, torch.nan_to_num(driven))),
        "input_speed": to_numpy((driven[:, 1:] - driven[:, :-1]).norm(dim=-1)),
        "fixed_points": _project_padded(basis, fixed.states, 3) if len(fixed.states) else np.zeros((0, 3)),
        "orbit_eigenvalues": to_numpy(eigenvalues[torch.as_tensor(sample, device=device)]),
        "noise_levels": np.asarray(contours.noise_levels, dtype=float),
        "kde_proportions": np.asarray(contours.proportions, dtype=float),
        **_stack_grids(grids, "kde_"),
    }
    return GlobalAnalysis(
        summary=_with_key([summary], key, GLOBAL_SCHEMA),
        radius=_with_key(radius_rows, key, RADIUS_SCHEMA),
        spectrum=_with_key(spectrum, key, SPECTRUM_SCHEMA),
        claims=claim_rows(checks, **{name: key[name] for name in KEY_COLUMNS}),
        arrays=arrays,
    )


# --------------------------------------------------------------------------------------------------------------
# Output-pair subspaces (§6.4)
# --------------------------------------------------------------------------------------------------------------


class SubspaceAnalysis(NamedTuple):
    """Results of :func:`analyze_subspaces`.

    Attributes
    ----------
    table : DataFrame (``SUBSPACE_SCHEMA``, one row per pair)
    claims : DataFrame (``CLAIMS_SCHEMA``; claim 17)
    arrays : dict of ndarray
        ``pairs`` (P, 2), ``shown_components`` (2,), per pair i ``trajectory_{i}`` (n_i, pair_components) and
        ``trajectory_outputs_{i}`` (the longest pair sequence, empty if none), ``explained_{i}``; contours per pair
        and noise level ``kde_x``, ``kde_y`` (P, S, G), ``kde_density`` (P, S, G, G), ``kde_levels`` (P, S, 3),
        ``noise_levels``, ``kde_proportions``.
    """

    table: pd.DataFrame
    claims: pd.DataFrame
    arrays: dict[str, np.ndarray]


def analyze_subspaces(
    weights: Weights, key: Mapping[str, Any], *, settings: SubspaceSettings, claims: Mapping[str, Any], seed: int
) -> SubspaceAnalysis:
    """Orbits linking pairs of outputs: a global PCA, one PCA per output pair and their noise scaling (§6.4).

    A noisy run (σ = 1) of ``steps`` from h_0 ~ N(0, I) is projected on a global PCA; for each output pair the
    states whose argmax output is in the pair get their own PCA. Pair sequences are maximal runs of such states;
    the longest is kept for plotting. Contours: runs from h = 0 per noise level, states in the pair, projected
    through both PCAs onto ``shown_components``. Claim 17: every pair with at least ``min_occupancy`` of the output
    switches has a pair sequence longer than ``min_run_length``.
    """
    s = settings
    weights = Weights(*(w.to(DTYPE) for w in (weights.W_ih, weights.W_hh, weights.W_o)))
    device, H, d = weights.W_hh.device, weights.hidden_size, weights.input_dim
    streams = (seed, "subspaces", *(key[name] for name in KEY_COLUMNS))

    def generator(purpose: str) -> torch.Generator:
        return torch_generator(*streams, purpose, device=device)

    log.info("subspaces step 1: the σ = 1 run (%d steps) and its global PCA", s.steps)
    start = _normal(generator("start"), 1, H, device=device)
    noise = _normal(generator("run"), 1, s.steps, d, device=device)
    run = bounded_prefix(simulate(weights, start, noise)[0], s.max_state_norm)
    if run.shape[0] < 3:
        raise ValueError(f"{dict(key)}: the noisy run diverges within {run.shape[0]} steps; nothing to analyse")
    outputs = to_numpy(argmax_outputs(weights, run))
    global_basis = pca_basis(run, min(s.global_components, H, run.shape[0]))
    coordinates = np.asarray(project(global_basis, to_numpy(run)))
    switched = outputs[1:] != outputs[:-1]
    num_switches = int(switched.sum())
    log.info("subspaces step 2: runs per noise level")
    level_runs = _noise_level_runs(weights, s.contours, generator("noise_levels"), s.max_state_norm)
    level_outputs = [to_numpy(argmax_outputs(weights, states)) for states in level_runs]
    shown = [component - 1 for component in s.shown_components]
    kde_rng = numpy_rng(*streams, "kde")

    rows, checks, arrays, pair_grids = [], [], {}, []
    for index, (a, b) in enumerate(s.pairs):
        log.info("subspaces step 3.%d: output pair %d-%d", index + 1, a, b)
        in_pair = np.isin(outputs, (a, b))
        between = switched & np.isin(outputs[:-1], (a, b)) & np.isin(outputs[1:], (a, b))
        occupancy = _ratio(float(between.sum()), float(num_switches))
        run_starts, run_lengths = contiguous_runs(in_pair)
        longest = int(run_lengths.max()) if run_lengths.size else 0
        num_components = min(s.pair_components, coordinates.shape[1], int(in_pair.sum()))
        basis = pca_basis(coordinates[in_pair], num_components) if num_components >= 2 else None
        trajectory = np.zeros((0, s.pair_components))
        trajectory_outputs = np.zeros(0, dtype=np.int64)
        grids = [DensityGrid.empty(s.contours.grid_size, 3) for _ in s.contours.noise_levels]
        if basis is not None:
            begin = int(run_starts[run_lengths.argmax()])
            stop = begin + min(longest, s.max_trajectory_steps)
            trajectory = _project_padded(basis, coordinates[begin:stop], s.pair_components)
            trajectory_outputs = outputs[begin:stop]
            for level, (states, level_output) in enumerate(zip(level_runs, level_outputs, strict=True)):
                kept = np.isin(level_output, (a, b))
                if kept.sum() < s.min_points:
                    continue
                global_coordinates = np.asarray(project(global_basis, to_numpy(states)[kept]))
                plane = _project_padded(basis, global_coordinates, s.pair_components)[:, shown]
                grids[level] = density_contours(
                    plane,
                    proportions=s.contours.proportions,
                    bw_adjust=s.contours.bw_adjust,
                    max_points=s.contours.max_points,
                    grid_size=s.contours.grid_size,
                    rng=kde_rng,
                )
        pair_grids.append(grids)
        arrays[f"trajectory_{index}"] = trajectory
        arrays[f"trajectory_outputs_{index}"] = trajectory_outputs
        arrays[f"explained_{index}"] = np.asarray(_variance_ratios(basis, s.pair_components))
        ratios = _variance_ratios(basis)
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
        noise_levels=np.asarray(s.contours.noise_levels, dtype=float),
        kde_proportions=np.asarray(s.contours.proportions, dtype=float),
    )
    for name, values in _stack_grids([grid for grids in pair_grids for grid in grids], "kde_").items():
        arrays[name] = values.reshape(len(s.pairs), len(s.contours.noise_levels), *values.shape[1:])
    return SubspaceAnalysis(
        table=_with_key(rows, key, SUBSPACE_SCHEMA),
        claims=claim_rows(checks, **{name: key[name] for name in KEY_COLUMNS}),
        arrays=arrays,
    )


# --------------------------------------------------------------------------------------------------------------
# Training evolution (§6.6, §6.7, §8.6-8.8)
# --------------------------------------------------------------------------------------------------------------


def sampled_epochs(available: Sequence[int], stride: int, max_epoch: int | None = None) -> list[int]:
    """Epochs 1, 1 + r, 1 + 2r, ... up to ``max_epoch``, each replaced by the nearest snapshot (earlier on ties).

    Parameters
    ----------
    available : sequence of int
        Epochs with a snapshot.
    stride : int
        r.
    max_epoch : int or None
        Last epoch considered (None: the last snapshot).
    """
    epochs = np.unique(np.asarray(available, dtype=np.int64))
    if max_epoch is not None:
        epochs = epochs[epochs <= max_epoch]
    if epochs.size == 0:
        raise ValueError(f"no evolution snapshot at or before epoch {max_epoch}")
    targets = np.arange(1, int(epochs[-1]) + 1, stride)
    nearest = epochs[np.abs(epochs[None, :] - targets[:, None]).argmin(axis=1)]
    return sorted({int(epoch) for epoch in nearest})


def loss_rise_near(history: pd.DataFrame, epoch: int | None, *, window: int, smoothing: int) -> float:
    """Largest relative rise of the smoothed validation loss at a local maximum within ``±window`` of ``epoch``.

    The validation losses are smoothed by a centred moving average of ``smoothing`` points. For each local
    maximum j (not the first or last point) whose running minimum before it lies after the first point (the loss
    fell before rising), the rise is ``s[j] / min(s[:j]) - 1``. Returns 0 when there is no such maximum and nan
    when ``epoch`` is None (claim 16).

    Parameters
    ----------
    history : DataFrame with ``epoch`` and ``val_loss`` (nan on epochs without validation)
    epoch : int or None
        The transition epoch e*.
    window, smoothing : int
    """
    if epoch is None:
        return math.nan
    validated = history.dropna(subset=["val_loss"]).sort_values("epoch")
    smooth = validated["val_loss"].rolling(smoothing, center=True, min_periods=1).mean().to_numpy()
    epochs = validated["epoch"].to_numpy()
    best = 0.0
    for j in range(1, len(smooth) - 1):
        if not (smooth[j] >= smooth[j - 1] and smooth[j] >= smooth[j + 1] and abs(epochs[j] - epoch) <= window):
            continue
        low = int(np.argmin(smooth[:j]))
        if low > 0 and smooth[low] > 0:
            best = max(best, float(smooth[j] / smooth[low] - 1))
    return best


class _Draws(NamedTuple):
    """Draws shared by all epochs: the initial state, the warm-up noise and the run noise."""

    initial: torch.Tensor  # (H,)
    warmup: torch.Tensor  # (warmup_steps, d)
    noise: torch.Tensor  # (num_steps, d)


def _warmed_up(weights: Weights, draws: _Draws) -> torch.Tensor:
    """h̄ (1, H): the shared initial state after the warm-up steps."""
    h = draws.initial[None]
    if draws.warmup.shape[0]:
        h = simulate(weights, h, draws.warmup[None])[0, -1:]
    return h


def _epoch_run(weights: Weights, draws: _Draws, max_norm: float) -> torch.Tensor:
    """States h̄ (after the warm-up), h_1, ..., h_T of one epoch's run, cut before divergence."""
    h = _warmed_up(weights, draws)
    states = torch.cat([h, simulate(weights, h, draws.noise[None])[0]])
    return bounded_prefix(states, max_norm)


def _epoch_statistics(
    weights: Weights, draws: _Draws, settings: EvolutionSettings, generator: torch.Generator | None
) -> tuple[dict[str, Any], np.ndarray | None, np.ndarray | None]:
    """Eigenvalue fractions and transition rate of one epoch's run, and E[δh⁽²⁾], E[δh⁽¹⁾] if ``generator``."""
    s = settings
    states = _epoch_run(weights, draws, s.max_state_norm)
    row: dict[str, Any] = {"num_steps": max(states.shape[0] - 1, 0)}
    steps = states.shape[0] - 1
    previous = states[:steps][s.discard_steps :]
    if previous.shape[0]:
        eigenvalues = jacobian_eigenvalues(
            weights, previous, draws.noise[:steps][s.discard_steps :], gating=s.eigenvalues.gating
        )
        fractions = eigen_fractions(eigenvalues, eps_re=s.eigenvalues.eps_re, eps_im=s.eigenvalues.eps_im)
        row.update(
            critical_fraction=fractions.critical_fraction,
            critical_fraction_std=float(fractions.is_critical.std()),
            unstable_fraction=fractions.unstable_fraction,
            unstable_fraction_std=float(fractions.is_unstable.std()),
            mean_critical_count=float(fractions.critical_counts.mean()),
            mean_unstable_count=float(fractions.unstable_counts.mean()),
        )
    outputs = to_numpy(argmax_outputs(weights, states)) if states.shape[0] else np.zeros(0, dtype=np.int64)
    rate = transition_rate(outputs, fallback_on=s.rate_fallback_on) if outputs.size else None
    row.update(
        transition_rate=rate.rate if rate else math.nan,
        residence_steps=rate.residence if rate else math.nan,
        num_switches=rate.num_switches if rate else 0,
    )
    if generator is None or states.shape[0] == 0:
        return row, None, None
    second = _second_order(weights, states[0], s, 1.0, generator)
    delta_h2, delta_h1 = to_numpy(second.delta_h2), to_numpy(second.delta_h1)
    row.update(delta_h2_norm=float(np.linalg.norm(delta_h2)), delta_h1_norm=float(np.linalg.norm(delta_h1)))
    return row, delta_h2, delta_h1


def _second_order(
    weights: Weights, h_bar: torch.Tensor, settings: EvolutionSettings, noise_std: float, generator: torch.Generator
) -> SecondOrder:
    """:func:`second_order_perturbation` from ``h_bar`` with the trial settings of ``settings``."""
    s = settings
    return second_order_perturbation(
        weights,
        h_bar,
        num_trials=s.second_order_trials,
        horizon=s.second_order_horizon,
        warmup_steps=s.second_order_warmup_steps,
        init_scale=s.second_order_init_scale,
        noise_std=noise_std,
        generator=generator,
        variant=s.second_order_variant,
    )


def second_order_scaling_deviation(
    weights: Weights,
    h_bar: torch.Tensor,
    settings: EvolutionSettings,
    noise_stds: Sequence[float],
    seed_streams: Sequence[Any],
) -> float:
    """How far E[δh⁽²⁾](σ)/σ² is from constant across ``noise_stds`` (claim 8's scaling with the noise variance).

    Every σ uses the same standard-normal draws (a generator from ``seed_streams``), scaled by σ. Returns
    max_σ ‖v_σ − v̄‖ / ‖v̄‖ for v_σ = E[δh⁽²⁾](σ)/σ² and v̄ their mean (nan if v̄ = 0). A positively homogeneous
    network started at h̄ = 0 with no trial perturbation scales exactly (deviation 0); elsewhere the base
    trajectory moves with σ and the deviation measures how far the response is from the small-noise expansion.
    """
    device = weights.W_hh.device
    scaled = torch.stack(
        [
            _second_order(weights, h_bar, settings, std, torch_generator(*seed_streams, device=device)).delta_h2
            / std**2
            for std in noise_stds
        ]
    )
    mean = scaled.mean(dim=0)
    return _ratio(float((scaled - mean).norm(dim=1).max()), float(mean.norm()))


def _epoch_pca(
    weights: Weights, draws: _Draws, settings: EvolutionSettings
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-epoch 2-component PCA of the run (§6.6): clipped coordinates and outputs of the first ``pca_points``."""
    states = _epoch_run(weights, draws, settings.max_state_norm)
    coordinates = np.full((settings.pca_points, 2), math.nan)
    outputs = np.full(settings.pca_points, -1, dtype=np.int64)
    explained = np.full(2, math.nan)
    if states.shape[0] >= 3:
        basis = pca_basis(states, 2)
        shown = states[: settings.pca_points]
        coordinates[: shown.shape[0]] = np.clip(project(basis, to_numpy(shown)), -settings.pca_clip, settings.pca_clip)
        outputs[: shown.shape[0]] = to_numpy(argmax_outputs(weights, shown))
        explained = basis.explained_variance_ratio
    return coordinates, outputs, explained


class EvolutionAnalysis(NamedTuple):
    """Results of :func:`analyze_evolution`.

    Attributes
    ----------
    epochs : DataFrame (``EVOLUTION_SCHEMA``)
    second_order : DataFrame (``SECOND_ORDER_SCHEMA``)
    transition : DataFrame (``TRANSITION_SCHEMA``, one row)
    claims : DataFrame (``CLAIMS_SCHEMA``; claims 7, 8 and 16)
    arrays : dict of ndarray
        ``epochs_shown`` (k,), ``coordinates`` (k, pca_points, 2) (nan-padded), ``outputs`` (k, pca_points)
        (-1 padded), ``explained`` (k, 2).
    """

    epochs: pd.DataFrame
    second_order: pd.DataFrame
    transition: pd.DataFrame
    claims: pd.DataFrame
    arrays: dict[str, np.ndarray]


def analyze_evolution(
    evolution: Mapping[str, torch.Tensor],
    history: pd.DataFrame,
    key: Mapping[str, Any],
    *,
    settings: EvolutionSettings,
    claims: Mapping[str, Any],
    seed: int,
) -> EvolutionAnalysis:
    """Eigenvalue fractions, transition rate and E[δh⁽²⁾] across training epochs; the transition epoch (§6.6, §6.7).

    Every sampled epoch (:func:`sampled_epochs`) restarts from the same initial state ``init_scale·(2n - 1)``
    and sees the same warm-up and run noise (§9.26). The transition epoch e* is the first rise of the critical
    fraction by more than ``transition_jump`` (:func:`hmmrnn.dynamics.transition_epoch`), optionally refined over
    every snapshot within ±r (§8.6). e* decides the epochs of the PCA-evolution plot (§8.7) and the heat-map
    threshold (§8.8, a percentile of √|E[δh⁽²⁾]| from e* on; all sampled epochs if there is no e*).

    Parameters
    ----------
    evolution : mapping
        ``"epoch"`` (E,) and stacked weights, as in ``evolution.pt`` (other entries are ignored).
    history : DataFrame
        The model's ``history.parquet`` (claim 16).
    key : mapping with ``hmm, hidden_size, input_dim, seed``
    settings : EvolutionSettings
    claims : mapping
        Config ``analysis.claims`` (uses ``transition``, ``second_order``, ``double_descent``).
    seed : int
    """
    s = settings
    snapshots = {name: value for name, value in evolution.items() if isinstance(value, torch.Tensor)}
    available = [int(epoch) for epoch in snapshots["epoch"]]
    epochs = sampled_epochs(available, s.epoch_stride, s.max_epoch)
    last_epoch = epochs[-1]
    considered = [epoch for epoch in available if epoch <= last_epoch]
    first = weights_at_epoch(snapshots, epochs[0], DTYPE)
    device, H, d = first.W_hh.device, first.hidden_size, first.input_dim
    streams = (seed, "evolution", *(key[name] for name in KEY_COLUMNS))
    draw = torch_generator(*streams, "draws", device=device)
    draws = _Draws(
        initial=s.init_scale * (2 * _normal(draw, H, device=device) - 1),
        warmup=_normal(draw, s.warmup_steps, d, device=device),
        noise=_normal(draw, s.num_steps, d, device=device),
    )

    rows, second_rows = {}, []
    log.info("evolution: %d sampled epochs of %d snapshots", len(epochs), len(available))
    for epoch in epochs:
        weights = weights_at_epoch(snapshots, epoch, DTYPE)
        generator = torch_generator(*streams, "second_order", epoch, device=device)
        row, delta_h2, delta_h1 = _epoch_statistics(weights, draws, s, generator)
        rows[epoch] = {"epoch": epoch, "is_sampled": True, **row}
        if delta_h2 is not None:
            second_rows += [
                {"epoch": epoch, "unit": unit, "delta_h2": float(v2), "delta_h1": float(v1)}
                for unit, (v2, v1) in enumerate(zip(delta_h2, delta_h1, strict=True))
            ]
        log.info(
            "epoch %d: %s",
            epoch,
            {name: value for name, value in row.items() if "fraction" in name or name == "transition_rate"},
        )

    frame = pd.DataFrame([rows[epoch] for epoch in epochs])
    critical = frame["critical_fraction"].to_numpy(dtype=float)
    coarse = transition_epoch(epochs, np.nan_to_num(critical), s.transition_jump, report=s.transition_report)
    found = coarse
    if coarse is not None and s.refine:
        window = [epoch for epoch in considered if abs(epoch - coarse) <= s.epoch_stride]
        for epoch in window:
            if epoch not in rows:
                row, _, _ = _epoch_statistics(weights_at_epoch(snapshots, epoch, DTYPE), draws, s, None)
                rows[epoch] = {"epoch": epoch, "is_sampled": False, **row}
        refined = refine_transition_epoch(
            window,
            [rows[epoch].get("critical_fraction", math.nan) for epoch in window],
            reference_max=float(np.nanmax(critical)),
            level=s.refine_level,
        )
        found = refined if refined is not None else coarse
    log.info("transition epoch: coarse %s, refined %s", coarse, found)

    table = pd.DataFrame(
        [rows[epoch] for epoch in sorted(rows)], columns=[n for n in EVOLUTION_SCHEMA.names if n not in KEY_COLUMNS]
    )
    second = pd.DataFrame(second_rows, columns=["epoch", "unit", "delta_h2", "delta_h1"])
    sampled = table[table["is_sampled"]].reset_index(drop=True)
    rates = sampled["transition_rate"].to_numpy(dtype=float)
    last_rates = rates[-s.converged_rate_epochs :]
    converged_rate = float(np.mean(last_rates))
    rate_cv = _ratio(float(np.std(last_rates)), converged_rate)
    after = second[second["epoch"] >= found] if found is not None else second
    threshold = heatmap_threshold(after["delta_h2"].to_numpy(), s.heatmap_percentile) if len(after) else math.nan
    shown = evolution_epochs_to_show(found, considered)

    pca = [_epoch_pca(weights_at_epoch(snapshots, epoch, DTYPE), draws, s) for epoch in shown]
    arrays = {
        "epochs_shown": np.asarray(shown, dtype=np.int64),
        "coordinates": np.stack([coordinates for coordinates, _, _ in pca]),
        "outputs": np.stack([outputs for _, outputs, _ in pca]),
        "explained": np.stack([explained for _, _, explained in pca]),
    }

    # claims 7, 8 and 16
    transition, second_claims, descent = claims["transition"], claims["second_order"], claims["double_descent"]
    last = weights_at_epoch(snapshots, last_epoch, DTYPE)
    h_bar = bounded_prefix(_warmed_up(last, draws), s.max_state_norm)  # empty if the warm-up already diverged
    scaling = (
        second_order_scaling_deviation(
            last, h_bar[0], s, second_claims["noise_stds"], (*streams, "second_order_scaling")
        )
        if h_bar.shape[0]
        else math.nan
    )
    before = sampled[sampled["epoch"] < found] if found is not None else sampled.iloc[:0]
    since = sampled[sampled["epoch"] >= found] if found is not None else sampled.iloc[:0]
    tail = sampled.tail(transition["after_epochs"])

    def mean(values: pd.Series) -> float:
        return float(values.mean()) if len(values) else math.nan

    checks = [
        Check(7, "transition_epoch_found", float(found is not None), ">=", 1),
        Check(
            7, "critical_fraction_before", mean(before["critical_fraction"]), "<=", transition["max_fraction_before"]
        ),
        Check(
            7, "unstable_fraction_before", mean(before["unstable_fraction"]), "<=", transition["max_fraction_before"]
        ),
        Check(7, "critical_fraction_last", mean(tail["critical_fraction"]), ">=", transition["min_fraction_after"]),
        Check(7, "unstable_fraction_last", mean(tail["unstable_fraction"]), ">=", transition["min_fraction_after"]),
        Check(
            7,
            "rate_ratio_before",
            _ratio(mean(before["transition_rate"]), converged_rate),
            "<=",
            transition["max_rate_ratio_before"],
        ),
        Check(7, "rate_cv_last", rate_cv, "<=", transition["max_rate_cv"]),
        Check(
            8,
            "second_order_ratio",
            _ratio(mean(since["delta_h2_norm"]), mean(before["delta_h2_norm"])),
            ">=",
            second_claims["min_ratio_after"],
        ),
        Check(
            8,
            "first_order_ratio",
            mean(since["delta_h1_norm"] / since["delta_h2_norm"]),
            "<=",
            second_claims["max_first_order_ratio"],
        ),
        Check(8, "second_order_scaling_deviation", scaling, "<=", second_claims["max_scaling_deviation"]),
        Check(
            16,
            "loss_rise_near_transition",
            loss_rise_near(
                history, found, window=descent["window_strides"] * s.epoch_stride, smoothing=descent["smoothing"]
            ),
            ">=",
            descent["min_rise"],
        ),
    ]
    summary = {
        "num_snapshots": len(available),
        "max_epoch": last_epoch,
        "coarse_transition_epoch": coarse,
        "transition_epoch": found,
        "converged_rate": converged_rate,
        "rate_cv": rate_cv,
        "heatmap_threshold": threshold,
        "epochs_shown": shown,
    }
    transition_frame = _with_key([summary], key, TRANSITION_SCHEMA)
    transition_frame[["coarse_transition_epoch", "transition_epoch"]] = transition_frame[
        ["coarse_transition_epoch", "transition_epoch"]
    ].astype("Int64")
    return EvolutionAnalysis(
        epochs=_with_key(table, key, EVOLUTION_SCHEMA),
        second_order=_with_key(second, key, SECOND_ORDER_SCHEMA),
        transition=transition_frame,
        claims=claim_rows(checks, **{name: key[name] for name in KEY_COLUMNS}),
        arrays=arrays,
    )


# --------------------------------------------------------------------------------------------------------------
# Plotting arrays on disk
# --------------------------------------------------------------------------------------------------------------


def write_arrays_atomic(arrays: Mapping[str, np.ndarray], path: str | os.PathLike) -> None:
    """Write named arrays to an uncompressed ``.npz`` atomically (read by ``plotting_global.load_arrays``)."""
    from .files import atomic_path

    with atomic_path(path) as tmp, open(tmp, "wb") as handle:
        np.savez(handle, **{name: np.asarray(value) for name, value in arrays.items()})
