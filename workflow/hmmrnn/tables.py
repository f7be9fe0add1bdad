"""Declared pyarrow schemas of the workflow's Parquet tables and the functions that build their rows."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa

__all__ = ["HISTORY_SCHEMA", "MODEL_KEY_FIELDS", "TRAINING_SCHEMA", "training_summary"]

MODEL_KEY_FIELDS = [
    pa.field("hmm", pa.string(), nullable=False),
    pa.field("hidden_size", pa.int64(), nullable=False),
    pa.field("input_dim", pa.int64(), nullable=False),
    pa.field("seed", pa.int64(), nullable=False),
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
    ]
)


def training_summary(
    history: pd.DataFrame,
    *,
    hmm: str,
    hidden_size: int,
    input_dim: int,
    seed: int,
    num_states: int,
    seq_len: int,
    device: str,
) -> pd.DataFrame:
    """One-row summary of a training history, with the columns of :data:`TRAINING_SCHEMA`."""
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
    }
    return pd.DataFrame([row], columns=TRAINING_SCHEMA.names)
