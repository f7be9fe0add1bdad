"""Convergence policy (PAPER_SPEC §8.1): when a trained network counts as an HMM emulator.

A network is converged only when every criterion of :func:`hmmrnn.convergence.assess_convergence` passes: the
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
from typing import Any, NamedTuple

import numpy as np
import torch

from .dynamics.simulation import Weights, argmax_outputs, simulate
from .evaluation.model import evaluate_model
from .evaluation.statistics import EmissionStats, squared_transition_difference
from .hmm import HMM
from .rnn import NoiseRNN
from .seeds import numpy_rng, torch_generator
from .settings import FromParams
from .training import TrainResult, TrainSettings, train_rnn

__all__ = [
    "ConvergencePolicy",
    "ConvergenceRecord",
    "ConvergenceThresholds",
    "DynamicsStats",
    "RetriedTraining",
    "assess_convergence",
    "attempt_seed",
    "check_convergence",
    "early_stopping",
    "early_stopping_key",
    "noise_dynamics",
    "stopping_settings",
    "train_with_retries",
]

log = logging.getLogger(__name__)


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
class ConvergencePolicy(ConvergenceThresholds, FromParams):
    """Config ``convergence``: the thresholds and sizes of the convergence check, early stopping, retries, and the
    draws of the family's floor (``floor_draws``, read by the floor rule alone). The ``max_*`` thresholds are the
    fields it inherits from :class:`ConvergenceThresholds`.

    The check also reads the family's ``eval_seq_len`` and config ``evaluation``'s alignment settings; the functions
    of this module take them as separate arguments (``eval_seq_len``, ``evaluation``).
    """

    num_sequences: int
    num_trajectories: int
    dynamics_steps: int
    decay_steps: int
    patience: int
    train_on_epochs: int
    max_attempts: int
    seed_stride: int
    floor_draws: int

    @property
    def thresholds(self) -> ConvergenceThresholds:
        """The pass limits of the criteria (the ``max_*`` settings)."""
        return ConvergenceThresholds(
            **{name: getattr(self, name) for name in ConvergenceThresholds.__dataclass_fields__}
        )


def attempt_seed(seed: int, attempt: int, seed_stride: int) -> int:
    """Seed of retry ``attempt`` (0 = first try) of model seed ``seed``: ``seed + seed_stride * attempt``."""
    return seed + seed_stride * attempt


def check_convergence(
    hmm: HMM,
    weights: Weights,
    *,
    val_loss: float,
    loss_floor: float,
    policy: ConvergencePolicy,
    eval_seq_len: int,
    evaluation: Mapping[str, Any],
    seed: int,
    tag: object,
) -> ConvergenceRecord:
    """Evaluate ``weights`` against fresh HMM samples and apply the policy's thresholds.

    Parameters
    ----------
    hmm : HMM
    weights : Weights
    val_loss, loss_floor : float
        The model's validation loss and the family's floor with the same batching.
    policy : ConvergencePolicy
    eval_seq_len : int
        Length of the compared sequences (the family's ``hmms.<name>.eval_seq_len``).
    evaluation : mapping
        Config ``evaluation`` less ``num_sequences`` (:data:`hmmrnn.study.CHECK_EVALUATION_EXCLUDE`; the check draws
        ``policy.num_sequences``): ``emit_from_zero`` and the Sinkhorn-alignment settings, passed on to
        :func:`hmmrnn.evaluation.model.evaluate_model`.
    seed : int
        With ``tag`` (e.g. the epoch), seeds every random draw of the check.
    tag : object

    Returns
    -------
    ConvergenceRecord
    """
    device = weights.W_hh.device
    evaluated = evaluate_model(
        hmm,
        weights,
        num_sequences=policy.num_sequences,
        eval_seq_len=eval_seq_len,
        rng=numpy_rng(seed, "convergence", tag),
        generator=torch_generator(seed, "convergence", tag, device=device),
        **evaluation,
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
        distance_score=evaluated.alignment.mean,
        baseline_distance=evaluated.baseline.mean,
        rnn=evaluated.rnn,
        hmm=evaluated.hmm,
        dynamics=dynamics,
        thresholds=policy.thresholds,
    )


def early_stopping(
    hmm: HMM,
    *,
    loss_floor: float,
    policy: ConvergencePolicy,
    eval_seq_len: int,
    evaluation: Mapping[str, Any],
    seed: int,
) -> Callable[[int, Sequence[Mapping[str, float]], NoiseRNN], bool]:
    """A ``stop_when`` callback for :func:`hmmrnn.training.train_rnn`.

    The validation loss *qualifies* at an epoch when the last ``policy.patience`` validation losses are all
    within the loss-ratio threshold. From ``policy.train_on_epochs`` epochs after it first qualified, the full
    check runs on the current weights at every validated epoch that qualifies; training stops when it passes.
    ``patience = 0`` never stops early. The callback is a pure function of the history (rows with ``epoch`` and
    ``val_loss``) and the weights, so resumed runs decide identically. ``eval_seq_len`` and ``evaluation`` are
    those of :func:`check_convergence`.
    """
    bound = policy.max_loss_ratio * loss_floor

    def stop_when(epoch: int, history: Sequence[Mapping[str, float]], model: NoiseRNN) -> bool:
        if policy.patience == 0:
            return False
        validated = [row for row in history if not math.isnan(row["val_loss"])]
        epochs = np.array([row["epoch"] for row in validated], dtype=np.int64)
        within = np.array([row["val_loss"] <= bound for row in validated], dtype=np.int64)
        # qualifies[i]: validations i .. i + patience - 1 are all within the bound
        qualifies = np.convolve(within, np.ones(policy.patience, dtype=np.int64), "valid") == policy.patience
        if not qualifies.size or not qualifies[-1]:
            return False
        first = int(epochs[policy.patience - 1 :][qualifies][0])  # the epoch it first qualified
        if epoch < first + policy.train_on_epochs:
            return False
        weights = Weights.from_state_dict(model.state_dict(), dtype=torch.float32)
        record = check_convergence(
            hmm,
            weights,
            val_loss=validated[-1]["val_loss"],
            loss_floor=loss_floor,
            policy=policy,
            eval_seq_len=eval_seq_len,
            evaluation=evaluation,
            seed=seed,
            tag=epoch,
        )
        failed = [name for name, value in asdict(record).items() if name.startswith("is_") and not value]
        log.info("epoch %d: convergence check %s", epoch, "passed" if record.is_converged else f"failed {failed}")
        return record.is_converged

    return stop_when


def stopping_settings(policy: ConvergencePolicy, *, eval_seq_len: int, evaluation: Mapping[str, Any]) -> dict:
    """The settings part of :func:`early_stopping_key`: what the early-stopping check reads.

    Written out by hand, names and order included: these are the sorted items of the ``asdict`` of the former
    ``ConvergencePolicy`` (flat, with nested ``thresholds``, the family's ``eval_seq_len`` as ``num_timesteps`` and
    config ``evaluation``'s alignment settings) less ``max_attempts`` and ``seed_stride``, so that the finished
    states in users' ``resume/`` folders stay valid (the key is part of the resume fingerprint). Never rename,
    reorder or drop a key here; a new setting that changes when training stops goes in with a bump of the training
    state version (``hmmrnn.training._STATE_VERSION``).
    """
    return {
        "decay_steps": policy.decay_steps,
        "dynamics_steps": policy.dynamics_steps,
        "emit_from_zero": evaluation["emit_from_zero"],
        "num_sequences": policy.num_sequences,
        "num_timesteps": eval_seq_len,
        "num_trajectories": policy.num_trajectories,
        "patience": policy.patience,
        "sinkhorn_epsilon": evaluation["sinkhorn_epsilon"],
        "sinkhorn_max_iters": evaluation["sinkhorn_max_iters"],
        "sinkhorn_tol": evaluation["sinkhorn_tol"],
        "thresholds": {
            "max_loss_ratio": policy.max_loss_ratio,
            "max_distance_ratio": policy.max_distance_ratio,
            "max_transition_sq_diff": policy.max_transition_sq_diff,
            "max_switch_rel_error": policy.max_switch_rel_error,
            "max_frequency_error": policy.max_frequency_error,
            "max_norm_growth": policy.max_norm_growth,
            "max_decay_ratio": policy.max_decay_ratio,
        },
        "train_on_epochs": policy.train_on_epochs,
    }


def early_stopping_key(
    hmm: HMM, *, loss_floor: float, policy: ConvergencePolicy, eval_seq_len: int, evaluation: Mapping[str, Any]
) -> tuple | None:
    """What the :func:`early_stopping` rule of these arguments depends on (``stop_key`` of ``train_rnn``).

    ``None`` when it never stops (``patience = 0``): then a finished run is reused whatever the thresholds and the
    floor. The retry settings are left out, so that allowing more attempts reuses the attempts already made (and
    ``floor_draws`` too: the floor enters as ``loss_floor``). The settings are :func:`stopping_settings`.
    """
    if policy.patience == 0:
        return None
    settings = stopping_settings(policy, eval_seq_len=eval_seq_len, evaluation=evaluation)
    matrices = (hmm.transition_matrix, hmm.emission_matrix, hmm.start_distribution)
    return (list(settings.items()), float(loss_floor), *(matrix.tolist() for matrix in matrices))


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
    epochs: int,
    grad_clip: float,
    evolution_every: int,
    policy: ConvergencePolicy,
    eval_seq_len: int,
    evaluation: Mapping[str, Any],
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
    only repeats the (seeded) convergence checks. ``settings``, ``epochs``, ``grad_clip``, ``evolution_every`` and
    ``rebuild_target`` are passed on to ``train_rnn``; ``eval_seq_len`` and ``evaluation`` to the convergence checks
    (:func:`check_convergence`).
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
            epochs=epochs,
            grad_clip=grad_clip,
            evolution_every=evolution_every,
            seed=seed_used,
            device=device,
            resume_dir=None if resume_dir is None else Path(resume_dir) / f"attempt_{attempt}",
            stop_when=early_stopping(
                hmm,
                loss_floor=loss_floor,
                policy=policy,
                eval_seq_len=eval_seq_len,
                evaluation=evaluation,
                seed=seed_used,
            ),
            stop_key=early_stopping_key(
                hmm, loss_floor=loss_floor, policy=policy, eval_seq_len=eval_seq_len, evaluation=evaluation
            ),
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
            eval_seq_len=eval_seq_len,
            evaluation=evaluation,
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
