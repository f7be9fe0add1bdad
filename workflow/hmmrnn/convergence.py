"""Convergence policy (PAPER_SPEC §8.1): when a trained network counts as an HMM emulator.

A network is converged only when every criterion of :func:`hmmrnn.metrics.assess_convergence` passes: the
validation-loss ratio to the family's Sinkhorn floor, the aligned distance and emission statistics of its
sampled sequences, and bounded noisy dynamics that collapse without input. The loss ratio alone cannot decide:
the memoryless i.i.d. plateau already sits at about 1.4 x floor for M = 3.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .hmm import HMM
from .metrics import ConvergenceRecord, ConvergenceThresholds, assess_convergence, evaluate_model, noise_dynamics
from .rnn import NoiseRNN
from .seeds import numpy_rng, torch_generator
from .simulate import Weights
from .training import TrainResult, TrainSettings, train_rnn

__all__ = [
    "ConvergencePolicy",
    "RetriedTraining",
    "attempt_seed",
    "check_convergence",
    "early_stopping",
    "early_stopping_key",
    "train_with_retries",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ConvergencePolicy:
    """Settings of the convergence check and of early stopping and retries (config ``convergence``).

    ``num_timesteps`` is the family's evaluation sequence length; the Sinkhorn-alignment settings are those of
    config ``evaluation``.
    """

    thresholds: ConvergenceThresholds
    num_sequences: int
    num_timesteps: int
    emit_from_zero: bool
    sinkhorn_epsilon: float
    sinkhorn_max_iters: int
    sinkhorn_tol: float
    num_trajectories: int
    dynamics_steps: int
    decay_steps: int
    patience: int
    max_attempts: int
    seed_stride: int

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> ConvergencePolicy:
        """Policy from the flat mapping built by :func:`hmmrnn.study.convergence_params`."""
        fields = dict(params)
        thresholds = ConvergenceThresholds(
            **{key: fields.pop(key) for key in ConvergenceThresholds.__dataclass_fields__}
        )
        return cls(thresholds=thresholds, **fields)


def attempt_seed(seed: int, attempt: int, seed_stride: int) -> int:
    """Seed of retry ``attempt`` (0 = first try) of model seed ``seed``: ``seed + seed_stride * attempt``."""
    return seed + seed_stride * attempt


def check_convergence(
    hmm: HMM, weights: Weights, *, val_loss: float, loss_floor: float, policy: ConvergencePolicy, seed: int, tag: object
) -> ConvergenceRecord:
    """Evaluate ``weights`` against fresh HMM samples and apply the policy's thresholds.

    Parameters
    ----------
    hmm : HMM
    weights : Weights
    val_loss, loss_floor : float
        The model's validation loss and the family's floor with the same batching.
    policy : ConvergencePolicy
    seed : int
        With ``tag`` (e.g. the epoch), seeds every random draw of the check.
    tag : object

    Returns
    -------
    ConvergenceRecord
    """
    device = weights.W_hh.device
    evaluation = evaluate_model(
        hmm,
        weights,
        num_sequences=policy.num_sequences,
        num_timesteps=policy.num_timesteps,
        rng=numpy_rng(seed, "convergence", tag),
        generator=torch_generator(seed, "convergence", tag, device=device),
        emit_from_zero=policy.emit_from_zero,
        epsilon=policy.sinkhorn_epsilon,
        max_iters=policy.sinkhorn_max_iters,
        tol=policy.sinkhorn_tol,
    )
    dynamics = noise_dynamics(
        weights,
        num_trajectories=policy.num_trajectories,
        num_timesteps=policy.dynamics_steps,
        decay_steps=policy.decay_steps,
        generator=torch_generator(seed, "convergence-dynamics", tag, device=device),
    )
    return assess_convergence(
        val_loss=val_loss,
        loss_floor=loss_floor,
        distance_score=evaluation.alignment.mean,
        baseline_distance=evaluation.baseline.mean,
        rnn=evaluation.rnn,
        hmm=evaluation.hmm,
        dynamics=dynamics,
        thresholds=policy.thresholds,
    )


def early_stopping(
    hmm: HMM, *, loss_floor: float, policy: ConvergencePolicy, seed: int
) -> Callable[[int, Sequence[Mapping[str, float]], NoiseRNN], bool]:
    """A ``stop_when`` callback for :func:`hmmrnn.training.train_rnn`.

    Once the last ``policy.patience`` validation losses are all within the loss-ratio threshold, the full
    check runs on the current weights; training stops when it passes. ``patience = 0`` never stops early.
    The callback is a pure function of the history and the weights, so resumed runs decide identically.
    """

    def stop_when(epoch: int, history: Sequence[Mapping[str, float]], model: NoiseRNN) -> bool:
        if policy.patience == 0:
            return False
        validated = [row["val_loss"] for row in history if not math.isnan(row["val_loss"])]
        recent = validated[-policy.patience :]
        if len(recent) < policy.patience or max(recent) > policy.thresholds.max_loss_ratio * loss_floor:
            return False
        weights = Weights.from_state_dict(model.state_dict(), dtype=torch.float32)
        record = check_convergence(
            hmm, weights, val_loss=recent[-1], loss_floor=loss_floor, policy=policy, seed=seed, tag=epoch
        )
        failed = [name for name, value in asdict(record).items() if name.startswith("is_") and not value]
        log.info("epoch %d: convergence check %s", epoch, "passed" if record.is_converged else f"failed {failed}")
        return record.is_converged

    return stop_when


def early_stopping_key(hmm: HMM, *, loss_floor: float, policy: ConvergencePolicy) -> tuple | None:
    """What the :func:`early_stopping` rule of these arguments depends on (``stop_key`` of ``train_rnn``).

    ``None`` when it never stops (``patience = 0``): then a finished run is reused whatever the thresholds and the
    floor. The retry settings are left out, so that allowing more attempts reuses the attempts already made.
    """
    if policy.patience == 0:
        return None
    settings = {name: value for name, value in asdict(policy).items() if name not in ("max_attempts", "seed_stride")}
    matrices = (hmm.transition_matrix, hmm.emission_matrix, hmm.start_distribution)
    return (sorted(settings.items()), float(loss_floor), *(matrix.tolist() for matrix in matrices))


@dataclass(frozen=True)
class RetriedTraining:
    """The kept training run of :func:`train_with_retries` and how it was reached."""

    result: TrainResult
    record: ConvergenceRecord
    attempts: int
    seed_used: int


def train_with_retries(
    train_outputs: np.ndarray,
    val_outputs: np.ndarray,
    hmm: HMM,
    *,
    input_dim: int,
    hidden_size: int,
    settings: TrainSettings,
    policy: ConvergencePolicy,
    loss_floor: float,
    seed: int,
    device: str,
    resume_dir: str | Path | None = None,
    rebuild_target: str | Path | None = None,
) -> RetriedTraining:
    """Train, check convergence, and retrain with seed ``seed + seed_stride * attempt`` until converged.

    Each attempt stops early once converged (:func:`early_stopping`). After ``policy.max_attempts``
    unconverged attempts the one with the lowest final validation loss is kept, flagged unconverged.
    Attempt ``k`` keeps its state in ``resume_dir/attempt_k``: a rerun with the same arguments trains nothing,
    only repeats the (seeded) convergence checks. ``rebuild_target`` is passed on to ``train_rnn``.
    """
    tried: list[RetriedTraining] = []
    for attempt in range(policy.max_attempts):
        seed_used = attempt_seed(seed, attempt, policy.seed_stride)
        result = train_rnn(
            train_outputs,
            val_outputs,
            input_dim=input_dim,
            hidden_size=hidden_size,
            num_outputs=hmm.num_outputs,
            settings=settings,
            seed=seed_used,
            device=device,
            resume_dir=None if resume_dir is None else Path(resume_dir) / f"attempt_{attempt}",
            stop_when=early_stopping(hmm, loss_floor=loss_floor, policy=policy, seed=seed_used),
            stop_key=early_stopping_key(hmm, loss_floor=loss_floor, policy=policy),
            rebuild_target=rebuild_target,
        )
        last = result.history.iloc[-1]
        weights = Weights.from_state_dict(result.final_state, dtype=torch.float32).to(device)
        # tagged with the last epoch: after an early stop this repeats that epoch's passing check exactly
        record = check_convergence(
            hmm,
            weights,
            val_loss=float(last["val_loss"]),
            loss_floor=loss_floor,
            policy=policy,
            seed=seed_used,
            tag=int(last["epoch"]),
        )
        tried.append(RetriedTraining(result, record, attempt + 1, seed_used))
        log.info("attempt %d (seed %d): %s", attempt + 1, seed_used, record.as_dict())
        if record.is_converged:
            return tried[-1]
    kept = min(tried, key=lambda run: run.record.loss_ratio)
    log.warning("no attempt converged; keeping seed %d (loss ratio %.3f)", kept.seed_used, kept.record.loss_ratio)
    return RetriedTraining(kept.result, kept.record, len(tried), kept.seed_used)
