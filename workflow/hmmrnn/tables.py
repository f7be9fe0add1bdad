"""Declared pyarrow schemas of the workflow's Parquet tables and the functions that build their rows."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa

if TYPE_CHECKING:
    from .metrics import ModelEvaluation

__all__ = [
    "CONVERGENCE_FIELDS",
    "FLOOR_SCHEMA",
    "HISTORY_SCHEMA",
    "METRICS_SCHEMA",
    "MODEL_KEY_FIELDS",
    "TRAINING_SCHEMA",
    "metrics_rows",
    "training_summary",
]

MODEL_KEY_FIELDS = [
    pa.field("hmm", pa.string(), nullable=False),
    pa.field("hidden_size", pa.int64(), nullable=False),
    pa.field("input_dim", pa.int64(), nullable=False),
    pa.field("seed", pa.int64(), nullable=False),
]

CONVERGENCE_FIELDS = [
    pa.field("loss_ratio", pa.float64()),
    pa.field("is_loss_ok", pa.bool_(), nullable=False),
    pa.field("distance_ratio", pa.float64()),
    pa.field("is_distance_ok", pa.bool_(), nullable=False),
    pa.field("max_transition_sq_diff", pa.float64()),
    pa.field("is_transitions_ok", pa.bool_(), nullable=False),
    pa.field("switch_rel_error", pa.float64()),
    pa.field("is_switches_ok", pa.bool_(), nullable=False),
    pa.field("max_frequency_error", pa.float64()),
    pa.field("is_frequencies_ok", pa.bool_(), nullable=False),
    pa.field("norm_growth", pa.float64()),
    pa.field("decay_ratio", pa.float64()),
    pa.field("is_dynamics_ok", pa.bool_(), nullable=False),
    pa.field("is_converged", pa.bool_(), nullable=False),
]

HISTORY_SCHEMA = pa.schema(
    [
        pa.field("epoch", pa.int64(), nullable=False),
        pa.field("train_loss", pa.float64(), nullable=False),
        pa.field("val_loss", pa.float64()),  # NaN on epochs without validation
        pa.field("seconds", pa.float64(), nullable=False),
    ]
)

TRAINING_SCHEMA = pa.schema(
    [
        *MODEL_KEY_FIELDS,
        pa.field("num_states", pa.int64(), nullable=False),
        pa.field("seq_len", pa.int64(), nullable=False),
        pa.field("epochs_run", pa.int64(), nullable=False),
        pa.field("final_train_loss", pa.float64(), nullable=False),
        pa.field("final_val_loss", pa.float64(), nullable=False),
        pa.field("best_val_loss", pa.float64(), nullable=False),
        pa.field("best_epoch", pa.int64(), nullable=False),
        pa.field("best_train_loss", pa.float64(), nullable=False),
        pa.field("seconds", pa.float64(), nullable=False),
        pa.field("device", pa.string(), nullable=False),
        pa.field("attempts", pa.int64(), nullable=False),
        pa.field("seed_used", pa.int64(), nullable=False),
        pa.field("loss_floor", pa.float64(), nullable=False),
        *CONVERGENCE_FIELDS,
    ]
)

FLOOR_SCHEMA = pa.schema(
    [
        pa.field("hmm", pa.string(), nullable=False),
        pa.field("sinkhorn_floor", pa.float64(), nullable=False),
        pa.field("sinkhorn_floor_std", pa.float64(), nullable=False),
        pa.field("num_draws", pa.int64(), nullable=False),
        pa.field("num_sequences", pa.int64(), nullable=False),
        pa.field("batch_size", pa.int64(), nullable=False),
        pa.field("seq_len", pa.int64(), nullable=False),
    ]
)

# Long format: one row per model, source (rnn or hmm) and metric; i, j index outputs where a metric has them
# (frequencies: i; transition matrices: i -> j) and are null otherwise.
METRICS_SCHEMA = pa.schema(
    [
        *MODEL_KEY_FIELDS,
        pa.field("source", pa.string(), nullable=False),
        pa.field("metric", pa.string(), nullable=False),
        pa.field("i", pa.int64()),
        pa.field("j", pa.int64()),
        pa.field("value", pa.float64(), nullable=False),
    ]
)


def training_summary(
    history: pd.DataFrame,
    convergence: Mapping[str, Any],
    *,
    hmm: str,
    hidden_size: int,
    input_dim: int,
    seed: int,
    num_states: int,
    seq_len: int,
    device: str,
    attempts: int,
    seed_used: int,
    loss_floor: float,
) -> pd.DataFrame:
    """One-row summary of a training run, with the columns of :data:`TRAINING_SCHEMA`.

    ``convergence`` is :meth:`hmmrnn.metrics.ConvergenceRecord.as_dict` of the kept run.
    """
    validated = history.dropna(subset=["val_loss"])
    best = validated.loc[validated["val_loss"].idxmin()]
    last = history.iloc[-1]
    row = {
        "hmm": hmm,
        "hidden_size": hidden_size,
        "input_dim": input_dim,
        "seed": seed,
        "num_states": num_states,
        "seq_len": seq_len,
        "epochs_run": int(last["epoch"]),
        "final_train_loss": float(last["train_loss"]),
        "final_val_loss": float(last["val_loss"]),
        "best_val_loss": float(best["val_loss"]),
        "best_epoch": int(best["epoch"]),
        "best_train_loss": float(best["train_loss"]),
        "seconds": float(history["seconds"].sum()),
        "device": device,
        "attempts": attempts,
        "seed_used": seed_used,
        "loss_floor": loss_floor,
        **{field.name: convergence[field.name] for field in CONVERGENCE_FIELDS},
    }
    return pd.DataFrame([row], columns=TRAINING_SCHEMA.names)


def metrics_rows(evaluation: ModelEvaluation, *, hmm: str, hidden_size: int, input_dim: int, seed: int) -> pd.DataFrame:
    """The long-format rows of :data:`METRICS_SCHEMA` for one model's :class:`hmmrnn.metrics.ModelEvaluation`.

    ``source = "rnn"`` rows describe the network's sequences (distance to HMM set S1); ``source = "hmm"``
    rows describe S1, and its distance rows are the HMM-vs-HMM baseline (S2 against S3).
    """
    rows: list[tuple[str, str, int | None, int | None, float]] = []
    for source, stats, alignment in (
        ("rnn", evaluation.rnn, evaluation.alignment),
        ("hmm", evaluation.hmm, evaluation.baseline),
    ):
        rows += [
            (source, "distance_mean", None, None, alignment.mean),
            (source, "distance_std", None, None, alignment.std),
        ]
        rows += [
            (source, "changes_mean", None, None, stats.mean_changes),
            (source, "changes_std", None, None, stats.std_changes),
        ]
        rows += [
            (source, "change_proportion_mean", None, None, stats.mean_proportion),
            (source, "change_proportion_std", None, None, stats.std_proportion),
        ]
        rows += [(source, "frequency_mean", i, None, float(v)) for i, v in enumerate(stats.frequency_mean)]
        rows += [(source, "frequency_std", i, None, float(v)) for i, v in enumerate(stats.frequency_std)]
        rows += [(source, "transition_prob", i, j, float(v)) for (i, j), v in np.ndenumerate(stats.transition_matrix)]
    rows += [
        ("rnn", "transition_sq_diff", i, j, float(v)) for (i, j), v in np.ndenumerate(evaluation.transition_sq_diff)
    ]
    frame = pd.DataFrame(rows, columns=["source", "metric", "i", "j", "value"])
    frame[["i", "j"]] = frame[["i", "j"]].astype("Int64")
    keys = {"hmm": hmm, "hidden_size": hidden_size, "input_dim": input_dim, "seed": seed}
    return frame.assign(**keys)[METRICS_SCHEMA.names]
