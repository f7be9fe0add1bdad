"""The noise-driven orbit: its radius, the regression of radius on noise, and the rotation in the PC1-PC2 plane."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from .simulation import to_numpy

__all__ = ["RadiusRegression", "RotationStatistics", "orbit_radius", "radius_regression", "rotation_statistics"]


def orbit_radius(projected_states) -> float:
    """Mean Euclidean distance of (projected) states to their centroid (§6.2).

    Parameters
    ----------
    projected_states : (num_timesteps, num_components) ndarray or tensor
    """
    points = to_numpy(projected_states)
    return float(np.linalg.norm(points - points.mean(axis=0), axis=1).mean())


class RadiusRegression(NamedTuple):
    """Least-squares line ``radius = slope · noise_std + intercept`` and its R² (nan if the radii are constant)."""

    slope: float
    intercept: float
    r_squared: float


def radius_regression(
    noise_levels: Sequence[float] | np.ndarray, radii: Sequence[float] | np.ndarray
) -> RadiusRegression:
    """Linear regression of orbit radius on the input noise standard deviation (§6.2, §9.18, claim 6).

    Parameters
    ----------
    noise_levels : (num_levels,) array-like
    radii : (num_levels,) array-like
    """
    x, y = np.asarray(noise_levels, dtype=float), np.asarray(radii, dtype=float)
    if x.shape != y.shape or x.ndim != 1 or x.size < 2:
        raise ValueError(f"need two 1-D arrays of equal length ≥ 2; found shapes {x.shape} and {y.shape}")
    slope, intercept = np.polyfit(x, y, 1)
    total = float(((y - y.mean()) ** 2).sum())
    residual = float(((y - (slope * x + intercept)) ** 2).sum())
    return RadiusRegression(float(slope), float(intercept), 1.0 - residual / total if total > 0 else math.nan)


class RotationStatistics(NamedTuple):
    """Rotation of a planar trajectory around its centroid (claim 4).

    Attributes
    ----------
    winding_number : float
        ``Σ Δθ / 2π`` with each ``Δθ`` wrapped to (-π, π]; the sign gives the direction (+ = counter-clockwise).
    dominant_fraction : float
        Fraction of steps whose ``Δθ`` has the more common sign (steps with ``Δθ = 0`` count against it).
    """

    winding_number: float
    dominant_fraction: float


def rotation_statistics(projected) -> RotationStatistics:
    """Net winding number and rotation consistency of a trajectory in a plane (e.g. PC1-PC2).

    Parameters
    ----------
    projected : (num_timesteps, 2) ndarray or tensor; further columns are ignored
    """
    points = to_numpy(projected)[:, :2]
    centred = points - points.mean(axis=0)
    angle = np.arctan2(centred[:, 1], centred[:, 0])
    step = np.angle(np.exp(1j * np.diff(angle)))  # wrapped to (-π, π]
    if step.size == 0:
        raise ValueError("need at least two states")
    dominant = max(int((step > 0).sum()), int((step < 0).sum()))
    return RotationStatistics(float(step.sum() / (2 * np.pi)), dominant / step.size)
