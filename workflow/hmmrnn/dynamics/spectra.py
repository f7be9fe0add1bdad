"""Spectra of the Jacobians: the Möbius map and the fractions of critical and unstable eigenvalues."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import torch

from .simulation import to_numpy

__all__ = ["EigenFractions", "eigen_fractions", "mobius"]


def mobius(eigenvalues: np.ndarray | torch.Tensor, denominator_eps: float = 0.0) -> np.ndarray | torch.Tensor:
    """Möbius map ``w = (λ - 1) / (λ + 1 + eps)`` sending the unit circle to the imaginary axis (§6.5).

    ``Re w < 0`` iff ``|λ| < 1`` (for eps = 0). The reference code uses eps = 1e-8.

    Parameters
    ----------
    eigenvalues : (...) complex ndarray or tensor
    denominator_eps : float
    """
    return (eigenvalues - 1) / (eigenvalues + 1 + denominator_eps)


class EigenFractions(NamedTuple):
    """Per-step eigenvalue counts along a run (§6.7 item 4).

    Attributes
    ----------
    critical_counts : (num_steps,) int ndarray
        Number of Möbius images with ``|Re w| < eps_re`` and ``Im w > eps_im`` (one per conjugate pair).
    unstable_counts : (num_steps,) int ndarray
        Number of eigenvalues with ``|λ| > 1``.
    """

    critical_counts: np.ndarray
    unstable_counts: np.ndarray

    @property
    def is_critical(self) -> np.ndarray:
        """(num_steps,) bool: at least one critical complex pair."""
        return self.critical_counts > 0

    @property
    def is_unstable(self) -> np.ndarray:
        """(num_steps,) bool: at least one unstable eigenvalue."""
        return self.unstable_counts > 0

    @property
    def critical_fraction(self) -> float:
        return float(self.is_critical.mean())

    @property
    def unstable_fraction(self) -> float:
        return float(self.is_unstable.mean())


def eigen_fractions(eigenvalues, *, eps_re: float, eps_im: float, denominator_eps: float = 0.0) -> EigenFractions:
    """Critical-complex and unstable eigenvalue counts per step.

    Parameters
    ----------
    eigenvalues : (num_steps, hidden_size) complex ndarray or tensor
    eps_re, eps_im : float
        Thresholds of the critical-complex test ``|Re w| < eps_re`` and ``Im w > eps_im``.
    denominator_eps : float
        Passed to :func:`mobius`.
    """
    values = to_numpy(eigenvalues)
    if values.ndim != 2:
        raise ValueError(f"eigenvalues must be (num_steps, hidden_size); found shape {values.shape}")
    w = mobius(values, denominator_eps)
    critical = (np.abs(w.real) < eps_re) & (w.imag > eps_im)
    return EigenFractions(critical.sum(axis=1), (np.abs(values) > 1).sum(axis=1))
