"""Every file format of the workflow, in both directions: Parquet tables, ``.npz`` sequence and plotting arrays,
``.pt`` checkpoints and JSON, each written atomically (a temporary sibling, then ``os.replace``) and read with
errors that name the file and the command that rebuilds it.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shlex
import tempfile
import warnings
import zipfile
from collections.abc import Callable, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import torch

from .errors import CONFIGFILES_ENV, InputFileError
from .hmm import HMM

__all__ = [
    "SEQUENCE_SPLITS",
    "atomic_path",
    "describe_load_error",
    "load_arrays",
    "load_checkpoint",
    "load_sequences",
    "log_to_file",
    "read_parquet",
    "rebuild_command",
    "rebuild_hint",
    "save_checkpoint",
    "save_sequences",
    "write_arrays_atomic",
    "write_json_atomic",
    "write_parquet_atomic",
]


SEQUENCE_SPLITS = ("train", "val", "test")

_UMASK = os.umask(0)

_UNSAFE_ADVICE = re.compile(r"pickle|weights_only|safe_globals|trusted source|trust the", re.IGNORECASE)


def rebuild_command(*paths: str | os.PathLike) -> str:
    """The Snakemake command that rebuilds ``paths`` and everything made from them.

    ``--forcerun FILE`` reruns the job that makes FILE and every job downstream of it; a plain rerun would not
    (after a deleted or failed intermediate file, Snakemake finds the final tables up to date). The run's
    ``--configfile`` options come from the environment variable :data:`CONFIGFILES_ENV` where it is set.
    """
    configfiles = [_shown_path(path) for path in os.environ.get(CONFIGFILES_ENV, "").split(os.pathsep) if path]
    options = f" --configfile {' '.join(map(shlex.quote, configfiles))}" if configfiles else ""
    targets = " ".join(shlex.quote(str(path)) for path in paths)
    return f"snakemake --cores all{options} --forcerun {targets}"


def rebuild_hint(path: str | os.PathLike) -> str:
    """The end of an error message about workflow file ``path``: how to rebuild it and what depends on it."""
    return (
        f"rebuild it and everything made from it with `{rebuild_command(path)}` "
        "(keep your run's other options, e.g. --profile)"
    )


def _shown_path(path: str) -> str:
    """``path`` relative to the working directory when it lies inside it, else as given."""
    relative = os.path.relpath(path)
    return path if relative.startswith("..") else relative


def describe_load_error(error: BaseException) -> str:
    """A library error in a few words, without advice to load the file unsafely (allow_pickle, weights_only)."""
    text = str(error)
    if _UNSAFE_ADVICE.search(text):
        return f"{type(error).__name__}: not plain arrays or tensors, and reading it would mean unpickling it"
    first = text.strip().splitlines()[0].split(". ")[0].strip() if text.strip() else ""
    return f"{type(error).__name__}: {first}" if first else type(error).__name__


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
    if not Path(path).is_file():
        raise InputFileError(f"{path}: Parquet table not found; {rebuild_hint(path)}")
    try:
        table = pq.read_table(path)
    except (OSError, pa.ArrowException) as err:
        raise InputFileError(
            f"{path}: cannot read Parquet table ({describe_load_error(err)}); {rebuild_hint(path)}"
        ) from None
    if schema is not None:
        missing = sorted(set(schema.names) - set(table.column_names))
        if missing:
            raise InputFileError(f"{path}: missing columns {missing}; {rebuild_hint(path)}")
        try:
            table = table.select(schema.names).cast(schema)
        except (pa.ArrowException, ValueError) as err:
            raise InputFileError(
                f"{path}: columns of unexpected types ({describe_load_error(err)}); {rebuild_hint(path)}"
            ) from None
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
    if not Path(path).is_file():
        raise InputFileError(f"{path}: HMM sequence file not found; {rebuild_hint(path)}")
    try:
        with np.load(path, allow_pickle=False) as archive:
            outputs = archive[f"outputs_{split}"]
            hmm = HMM(archive["transition_matrix"], archive["emission_matrix"], archive["start_distribution"])
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, EOFError) as err:
        raise InputFileError(
            f"{path}: not a valid HMM sequence file ({describe_load_error(err)}); {rebuild_hint(path)}"
        ) from None
    if outputs.ndim != 2 or outputs.size == 0:
        raise InputFileError(
            f"{path}: outputs_{split} must be a non-empty (n, T) array, found shape {outputs.shape}; "
            f"{rebuild_hint(path)}"
        )
    if outputs.max() >= hmm.num_outputs:
        raise InputFileError(
            f"{path}: output symbols exceed the emission matrix's {hmm.num_outputs} outputs; {rebuild_hint(path)}"
        )
    return outputs, hmm


def load_arrays(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Every named array of an ``.npz`` file (never unpickled); :class:`InputFileError` names a bad file."""
    if not Path(path).is_file():
        raise InputFileError(f"{path}: array file not found; {rebuild_hint(path)}")
    try:
        with np.load(path, allow_pickle=False) as archive:
            return {name: archive[name] for name in archive.files}
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, EOFError) as err:
        raise InputFileError(
            f"{path}: not a valid .npz array file ({describe_load_error(err)}); {rebuild_hint(path)}"
        ) from None


def save_checkpoint(path: str | os.PathLike, payload: Mapping[str, Any]) -> None:
    """Save a dict of tensors and plain values with :func:`torch.save`, atomically.

    The same payload always gives the same bytes: torch names the archive inside after the file it writes to
    (here a random temporary name), so it is given an open file instead.
    """

    def write(tmp: Path) -> None:
        with open(tmp, "wb") as handle:
            torch.save(dict(payload), handle)

    _write_atomic(path, write)


def load_checkpoint(
    path: str | os.PathLike, required: tuple[str, ...] = (), *, fix: str | None = None
) -> dict[str, Any]:
    """Load a checkpoint on the CPU (tensors and plain values only, never arbitrary pickles).

    Raises :class:`InputFileError` naming the file if it is missing, corrupt or lacks the ``required`` keys; the
    message ends with ``fix``, by default the command that rebuilds the file (:func:`rebuild_hint`).
    """

    fix = rebuild_hint(path) if fix is None else fix
    if not Path(path).is_file():
        raise InputFileError(f"{path}: checkpoint not found; {fix}")
    try:
        with warnings.catch_warnings():  # torch warns about pickle protocols; the load below never unpickles code
            warnings.simplefilter("ignore")
            payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # torch raises many types for truncated or foreign files
        raise InputFileError(f"{path}: corrupt or unreadable checkpoint ({describe_load_error(err)}); {fix}") from None
    if not isinstance(payload, dict):
        raise InputFileError(f"{path}: expected a checkpoint dict, found {type(payload).__name__}; {fix}")
    missing = [key for key in required if key not in payload]
    if missing:
        raise InputFileError(f"{path}: checkpoint lacks {missing}; {fix}")
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


def write_arrays_atomic(arrays: Mapping[str, np.ndarray], path: str | os.PathLike) -> None:
    """Write named arrays to an uncompressed ``.npz`` atomically (read by :func:`load_arrays`)."""

    with atomic_path(path) as tmp, open(tmp, "wb") as handle:
        np.savez(handle, **{name: np.asarray(value) for name, value in arrays.items()})
