"""Kernel density contours of projected states (§6.5)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
from scipy.stats import gaussian_kde

__all__ = ["DensityGrid", "density_contours", "stack_grids"]


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


def stack_grids(grids: Sequence[DensityGrid], prefix: str) -> dict[str, np.ndarray]:
    return {
        f"{prefix}x": np.stack([grid.x for grid in grids]),
        f"{prefix}y": np.stack([grid.y for grid in grids]),
        f"{prefix}density": np.stack([grid.density for grid in grids]),
        f"{prefix}levels": np.stack([grid.levels for grid in grids]),
    }
