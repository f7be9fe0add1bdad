"""Optimal one-to-one alignment of generated and HMM sequences under the Sinkhorn plan, blockwise (§5)."""

from __future__ import annotations

import logging
import math
from typing import NamedTuple

import numpy as np
import torch

__all__ = ["SinkhornAlignment", "sinkhorn_alignment"]

log = logging.getLogger(__name__)


_CPU_BLOCK_ELEMENTS = 2**20  # ~4 MB of float32 per block: stays in cache on a CPU

_GPU_BLOCK_ELEMENTS = 2**26  # ~256 MB per block on a GPU


class SinkhornAlignment(NamedTuple):
    """Result of :func:`sinkhorn_alignment` for ``n`` reference (HMM) and ``m`` candidate (RNN) sequences.

    Attributes
    ----------
    distances : (m,) float64 ndarray
        ``D_j = ||x_{i*(j)} - y_j||_2`` for every candidate sequence j.
    matched_indices : (m,) int64 ndarray
        ``i*(j)``, the reference sequence carrying most of column j's transport mass (many-to-one).
    num_iterations : int
        Sinkhorn iterations run.
    converged : bool
        Whether the stopping tolerance was reached before ``max_iters``.
    mean, std : float
        Mean and population standard deviation of ``distances`` (the per-model score and its spread).
    """

    distances: np.ndarray
    matched_indices: np.ndarray
    num_iterations: int
    converged: bool
    mean: float
    std: float


def sinkhorn_alignment(
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    epsilon: float,
    max_iters: int,
    tol: float,
    block_rows: int | None = None,
) -> SinkhornAlignment:
    """Match every candidate sequence to a reference sequence through an entropic OT plan (§5.1).

    Cost ``C_ij = ||x_i - y_j||_2`` (not squared), uniform marginals ``a = 1/n``, ``b = 1/m``, potentials
    ``u = v = 0`` at the start; each iteration sets

    ``u_i = eps * (log(a + 1e-8) - LSE_j((v_j - C_ij) / eps))`` and then
    ``v_j = eps * (log(b + 1e-8) - LSE_i((u_i - C_ij) / eps))``

    and stops once ``sum_i |du_i| + sum_j |dv_j| < tol``. The plan ``pi_ij = exp((u_i + v_j - C_ij) / eps)`` is
    never formed: its column argmax is ``argmax_i (u_i - C_ij)``. The log-sum-exps and the argmax run over blocks
    of rows of the cost matrix with one reused scratch block, so the only full-size array is the cost matrix.

    Parameters
    ----------
    x : (n, D) float tensor
        Reference sequences (HMM), each flattened one-hot, e.g. from :func:`hmmrnn.training.one_hot`.
    y : (m, D) float tensor
        Candidate sequences (RNN), same encoding, device and dtype as ``x``. The computation runs there.
    epsilon : float
        Entropic regularisation (config; 0.1 in the paper).
    max_iters : int
        Maximum number of Sinkhorn iterations (config; 1000).
    tol : float
        Stopping threshold on the summed absolute change of both potentials (config; 0.1).
    block_rows : int, optional
        Rows of the cost matrix processed at once; by default about 2**20 elements on a CPU and 2**26 on a GPU.
        Changes speed and memory only.

    Returns
    -------
    SinkhornAlignment
    """
    if x.ndim != 2 or y.ndim != 2 or x.shape[1] != y.shape[1]:
        raise ValueError(f"x and y must have shapes (n, D) and (m, D), found {tuple(x.shape)} and {tuple(y.shape)}")
    if x.shape[0] == 0 or y.shape[0] == 0:
        raise ValueError(f"x and y must hold at least one sequence, found shapes {tuple(x.shape)}, {tuple(y.shape)}")
    if x.device != y.device or x.dtype != y.dtype:
        raise ValueError(f"x and y must share device and dtype, found {x.device}/{x.dtype} and {y.device}/{y.dtype}")
    if not x.is_floating_point():
        raise ValueError(f"x and y must be floating point, found {x.dtype}")
    if epsilon <= 0 or max_iters < 1 or tol < 0:
        raise ValueError(f"need epsilon > 0, max_iters >= 1, tol >= 0; found {epsilon}, {max_iters}, {tol}")
    n, m = x.shape[0], y.shape[0]
    if block_rows is None:
        elements = _GPU_BLOCK_ELEMENTS if x.device.type == "cuda" else _CPU_BLOCK_ELEMENTS
        block_rows = max(1, elements // m)
    blocks = [slice(start, min(start + block_rows, n)) for start in range(0, n, block_rows)]

    with torch.no_grad():
        scaled_cost = _euclidean_cost(x, y).div_(epsilon)  # C / eps, the only (n, m) array
        # Work with f = u / eps and g = v / eps; the stopping rule is on u and v as in §5.1.
        log_a = math.log(1.0 / n + 1e-8)
        log_b = math.log(1.0 / m + 1e-8)
        f = torch.zeros(n, dtype=x.dtype, device=x.device)
        g = torch.zeros(m, dtype=x.dtype, device=x.device)
        buffer = torch.empty((min(block_rows, n), m), dtype=x.dtype, device=x.device)
        iteration, change = 0, math.inf
        while iteration < max_iters and not change < tol:
            iteration += 1
            f_new = log_a - _row_logsumexp(scaled_cost, g, blocks, buffer)
            g_new = log_b - _column_logsumexp(scaled_cost, f_new, blocks, buffer)
            change = epsilon * ((f_new - f).abs().sum() + (g_new - g).abs().sum()).item()
            f, g = f_new, g_new
        converged = change < tol
        if not converged:
            log.warning(
                "Sinkhorn alignment stopped at max_iters=%d with potential change %.4g >= %g", max_iters, change, tol
            )
        log.debug("Sinkhorn alignment of %d x %d sequences: %d iterations", n, m, iteration)
        matched = _column_argmax(scaled_cost, f, blocks, buffer)
        distances = torch.linalg.vector_norm(x[matched] - y, dim=1).double().cpu().numpy()
    return SinkhornAlignment(
        distances=distances,
        matched_indices=matched.cpu().numpy().astype(np.int64),
        num_iterations=iteration,
        converged=converged,
        mean=float(distances.mean()),
        std=float(distances.std()),
    )


def _euclidean_cost(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """``(n, m)`` Euclidean distances via ``|x|^2 + |y|^2 - 2 x.y``, built in place (exact for one-hot inputs)."""
    cost = x @ y.T
    cost.mul_(-2.0).add_(x.square().sum(1)[:, None]).add_(y.square().sum(1)[None, :])
    return cost.clamp_(min=0.0).sqrt_()


# Terms more than 80 below the largest of their sum (exp(-80) ~ 2e-35) cannot change it at float32 or float64
# precision, because the largest term contributes exactly 1 after the shift; clamping them keeps exp() away from its
# slow underflow path, which makes the log-sum-exps several times faster on a CPU without changing their values.
_LOG_FLOOR = -80.0


def _row_logsumexp(
    scaled_cost: torch.Tensor, g: torch.Tensor, blocks: list[slice], buffer: torch.Tensor
) -> torch.Tensor:
    """``LSE_j(g_j - scaled_cost_ij)`` for every row i, one block of rows at a time; shape (n,).

    ``buffer`` is a ``(block_rows, m)`` scratch tensor.
    """
    out = torch.empty(scaled_cost.shape[0], dtype=scaled_cost.dtype, device=scaled_cost.device)
    for rows in blocks:
        block = torch.sub(g[None, :], scaled_cost[rows], out=buffer[: rows.stop - rows.start])
        peak = block.amax(dim=1, keepdim=True)
        block.sub_(peak).clamp_(min=_LOG_FLOOR).exp_()
        out[rows] = block.sum(dim=1).log_().add_(peak[:, 0])
    return out


def _column_logsumexp(
    scaled_cost: torch.Tensor, f: torch.Tensor, blocks: list[slice], buffer: torch.Tensor
) -> torch.Tensor:
    """``LSE_i(f_i - scaled_cost_ij)`` for every column j, accumulated over blocks of rows; shape (m,)."""
    total = torch.full((scaled_cost.shape[1],), -math.inf, dtype=scaled_cost.dtype, device=scaled_cost.device)
    for rows in blocks:
        block = torch.sub(f[rows, None], scaled_cost[rows], out=buffer[: rows.stop - rows.start])
        peak = block.amax(dim=0)
        block.sub_(peak).clamp_(min=_LOG_FLOOR).exp_()
        total = torch.logaddexp(total, block.sum(dim=0).log_().add_(peak))
    return total


def _column_argmax(
    scaled_cost: torch.Tensor, f: torch.Tensor, blocks: list[slice], buffer: torch.Tensor
) -> torch.Tensor:
    """``argmax_i (f_i - scaled_cost_ij)`` per column (first index on ties), over blocks of rows; shape (m,)."""
    best = torch.full((scaled_cost.shape[1],), -math.inf, dtype=scaled_cost.dtype, device=scaled_cost.device)
    best_index = torch.zeros(scaled_cost.shape[1], dtype=torch.int64, device=scaled_cost.device)
    for rows in blocks:
        values, index = torch.sub(f[rows, None], scaled_cost[rows], out=buffer[: rows.stop - rows.start]).max(dim=0)
        better = values > best  # strict: an earlier block wins ties, like a dense argmax
        best = torch.where(better, values, best)
        best_index = torch.where(better, index + rows.start, best_index)
    return best_index
