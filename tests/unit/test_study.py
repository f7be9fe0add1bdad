"""The study derived from a config: model list, per-rule settings and their stability."""

from pathlib import Path

import yaml

from hmmrnn.study import (
    ModelKey,
    convergence_params,
    data_sizes,
    evolution_models,
    family_labels,
    model_keys,
    resolve_device,
    train_settings,
)

REPO = Path(__file__).resolve().parents[2]
CONFIG = yaml.safe_load((REPO / "config" / "config.yaml").read_text())


def test_paper_study_has_150_models_and_evolution_for_h150_d100():
    keys = model_keys(CONFIG)
    assert len(keys) == 150 == len(set(keys))
    assert sum(key.hmm == "linear5" for key in keys) == 36
    evolution = evolution_models(CONFIG)
    assert {(key.hidden_size, key.input_dim) for key in evolution} == {(150, 100)}
    assert len(evolution) == 6 * 3


def test_train_settings_take_family_values_and_the_evolution_schedule():
    with_snapshots = train_settings(CONFIG, ModelKey("fully", 150, 100, 0))
    assert (with_snapshots["epochs"], with_snapshots["grad_clip"], with_snapshots["evolution_every"]) == (1000, 0.3, 1)
    without = train_settings(CONFIG, ModelKey("linear2", 50, 1, 0))
    assert (without["epochs"], without["grad_clip"], without["evolution_every"]) == (500, 0.9, 0)


def test_settings_do_not_depend_on_the_key_order_of_the_config_file():
    shuffled = {
        **CONFIG,
        "training": dict(reversed(CONFIG["training"].items())),
        "convergence": dict(reversed(CONFIG["convergence"].items())),
        "data": dict(reversed(CONFIG["data"].items())),
    }
    key = ModelKey("linear3", 150, 100, 1)
    assert list(train_settings(shuffled, key).items()) == list(train_settings(CONFIG, key).items())
    assert list(convergence_params(shuffled, "linear3").items()) == list(convergence_params(CONFIG, "linear3").items())
    assert list(data_sizes(shuffled).items()) == list(data_sizes(CONFIG).items())


def test_family_labels_and_explicit_devices():
    assert family_labels(CONFIG)["linear4"] == "linear chain, M=4"
    assert family_labels(CONFIG)["cyclic"] == "cyclic, M=4"
    assert resolve_device("cpu") == "cpu" and resolve_device("cuda") == "cuda"
