"""File input/output: atomic writes, the HMM sample array file and model checkpoints, with clear errors."""

from __future__ import annotations

import json
import logging
import os
import tempfile
import zipfile
from collections.abc import Callable, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from .errors import InputFileError
from .hmm import HMM

__all__ = [
    "atomic_path",
    "load_checkpoint",
    "load_sequences",
    "log_to_file",
    "read_parquet",
    "save_checkpoint",
    "save_sequences",
    "write_json_atomic",
    "write_parquet_atomic",
]

SEQUENCE_SPLITS = ("train", "val", "test")
_UMASK = os.umask(0)
os.umask(_UMASK)


@contextmanager
def atomic_path(path: str | os.PathLike):
    """Yield a temporary sibling path; on success rename it to ``path``, on error delete it.

    Nothing half-written is ever visible under ``path``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes the file private; give it the usual permissions
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _write_atomic(path: str | os.PathLike, write: Callable[[Path], None]) -> None:
    with atomic_path(path) as tmp:
        write(tmp)


def write_parquet_atomic(frame: pd.DataFrame, path: str | os.PathLike, schema: pa.Schema | None = None) -> None:
    """Write ``frame`` to Parquet atomically, cast to ``schema`` when given (column order and dtypes)."""
    table = pa.Table.from_pandas(frame, schema=schema, preserve_index=False)
    _write_atomic(path, lambda tmp: pq.write_table(table, tmp))


def read_parquet(path: str | os.PathLike, schema: pa.Schema | None = None) -> pd.DataFrame:
    """Read a Parquet table; raise :class:`InputFileError` naming the file if it is unreadable or lacks columns."""
    try:
        table = pq.read_table(path)
    except (OSError, pa.ArrowInvalid) as err:
        raise InputFileError(
            f"{path}: cannot read Parquet table ({err}); delete it and rerun the rule that makes it"
        ) from None
    if schema is not None:
        missing = sorted(set(schema.names) - set(table.column_names))
        if missing:
            raise InputFileError(f"{path}: missing columns {missing}; rerun the rule that makes it")
        table = table.select(schema.names).cast(schema)
    return table.to_pandas()


def write_json_atomic(payload: Mapping[str, Any], path: str | os.PathLike) -> None:
    """Write ``payload`` as indented JSON atomically."""
    _write_atomic(path, lambda tmp: tmp.write_text(json.dumps(payload, indent=2, sort_keys=True) + "\n"))


def save_sequences(path: str | os.PathLike, splits: Mapping[str, np.ndarray], states: np.ndarray, hmm: HMM) -> None:
    """Save output symbols per split (uint8, (n, T)), all latent states and the HMM's matrices in one ``.npz``."""
    arrays = {f"outputs_{split}": outputs for split, outputs in splits.items()}
    arrays.update(
        states=states,
        transition_matrix=hmm.transition_matrix,
        emission_matrix=hmm.emission_matrix,
        start_distribution=hmm.start_distribution,
    )

    def write(tmp: Path) -> None:
        with open(tmp, "wb") as handle:
            np.savez_compressed(handle, **arrays)

    _write_atomic(path, write)


def load_sequences(path: str | os.PathLike, split: str) -> tuple[np.ndarray, HMM]:
    """Load the ``(n, T)`` output symbols of one split and the HMM that made them.

    Raises :class:`InputFileError` naming the file if it is missing, corrupt or malformed.
    """
    if split not in SEQUENCE_SPLITS:
        raise ValueError(f"split must be one of {SEQUENCE_SPLITS}, found {split!r}")
    try:
        with np.load(path) as archive:
            outputs = archive[f"outputs_{split}"]
            hmm = HMM(archive["transition_matrix"], archive["emission_matrix"], archive["start_distribution"])
    except FileNotFoundError:
        raise InputFileError(f"{path}: sequence file not found; run the sample_hmm rule first") from None
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, EOFError) as err:
        raise InputFileError(
            f"{path}: not a valid HMM sequence file ({type(err).__name__}: {err}); delete it and rerun sample_hmm"
        ) from None
    if outputs.ndim != 2 or outputs.size == 0:
        raise InputFileError(f"{path}: outputs_{split} must be a non-empty (n, T) array, found shape {outputs.shape}")
    if outputs.max() >= hmm.num_outputs:
        raise InputFileError(f"{path}: output symbols exceed the emission matrix's {hmm.num_outputs} outputs")
    return outputs, hmm


def save_checkpoint(path: str | os.PathLike, payload: Mapping[str, Any]) -> None:
    """Save a dict of tensors and plain values with :func:`torch.save`, atomically."""
    import torch  # here, so that scripts reading only tables and arrays (the figures) start without torch

    _write_atomic(path, lambda tmp: torch.save(dict(payload), tmp))


def load_checkpoint(path: str | os.PathLike, required: tuple[str, ...] = ()) -> dict[str, Any]:
    """Load a checkpoint on the CPU; raise :class:`InputFileError` if it is missing, corrupt or lacks keys."""
    import torch

    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise InputFileError(f"{path}: checkpoint not found; run the train_rnn rule that makes it") from None
    except Exception as err:  # torch raises many types for truncated or foreign files
        raise InputFileError(
            f"{path}: corrupt or unreadable checkpoint ({type(err).__name__}: {err}); delete it and rerun train_rnn"
        ) from None
    if not isinstance(payload, dict):
        raise InputFileError(f"{path}: expected a checkpoint dict, found {type(payload).__name__}")
    missing = [key for key in required if key not in payload]
    if missing:
        raise InputFileError(f"{path}: checkpoint lacks {missing}; delete it and rerun train_rnn")
    return payload


def log_to_file(path: str | os.PathLike) -> None:
    """Send this process's log records and Python warnings to ``path`` (a Snakemake rule's log file)."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    logging.basicConfig(
        filename=path,
        filemode="w",
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        force=True,
    )
    logging.captureWarnings(True)
