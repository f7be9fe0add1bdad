"""Principal components of sampled states: the basis and the projection onto it."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import torch
from sklearn.decomposition import PCA

from .simulation import to_numpy

__all__ = ["PCABasis", "pca_basis", "project"]


class PCABasis(NamedTuple):
    """A mean-centred PCA basis.

    Attributes
    ----------
    mean : (hidden_size,) ndarray
    components : (num_components, hidden_size) ndarray, orthonormal rows (sklearn's sign convention)
    explained_variance_ratio : (num_components,) ndarray
    """

    mean: np.ndarray
    components: np.ndarray
    explained_variance_ratio: np.ndarray


def pca_basis(states: np.ndarray | torch.Tensor, num_components: int) -> PCABasis:
    """Ordinary (mean-centred) PCA of hidden states (deterministic: eigh of the covariance, or full SVD).

    Parameters
    ----------
    states : (num_samples, hidden_size) ndarray or tensor
    num_components : int
    """
    array = to_numpy(states).reshape(-1, states.shape[-1])
    solver = "covariance_eigh" if array.shape[0] >= array.shape[1] else "full"
    if not 1 <= num_components <= min(array.shape):
        raise ValueError(f"num_components must be in [1, {min(array.shape)}] for states of shape {array.shape}")
    pca = PCA(n_components=num_components, svd_solver=solver).fit(array)
    return PCABasis(pca.mean_.copy(), pca.components_.copy(), pca.explained_variance_ratio_.copy())


def project(basis: PCABasis, states: np.ndarray | torch.Tensor) -> np.ndarray | torch.Tensor:
    """Coordinates ``(h - mean) @ components.T`` of states of any leading shape.

    Parameters
    ----------
    basis : PCABasis
    states : (..., hidden_size) ndarray or tensor

    Returns
    -------
    (..., num_components) array of the same type (tensors keep their device and dtype)
    """
    if isinstance(states, torch.Tensor):
        mean = torch.as_tensor(basis.mean, dtype=states.dtype, device=states.device)
        components = torch.as_tensor(basis.components, dtype=states.dtype, device=states.device)
        return (states - mean) @ components.T
    return (np.asarray(states) - basis.mean) @ basis.components.T
