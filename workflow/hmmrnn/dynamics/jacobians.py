"""Jacobians of the recurrent map along a run (batched) and their eigenvalues; the ReLU gates that select them."""

from __future__ import annotations

from typing import Literal

import torch

from .simulation import Weights

__all__ = ["Gating", "gated_eigenvalues", "gates", "jacobian_eigenvalues", "jacobians"]


Gating = Literal["pre_activation", "authors"]


def jacobians(
    weights: Weights,
    hidden_prev: torch.Tensor,
    inputs: torch.Tensor | None = None,
    *,
    gating: Gating = "pre_activation",
) -> torch.Tensor:
    """Closed-form one-step Jacobians ``J = diag(D) W_hh`` (§6.5, §9.20).

    Parameters
    ----------
    weights : Weights
    hidden_prev : (..., hidden_size) tensor
        States h_t.
    inputs : (..., input_dim) tensor or None
        The inputs x_{t+1} that drive the step h_t -> h_{t+1}; None means zero input.
    gating : {"pre_activation", "authors"}
        ``"pre_activation"`` (default): ``D = 1[z_{t+1} > 0]`` with ``z_{t+1} = W_hh h_t + W_ih x_{t+1}``, i.e.
        ``J = dh_{t+1}/dh_t``. ``"authors"``: the reference code's gate ``1[W_hh h_{t+1} + W_ih x_{t+1} > 0]``,
        which reuses the input that produced h_{t+1}.

    Returns
    -------
    (..., hidden_size, hidden_size) tensor
    """
    gate = gates(weights, hidden_prev, inputs, gating)
    return gate.to(weights.W_hh.dtype).unsqueeze(-1) * weights.W_hh


def jacobian_eigenvalues(
    weights: Weights,
    hidden_prev: torch.Tensor,
    inputs: torch.Tensor | None = None,
    *,
    gating: Gating = "pre_activation",
    chunk_size: int = 512,
) -> torch.Tensor:
    """Eigenvalues of the one-step Jacobians of :func:`jacobians`, sorted by decreasing modulus.

    Each distinct activation pattern S is decomposed once, ``chunk_size`` patterns at a time, so memory stays
    bounded on long runs and repeated patterns (input-free runs) cost nothing. Since ``diag(1_S) W_hh`` is
    block-triangular after reordering, its spectrum is that of the principal submatrix ``W_hh[S, S]`` plus
    ``H - |S|`` zeros; only the (zero-padded) submatrices are decomposed, which is several times cheaper.

    Parameters
    ----------
    weights : Weights
    hidden_prev : (..., hidden_size) tensor
    inputs : (..., input_dim) tensor or None
    gating : {"pre_activation", "authors"}
    chunk_size : int

    Returns
    -------
    (..., hidden_size) complex tensor
    """
    gate = gates(weights, hidden_prev, inputs, gating)
    patterns, inverse = torch.unique(gate.reshape(-1, weights.hidden_size), dim=0, return_inverse=True)
    return gated_eigenvalues(patterns, weights.W_hh, chunk_size)[inverse].reshape(*gate.shape)


def gated_eigenvalues(patterns: torch.Tensor, W: torch.Tensor, chunk_size: int) -> torch.Tensor:
    """Spectra of ``diag(patterns[i]) W`` (num_patterns, H), sorted by decreasing modulus, via active submatrices."""
    num_patterns, H = patterns.shape
    dtype = torch.complex128 if W.dtype == torch.float64 else torch.complex64
    values = torch.zeros((num_patterns, H), dtype=dtype, device=W.device)
    counts = patterns.sum(dim=1)
    by_size = counts.argsort()
    for chunk in by_size.split(chunk_size):  # similar sizes share a chunk, so little padding is decomposed
        size = int(counts[chunk].max())
        if size == 0:
            continue
        active = patterns[chunk].to(torch.int8).argsort(dim=1, descending=True, stable=True)[:, :size]
        valid = torch.arange(size, device=W.device) < counts[chunk, None]  # (c, size); False = padding
        sub_cxmxm = W[active[:, :, None], active[:, None, :]] * (valid[:, :, None] & valid[:, None, :])
        values[chunk, :size] = torch.linalg.eigvals(sub_cxmxm)
    return values.gather(-1, values.abs().argsort(dim=-1, descending=True))


def gates(weights: Weights, hidden_prev: torch.Tensor, inputs: torch.Tensor | None, gating: Gating) -> torch.Tensor:
    W = weights.W_hh
    h = hidden_prev.to(dtype=W.dtype, device=W.device)
    if h.shape[-1] != weights.hidden_size:
        raise ValueError(f"hidden_prev must end in hidden_size={weights.hidden_size}; found shape {tuple(h.shape)}")
    drive = 0.0
    if inputs is not None:
        x = inputs.to(dtype=W.dtype, device=W.device)
        if x.shape[:-1] != h.shape[:-1] or x.shape[-1] != weights.input_dim:
            raise ValueError(
                f"inputs must have shape {(*h.shape[:-1], weights.input_dim)} to match hidden_prev; "
                f"found {tuple(x.shape)}"
            )
        drive = x @ weights.W_ih.T
    z = h @ W.T + drive
    if gating == "pre_activation":
        return z > 0
    if gating == "authors":
        return torch.relu(z) @ W.T + drive > 0
    raise ValueError(f"gating must be 'pre_activation' or 'authors'; found {gating!r}")
