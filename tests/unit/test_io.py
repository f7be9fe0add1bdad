"""File handling: atomic writes and clear errors naming the bad file."""

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
import torch

from hmmrnn.errors import InputFileError
from hmmrnn.hmm import linear_chain
from hmmrnn.io import (
    atomic_path,
    load_checkpoint,
    load_sequences,
    read_parquet,
    save_checkpoint,
    save_sequences,
    write_parquet_atomic,
)

SCHEMA = pa.schema([pa.field("epoch", pa.int64()), pa.field("loss", pa.float64())])


def test_atomic_path_leaves_nothing_behind_on_failure(tmp_path):
    target = tmp_path / "out.parquet"
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("killed mid-write")
    assert list(tmp_path.iterdir()) == []


def test_parquet_round_trip_and_errors(tmp_path):
    path = tmp_path / "table.parquet"
    write_parquet_atomic(pd.DataFrame({"epoch": [1, 2], "loss": [3.0, 2.5]}), path, SCHEMA)
    assert read_parquet(path, SCHEMA)["loss"].tolist() == [3.0, 2.5]
    with pytest.raises(InputFileError, match=r"missing columns \['extra'\]"):
        read_parquet(path, SCHEMA.append(pa.field("extra", pa.int64())))
    path.write_bytes(b"not parquet")
    with pytest.raises(InputFileError, match=f"{path}: cannot read Parquet table"):
        read_parquet(path, SCHEMA)


def test_checkpoint_errors_name_the_file(tmp_path):
    path = tmp_path / "final.pt"
    with pytest.raises(InputFileError, match=f"{path}: checkpoint not found"):
        load_checkpoint(path)
    save_checkpoint(path, {"state_dict": {"w": torch.ones(2)}})
    assert torch.equal(load_checkpoint(path, required=("state_dict",))["state_dict"]["w"], torch.ones(2))
    with pytest.raises(InputFileError, match=r"lacks \['epoch'\]"):
        load_checkpoint(path, required=("epoch",))
    path.write_bytes(path.read_bytes()[:20])  # truncated, as by a killed job
    with pytest.raises(InputFileError, match=f"{path}: corrupt or unreadable checkpoint"):
        load_checkpoint(path)


def test_sequence_file_round_trip_and_errors(tmp_path):
    hmm = linear_chain(2, 0.05)
    path = tmp_path / "seed_0.npz"
    outputs = np.array([[0, 2, 2], [1, 0, 0]], dtype=np.uint8)
    save_sequences(path, {"train": outputs, "val": outputs[:1], "test": outputs[:0]}, np.zeros((3, 3), int), hmm)
    loaded, loaded_hmm = load_sequences(path, "train")
    np.testing.assert_array_equal(loaded, outputs)
    np.testing.assert_array_equal(loaded_hmm.transition_matrix, hmm.transition_matrix)
    with pytest.raises(InputFileError, match="outputs_test must be a non-empty"):
        load_sequences(path, "test")
    path.write_bytes(b"PK\x03\x04 broken zip")
    with pytest.raises(InputFileError, match=f"{path}: not a valid HMM sequence file"):
        load_sequences(path, "train")
    with pytest.raises(InputFileError, match=f"{tmp_path}/missing.npz: HMM sequence file not found; rebuild it"):
        load_sequences(tmp_path / "missing.npz", "train")
