"""Debiased Sinkhorn divergence between point clouds, blockwise and exact (the training loss of PAPER_SPEC §3).

:func:`sinkhorn_divergence` computes the quantity of geomloss 0.3.1's
``SamplesLoss("sinkhorn", p=2, blur=blur, scaling=scaling, debias=True)`` with uniform weights:

* cost ``C(x, y) = |x - y|^2 / 2``, from one matrix product per pair of clouds;
* the ε-scaling schedule ``diameter^2, diameter^2, diameter^2 * scaling^2, ..., blur^2`` from the diameter of the
  bounding box of both clouds (:func:`epsilon_schedule`);
* the same initialisation, the same symmetric averaged updates of the x–y, x–x and y–y potentials, and the same
  final extrapolation step;
* the same gradient: only the final extrapolation step is differentiated (the envelope theorem), which gives
  ``N * dS/dx_i = sum_k P^xx_ik x_k - sum_j P^xy_ij y_j`` with the final steps' row-stochastic plans.

What differs is how it is evaluated. Every soft-min (``-eps * log sum_j exp(h_j - C_ij / eps)``) runs over row
blocks of the cost matrix, so no full-size temporary besides the cost matrices themselves is ever built; the
x→y and y→x soft-mins of one step share one pass over the x–y cost matrix; and each block's log-sum-exp is one
fused ``log_softmax`` pass over the block with the block's maximum appended as an extra entry, which returns
``log sum exp(S - max)`` to float precision at that entry (the result is reassembled in float64). The y–y
problem depends only on the target batch and the ε schedule, so a :class:`SinkhornCache` lets training compute
it once per (batch, schedule) instead of on every call.

:func:`make_sinkhorn_loss` builds the training loss for a backend: ``hmmrnn`` (this module, with a target cache)
or ``geomloss`` (the reference implementation).
"""

from __future__ import annotations

import math
import os
import queue
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

import numpy as np
import torch

__all__ = [
    "SINKHORN_BACKENDS",
    "SinkhornCache",
    "bounding_diameter",
    "cache_schedule",
    "epsilon_schedule",
    "make_sinkhorn_loss",
    "sinkhorn_divergence",
]

SINKHORN_BACKENDS = ("hmmrnn", "geomloss")

_BLOCK_ELEMENTS = 2**19  # float32 entries of one soft-min block (2 MB): the block and its log_softmax stay in cache
_BACKWARD_BLOCK_ELEMENTS = 2**20  # the backward's plan blocks feed a matrix product: larger blocks, fewer calls
_GPU_BLOCK_ELEMENTS = 2**26  # on a GPU, blocks of 256 MB: few kernel launches
_COST_BLOCK_ROWS = 256  # rows per block of the cost matrices' matrix products
_MIN_BLOCK_ROWS = 256  # blocks have at least this many rows (when the batch has): fewer ops per pass
_SCHEDULE_DIGITS = 6  # schedules equal to 6 significant digits share a cached target term (see SinkhornCache)


# ---------------------------------------------------------------------------------------------------------------
# The ε schedule
# ---------------------------------------------------------------------------------------------------------------


def bounding_diameter(x: torch.Tensor, y: torch.Tensor) -> float:
    """Length of the diagonal of the bounding box of both clouds (geomloss's ``max_diameter``).

    Parameters
    ----------
    x : (N, D) tensor
    y : (M, D) tensor

    Returns
    -------
    float
    """
    low = torch.minimum(x.amin(dim=0), y.amin(dim=0))
    high = torch.maximum(x.amax(dim=0), y.amax(dim=0))
    return float((high - low).norm())


def epsilon_schedule(diameter: float, *, blur: float, scaling: float, p: int = 2) -> tuple[float, ...]:
    """The temperatures of the ε-scaling loop: ``diameter^p``, then ``diameter^p * scaling^(p k)`` for k = 0, 1, ...
    while above ``blur^p``, then ``blur^p`` (so ``diameter^p`` comes twice, as in geomloss).

    Parameters
    ----------
    diameter : float
        Upper bound on the distance between points (:func:`bounding_diameter`), > 0.
    blur : float
        Final blur; the last temperature is ``blur^p``.
    scaling : float
        Ratio of successive blur scales, in (0, 1).
    p : int

    Returns
    -------
    tuple of float
    """
    if not diameter > 0:
        raise ValueError(f"diameter must be > 0, found {diameter}")
    steps = np.arange(p * np.log(diameter), p * np.log(blur), p * np.log(scaling))
    return (float(diameter**p), *(float(np.exp(step)) for step in steps), float(blur**p))


# ---------------------------------------------------------------------------------------------------------------
# Row blocks, run by single-threaded workers
# ---------------------------------------------------------------------------------------------------------------


class _BlockWorkers:
    """Threads that run the row blocks of a pass, each with one intra-op thread (torch ops release the GIL).

    A pass is a few hundred short torch ops. Run with several OpenMP threads each, every op ends in a barrier
    of all of them, and when other jobs share the cores each barrier waits for a preempted thread: with a second
    two-thread torch job on a 2-core machine one N = 4096 call took 35 s, against 3 s with these workers and
    1-2 s on a quiet machine either way. Whole blocks handed to single-threaded workers need no barrier per op.
    """

    def __init__(self, count: int) -> None:
        self.count, self.pid = count, os.getpid()
        self._tasks: queue.SimpleQueue = queue.SimpleQueue()
        started = threading.Barrier(count + 1)
        threads = torch.get_num_threads()
        for index in range(count):
            threading.Thread(target=self._serve, args=(started,), name=f"sinkhorn-{index}", daemon=True).start()
        started.wait()
        # each worker's torch.set_num_threads(1) also set the process-wide value that threads started later
        # inherit; put it back (the workers keep theirs)
        torch.set_num_threads(threads)

    _setting = threading.Lock()

    def _serve(self, started: threading.Barrier) -> None:
        torch.set_grad_enabled(False)  # per thread; block work is never differentiated
        with self._setting:
            torch.get_num_threads()  # torch's lazy per-thread set-up first, or it would undo the next line later
            torch.set_num_threads(1)
        started.wait()
        while True:
            function, index, done = self._tasks.get()
            try:
                function(index)
            except BaseException as err:  # re-raised by run() in the calling thread
                done[1].append(err)
            finally:
                done[0].release()

    def run(self, function: Callable[[int], None], count: int) -> None:
        """``function(i)`` for every ``i < count``, spread over the workers; waits for all of them."""
        done: tuple[threading.Semaphore, list[BaseException]] = (threading.Semaphore(0), [])
        for index in range(count):
            self._tasks.put((function, index, done))
        for _ in range(count):
            done[0].acquire()
        if done[1]:
            raise done[1][0]


_WORKERS: dict[int, _BlockWorkers] = {}
_WORKERS_LOCK = threading.Lock()
_SCRATCH = threading.local()


def _run_blocks(function: Callable[[int], None], count: int, device: torch.device) -> None:
    """``function(i)`` for ``i < count``: on the CPU with ``torch.get_num_threads()`` workers, else in order."""
    threads = torch.get_num_threads()
    if device.type != "cpu" or threads <= 1 or count <= 1 or threading.current_thread().name.startswith("sinkhorn-"):
        for index in range(count):
            function(index)
        return
    with _WORKERS_LOCK:
        workers = _WORKERS.get(threads)
        if workers is None or workers.pid != os.getpid():  # a forked child has none of its parent's threads
            workers = _WORKERS[threads] = _BlockWorkers(threads)
    workers.run(function, count)


def _scratch(shape: tuple[int, ...], like: torch.Tensor, slot: int) -> torch.Tensor:
    """A buffer of ``shape`` reused by the calling thread across passes (one per ``slot``)."""
    buffers = getattr(_SCRATCH, "buffers", None)
    if buffers is None:
        buffers = _SCRATCH.buffers = OrderedDict()
    key = (shape, like.dtype, like.device, slot)
    if key not in buffers:
        buffers[key] = torch.empty(shape, dtype=like.dtype, device=like.device)
        if len(buffers) > 16:  # a few batch sizes in use at once
            buffers.popitem(last=False)
    return buffers[key]


# ---------------------------------------------------------------------------------------------------------------
# Blocked soft-mins
# ---------------------------------------------------------------------------------------------------------------


def _half_squared_distances(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """``(n, m)`` matrix ``|a_i - b_j|^2 / 2`` as a matrix product of the clouds augmented by their half norms."""
    ones_a = torch.ones((a.shape[0], 1), dtype=a.dtype, device=a.device)
    ones_b = torch.ones((b.shape[0], 1), dtype=b.dtype, device=b.device)
    left = torch.cat([a, 0.5 * (a * a).sum(1, keepdim=True), ones_a], dim=1)
    right = torch.cat([-b, ones_b, 0.5 * (b * b).sum(1, keepdim=True)], dim=1).T
    if a.device.type != "cpu":
        return left @ right
    cost = torch.empty((a.shape[0], b.shape[0]), dtype=a.dtype)
    rows = _COST_BLOCK_ROWS

    def block(index: int) -> None:
        torch.mm(left[index * rows : (index + 1) * rows], right, out=cost[index * rows : (index + 1) * rows])

    _run_blocks(block, -(-a.shape[0] // rows), a.device)
    return cost


def _block_rows(cost: torch.Tensor, elements: int, block_rows: int | None) -> int:
    """Rows per block of ``cost``: ``block_rows`` if given, else about ``elements`` entries (more on a GPU)."""
    if block_rows is not None:
        return min(block_rows, cost.shape[0])
    if cost.device.type != "cpu":
        return min(max(1, _GPU_BLOCK_ELEMENTS // (cost.shape[1] + 1)), cost.shape[0])
    # at most ~elements entries, and 8 blocks or more for the workers once blocks have 256 rows; independent of the
    # number of threads, so that results are too (the column soft-min adds its blocks' partial sums)
    rows = max(1, elements // (cost.shape[1] + 1))
    return min(rows, max(_MIN_BLOCK_ROWS, -(-cost.shape[0] // 8)), cost.shape[0])


def _log_sum_from_appended_max(block_max: torch.Tensor, log_probability: torch.Tensor) -> torch.Tensor:
    """``log sum_j exp(S_j)`` from ``max S`` and the log-softmax entry of an appended copy of ``max S``.

    That entry is ``-log(1 + sum_j exp(S_j - max S))`` up to one rounding of a number in ``[log 2, log(n + 1)]``
    (``log_softmax`` subtracts the maximum before the log-sum), so the result has float precision whatever the
    magnitude of ``S``. Computed in float64.
    """
    return block_max.double() + torch.expm1(-log_probability.double()).log()


def _softmin(
    cost: torch.Tensor,
    eps: float,
    col_potential: torch.Tensor,
    row_potential: torch.Tensor | None = None,
    block_rows: int | None = None,
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Soft-min along rows and, optionally, along columns of ``cost``, in one pass over its row blocks.

    Parameters
    ----------
    cost : (n, m) tensor
    eps : float
    col_potential : (m,) tensor
        ``h_j``; the row soft-min is ``-eps * log sum_j exp(h_j - C_ij / eps)``.
    row_potential : (n,) tensor, optional
        ``h'_i``; the column soft-min is ``-eps * log sum_i exp(h'_i - C_ij / eps)``.
    block_rows : int, optional

    Returns
    -------
    rows : (n,) tensor
    cols : (m,) tensor or None
    """
    n, m = cost.shape
    scale = -1.0 / eps
    block = _block_rows(cost, _BLOCK_ELEMENTS, block_rows)
    num_blocks = -(-n // block)
    like = {"dtype": cost.dtype, "device": cost.device}
    row_max, row_log_prob = torch.empty(n, **like), torch.empty(n, **like)
    if row_potential is not None:
        col_max, col_log_prob = torch.empty((num_blocks, m), **like), torch.empty((num_blocks, m), **like)

    def run(index: int) -> None:
        start, stop = index * block, min((index + 1) * block, n)
        cost_block = cost[start:stop]
        scores = _scratch((block, m + 1), cost, 0)[: stop - start]
        log_probs = _scratch((block, m + 1), cost, 1)[: stop - start]
        torch.add(col_potential, cost_block, alpha=scale, out=scores[:, :m])
        torch.amax(scores[:, :m], dim=1, out=row_max[start:stop])
        scores[:, m] = row_max[start:stop]
        torch._log_softmax(scores, 1, False, out=log_probs)
        row_log_prob[start:stop] = log_probs[:, m]
        if row_potential is not None:
            scores = _scratch((block + 1, m), cost, 2)[: stop - start + 1]
            log_probs = _scratch((block + 1, m), cost, 3)[: stop - start + 1]
            torch.add(row_potential[start:stop, None], cost_block, alpha=scale, out=scores[:-1])
            torch.amax(scores[:-1], dim=0, out=col_max[index])
            scores[-1] = col_max[index]
            torch._log_softmax(scores, 0, False, out=log_probs)
            col_log_prob[index] = log_probs[-1]

    _run_blocks(run, num_blocks, cost.device)
    rows = (-eps * _log_sum_from_appended_max(row_max, row_log_prob)).to(cost.dtype)
    if row_potential is None:
        return rows, None
    cols = torch.logsumexp(_log_sum_from_appended_max(col_max, col_log_prob), dim=0)
    return rows, (-eps * cols).to(cost.dtype)


def _plan_products(
    cost: torch.Tensor, eps: float, col_potential: torch.Tensor, rhs: torch.Tensor, block_rows: int | None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Row sums and ``P @ rhs`` of the row-stochastic plan ``P_ij = softmax_j(h_j - C_ij / eps)``.

    Parameters
    ----------
    cost : (n, m) tensor
    eps : float
    col_potential : (m,) tensor
    rhs : (m, D) tensor
    block_rows : int, optional

    Returns
    -------
    row_sums : (n,) tensor
    products : (n, D) tensor
    """
    n, m = cost.shape
    block = _block_rows(cost, _BACKWARD_BLOCK_ELEMENTS, block_rows)
    row_sums = torch.empty(n, dtype=cost.dtype, device=cost.device)
    products = torch.empty((n, rhs.shape[1]), dtype=cost.dtype, device=cost.device)

    def run(index: int) -> None:
        start, stop = index * block, min((index + 1) * block, n)
        scores = _scratch((block, m), cost, 0)[: stop - start]
        torch.add(col_potential, cost[start:stop], alpha=-1.0 / eps, out=scores)
        plan = torch._softmax(scores, 1, False, out=_scratch((block, m), cost, 1)[: stop - start])
        torch.sum(plan, dim=1, out=row_sums[start:stop])
        torch.mm(plan, rhs, out=products[start:stop])

    _run_blocks(run, -(-n // block), cost.device)
    return row_sums, products


def _column_plan_products(
    cost: torch.Tensor,
    eps: float,
    row_potential: torch.Tensor,
    col_result: torch.Tensor,
    rhs: torch.Tensor,
    block_rows: int | None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Column sums and ``Q^T @ rhs`` of the column-stochastic plan of the column soft-min ``col_result``.

    ``Q_ij = exp(h'_i - C_ij / eps + g_j / eps)`` where ``g = col_result`` is that soft-min's output, so each column
    of ``Q`` sums to one. ``rhs`` is ``(n, D)``; returns ``(m,)`` and ``(m, D)``.
    """
    n, m = cost.shape
    block = _block_rows(cost, _BACKWARD_BLOCK_ELEMENTS, block_rows)
    col_sums = torch.zeros(m, dtype=cost.dtype, device=cost.device)
    products = torch.zeros((m, rhs.shape[1]), dtype=cost.dtype, device=cost.device)
    shift = col_result / eps
    for start in range(0, n, block):
        stop = min(start + block, n)
        plan = torch.add(row_potential[start:stop, None], cost[start:stop], alpha=-1.0 / eps).add_(shift).exp_()
        col_sums += plan.sum(0)
        products.addmm_(plan.T, rhs[start:stop])
    return col_sums, products


# ---------------------------------------------------------------------------------------------------------------
# The Sinkhorn loops (geomloss's symmetric ε-scaling loop, one problem at a time: the problems do not interact)
# ---------------------------------------------------------------------------------------------------------------


def _log_weight(n: int, like: torch.Tensor) -> torch.Tensor:
    """``log(1 / n)`` in the dtype of ``like``, as a constant ``(n,)`` vector (uniform weights)."""
    return torch.full((n,), 1.0 / n, dtype=like.dtype, device=like.device).log()


def _cross_potentials(
    cost: torch.Tensor, schedule: tuple[float, ...], block_rows: int | None
) -> tuple[torch.Tensor, torch.Tensor]:
    """The x–y potentials ``(f, g)`` after the ε-scaling loop, before the final extrapolation."""
    n, m = cost.shape
    a_log, b_log = _log_weight(n, cost), _log_weight(m, cost)
    f, g = _softmin(cost, schedule[0], b_log, a_log, block_rows)
    for eps in schedule:
        f_new, g_new = _softmin(cost, eps, b_log + g / eps, a_log + f / eps, block_rows)
        f, g = 0.5 * (f + f_new), 0.5 * (g + g_new)
    return f, g


def _self_potential(cost: torch.Tensor, schedule: tuple[float, ...], block_rows: int | None) -> torch.Tensor:
    """The potential of a symmetric (x–x or y–y) problem after the ε-scaling loop, before the extrapolation."""
    log_weight = _log_weight(cost.shape[0], cost)
    f, _ = _softmin(cost, schedule[0], log_weight, None, block_rows)
    for eps in schedule:
        f = 0.5 * (f + _softmin(cost, eps, log_weight + f / eps, None, block_rows)[0])
    return f


def _self_problem(
    cloud: torch.Tensor, schedule: tuple[float, ...], block_rows: int | None
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The symmetric problem of ``cloud``: its cost matrix, the final step's input ``h`` and its output potential."""
    cost = _half_squared_distances(cloud, cloud)
    eps = schedule[-1]
    h = _log_weight(cost.shape[0], cost) + _self_potential(cost, schedule, block_rows) / eps
    final, _ = _softmin(cost, eps, h, None, block_rows)
    return cost, h, final


def _self_term(cloud: torch.Tensor, schedule: tuple[float, ...], block_rows: int | None) -> float:
    """``<weights, final potential>`` of the symmetric problem of ``cloud`` (one of the divergence's self terms)."""
    return float(_self_problem(cloud, schedule, block_rows)[2].double().mean())


class _SinkhornDivergence(torch.autograd.Function):
    """Forward: the whole loop without gradients; backward: the gradient of the final extrapolation step."""

    @staticmethod
    def forward(
        ctx: Any,
        x: torch.Tensor,
        y: torch.Tensor,
        schedule: tuple[float, ...],
        target_term: float | None,
        block_rows: int | None,
    ) -> torch.Tensor:
        eps = schedule[-1]
        a_log, b_log = _log_weight(x.shape[0], x), _log_weight(y.shape[0], y)
        cost_xy = _half_squared_distances(x, y)
        f_ba, g_ab = _cross_potentials(cost_xy, schedule, block_rows)
        h_y, h_x = b_log + g_ab / eps, a_log + f_ba / eps  # inputs of the final step, held constant by geomloss
        f_final, g_final = _softmin(cost_xy, eps, h_y, h_x, block_rows)
        if not any(ctx.needs_input_grad[:2]):
            del cost_xy  # frees it before the next cost matrix
        cost_xx, h_xx, f_aa_final = _self_problem(x, schedule, block_rows)
        cost_yy = h_yy = None
        if target_term is None:
            cost_yy, h_yy, g_bb_final = _self_problem(y, schedule, block_rows)
            target_term = float(g_bb_final.double().mean())
        value = (f_final.double() - f_aa_final.double()).mean() + g_final.double().mean() - target_term
        ctx.final_eps, ctx.block_rows = eps, block_rows
        if any(ctx.needs_input_grad[:2]):
            y_terms = (cost_yy, h_yy, h_x, g_final) if ctx.needs_input_grad[1] else (None,) * 4
            ctx.save_for_backward(x, y, cost_xy, cost_xx, h_y, h_xx, *y_terms)
        return value.to(x.dtype)

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx: Any, grad_output: torch.Tensor) -> tuple[torch.Tensor | None, ...]:
        x, y, cost_xy, cost_xx, h_y, h_xx, cost_yy, h_yy, h_x, g_final = ctx.saved_tensors
        eps, block_rows = ctx.final_eps, ctx.block_rows
        grad_x = grad_y = None
        if ctx.needs_input_grad[0]:
            sums_xy, plan_y = _plan_products(cost_xy, eps, h_y, y, block_rows)
            sums_xx, plan_x = _plan_products(cost_xx, eps, h_xx, x, block_rows)
            grad_x = (x * (sums_xy - sums_xx)[:, None] - plan_y + plan_x) * (grad_output / x.shape[0])
        if ctx.needs_input_grad[1]:
            sums_yx, plan_x = _column_plan_products(cost_xy, eps, h_x, g_final, x, block_rows)
            sums_yy, plan_y = _plan_products(cost_yy, eps, h_yy, y, block_rows)
            grad_y = (y * (sums_yx - sums_yy)[:, None] - plan_x + plan_y) * (grad_output / y.shape[0])
        return grad_x, grad_y, None, None, None


# ---------------------------------------------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------------------------------------------


class SinkhornCache:
    """Target self-transport terms (the y–y problem) keyed by (target key, ε schedule).

    The y–y term of the divergence depends only on the target batch and on the ε schedule. Training compares
    every epoch against the same target batches, so it passes one cache and a key per batch (e.g.
    ``("train", start)``) and each term is computed once per schedule. The schedule depends on the diameter of
    both clouds, hence on the samples too, and a sample of hard Gumbel-softmax rows (whose hot entries are
    ``1 ± 1 ulp``) moves it in the 7th digit from call to call. So an entry is keyed by, and computed with, the
    schedule rounded to 6 significant digits: what is cached depends only on the target and that rounded
    schedule, not on which call filled it (a resumed run computes the same terms), and it differs from the term
    under the unrounded schedule by float rounding only (the term is insensitive to the early temperatures; in
    float64 a 10 % change of the diameter leaves it unchanged to the last digit). Each entry keeps a checksum
    of its target, and a key reused for another target is an error.

    Parameters
    ----------
    max_entries : int
        Oldest entries are dropped beyond this many.
    """

    def __init__(self, max_entries: int = 4096) -> None:
        if max_entries < 1:
            raise ValueError(f"max_entries must be >= 1, found {max_entries}")
        self.max_entries = max_entries
        self.hits = 0
        self.misses = 0
        self._entries: OrderedDict[tuple[Hashable, tuple[float, ...]], tuple[tuple[Any, ...], float]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def target_term(
        self, key: Hashable, y: torch.Tensor, schedule: tuple[float, ...], block_rows: int | None = None
    ) -> float:
        """The y–y term ``<weights, final y–y potential>`` of target ``y`` under ``key`` and ``schedule``.

        Parameters
        ----------
        key : hashable
            Identifies ``y``.
        y : (M, D) tensor
        schedule : tuple of float
            The call's ε schedule (:func:`epsilon_schedule`); the term is computed with it rounded.
        block_rows : int, optional

        Returns
        -------
        float
        """
        rounded = cache_schedule(schedule)
        entry_key = (key, rounded)
        checksum = _checksum(y)
        if entry_key in self._entries:
            stored, value = self._entries[entry_key]
            if stored != checksum:
                raise ValueError(f"target_key {key!r} was cached for another target y (shape {stored[0]})")
            self.hits += 1
            self._entries.move_to_end(entry_key)
            return value
        self.misses += 1
        value = _self_term(y.detach(), rounded, block_rows)
        self._entries[entry_key] = (checksum, value)
        if len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)
        return value


def cache_schedule(schedule: tuple[float, ...]) -> tuple[float, ...]:
    """``schedule`` rounded to 6 significant digits: the key and the temperatures of a cached y–y term."""
    return tuple(float(f"{eps:.{_SCHEDULE_DIGITS}g}") for eps in schedule)


def _checksum(y: torch.Tensor) -> tuple[Any, ...]:
    """Shape, dtype and two position-weighted sums of ``y``: enough to tell another target batch from this one."""
    y = y.detach()
    rows = (y @ torch.arange(1, y.shape[1] + 1, dtype=y.dtype, device=y.device)).double()
    positions = torch.arange(1, y.shape[0] + 1, dtype=torch.float64, device=y.device)
    return tuple(y.shape), y.dtype, float(rows.sum()), float((rows * positions).sum())


def _check_cloud(name: str, cloud: Any) -> None:
    if not isinstance(cloud, torch.Tensor):
        raise ValueError(f"{name} must be a torch.Tensor, found {type(cloud).__name__}")
    if cloud.ndim != 2:
        raise ValueError(f"{name} must be an (N, D) tensor, found shape {tuple(cloud.shape)}")
    if cloud.shape[0] == 0 or cloud.shape[1] == 0:
        raise ValueError(
            f"{name} must hold at least one point of at least one coordinate, found shape {tuple(cloud.shape)}"
        )
    if not cloud.is_floating_point():
        raise ValueError(f"{name} must be a floating-point tensor, found {cloud.dtype}")
    if not bool(torch.isfinite(cloud).all()):
        raise ValueError(f"{name} contains NaN or infinite values")


def _check_settings(p: int, blur: float, scaling: float) -> None:
    if p != 2:
        raise ValueError(f"p must be 2 (cost |x - y|^2 / 2); p={p} is only available with the geomloss backend")
    if not (math.isfinite(blur) and blur > 0):
        raise ValueError(f"blur must be a finite number > 0, found {blur}")
    if not 0 < scaling < 1:
        raise ValueError(f"scaling must be in (0, 1), found {scaling}")


def sinkhorn_divergence(
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    p: int = 2,
    blur: float = 0.2,
    scaling: float = 0.5,
    cache: SinkhornCache | None = None,
    target_key: Hashable | None = None,
    block_rows: int | None = None,
) -> torch.Tensor:
    """Debiased Sinkhorn divergence ``S_eps(x, y)`` between two uniformly weighted point clouds.

    Equal to ``geomloss.SamplesLoss("sinkhorn", p=2, blur=blur, scaling=scaling, debias=True)(x, y)`` (geomloss
    0.3.1) up to float rounding, gradient included (see the module docstring). Clouds whose points all coincide
    (diameter 0, where geomloss fails) have divergence 0.

    Parameters
    ----------
    x : (N, D) float tensor
        Source points; the result is differentiable with respect to them.
    y : (M, D) float tensor
        Target points, same dtype and device. Differentiable too unless a cache is used.
    p : int
        Exponent of the ground cost; only 2 is supported.
    blur : float
        Final blur; the last temperature is ``blur^2``.
    scaling : float
        Ratio of successive blur scales of the ε-scaling loop, in (0, 1).
    cache : SinkhornCache, optional
        Where the y–y term of ``target_key`` is looked up, and stored on a miss.
    target_key : hashable, optional
        Identifies ``y`` in ``cache``; required with a cache.
    block_rows : int, optional
        Rows per soft-min block (default: about 512 KB of float32 per block).

    Returns
    -------
    () tensor
    """
    _check_cloud("x", x)
    _check_cloud("y", y)
    if x.shape[1] != y.shape[1]:
        raise ValueError(f"x and y must have the same width D, found x {tuple(x.shape)} and y {tuple(y.shape)}")
    if x.dtype != y.dtype or x.device != y.device:
        raise ValueError(
            f"x and y must share dtype and device, found x {x.dtype} on {x.device}, y {y.dtype} on {y.device}"
        )
    _check_settings(p, blur, scaling)
    if (cache is None) != (target_key is None):
        raise ValueError("cache and target_key must be given together")
    if cache is not None and y.requires_grad:
        raise ValueError("y must not require gradients when its self term comes from a cache")
    if block_rows is not None and block_rows < 1:
        raise ValueError(f"block_rows must be >= 1, found {block_rows}")
    diameter = bounding_diameter(x.detach(), y.detach())
    if diameter == 0:  # every point of both clouds is the same point
        return (x.sum() + y.sum()) * 0.0
    schedule = epsilon_schedule(diameter, blur=blur, scaling=scaling, p=p)
    target_term = None if cache is None else cache.target_term(target_key, y, schedule, block_rows)
    return _SinkhornDivergence.apply(x, y, schedule, target_term, block_rows)


def make_sinkhorn_loss(
    backend: str, *, p: int, blur: float, scaling: float
) -> Callable[[torch.Tensor, torch.Tensor, Hashable | None], torch.Tensor]:
    """The training loss ``loss(x, y, target_key)`` of ``backend``: ``hmmrnn`` or ``geomloss``.

    The ``hmmrnn`` loss is :func:`sinkhorn_divergence` with a fresh :class:`SinkhornCache`: calls with the same
    ``target_key`` must pass the same target ``y`` (``None`` computes the y–y term afresh). The ``geomloss``
    loss is ``SamplesLoss("sinkhorn", p, blur, scaling)`` and ignores the key.

    Parameters
    ----------
    backend : str
        One of :data:`SINKHORN_BACKENDS`.
    p, blur, scaling : int, float, float
        Settings of the divergence (config ``training.sinkhorn_*``).

    Returns
    -------
    callable
    """
    if backend == "geomloss":
        from geomloss import SamplesLoss

        samples_loss = SamplesLoss("sinkhorn", p=p, blur=blur, scaling=scaling)

        def geomloss_loss(x: torch.Tensor, y: torch.Tensor, target_key: Hashable | None = None) -> torch.Tensor:
            return samples_loss(x, y)

        return geomloss_loss
    if backend != "hmmrnn":
        raise ValueError(f"backend must be one of {SINKHORN_BACKENDS}, found {backend!r}")
    _check_settings(p, blur, scaling)
    cache = SinkhornCache()

    def hmmrnn_loss(x: torch.Tensor, y: torch.Tensor, target_key: Hashable | None = None) -> torch.Tensor:
        return sinkhorn_divergence(
            x,
            y,
            p=p,
            blur=blur,
            scaling=scaling,
            cache=None if target_key is None else cache,
            target_key=target_key,
        )

    return hmmrnn_loss
