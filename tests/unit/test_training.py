"""Training: determinism, resumption after a kill, evolution snapshots and the training summary."""

import math
import signal
import subprocess
import sys
import time
from dataclasses import replace

import numpy as np
import pyarrow as pa
import pytest
import torch
from tiny import RUN, SETTINGS, two_state_data

from hmmrnn.io import save_checkpoint
from hmmrnn.tables import CONVERGENCE_FIELDS, TRAINING_SCHEMA, training_summary
from hmmrnn.training import (
    TrainSettings,
    fingerprint_settings,
    format_duration,
    is_evolution_epoch,
    select_device,
    train_rnn,
)


@pytest.fixture(scope="module")
def data():
    return two_state_data()


def train(data, settings=SETTINGS, **kwargs):
    """``train_rnn`` of the tiny set-up; ``kwargs`` override ``RUN`` (epochs, grad_clip, evolution_every) too."""
    return train_rnn(
        *data, input_dim=3, hidden_size=8, num_outputs=3, settings=settings, **{"seed": 0, **RUN, **kwargs}
    )


def assert_same_state(a, b):
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key


def test_training_is_deterministic_and_records_history(data):
    first, second = train(data), train(data)
    assert_same_state(first.final_state, second.final_state)
    history = first.history
    assert history["epoch"].tolist() == list(range(1, 7))
    # validated on epochs divisible by validate_every, and always on the last one
    assert history["val_loss"].notna().tolist() == [False, True, False, True, False, True]
    assert np.isfinite(history["train_loss"]).all()
    best = history.loc[history["val_loss"].idxmin()]
    assert first.best_epoch == best["epoch"]
    # evolution snapshots after epoch 1 and every 2 epochs, stacked per weight
    assert first.evolution["epoch"].tolist() == [1, 2, 4, 6]
    assert first.evolution["rnn.weight_hh_l0"].shape == (4, 8, 8)
    torch.testing.assert_close(first.evolution["rnn.weight_hh_l0"][-1], first.final_state["rnn.weight_hh_l0"])


def test_best_state_is_a_true_copy(data):
    settings = replace(SETTINGS, validate_every=1, learning_rate=0.05)
    result = train(data, settings, evolution_every=1, epochs=8)
    assert result.best_epoch < 8, "precondition: this run's best epoch is not its last"
    snapshot = result.evolution["rnn.weight_hh_l0"][result.evolution["epoch"].tolist().index(result.best_epoch)]
    torch.testing.assert_close(result.best_state["rnn.weight_hh_l0"], snapshot, rtol=0, atol=0)
    assert not torch.equal(result.best_state["rnn.weight_hh_l0"], result.final_state["rnn.weight_hh_l0"])


def test_different_seeds_give_different_networks(data):
    a, b = train(data, seed=0), train(data, seed=1)
    assert not torch.equal(a.final_state["rnn.weight_hh_l0"], b.final_state["rnn.weight_hh_l0"])


KILLED_RUN = """
import sys, numpy as np, torch
from hmmrnn.training import TrainSettings, train_rnn
torch.set_num_threads(1)
data = np.load(sys.argv[1])
settings = TrainSettings(**eval(sys.argv[2]))
train_rnn(data["train"], data["val"], input_dim=3, hidden_size=8, num_outputs=3, settings=settings, seed=0,
          resume_dir=sys.argv[3], **eval(sys.argv[4]))
"""


def test_killed_run_resumes_to_bitwise_identical_weights(data, tmp_path):
    torch.set_num_threads(1)
    settings, run = replace(SETTINGS, resume_every=3), {**RUN, "epochs": 120}
    np.savez(tmp_path / "data.npz", train=data[0], val=data[1])
    resume_dir = tmp_path / "resume"
    args = [
        sys.executable,
        "-c",
        KILLED_RUN,
        str(tmp_path / "data.npz"),
        repr(settings.__dict__),
        str(resume_dir),
        repr(run),
    ]
    process = subprocess.Popen(args)
    deadline = time.monotonic() + 60
    while not (resume_dir / "state.pt").exists() and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL, "the run finished before it could be killed"
    saved_epoch = torch.load(resume_dir / "state.pt", weights_only=True)["epoch"]
    assert 3 <= saved_epoch < run["epochs"]
    resumed = train(data, settings, resume_dir=resume_dir, **run)
    uninterrupted = train(data, settings, **run)
    assert_same_state(resumed.final_state, uninterrupted.final_state)
    assert_same_state(resumed.best_state, uninterrupted.best_state)
    assert resumed.history["train_loss"].tolist() == uninterrupted.history["train_loss"].tolist()
    for key, value in uninterrupted.evolution.items():
        assert torch.equal(resumed.evolution[key], value), key


def test_foreign_or_corrupt_resume_state_is_ignored(data, tmp_path):
    resume_dir = tmp_path / "resume"
    resume_dir.mkdir()
    save_checkpoint(resume_dir / "state.pt", {"fingerprint": "another run", "epoch": 4})
    fresh = train(data)
    assert_same_state(train(data, resume_dir=resume_dir).final_state, fresh.final_state)
    (resume_dir / "state.pt").write_bytes(b"truncated")
    assert_same_state(train(data, resume_dir=resume_dir).final_state, fresh.final_state)


def test_evolution_schedule():
    assert [e for e in range(1, 11) if is_evolution_epoch(e, 5)] == [1, 5, 10]
    assert [e for e in range(1, 4) if is_evolution_epoch(e, 1)] == [1, 2, 3]
    assert not any(is_evolution_epoch(e, 0) for e in range(1, 10))


def test_device_selection():
    assert select_device("cpu", gpus=1) == "cpu"
    assert select_device("cuda", gpus=0) == "cpu"  # --resources gpu=0 forces the CPU
    if not torch.cuda.is_available():
        with pytest.raises(RuntimeError, match="training.device"):
            select_device("cuda", gpus=1)


def test_eta_shows_days_past_24_hours():
    assert format_duration(0) == "00:00:00"
    assert format_duration(3661.4) == "01:01:01"
    assert format_duration(86_399) == "23:59:59"
    assert format_duration(86_400) == "1d 00:00:00"
    assert format_duration(2 * 86_400 + 3 * 3600 + 4 * 60 + 5) == "2d 03:04:05"  # a strftime clock would wrap
    assert format_duration(float("inf")) == "?" and format_duration(-1) == "00:00:00"


def test_training_summary_matches_schema(data):
    result = train(data)
    convergence = {field.name: (True if field.type == pa.bool_() else 0.5) for field in CONVERGENCE_FIELDS}
    summary = training_summary(
        result.history,
        convergence,
        hmm="linear2",
        hidden_size=8,
        input_dim=3,
        seed=0,
        num_states=2,
        seq_len=10,
        device="cpu",
        attempts=2,
        seed_used=10,
        loss_floor=3.0,
    )
    assert summary.columns.tolist() == TRAINING_SCHEMA.names
    pa.Table.from_pandas(summary, schema=TRAINING_SCHEMA, preserve_index=False)  # the declared types fit
    row = summary.iloc[0]
    assert row["epochs_run"] == 6 and row["best_epoch"] == result.best_epoch
    assert row["best_val_loss"] == result.history["val_loss"].min()
    assert row["final_val_loss"] == result.history["val_loss"].iloc[-1]
    assert math.isclose(row["seconds"], result.history["seconds"].sum())
    assert (row["attempts"], row["seed_used"], row["loss_floor"]) == (2, 10, 3.0)


def test_sinkhorn_backends_give_the_same_training_run(data):
    """The default hmmrnn loss and geomloss's reference train the same network (up to float rounding)."""
    ours = train(data)
    reference = train(data, replace(SETTINGS, sinkhorn_backend="geomloss"))
    for column in ("train_loss", "val_loss"):
        np.testing.assert_allclose(ours.history[column], reference.history[column], rtol=1e-5, equal_nan=True)
    for key, value in reference.final_state.items():
        torch.testing.assert_close(ours.final_state[key], value, rtol=1e-4, atol=1e-6)


def test_unknown_sinkhorn_backend_is_an_error(data):
    with pytest.raises(ValueError, match="backend must be one of"):
        train(data, replace(SETTINGS, sinkhorn_backend="pot"))


def test_resume_fingerprint_keeps_the_names_order_and_values_of_the_former_train_settings():
    """Finished runs in users' resume/ folders stay valid: the fingerprint's settings are, byte for byte, the
    ``asdict`` of the former single TrainSettings (training group, family epochs and grad_clip, evolution_every)."""
    training = {  # config `training` less device and evolution, key-sorted as the rule passes it
        "adam_betas": [0.9, 0.9],
        "batch_size": 4096,
        "gumbel_tau": 1.0,
        "learning_rate": 0.001,
        "resume_every": 10,
        "sinkhorn_backend": "hmmrnn",
        "sinkhorn_blur": 0.2,
        "sinkhorn_p": 2,
        "sinkhorn_scaling": 0.5,
        "validate_every": 1,
    }
    settings = fingerprint_settings(TrainSettings.from_params(training), epochs=1000, grad_clip=0.3, evolution_every=1)
    assert repr(settings) == (
        "{'epochs': 1000, 'batch_size': 4096, 'learning_rate': 0.001, 'adam_betas': (0.9, 0.9), 'grad_clip': 0.3, "
        "'sinkhorn_blur': 0.2, 'sinkhorn_p': 2, 'sinkhorn_scaling': 0.5, 'sinkhorn_backend': 'hmmrnn', "
        "'gumbel_tau': 1.0, 'validate_every': 1, 'resume_every': 10, 'evolution_every': 1}"
    )
