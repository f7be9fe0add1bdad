"""Training of the noise-driven RNN against HMM sequences with a Sinkhorn divergence (PAPER_SPEC §3).

The trainer is resumable: every ``resume_every`` epochs it writes weights, optimiser state, every random
generator state and the history to ``resume_dir``; a rerun with the same settings continues from there and,
on the CPU, ends with weights bitwise equal to an uninterrupted run. The state of the finished run stays there
too (about 0.5 MB for H = 150, d = 100, plus the staged evolution snapshots), keyed by the run's fingerprint of
data, sizes, settings, seed and stopping rule: a rerun of the same run (e.g. after Snakemake deleted its outputs)
trains nothing and returns the same result, bitwise; any change to those starts afresh.
"""

from __future__ import annotations

import hashlib
import logging
import math
import shutil
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from .errors import InputFileError
from .io import load_checkpoint, rebuild_command, save_checkpoint
from .rnn import NoiseRNN
from .seeds import torch_generator
from .settings import FromParams
from .sinkhorn import make_sinkhorn_loss

__all__ = [
    "TrainResult",
    "TrainSettings",
    "fingerprint_settings",
    "format_duration",
    "is_evolution_epoch",
    "one_hot",
    "select_device",
    "train_rnn",
]

log = logging.getLogger(__name__)

_RESUME_FILE = "state.pt"
_EVOLUTION_DIR = "evolution"
# part of every run's fingerprint: bump it when a code change makes the same settings train different weights,
# so that resume folders of older runs are no longer reused
_STATE_VERSION = 1


@dataclass(frozen=True)
class TrainSettings(FromParams):
    """Config ``training``, less ``device`` and ``evolution`` (the rule passes the device and a model's evolution
    schedule apart): what determines a training run apart from data, sizes, seed and the family's ``epochs`` and
    ``grad_clip``."""

    batch_size: int
    learning_rate: float
    adam_betas: tuple[float, float]
    sinkhorn_blur: float
    sinkhorn_p: int
    sinkhorn_scaling: float
    sinkhorn_backend: str  # hmmrnn (hmmrnn.sinkhorn) or geomloss (the reference implementation)
    gumbel_tau: float
    validate_every: int
    resume_every: int

    def __post_init__(self) -> None:
        object.__setattr__(self, "adam_betas", tuple(self.adam_betas))


def fingerprint_settings(settings: TrainSettings, *, epochs: int, grad_clip: float, evolution_every: int) -> dict:
    """The settings part of a run's resume fingerprint.

    Written out by hand, names and order included: these are the keys and the order of the former single
    ``TrainSettings`` (``asdict``), so that the finished states in users' ``resume/`` folders stay valid. Never
    rename, reorder or drop a key here; a new setting that changes training goes in with a bump of
    ``_STATE_VERSION``.
    """
    return {
        "epochs": epochs,
        "batch_size": settings.batch_size,
        "learning_rate": settings.learning_rate,
        "adam_betas": settings.adam_betas,
        "grad_clip": grad_clip,
        "sinkhorn_blur": settings.sinkhorn_blur,
        "sinkhorn_p": settings.sinkhorn_p,
        "sinkhorn_scaling": settings.sinkhorn_scaling,
        "sinkhorn_backend": settings.sinkhorn_backend,
        "gumbel_tau": settings.gumbel_tau,
        "validate_every": settings.validate_every,
        "resume_every": settings.resume_every,
        "evolution_every": evolution_every,
    }


@dataclass(frozen=True)
class TrainResult:
    """Outcome of :func:`train_rnn`: state dicts on the CPU, a per-epoch history and evolution snapshots."""

    final_state: dict[str, torch.Tensor]
    best_state: dict[str, torch.Tensor]
    best_epoch: int
    history: pd.DataFrame  # epoch, train_loss, val_loss (NaN when not validated), seconds
    evolution: dict[str, torch.Tensor]  # epoch (E,), and stacked weights per state-dict key (E, ...)
    seconds: float
    device: str


def one_hot(outputs: np.ndarray, num_outputs: int, device: str | torch.device) -> torch.Tensor:
    """``(n, T)`` symbols -> ``(n, T * num_outputs)`` float32 flattened one-hot sequences on ``device``."""
    symbols = torch.as_tensor(outputs.astype(np.int64), device=device)
    return torch.nn.functional.one_hot(symbols, num_outputs).float().flatten(1)


def select_device(requested: str, gpus: int) -> str:
    """The torch device for a job that asked for ``requested`` (cpu/cuda) and was granted ``gpus`` GPUs.

    A job granted no GPU (e.g. ``--resources gpu=0``) runs on the CPU. A CUDA job on a machine where torch
    sees no CUDA device is an error, not a silent fallback.
    """
    if requested == "cpu" or gpus <= 0:
        return "cpu"
    if not torch.cuda.is_available():
        raise RuntimeError(
            "training.device asks for CUDA but torch sees no CUDA device on this machine "
            f"(torch {torch.__version__}); set training.device: cpu, or run with --resources gpu=0 (locally) or "
            "--set-resources train_rnn:gpu=0 evaluate_rnn:gpu=0 (any executor)"
        )
    return "cuda"


def format_duration(seconds: float) -> str:
    """``HH:MM:SS``, with whole days in front past 24 h (``2d 03:04:05``); ``?`` for a value that is not finite."""
    if not math.isfinite(seconds):
        return "?"
    days, rest = divmod(max(0, round(seconds)), 86_400)
    clock = f"{rest // 3600:02d}:{rest % 3600 // 60:02d}:{rest % 60:02d}"
    return f"{days}d {clock}" if days else clock


def is_evolution_epoch(epoch: int, every: int) -> bool:
    """Evolution checkpoints are kept after epoch 1 and every epoch divisible by ``every`` (0 disables them)."""
    return every > 0 and (epoch == 1 or epoch % every == 0)


def _fingerprint(**parts: Any) -> str:
    digest = hashlib.sha256()
    for key in sorted(parts):
        value = parts[key]
        digest.update(key.encode())
        digest.update(value.tobytes() if isinstance(value, np.ndarray) else repr(value).encode())
    return digest.hexdigest()


def _cpu_state(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {key: value.detach().cpu().clone() for key, value in model.state_dict().items()}


def train_rnn(
    train_outputs: np.ndarray,
    val_outputs: np.ndarray,
    *,
    input_dim: int,
    hidden_size: int,
    num_outputs: int,
    settings: TrainSettings,
    epochs: int,
    grad_clip: float,
    evolution_every: int,
    seed: int,
    device: str | torch.device = "cpu",
    resume_dir: str | Path | None = None,
    stop_when: Callable[[int, Sequence[Mapping[str, float]], NoiseRNN], bool] | None = None,
    stop_key: object = None,
    rebuild_target: str | Path | None = None,
) -> TrainResult:
    """Train a :class:`NoiseRNN` so that its sampled sequences match ``train_outputs`` in distribution.

    Parameters
    ----------
    train_outputs, val_outputs : (n, T) uint8 ndarray
        Target HMM output symbols; mini-batches are consecutive slices in fixed order.
    input_dim, hidden_size, num_outputs : int
        d, H and K of the network.
    settings : TrainSettings
    epochs, grad_clip : int, float
        The HMM family's epoch budget and gradient-norm clip (config ``hmms.<name>``).
    evolution_every : int
        Keep evolution checkpoints after epoch 1 and every ``evolution_every`` epochs (0: none).
    seed : int
        Seed of the weight-initialisation, input-noise and Gumbel streams.
    device : str or torch.device
    resume_dir : path, optional
        Folder for the resume checkpoint and staged evolution snapshots. It keeps the finished run's state, so
        that calling again with the same arguments trains nothing and returns the same result.
    stop_when : callable, optional
        Called after every validated epoch with ``(epoch, history rows, model)``; training stops early when it
        returns True. It must depend only on its arguments, so that resumed runs decide identically.
    stop_key : object, optional
        Identifies ``stop_when`` (its settings; ``None`` for a rule that never stops). Its ``repr`` is part of the
        fingerprint, so a finished run is reused only under the same stopping rule.
    rebuild_target : path, optional
        A workflow file made from this run; an unusable ``resume_dir`` (a lost evolution snapshot) is reported
        with the command that rebuilds it.

    Returns
    -------
    TrainResult
    """
    device = torch.device(device)
    num_timesteps = train_outputs.shape[1]
    fingerprint = _fingerprint(
        version=_STATE_VERSION,
        settings=fingerprint_settings(settings, epochs=epochs, grad_clip=grad_clip, evolution_every=evolution_every),
        sizes=(input_dim, hidden_size, num_outputs),
        seed=seed,
        stop=stop_key,
        train=np.ascontiguousarray(train_outputs),
        val=np.ascontiguousarray(val_outputs),
    )
    targets = {
        "train": one_hot(train_outputs, num_outputs, device),
        "val": one_hot(val_outputs, num_outputs, device),
    }

    model = NoiseRNN(input_dim, hidden_size, num_outputs, generator=torch_generator(seed, "init")).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=settings.learning_rate, betas=settings.adam_betas)
    noise_gen = torch_generator(seed, "noise", device=device)
    gumbel_gen = torch_generator(seed, "gumbel", device=device)
    loss_fn = make_sinkhorn_loss(  # the hmmrnn backend caches each target batch's y-y term, keyed by (split, start)
        settings.sinkhorn_backend, p=settings.sinkhorn_p, blur=settings.sinkhorn_blur, scaling=settings.sinkhorn_scaling
    )

    def run_batches(split: str, train: bool) -> float:
        """Mean loss over the split's consecutive batches, each with fresh noise."""
        target = targets[split]
        losses = []
        for start in range(0, target.shape[0], settings.batch_size):
            batch = target[start : start + settings.batch_size]
            noise = torch.randn((batch.shape[0], num_timesteps, input_dim), generator=noise_gen, device=device)
            with torch.set_grad_enabled(train):
                samples = model.sample(noise, generator=gumbel_gen, tau=settings.gumbel_tau).flatten(1)
                loss = loss_fn(samples, batch, (split, start))
            if train:
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
                optimizer.step()
            losses.append(loss.item())
        return float(np.mean(losses))

    resume_dir = Path(resume_dir) if resume_dir is not None else None
    rows: list[dict[str, float]] = []
    best_val, best_epoch, best_state = math.inf, 0, _cpu_state(model)
    evolution: dict[int, dict[str, torch.Tensor]] = {}
    start_epoch, is_finished, trained_on = 1, False, str(device)
    if resume_dir is not None:
        state = _load_resume(resume_dir, fingerprint)
        if state is not None:
            model.load_state_dict(state["model"])
            optimizer.load_state_dict(state["optimizer"])
            noise_gen.set_state(state["noise_rng"])
            gumbel_gen.set_state(state["gumbel_rng"])
            rows, best_val, best_epoch, best_state = (
                state["history"],
                state["best_val"],
                state["best_epoch"],
                state["best_state"],
            )
            evolution = _load_snapshots(resume_dir, state["epoch"], evolution_every, rebuild_target)
            is_finished = bool(state.get("is_finished", False))
            if is_finished:  # an early stop ends before epochs: nothing is left to train either way
                start_epoch, trained_on = epochs + 1, state["device"]
                log.info(
                    "the run is already finished (epoch %d, checkpoint %s): training nothing, rewriting its results",
                    state["epoch"],
                    resume_dir / _RESUME_FILE,
                )
            else:
                start_epoch = state["epoch"] + 1
                log.info("resuming from epoch %d (checkpoint %s)", state["epoch"], resume_dir / _RESUME_FILE)
        else:
            shutil.rmtree(resume_dir, ignore_errors=True)
        resume_dir.mkdir(parents=True, exist_ok=True)

    def save_state(epoch: int, finished: bool) -> None:
        save_checkpoint(
            resume_dir / _RESUME_FILE,
            {
                "fingerprint": fingerprint,
                "epoch": epoch,
                "is_finished": finished,
                "device": str(device),
                "model": _cpu_state(model),
                "optimizer": optimizer.state_dict(),
                "noise_rng": noise_gen.get_state(),
                "gumbel_rng": gumbel_gen.get_state(),
                "history": rows,
                "best_val": best_val,
                "best_epoch": best_epoch,
                "best_state": best_state,
            },
        )

    started = time.perf_counter()
    for epoch in range(start_epoch, epochs + 1):
        tick = time.perf_counter()
        train_loss = run_batches("train", train=True)
        validate = epoch % settings.validate_every == 0 or epoch == epochs
        val_loss = run_batches("val", train=False) if validate else math.nan
        if validate and val_loss < best_val:
            best_val, best_epoch, best_state = val_loss, epoch, _cpu_state(model)
        seconds = time.perf_counter() - tick
        rows.append({"epoch": epoch, "train_loss": train_loss, "val_loss": val_loss, "seconds": seconds})
        if is_evolution_epoch(epoch, evolution_every):
            evolution[epoch] = _cpu_state(model)
            if resume_dir is not None:
                save_checkpoint(_snapshot_path(resume_dir, epoch), evolution[epoch])
        if resume_dir is not None and (epoch % settings.resume_every == 0) and epoch < epochs:
            save_state(epoch, finished=False)
        elapsed = time.perf_counter() - started
        eta = elapsed / (epoch - start_epoch + 1) * (epochs - epoch)
        log.info(
            "epoch %d/%d  train %.4f  val %s  best %.4f (epoch %d)  %.2f s/epoch  ETA %s",
            epoch,
            epochs,
            train_loss,
            f"{val_loss:.4f}" if validate else "-",
            best_val,
            best_epoch,
            seconds,
            format_duration(eta),
        )
        if validate and stop_when is not None and stop_when(epoch, rows, model):
            log.info("stopping early after epoch %d", epoch)
            break

    history = pd.DataFrame(rows, columns=["epoch", "train_loss", "val_loss", "seconds"])
    last_epoch = int(history["epoch"].iloc[-1])
    if resume_dir is not None and not is_finished:
        save_state(last_epoch, finished=True)  # kept: a rerun of this exact run trains nothing
    return TrainResult(
        final_state=_cpu_state(model),
        best_state=best_state,
        best_epoch=best_epoch,
        history=history,
        evolution=_stack_evolution(evolution, last_epoch, model),
        seconds=float(history["seconds"].sum()),
        device=trained_on,
    )


def _snapshot_path(resume_dir: Path, epoch: int) -> Path:
    return resume_dir / _EVOLUTION_DIR / f"epoch_{epoch:06d}.pt"


def _load_snapshots(
    resume_dir: Path, last_epoch: int, every: int, rebuild_target: str | Path | None
) -> dict[int, dict[str, torch.Tensor]]:
    """The staged evolution snapshots of epochs 1..``last_epoch``; :class:`InputFileError` names a lost one.

    A lost snapshot cannot be recomputed from the resume state, only by training again from epoch 1.
    """
    fix = f"its weights exist nowhere else, so the model must be retrained from epoch 1: delete {resume_dir} and rerun"
    if rebuild_target is not None:
        command = f"rm -r {resume_dir} && {rebuild_command(rebuild_target)}"
        fix = f"its weights exist nowhere else: retrain the model from epoch 1, and all made from it, with `{command}`"
    snapshots = {}
    for epoch in range(1, last_epoch + 1):
        if is_evolution_epoch(epoch, every):
            path = _snapshot_path(resume_dir, epoch)
            if not path.is_file():
                raise InputFileError(f"{path}: the evolution snapshot of epoch {epoch} is missing; {fix}")
            try:
                snapshots[epoch] = load_checkpoint(path, fix=fix)
            except InputFileError as err:  # its message starts with the path
                detail = str(err).removeprefix(f"{path}: ")
                raise InputFileError(f"{path}: the evolution snapshot of epoch {epoch} is unusable: {detail}") from None
    return snapshots


def _load_resume(resume_dir: Path, fingerprint: str) -> dict[str, Any] | None:
    """The resume state in ``resume_dir`` if it exists and belongs to this exact run, else ``None``."""
    path = resume_dir / _RESUME_FILE
    if not path.exists():
        return None
    try:
        state = load_checkpoint(path, required=("fingerprint", "epoch"), fix="ignored; training starts from epoch 1")
    except InputFileError as err:  # a truncated file from a killed job: start afresh
        log.warning("%s", err)
        return None
    if state.get("fingerprint") != fingerprint:
        log.warning("resume checkpoint %s belongs to other settings or data; starting from epoch 1", path)
        return None
    return state


def _stack_evolution(
    evolution: dict[int, dict[str, torch.Tensor]], max_epoch: int, model: torch.nn.Module
) -> dict[str, torch.Tensor]:
    epochs = sorted(epoch for epoch in evolution if epoch <= max_epoch)
    stacked = {"epoch": torch.tensor(epochs, dtype=torch.int64)}
    for key, value in model.state_dict().items():
        stacked[key] = torch.stack([evolution[e][key] for e in epochs]) if epochs else torch.empty((0, *value.shape))
    return stacked
