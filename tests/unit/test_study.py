"""The study derived from a config: model list, per-rule settings and their stability."""

from pathlib import Path

import yaml

from hmmrnn.study import (
    ModelKey,
    data_sizes,
    evolution_every,
    evolution_models,
    family_labels,
    key_sorted,
    model_keys,
    resolve_device,
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


def test_only_the_evolution_models_keep_evolution_checkpoints():
    assert evolution_every(CONFIG, ModelKey("fully", 150, 100, 0)) == 1
    assert evolution_every(CONFIG, ModelKey("linear2", 50, 1, 0)) == 0


def test_settings_do_not_depend_on_the_key_order_of_the_config_file():
    shuffled = {
        **CONFIG,
        "training": dict(reversed(CONFIG["training"].items())),
        "convergence": dict(reversed(CONFIG["convergence"].items())),
        "data": dict(reversed(CONFIG["data"].items())),
    }
    key = ModelKey("linear3", 150, 100, 1)
    # the rules pass config groups key-sorted (common.smk's config_group)
    assert list(key_sorted(shuffled["training"]).items()) == list(key_sorted(CONFIG["training"]).items())
    assert evolution_every(shuffled, key) == evolution_every(CONFIG, key)
    assert list(key_sorted(shuffled["convergence"]).items()) == list(key_sorted(CONFIG["convergence"]).items())
    assert list(data_sizes(shuffled).items()) == list(data_sizes(CONFIG).items())


def test_family_labels_and_explicit_devices():
    assert family_labels(CONFIG)["linear4"] == "linear chain, M=4"
    assert family_labels(CONFIG)["cyclic"] == "cyclic, M=4"
    assert resolve_device("cpu") == "cpu" and resolve_device("cuda") == "cuda"
