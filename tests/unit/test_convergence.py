"""Early stopping, retries with derived seeds and the convergence policy wiring (PAPER_SPEC §8.1)."""

import math
from dataclasses import replace

import pytest
import torch
from tiny import CHECK, HMM, POLICY, RUN, train_retried, two_state_data
from tiny import SETTINGS as TINY_SETTINGS

from hmmrnn.convergence import attempt_seed, check_convergence, early_stopping
from hmmrnn.dynamics.simulation import Weights
from hmmrnn.rnn import NoiseRNN
from hmmrnn.training import train_rnn

SETTINGS = replace(TINY_SETTINGS, validate_every=1, resume_every=100)
RUN = {**RUN, "evolution_every": 0}
STRICT = replace(POLICY, max_transition_sq_diff=-1.0)  # no network can meet a negative bound


@pytest.fixture(scope="module")
def data():
    return two_state_data()


def test_attempt_seeds_follow_the_stride():
    assert [attempt_seed(2, k, 10) for k in range(3)] == [2, 12, 22]


def test_stop_when_ends_training_at_that_epoch(data):
    result = train_rnn(
        *data,
        input_dim=3,
        hidden_size=8,
        num_outputs=3,
        settings=SETTINGS,
        **RUN,
        seed=0,
        stop_when=lambda epoch, history, model: epoch == 4,
    )
    assert result.history["epoch"].tolist() == [1, 2, 3, 4]
    # the same prefix as an uninterrupted run: stopping changes nothing before it
    full = train_rnn(*data, input_dim=3, hidden_size=8, num_outputs=3, settings=SETTINGS, **RUN, seed=0)
    assert full.history["train_loss"].tolist()[:4] == result.history["train_loss"].tolist()


def test_early_stopping_waits_for_patience_validations_within_the_loss_ratio():
    stop = early_stopping(HMM, loss_floor=1.0, policy=POLICY, **CHECK, seed=0)
    network = NoiseRNN(3, 8, generator=torch.Generator().manual_seed(0))
    rows = [{"epoch": 1, "val_loss": 5.0}, {"epoch": 2, "val_loss": math.nan}, {"epoch": 3, "val_loss": 5.0}]
    assert stop(3, rows[:1], network) is False  # fewer than `patience` validations so far
    assert stop(3, rows, network) is True  # two validations (NaN rows skipped), lenient thresholds
    tight = early_stopping(HMM, loss_floor=1.0, policy=replace(POLICY, max_loss_ratio=4.0), **CHECK, seed=0)
    assert tight(3, rows, network) is False  # 5.0 / 1.0 exceeds the loss ratio: no check, no stop
    never = early_stopping(HMM, loss_floor=1.0, policy=replace(POLICY, patience=0), **CHECK, seed=0)
    assert never(3, rows, network) is False


def test_early_stopping_trains_on_after_the_loss_first_qualifies():
    policy = replace(POLICY, max_loss_ratio=6.0, train_on_epochs=4)
    stop = early_stopping(HMM, loss_floor=1.0, policy=policy, **CHECK, seed=0)
    network = NoiseRNN(3, 8, generator=torch.Generator().manual_seed(0))
    losses = {1: 5.0, 2: 5.0, 3: 9.0, 4: 5.0, 5: 5.0, 6: 5.0}  # qualifies first at epoch 2 (patience 2)
    rows = [{"epoch": epoch, "val_loss": loss} for epoch, loss in losses.items()]
    assert stop(5, rows[:5], network) is False  # qualifies, but 5 < 2 + 4: no check yet
    assert stop(6, rows, network) is True  # 6 >= 2 + 4, qualifies again: checked, passes
    rows[4]["val_loss"] = 9.0
    assert stop(6, rows, network) is False  # 9.0 breaks the last two validations: no check


def test_converged_run_stops_early_on_its_first_attempt(data):
    run = train_retried(data, settings=SETTINGS, **RUN)
    assert run.record.is_converged and run.attempts == 1 and run.seed_used == 5
    assert run.result.history["epoch"].tolist() == [1, 2]  # stopped after `patience` validations


def test_unconverged_runs_are_retried_with_derived_seeds(data):
    run = train_retried(data, settings=SETTINGS, **RUN, policy=STRICT)
    assert not run.record.is_converged and not run.record.is_transitions_ok
    assert run.attempts == 3
    assert run.seed_used in {5, 15, 25}
    assert len(run.result.history) == RUN["epochs"]  # no early stop without convergence
    # the kept attempt is the one with the lowest loss ratio: retraining its seed reproduces its loss
    again = train_rnn(*data, input_dim=3, hidden_size=8, num_outputs=3, settings=SETTINGS, **RUN, seed=run.seed_used)
    assert again.history["val_loss"].iloc[-1] == pytest.approx(run.record.loss_ratio)
    for other in {5, 15, 25} - {run.seed_used}:
        rival = train_rnn(*data, input_dim=3, hidden_size=8, num_outputs=3, settings=SETTINGS, **RUN, seed=other)
        assert rival.history["val_loss"].iloc[-1] >= run.record.loss_ratio


def test_the_check_is_repeatable_per_tag_so_an_early_stop_is_confirmed():
    weights = Weights.from_state_dict(NoiseRNN(3, 8, generator=torch.Generator().manual_seed(1)).state_dict())
    policy = replace(POLICY, num_sequences=64)

    def check(tag):
        return check_convergence(HMM, weights, val_loss=2.0, loss_floor=1.0, policy=policy, **CHECK, seed=3, tag=tag)

    assert check(7) == check(7)
    assert check(7).distance_ratio != check(8).distance_ratio  # other draws for another epoch
