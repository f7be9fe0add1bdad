"""Recovery: a finished run is reused bitwise without training, and every loader names the bad file and its fix."""

import logging
import pickle
import re
from dataclasses import fields, replace

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
import torch
from tiny import CHECK, HMM, RUN, SETTINGS, train_retried, two_state_data
from tiny import POLICY as TINY_POLICY

from hmmrnn.convergence import ConvergencePolicy, ConvergenceThresholds, early_stopping_key
from hmmrnn.errors import CONFIGFILES_ENV, InputFileError
from hmmrnn.io import (
    load_arrays,
    load_checkpoint,
    load_sequences,
    read_parquet,
    rebuild_command,
    save_checkpoint,
    write_parquet_atomic,
)
from hmmrnn.plotting.global_dynamics import load_global_results
from hmmrnn.training import train_rnn

EPOCH_LINE = re.compile(r"^epoch \d+/\d+ ")
UNSAFE_ADVICE = re.compile(r"weights_only|allow_pickle|pickle\.load|trusted source|trust the file", re.IGNORECASE)


@pytest.fixture(scope="module")
def data():
    return two_state_data()


@pytest.fixture(autouse=True)
def one_thread():
    torch.set_num_threads(1)


def train(data, settings=SETTINGS, seed=0, **kwargs):
    """``train_rnn`` of the tiny set-up; ``kwargs`` override ``RUN`` (epochs, grad_clip, evolution_every) too."""
    return train_rnn(
        *data, input_dim=3, hidden_size=8, num_outputs=3, settings=settings, seed=seed, **{**RUN, **kwargs}
    )


def epochs_trained(caplog) -> int:
    return sum(bool(EPOCH_LINE.match(record.getMessage())) for record in caplog.records)


def assert_same_result(a, b, timing=True):
    """Bitwise equal weights, snapshots and losses; with ``timing``, the recorded seconds too (a reused run)."""
    for name in ("final_state", "best_state", "evolution"):
        first, second = getattr(a, name), getattr(b, name)
        assert first.keys() == second.keys(), name
        for key in first:
            assert torch.equal(first[key], second[key]), (name, key)
    columns = list(a.history.columns if timing else a.history.columns.drop("seconds"))
    pd.testing.assert_frame_equal(a.history[columns], b.history[columns], check_exact=True)
    assert (a.best_epoch, a.device) == (b.best_epoch, b.device)
    assert a.seconds == b.seconds or not timing


def test_a_finished_run_is_reused_bitwise_and_trains_nothing(data, tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="hmmrnn.training")
    resume_dir = tmp_path / "attempt_0"
    first = train(data, resume_dir=resume_dir)
    assert epochs_trained(caplog) == RUN["epochs"]
    state = torch.load(resume_dir / "state.pt", weights_only=True)
    assert state["is_finished"] and state["epoch"] == RUN["epochs"]
    caplog.clear()
    again = train(data, resume_dir=resume_dir)
    assert epochs_trained(caplog) == 0
    assert "already finished" in caplog.text
    assert_same_result(first, again)
    assert_same_result(first, train(data), timing=False)  # and equal to a run that never had a resume folder


@pytest.mark.parametrize(
    "change",
    [{"seed": 1}, {"settings": replace(SETTINGS, learning_rate=2e-2)}, {"stop_key": ("patience", 3)}],
    ids=["seed", "setting", "stopping-rule"],
)
def test_a_changed_seed_setting_or_stopping_rule_retrains(data, tmp_path, caplog, change):
    resume_dir = tmp_path / "attempt_0"
    train(data, resume_dir=resume_dir)
    caplog.set_level(logging.INFO, logger="hmmrnn.training")
    changed = train(data, resume_dir=resume_dir, **change)
    assert epochs_trained(caplog) == RUN["epochs"]
    assert "belongs to other settings or data" in caplog.text
    assert_same_result(changed, train(data, **change), timing=False)


def test_changed_data_retrains(data, tmp_path, caplog):
    resume_dir = tmp_path / "attempt_0"
    train(data, resume_dir=resume_dir)
    caplog.set_level(logging.INFO, logger="hmmrnn.training")
    other = (data[0][::-1].copy(), data[1])
    train_rnn(
        *other, input_dim=3, hidden_size=8, num_outputs=3, settings=SETTINGS, **RUN, seed=0, resume_dir=resume_dir
    )
    assert epochs_trained(caplog) == RUN["epochs"]


def test_an_early_stopped_run_is_reused_without_training_further(data, tmp_path, caplog):
    def stop_at_four(epoch, history, model):
        return epoch == 4

    resume_dir = tmp_path / "attempt_0"
    first = train(data, resume_dir=resume_dir, stop_when=stop_at_four, stop_key="epoch 4")
    assert first.history["epoch"].tolist() == [1, 2, 3, 4]
    caplog.set_level(logging.INFO, logger="hmmrnn.training")
    again = train(data, resume_dir=resume_dir, stop_when=stop_at_four, stop_key="epoch 4")
    assert epochs_trained(caplog) == 0
    assert_same_result(first, again)


def test_a_lost_evolution_snapshot_is_an_error_naming_the_epoch(data, tmp_path):
    resume_dir = tmp_path / "attempt_0"
    train(data, resume_dir=resume_dir)
    snapshot = resume_dir / "evolution" / "epoch_000002.pt"
    snapshot.write_bytes(b"\x80\x04garbage")  # corrupt
    target = "results/models/m/final.pt"
    with pytest.raises(InputFileError, match=r"epoch_000002\.pt.*epoch 2") as corrupt:
        train(data, resume_dir=resume_dir, rebuild_target=target)
    assert f"rm -r {resume_dir} && snakemake --cores all --forcerun {target}" in str(corrupt.value)
    assert not UNSAFE_ADVICE.search(str(corrupt.value))
    snapshot.unlink()  # deleted: still an error, never a result that silently lacks epoch 2
    with pytest.raises(InputFileError, match=r"evolution snapshot of epoch 2 is missing"):
        train(data, resume_dir=resume_dir, rebuild_target=target)


POLICY = replace(
    TINY_POLICY,
    max_transition_sq_diff=-1.0,  # never converged: every attempt runs
    patience=1,
)


def test_a_rerun_of_retried_training_skips_every_attempt(data, tmp_path, caplog):
    run = {**RUN, "epochs": 3, "evolution_every": 0}

    def retried(policy=POLICY):
        return train_retried(data, **run, policy=policy, resume_dir=tmp_path)

    first = retried()
    assert first.attempts == 3
    assert sorted(path.parent.name for path in tmp_path.glob("*/state.pt")) == [f"attempt_{k}" for k in range(3)]
    caplog.set_level(logging.INFO, logger="hmmrnn.training")
    again = retried()
    assert epochs_trained(caplog) == 0 and caplog.text.count("already finished") == 3
    assert (again.attempts, again.seed_used, again.record) == (first.attempts, first.seed_used, first.record)
    assert_same_result(first.result, again.result)
    caplog.clear()
    retried(replace(POLICY, max_attempts=4))  # one more attempt allowed: the three made are reused
    assert epochs_trained(caplog) == run["epochs"]


def test_the_stopping_key_follows_what_early_stopping_reads():
    key = early_stopping_key(HMM, loss_floor=1.0, policy=POLICY, **CHECK)
    assert key == early_stopping_key(
        HMM, loss_floor=1.0, policy=replace(POLICY, max_attempts=9, seed_stride=3, floor_draws=5), **CHECK
    )
    assert key != early_stopping_key(HMM, loss_floor=1.0, policy=POLICY, **{**CHECK, "eval_seq_len": 11})
    evaluation = {**CHECK["evaluation"], "sinkhorn_tol": 0.2}
    assert key != early_stopping_key(HMM, loss_floor=1.0, policy=POLICY, **{**CHECK, "evaluation": evaluation})
    assert key != early_stopping_key(HMM, loss_floor=1.5, policy=POLICY, **CHECK)
    assert key != early_stopping_key(HMM, loss_floor=1.0, policy=replace(POLICY, patience=2), **CHECK)
    assert early_stopping_key(HMM, loss_floor=1.0, policy=replace(POLICY, patience=0), **CHECK) is None  # never stops


def test_stopping_key_keeps_the_names_order_and_values_of_the_former_convergence_policy():
    """Finished runs in users' resume/ folders stay valid: the stopping key's settings are, byte for byte, the sorted
    items of the ``asdict`` of the former flat ConvergencePolicy (config convergence less floor_draws, max_attempts
    and seed_stride, the thresholds nested; the family's eval_seq_len as num_timesteps; config evaluation's
    emit_from_zero and Sinkhorn-alignment settings)."""
    convergence = {  # config `convergence` of the quick study, key-sorted as the rule passes it
        "decay_steps": 500,
        "dynamics_steps": 2000,
        "floor_draws": 3,
        "max_attempts": 1,
        "max_decay_ratio": 0.001,
        "max_distance_ratio": 1.1,
        "max_frequency_error": 0.05,
        "max_loss_ratio": 1.1,
        "max_norm_growth": 2.0,
        "max_switch_rel_error": 0.25,
        "max_transition_sq_diff": 0.02,
        "num_sequences": 500,
        "num_trajectories": 20,
        "patience": 2,
        "seed_stride": 10,
        "train_on_epochs": 100,
    }
    evaluation = {"emit_from_zero": False, "sinkhorn_epsilon": 0.1, "sinkhorn_max_iters": 1000, "sinkhorn_tol": 0.1}
    policy = ConvergencePolicy.from_params(convergence)
    key = early_stopping_key(HMM, loss_floor=0.5, policy=policy, eval_seq_len=100, evaluation=evaluation)
    assert repr(key[0]) == (
        "[('decay_steps', 500), ('dynamics_steps', 2000), ('emit_from_zero', False), ('num_sequences', 500), "
        "('num_timesteps', 100), ('num_trajectories', 20), ('patience', 2), ('sinkhorn_epsilon', 0.1), "
        "('sinkhorn_max_iters', 1000), ('sinkhorn_tol', 0.1), ('thresholds', {'max_loss_ratio': 1.1, "
        "'max_distance_ratio': 1.1, 'max_transition_sq_diff': 0.02, 'max_switch_rel_error': 0.25, "
        "'max_frequency_error': 0.05, 'max_norm_growth': 2.0, 'max_decay_ratio': 0.001}), ('train_on_epochs', 100)]"
    )
    # the former computation: sorted(asdict(policy).items()) less the retry settings, thresholds a nested dict
    apart = ("floor_draws", "max_attempts", "seed_stride")
    thresholds = {field.name: convergence[field.name] for field in fields(ConvergenceThresholds)}
    former = {
        **{name: value for name, value in convergence.items() if name not in (*thresholds, *apart)},
        "thresholds": thresholds,
        "num_timesteps": 100,
        **evaluation,
    }
    assert key[0] == sorted(former.items())
    matrices = (HMM.transition_matrix, HMM.emission_matrix, HMM.start_distribution)
    assert key[1:] == (0.5, *(matrix.tolist() for matrix in matrices))


# ---- loaders: the file's name, the command that rebuilds it, never advice to unpickle ----


def assert_names_file_and_fix(error, path):
    message = str(error.value)
    assert message.startswith(f"{path}: "), message
    assert f"snakemake --cores all --forcerun {path}" in message, message
    assert not UNSAFE_ADVICE.search(message), message


def test_the_rebuild_command_carries_the_runs_configfiles(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(CONFIGFILES_ENV, raising=False)
    assert rebuild_command("results/a.npz") == "snakemake --cores all --forcerun results/a.npz"
    monkeypatch.setenv(CONFIGFILES_ENV, f"{tmp_path}/config/quick.yaml:/elsewhere/extra.yaml")
    assert rebuild_command("results/a.npz", "results/b.pt") == (
        "snakemake --cores all --configfile config/quick.yaml /elsewhere/extra.yaml "
        "--forcerun results/a.npz results/b.pt"
    )


@pytest.mark.parametrize(
    "content",
    [b"", b"PK\x03\x04 broken zip", pickle.dumps({"weights": [1.0]}), b"\x00" * 64],
    ids=["empty", "broken-zip", "pickle", "zeros"],
)
def test_every_loader_names_the_bad_file_and_the_command_that_rebuilds_it(tmp_path, content):
    cases = {
        "seed_0.npz": lambda path: load_sequences(path, "train"),
        "global.npz": load_arrays,
        "final.pt": load_checkpoint,
        "floor.parquet": read_parquet,
    }
    for name, load in cases.items():
        path = tmp_path / name
        with pytest.raises(InputFileError) as missing:
            load(path)
        assert_names_file_and_fix(missing, path)
        assert "not found" in str(missing.value)
        path.write_bytes(content)
        with pytest.raises(InputFileError) as corrupt:
            load(path)
        assert_names_file_and_fix(corrupt, path)


def test_object_arrays_and_foreign_checkpoints_are_refused_without_unpickling(tmp_path):
    arrays = tmp_path / "global.npz"
    np.savez(arrays, names=np.array([object()], dtype=object))
    with pytest.raises(InputFileError) as error:
        load_arrays(arrays)
    assert_names_file_and_fix(error, arrays)
    foreign = tmp_path / "evolution.pt"
    torch.save({"epoch": torch.arange(3), "extra": np.arange(3)}, foreign)  # a numpy array needs unpickling
    with pytest.raises(InputFileError) as error:
        load_checkpoint(foreign)
    assert_names_file_and_fix(error, foreign)
    save_checkpoint(foreign, {"epoch": torch.arange(3)})
    with pytest.raises(InputFileError, match=r"lacks \['state_dict'\]") as error:
        load_checkpoint(foreign, required=("state_dict",))
    assert_names_file_and_fix(error, foreign)


def test_a_table_missing_columns_names_the_file_and_the_fix(tmp_path):
    path = tmp_path / "summary.parquet"
    write_parquet_atomic(pd.DataFrame({"epoch": [1]}), path)
    with pytest.raises(InputFileError, match=r"missing columns \['loss'\]") as error:
        read_parquet(path, pa.schema([pa.field("epoch", pa.int64()), pa.field("loss", pa.float64())]))
    assert_names_file_and_fix(error, path)


def test_a_corrupt_global_npz_of_a_figure_names_the_file(tmp_path):
    arrays = tmp_path / "global.npz"
    arrays.write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(InputFileError) as error:
        load_global_results(["linear2"], {"linear2": "linear chain, M=2"}, {"arrays": [str(arrays)]})
    assert_names_file_and_fix(error, arrays)
