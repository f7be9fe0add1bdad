"""Evaluation metrics of a trained RNN against its target HMM (PAPER_SPEC §2 ``gen_seq``, §5, §8.1).

* :func:`generate_sequences` — the evaluation generator (sampled outputs, optional first-symbol quirk of §9.11).
* :func:`sinkhorn_alignment` — the Sinkhorn-aligned Euclidean distance of §5.1, in the log domain and in row
  blocks, so that neither the kernel nor any other full-size temporary besides the cost matrix is built.
* :func:`emission_transition_counts`, :func:`emission_transition_matrix`, :func:`squared_transition_difference`,
  :func:`output_frequency_stats`, :func:`volatility`, :func:`emission_stats` — §5.2–§5.4 on ``(n, T)`` symbols.
* :func:`sinkhorn_loss`, :func:`sinkhorn_floor` — the training loss between two symbol sets, and its irreducible
  value between two independent samples of the same HMM (§8.1 a).
* :func:`noise_dynamics`, :func:`assess_convergence` — the objective convergence criteria of §8.1.

Symbol arrays are ``(num_sequences, num_timesteps)`` integer ndarrays, as returned by
:func:`hmmrnn.hmm.sample_hmm` and :func:`generate_sequences`. Standard deviations are population
standard deviations (``ddof = 0``), as in the reference code.
"""

from __future__ import annotations

import logging
import math
from dataclasses import asdict, dataclass
from typing import Any, NamedTuple

import numpy as np
import torch

from .hmm import HMM, sample_hmm
from .rnn import gumbel_softmax_hard
from .simulate import Weights, argmax_outputs, simulate
from .sinkhorn import make_sinkhorn_loss
from .training import one_hot

__all__ = [
    "ConvergenceRecord",
    "ConvergenceThresholds",
    "DynamicsStats",
    "EmissionStats",
    "FrequencyStats",
    "ModelEvaluation",
    "SinkhornAlignment",
    "VolatilityStats",
    "assess_convergence",
    "emission_stats",
    "emission_transition_counts",
    "emission_transition_matrix",
    "evaluate_model",
    "generate_sequences",
    "noise_dynamics",
    "output_frequency_stats",
    "sinkhorn_alignment",
    "sinkhorn_floor",
    "sinkhorn_loss",
    "squared_transition_difference",
    "volatility",
]

log = logging.getLogger(__name__)

_CPU_BLOCK_ELEMENTS = 2**20  # ~4 MB of float32 per block: stays in cache on a CPU
_GPU_BLOCK_ELEMENTS = 2**26  # ~256 MB per block on a GPU


# ---------------------------------------------------------------------------------------------------------------
# §2 The evaluation generator
# ---------------------------------------------------------------------------------------------------------------


def generate_sequences(
    weights: Weights,
    num_sequences: int,
    num_timesteps: int,
    generator: torch.Generator,
    *,
    emit_from_zero: bool,
) -> np.ndarray:
    """Sample output sequences from the noise-driven RNN, all sequences at once (§2 ``gen_seq``).

    The recurrence ``h_t = ReLU(W_hh h_{t-1} + W_ih x_t)`` starts from ``h_0 = 0`` with fresh ``x_t ~ N(0, I)``
    at every step; outputs are sampled from ``logits = W_o h`` with the hard Gumbel-max of
    :func:`hmmrnn.rnn.gumbel_softmax_hard` (the temperature does not change the argmax, so none is taken).

    Parameters
    ----------
    weights : Weights
        The network; its device and dtype are used for the whole simulation.
    num_sequences, num_timesteps : int
        n and T of the returned array.
    generator : torch.Generator
        Stream for the input noise (drawn first, one ``(n, d)`` block per step) and then the Gumbel noise.
        Must live on the weights' device.
    emit_from_zero : bool
        ``True``: the authors' generator — the symbol at t = 0 is emitted from ``h_0 = 0`` (zero logits, so it
        is uniform random) and only the T - 1 later symbols are network driven (§9.11). ``False``: symbols are
        emitted from ``h_1 .. h_T``, as in training.

    Returns
    -------
    (num_sequences, num_timesteps) uint8 ndarray of output symbols
    """
    if num_sequences < 1 or num_timesteps < 1:
        raise ValueError(f"need num_sequences >= 1 and num_timesteps >= 1, found ({num_sequences}, {num_timesteps})")
    device, dtype = weights.W_hh.device, weights.W_hh.dtype
    logits = torch.zeros((num_sequences, num_timesteps, weights.num_outputs), dtype=dtype, device=device)
    h = torch.zeros((num_sequences, weights.hidden_size), dtype=dtype, device=device)
    with torch.no_grad():
        for t in range(1 if emit_from_zero else 0, num_timesteps):
            x = torch.randn((num_sequences, weights.input_dim), generator=generator, dtype=dtype, device=device)
            h = simulate(weights, h, x[:, None, :])[:, 0]
            logits[:, t] = h @ weights.W_o.T
        symbols = gumbel_softmax_hard(logits, generator=generator).argmax(dim=-1)
    return symbols.to(torch.uint8).cpu().numpy()


# ---------------------------------------------------------------------------------------------------------------
# §5.1 Sinkhorn-aligned Euclidean distance
# ---------------------------------------------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------------------------------------------
# §5.2–§5.4 Emission statistics
# ---------------------------------------------------------------------------------------------------------------


def _check_symbols(outputs: np.ndarray, num_outputs: int | None = None, min_timesteps: int = 1) -> np.ndarray:
    symbols = np.asarray(outputs)
    if symbols.ndim != 2 or symbols.shape[0] < 1 or symbols.shape[1] < min_timesteps:
        raise ValueError(
            f"outputs must have shape (num_sequences >= 1, num_timesteps >= {min_timesteps}), found {symbols.shape}"
        )
    if not np.issubdtype(symbols.dtype, np.integer):
        raise ValueError(f"outputs must hold integer symbols, found dtype {symbols.dtype}")
    symbols = symbols.astype(np.int64)
    if num_outputs is not None and (symbols.min() < 0 or symbols.max() >= num_outputs):
        raise ValueError(f"outputs must lie in [0, {num_outputs}), found values in [{symbols.min()}, {symbols.max()}]")
    return symbols


def emission_transition_counts(outputs: np.ndarray, num_outputs: int) -> np.ndarray:
    """Counts of consecutive symbol pairs ``o_{t-1} -> o_t`` pooled over sequences and t = 2..T (§5.2).

    Parameters
    ----------
    outputs : (num_sequences, num_timesteps) integer ndarray
    num_outputs : int
        K.

    Returns
    -------
    (num_outputs, num_outputs) int64 ndarray, ``counts[i, j]`` = number of steps from symbol i to symbol j
    """
    symbols = _check_symbols(outputs, num_outputs, min_timesteps=2)
    pairs = symbols[:, :-1] * num_outputs + symbols[:, 1:]
    return np.bincount(pairs.ravel(), minlength=num_outputs * num_outputs).reshape(num_outputs, num_outputs)


def emission_transition_matrix(outputs: np.ndarray, num_outputs: int) -> np.ndarray:
    """Row-normalised :func:`emission_transition_counts`; rows of symbols never left stay zero (§5.2).

    Returns
    -------
    (num_outputs, num_outputs) float64 ndarray, ``P(o_t = j | o_{t-1} = i)``
    """
    counts = emission_transition_counts(outputs, num_outputs).astype(np.float64)
    totals = counts.sum(axis=1, keepdims=True)
    return np.divide(counts, totals, out=np.zeros_like(counts), where=totals > 0)


def squared_transition_difference(reference: np.ndarray, candidate: np.ndarray) -> np.ndarray:
    """Element-wise ``(reference - candidate)**2`` of two transition matrices (§5.2).

    Parameters
    ----------
    reference, candidate : (num_outputs, num_outputs) ndarray

    Returns
    -------
    (num_outputs, num_outputs) float64 ndarray
    """
    reference, candidate = np.asarray(reference, dtype=np.float64), np.asarray(candidate, dtype=np.float64)
    if reference.shape != candidate.shape or reference.ndim != 2:
        raise ValueError(f"need two (K, K) matrices of one shape, found {reference.shape} and {candidate.shape}")
    return (reference - candidate) ** 2


class FrequencyStats(NamedTuple):
    """Per-sequence output frequencies summarised over sequences (§5.3).

    Attributes
    ----------
    mean, std : (num_outputs,) float64 ndarray
    """

    mean: np.ndarray
    std: np.ndarray


def output_frequency_stats(outputs: np.ndarray, num_outputs: int) -> FrequencyStats:
    """Fraction of steps showing each symbol in every sequence; mean and std over sequences (§5.3).

    Parameters
    ----------
    outputs : (num_sequences, num_timesteps) integer ndarray
    num_outputs : int

    Returns
    -------
    FrequencyStats
    """
    symbols = _check_symbols(outputs, num_outputs)
    num_sequences, num_timesteps = symbols.shape
    keys = np.arange(num_sequences)[:, None] * num_outputs + symbols
    counts = np.bincount(keys.ravel(), minlength=num_sequences * num_outputs).reshape(num_sequences, num_outputs)
    frequencies = counts / num_timesteps
    return FrequencyStats(mean=frequencies.mean(axis=0), std=frequencies.std(axis=0))


class VolatilityStats(NamedTuple):
    """Symbol changes per sequence (§5.4).

    Attributes
    ----------
    changes : (num_sequences,) int64 ndarray
        Number of t in 2..T with ``o_t != o_{t-1}``.
    mean_changes, std_changes : float
        Over sequences (the count plotted by the authors).
    mean_proportion, std_proportion : float
        Of ``changes / (T - 1)`` (the proportion defined in the paper).
    """

    changes: np.ndarray
    mean_changes: float
    std_changes: float
    mean_proportion: float
    std_proportion: float


def volatility(outputs: np.ndarray) -> VolatilityStats:
    """Count and proportion of steps where the symbol changes, per sequence (§5.4).

    Parameters
    ----------
    outputs : (num_sequences, num_timesteps) integer ndarray, num_timesteps >= 2

    Returns
    -------
    VolatilityStats
    """
    symbols = _check_symbols(outputs, min_timesteps=2)
    changes = np.count_nonzero(symbols[:, 1:] != symbols[:, :-1], axis=1).astype(np.int64)
    proportion = changes / (symbols.shape[1] - 1)
    return VolatilityStats(
        changes=changes,
        mean_changes=float(changes.mean()),
        std_changes=float(changes.std()),
        mean_proportion=float(proportion.mean()),
        std_proportion=float(proportion.std()),
    )


@dataclass(frozen=True)
class EmissionStats:
    """The §5.2–§5.4 summary of one set of sequences.

    Attributes
    ----------
    transition_matrix : (num_outputs, num_outputs) ndarray
    frequency_mean, frequency_std : (num_outputs,) ndarray
    mean_changes, std_changes, mean_proportion, std_proportion : float
    """

    transition_matrix: np.ndarray
    frequency_mean: np.ndarray
    frequency_std: np.ndarray
    mean_changes: float
    std_changes: float
    mean_proportion: float
    std_proportion: float


def emission_stats(outputs: np.ndarray, num_outputs: int) -> EmissionStats:
    """Transition matrix, frequencies and volatility of ``(num_sequences, num_timesteps)`` symbols."""
    frequencies = output_frequency_stats(outputs, num_outputs)
    changes = volatility(outputs)
    return EmissionStats(
        transition_matrix=emission_transition_matrix(outputs, num_outputs),
        frequency_mean=frequencies.mean,
        frequency_std=frequencies.std,
        mean_changes=changes.mean_changes,
        std_changes=changes.std_changes,
        mean_proportion=changes.mean_proportion,
        std_proportion=changes.std_proportion,
    )


# ---------------------------------------------------------------------------------------------------------------
# One model, all §5 metrics
# ---------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ModelEvaluation:
    """All §5 metrics of one model.

    Attributes
    ----------
    alignment : SinkhornAlignment
        RNN sequences matched to the HMM sample S1.
    baseline : SinkhornAlignment
        HMM sample S3 matched to S2 (the HMM-vs-HMM baseline).
    rnn, hmm : EmissionStats
        Of the RNN sequences and of S1.
    transition_sq_diff : (num_outputs, num_outputs) ndarray
        ``(T_HMM - T_RNN)**2``.
    """

    alignment: SinkhornAlignment
    baseline: SinkhornAlignment
    rnn: EmissionStats
    hmm: EmissionStats
    transition_sq_diff: np.ndarray


def evaluate_model(
    hmm: HMM,
    weights: Weights,
    *,
    num_sequences: int,
    num_timesteps: int,
    rng: np.random.Generator,
    generator: torch.Generator,
    emit_from_zero: bool,
    epsilon: float,
    max_iters: int,
    tol: float,
) -> ModelEvaluation:
    """Compare ``num_sequences`` RNN sequences with fresh HMM samples S1, S2, S3 (§5); runs on the weights' device.

    Parameters
    ----------
    hmm : HMM
    weights : Weights
    num_sequences, num_timesteps : int
        N_eval and T of every set.
    rng : np.random.Generator
        Stream for S1, S2, S3 (drawn in that order).
    generator : torch.Generator
        Stream for the RNN (see :func:`generate_sequences`), on the weights' device.
    emit_from_zero : bool
        See :func:`generate_sequences`.
    epsilon, max_iters, tol : float, int, float
        See :func:`sinkhorn_alignment`.

    Returns
    -------
    ModelEvaluation
    """
    if hmm.num_outputs != weights.num_outputs:
        raise ValueError(f"the HMM emits {hmm.num_outputs} symbols but the network reads out {weights.num_outputs}")
    num_outputs, device = hmm.num_outputs, weights.W_hh.device
    log.info(
        "evaluation step 1: %d HMM and %d RNN sequences of %d steps", 3 * num_sequences, num_sequences, num_timesteps
    )
    hmm_sets = [sample_hmm(hmm, num_sequences, num_timesteps, rng)[1] for _ in range(3)]
    rnn_outputs = generate_sequences(weights, num_sequences, num_timesteps, generator, emit_from_zero=emit_from_zero)
    settings = {"epsilon": epsilon, "max_iters": max_iters, "tol": tol}
    encoded = [one_hot(outputs, num_outputs, device) for outputs in (*hmm_sets, rnn_outputs)]
    log.info("evaluation step 2: Sinkhorn-aligned distance, RNN vs HMM")
    alignment = sinkhorn_alignment(encoded[0], encoded[3], **settings)
    log.info("evaluation step 3: Sinkhorn-aligned distance, HMM vs HMM (baseline)")
    baseline = sinkhorn_alignment(encoded[1], encoded[2], **settings)
    rnn, reference = emission_stats(rnn_outputs, num_outputs), emission_stats(hmm_sets[0], num_outputs)
    return ModelEvaluation(
        alignment=alignment,
        baseline=baseline,
        rnn=rnn,
        hmm=reference,
        transition_sq_diff=squared_transition_difference(reference.transition_matrix, rnn.transition_matrix),
    )


# ---------------------------------------------------------------------------------------------------------------
# §8.1 The training loss floor
# ---------------------------------------------------------------------------------------------------------------


def sinkhorn_loss(
    x_outputs: np.ndarray,
    y_outputs: np.ndarray,
    num_outputs: int,
    *,
    batch_size: int,
    sinkhorn_blur: float,
    sinkhorn_p: int,
    sinkhorn_scaling: float,
    sinkhorn_backend: str,
    device: str | torch.device = "cpu",
) -> float:
    """The training loss between two symbol sets, batched like the validation pass of training (§3).

    Both sets are cut into consecutive batches of ``batch_size`` (the last may be smaller); each batch pair is
    compared with the Sinkhorn divergence of ``sinkhorn_backend`` (:func:`hmmrnn.sinkhorn.make_sinkhorn_loss`)
    on flattened one-hot sequences and the batch losses are averaged without weights.

    Parameters
    ----------
    x_outputs, y_outputs : (num_sequences, num_timesteps) integer ndarray
        Same shape.
    num_outputs : int
    batch_size : int
    sinkhorn_blur, sinkhorn_p, sinkhorn_scaling, sinkhorn_backend : float, int, float, str
        The training loss settings (config ``training``).
    device : str or torch.device

    Returns
    -------
    float
    """
    x_symbols = _check_symbols(x_outputs, num_outputs)
    y_symbols = _check_symbols(y_outputs, num_outputs)
    if x_symbols.shape != y_symbols.shape:
        raise ValueError(f"x_outputs and y_outputs must have one shape, found {x_symbols.shape} and {y_symbols.shape}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, found {batch_size}")
    loss_fn = make_sinkhorn_loss(sinkhorn_backend, p=sinkhorn_p, blur=sinkhorn_blur, scaling=sinkhorn_scaling)
    x, y = one_hot(x_symbols, num_outputs, device), one_hot(y_symbols, num_outputs, device)
    losses = []
    with torch.no_grad():
        for start in range(0, x.shape[0], batch_size):
            losses.append(loss_fn(x[start : start + batch_size], y[start : start + batch_size], None).item())
    return float(np.mean(losses))


def sinkhorn_floor(
    hmm: HMM,
    *,
    num_sequences: int,
    batch_size: int,
    num_timesteps: int,
    rng: np.random.Generator,
    sinkhorn_blur: float,
    sinkhorn_p: int,
    sinkhorn_scaling: float,
    sinkhorn_backend: str,
    device: str | torch.device = "cpu",
) -> float:
    """Irreducible training loss of a family: :func:`sinkhorn_loss` between two independent HMM samples (§8.1 a).

    The floor depends on the batch size (it falls by about 10 % per doubling), so use the batch size and the
    number of sequences of the validation pass the loss is compared with.

    Parameters
    ----------
    hmm : HMM
    num_sequences, batch_size, num_timesteps : int
        Size of each sample, batch size, and sequence length.
    rng : np.random.Generator
        Stream for the two samples.
    sinkhorn_blur, sinkhorn_p, sinkhorn_scaling, sinkhorn_backend : float, int, float, str
        The training loss settings (the same backend as training's, so that the floor and the loss agree).
    device : str or torch.device

    Returns
    -------
    float
    """
    first = sample_hmm(hmm, num_sequences, num_timesteps, rng)[1]
    second = sample_hmm(hmm, num_sequences, num_timesteps, rng)[1]
    return sinkhorn_loss(
        first,
        second,
        hmm.num_outputs,
        batch_size=batch_size,
        sinkhorn_blur=sinkhorn_blur,
        sinkhorn_p=sinkhorn_p,
        sinkhorn_scaling=sinkhorn_scaling,
        sinkhorn_backend=sinkhorn_backend,
        device=device,
    )


# ---------------------------------------------------------------------------------------------------------------
# §8.1 Convergence
# ---------------------------------------------------------------------------------------------------------------


class DynamicsStats(NamedTuple):
    """Hidden-state dynamics of a network under noise and without input (:func:`noise_dynamics`).

    Attributes
    ----------
    is_finite : bool
        No overflow during the noisy run.
    orbit_norm : float
        Mean ``||h_t||`` over the second half of the noisy run.
    norm_growth : float
        Mean ``||h_t||`` over the last quarter divided by that over the second quarter (about 1 when bounded).
    decay_ratio : float
        Largest ``||h||`` after ``decay_steps`` input-free steps from the final noisy states, over ``orbit_norm``.
    switch_rate : float
        Argmax-output changes per step during the noisy run.
    """

    is_finite: bool
    orbit_norm: float
    norm_growth: float
    decay_ratio: float
    switch_rate: float


def noise_dynamics(
    weights: Weights,
    *,
    num_trajectories: int,
    num_timesteps: int,
    decay_steps: int,
    generator: torch.Generator,
) -> DynamicsStats:
    """Run noisy trajectories from ``h_0 = 0`` (``x_t ~ N(0, I)``), then let their final states evolve without input.

    Parameters
    ----------
    weights : Weights
        The network; its device and dtype are used.
    num_trajectories, num_timesteps : int
        Batch and length of the noisy run (num_timesteps >= 4).
    decay_steps : int
        Length of the input-free run.
    generator : torch.Generator
        Stream for the input noise (drawn time step by time step), on the weights' device.

    Returns
    -------
    DynamicsStats
    """
    if num_trajectories < 1 or num_timesteps < 4 or decay_steps < 1:
        raise ValueError(
            "need num_trajectories >= 1, num_timesteps >= 4 and decay_steps >= 1, found "
            f"({num_trajectories}, {num_timesteps}, {decay_steps})"
        )
    device, dtype = weights.W_hh.device, weights.W_hh.dtype
    norms = torch.empty((num_trajectories, num_timesteps), dtype=dtype, device=device)
    switches = torch.zeros(num_trajectories, dtype=torch.int64, device=device)
    h = torch.zeros((num_trajectories, weights.hidden_size), dtype=dtype, device=device)
    previous = None
    chunk = 256
    with torch.no_grad():
        for start in range(0, num_timesteps, chunk):
            steps = min(chunk, num_timesteps - start)
            # time-major draws, so that the noise does not depend on the chunk length
            noise = torch.randn(
                (steps, num_trajectories, weights.input_dim), generator=generator, dtype=dtype, device=device
            )
            states = simulate(weights, h, noise.transpose(0, 1))
            norms[:, start : start + steps] = torch.linalg.vector_norm(states, dim=-1)
            outputs = argmax_outputs(weights, states)
            if previous is not None:
                outputs = torch.cat([previous[:, None], outputs], dim=1)
            switches += (outputs[:, 1:] != outputs[:, :-1]).sum(dim=1)
            previous, h = outputs[:, -1], states[:, -1]
        quarter = num_timesteps // 4
        orbit_norm = norms[:, num_timesteps // 2 :].mean().item()
        norm_growth = (norms[:, 3 * quarter :].mean() / norms[:, quarter : 2 * quarter].mean()).item()
        free = simulate(
            weights, h, torch.zeros((num_trajectories, decay_steps, weights.input_dim), dtype=dtype, device=device)
        )
        decay_ratio = (
            torch.linalg.vector_norm(free[:, -1], dim=-1).max().item() / orbit_norm if orbit_norm > 0 else math.nan
        )
    return DynamicsStats(
        is_finite=bool(torch.isfinite(norms).all().item()),
        orbit_norm=orbit_norm,
        norm_growth=norm_growth,
        decay_ratio=decay_ratio,
        switch_rate=switches.double().mean().item() / (num_timesteps - 1),
    )


@dataclass(frozen=True)
class ConvergenceThresholds:
    """Pass limits of the convergence criteria of §8.1 (all from the config).

    Attributes
    ----------
    max_loss_ratio : float
        (a) validation loss / family floor (1.10 suggested).
    max_distance_ratio : float
        (b) Sinkhorn-aligned distance score / HMM baseline (1.10).
    max_transition_sq_diff : float
        (c) largest ``(T_HMM - T_RNN)**2`` entry (0.02).
    max_switch_rel_error : float
        (d) ``|changes_RNN - changes_HMM| / changes_HMM`` of the mean changes per sequence (0.25).
    max_frequency_error : float
        (e) largest ``|f_RNN - f_HMM|`` over symbols (0.05).
    max_norm_growth : float
        (f) bound on :attr:`DynamicsStats.norm_growth` under noise.
    max_decay_ratio : float
        (f) bound on :attr:`DynamicsStats.decay_ratio` without input (1e-3 in §10.3).
    """

    max_loss_ratio: float
    max_distance_ratio: float
    max_transition_sq_diff: float
    max_switch_rel_error: float
    max_frequency_error: float
    max_norm_growth: float
    max_decay_ratio: float


@dataclass(frozen=True)
class ConvergenceRecord:
    """Value and verdict of every convergence criterion; NaN values fail.

    A model is converged only if every criterion passes: the loss ratio alone cannot decide, because the
    memoryless i.i.d. plateau already sits at about 1.37 x floor for M = 3.
    """

    loss_ratio: float
    is_loss_ok: bool
    distance_ratio: float
    is_distance_ok: bool
    max_transition_sq_diff: float
    is_transitions_ok: bool
    switch_rel_error: float
    is_switches_ok: bool
    max_frequency_error: float
    is_frequencies_ok: bool
    norm_growth: float
    decay_ratio: float
    is_dynamics_ok: bool

    @property
    def is_converged(self) -> bool:
        return all(
            (
                self.is_loss_ok,
                self.is_distance_ok,
                self.is_transitions_ok,
                self.is_switches_ok,
                self.is_frequencies_ok,
                self.is_dynamics_ok,
            )
        )

    def as_dict(self) -> dict[str, Any]:
        """Flat record for a table row, including ``is_converged``."""
        return {**asdict(self), "is_converged": self.is_converged}


def assess_convergence(
    *,
    val_loss: float,
    loss_floor: float,
    distance_score: float,
    baseline_distance: float,
    rnn: EmissionStats,
    hmm: EmissionStats,
    dynamics: DynamicsStats,
    thresholds: ConvergenceThresholds,
) -> ConvergenceRecord:
    """Apply the criteria (a)–(f) of §8.1 to one model.

    Parameters
    ----------
    val_loss : float
        Final validation loss of the run.
    loss_floor : float
        :func:`sinkhorn_floor` of the family with the same batching.
    distance_score, baseline_distance : float
        ``ModelEvaluation.alignment.mean`` and ``ModelEvaluation.baseline.mean``.
    rnn, hmm : EmissionStats
        Of the RNN's sampled sequences and of an HMM sample of the same size.
    dynamics : DynamicsStats
        From :func:`noise_dynamics`.
    thresholds : ConvergenceThresholds

    Returns
    -------
    ConvergenceRecord
    """
    loss_ratio = val_loss / loss_floor if loss_floor > 0 else math.nan
    distance_ratio = distance_score / baseline_distance if baseline_distance > 0 else math.nan
    max_sq_diff = float(squared_transition_difference(hmm.transition_matrix, rnn.transition_matrix).max())
    switch_error = abs(rnn.mean_changes - hmm.mean_changes) / hmm.mean_changes if hmm.mean_changes > 0 else math.nan
    frequency_error = float(np.abs(np.asarray(rnn.frequency_mean) - np.asarray(hmm.frequency_mean)).max())
    is_dynamics_ok = (
        dynamics.is_finite
        and dynamics.norm_growth <= thresholds.max_norm_growth
        and dynamics.decay_ratio <= thresholds.max_decay_ratio
    )
    return ConvergenceRecord(
        loss_ratio=loss_ratio,
        is_loss_ok=bool(loss_ratio <= thresholds.max_loss_ratio),
        distance_ratio=distance_ratio,
        is_distance_ok=bool(distance_ratio <= thresholds.max_distance_ratio),
        max_transition_sq_diff=max_sq_diff,
        is_transitions_ok=bool(max_sq_diff <= thresholds.max_transition_sq_diff),
        switch_rel_error=switch_error,
        is_switches_ok=bool(switch_error <= thresholds.max_switch_rel_error),
        max_frequency_error=frequency_error,
        is_frequencies_ok=bool(frequency_error <= thresholds.max_frequency_error),
        norm_growth=dynamics.norm_growth,
        decay_ratio=dynamics.decay_ratio,
        is_dynamics_ok=bool(is_dynamics_ok),
    )
