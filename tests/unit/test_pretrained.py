"""Networks trained elsewhere: format detection, conversion, shape checks and their place in the study."""

from collections import OrderedDict
from pathlib import Path

import pyarrow as pa
import pytest
import torch
import yaml
from torch import nn

from hmmrnn.errors import ConfigError, InputFileError
from hmmrnn.pretrained import (
    check_pretrained_files,
    checkpoint_format,
    empty_evolution,
    load_pretrained,
    pretrained_state,
)
from hmmrnn.rnn import NoiseRNN, rnn_from_checkpoint
from hmmrnn.study import ModelKey, check_pretrained, evolution_models, model_keys, pretrained_models
from hmmrnn.tables import TRAINING_SCHEMA, pretrained_summary

REPO = Path(__file__).resolve().parents[2]
CONFIG = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
SIZES = {"hidden_size": 5, "input_dim": 3, "num_outputs": 3}


class AuthorsRNN(nn.Module):
    """The authors' network: ``rnn = nn.RNN(d, H, relu)`` and ``fc = nn.Linear(H, K)``, biases optional."""

    def __init__(self, input_dim: int, hidden_size: int, num_outputs: int, bias: bool = False) -> None:
        super().__init__()
        self.rnn = nn.RNN(input_dim, hidden_size, 1, nonlinearity="relu", batch_first=True, bias=bias)
        self.fc = nn.Linear(hidden_size, num_outputs, bias=bias)


def authors_state(bias: bool = False) -> OrderedDict:
    torch.manual_seed(0)
    return AuthorsRNN(SIZES["input_dim"], SIZES["hidden_size"], SIZES["num_outputs"], bias=bias).state_dict()


def test_authors_state_dict_maps_to_the_noise_rnn_weights_unchanged():
    state = authors_state()
    assert checkpoint_format(state) == "nn.RNN"
    converted = pretrained_state(state, **SIZES)
    assert torch.equal(converted["readout.weight"], state["fc.weight"])
    assert torch.equal(converted["rnn.weight_hh_l0"], state["rnn.weight_hh_l0"])
    model = NoiseRNN(SIZES["input_dim"], SIZES["hidden_size"], SIZES["num_outputs"])
    model.load_state_dict(converted)  # exactly the NoiseRNN's keys and shapes


def test_zero_biases_are_dropped_and_non_zero_biases_are_refused():
    state = authors_state(bias=True)
    with torch.no_grad():
        for key in ("rnn.bias_ih_l0", "rnn.bias_hh_l0", "fc.bias"):
            state[key].zero_()
    assert set(pretrained_state(state, **SIZES)) == {"rnn.weight_ih_l0", "rnn.weight_hh_l0", "readout.weight"}
    state["fc.bias"][1] = 0.5
    with pytest.raises(ValueError, match=r"non-zero biases \['fc.bias'\].*bias-free"):
        pretrained_state(state, **SIZES)


def test_this_workflows_checkpoint_and_bare_state_dict_are_read_too():
    model = NoiseRNN(SIZES["input_dim"], SIZES["hidden_size"], SIZES["num_outputs"])
    payload = {"state_dict": model.state_dict(), "epoch": 7, **SIZES}
    assert checkpoint_format(payload) == checkpoint_format(model.state_dict()) == "hmmrnn"
    for source in (payload, model.state_dict()):
        converted = pretrained_state(source, **SIZES)
        assert all(torch.equal(converted[key], value) for key, value in model.state_dict().items())
    rebuilt = rnn_from_checkpoint({"state_dict": pretrained_state(payload, **SIZES), **SIZES})
    assert rebuilt.hidden_size == SIZES["hidden_size"]


@pytest.mark.parametrize(
    ("sizes", "match"),
    [
        ({**SIZES, "hidden_size": 6}, r"rnn.weight_ih_l0 has shape \(5, 3\); hidden_size=6, input_dim=3 .* \(6, 3\)"),
        ({**SIZES, "input_dim": 4}, r"rnn.weight_ih_l0 has shape \(5, 3\); .* need \(5, 4\)"),
        ({**SIZES, "num_outputs": 4}, r"fc.weight has shape \(3, 5\); .*4 outputs need \(4, 5\)"),
    ],
)
def test_a_shape_that_does_not_fit_the_key_names_the_weight_and_both_shapes(sizes, match):
    with pytest.raises(ValueError, match=match):
        pretrained_state(authors_state(), **sizes)


def test_declared_sizes_unknown_formats_and_extra_layers_are_refused():
    model = NoiseRNN(SIZES["input_dim"], SIZES["hidden_size"], SIZES["num_outputs"])
    with pytest.raises(ValueError, match=r"declares \{'hidden_size': 9\}"):
        pretrained_state({"state_dict": model.state_dict(), **SIZES, "hidden_size": 9}, **SIZES)
    with pytest.raises(ValueError, match=r"unknown checkpoint format: found keys \['decoder.weight'\]"):
        checkpoint_format({"decoder.weight": torch.zeros(1)})
    with pytest.raises(ValueError, match="unknown checkpoint format: found a Tensor"):
        checkpoint_format(torch.zeros(2))
    two_layers = {**authors_state(), "rnn.weight_ih_l1": torch.zeros(5, 5)}
    with pytest.raises(ValueError, match=r"unexpected keys \['rnn.weight_ih_l1'\]: .*single-layer"):
        pretrained_state(two_layers, **SIZES)
    broken = {**authors_state(), "rnn.weight_hh_l0": torch.full((5, 5), float("nan"))}
    with pytest.raises(ValueError, match="non-finite"):
        pretrained_state(broken, **SIZES)


def test_file_errors_name_the_file_and_the_check_names_the_model_key(tmp_path):
    missing = tmp_path / "missing.pt"
    with pytest.raises(InputFileError, match="missing.pt: checkpoint not found"):
        load_pretrained(missing, **SIZES)
    garbage = tmp_path / "garbage.pt"
    garbage.write_text("not a checkpoint")
    with pytest.raises(InputFileError, match="garbage.pt: not a readable torch checkpoint"):
        load_pretrained(garbage, **SIZES)
    wrong = tmp_path / "wrong.pt"
    torch.save(authors_state(), wrong)
    key = ModelKey("linear2", 6, 3, 1)
    with pytest.raises(InputFileError, match=r"hmm=linear2, hidden_size=6, input_dim=3, seed=1: .*wrong.pt: rnn"):
        check_pretrained_files({key: str(wrong)}, {"linear2": 3})
    check_pretrained_files({ModelKey("linear2", 5, 3, 1): str(wrong)}, {"linear2": 3})  # fits: no error


def test_pretrained_models_join_the_study_without_evolution_snapshots():
    entry = {"hmm": "linear2", "hidden_size": 150, "input_dim": 100, "seed": 0, "path": "theirs.pt"}
    extra = {"hmm": "linear3", "hidden_size": 7, "input_dim": 2, "seed": 4, "path": "other.pt"}
    config = {**CONFIG, "pretrained": [entry, extra]}
    keys = model_keys(config)
    assert len(keys) == 151 and keys[-1] == ModelKey("linear3", 7, 2, 4)  # in `study` already: the same model
    assert pretrained_models(config)[ModelKey("linear2", 150, 100, 0)] == "theirs.pt"
    assert ModelKey("linear2", 150, 100, 0) not in evolution_models(config)
    assert len(evolution_models(config)) == len(evolution_models(CONFIG)) - 1
    check_pretrained(config)
    with pytest.raises(ConfigError, match=r"pretrained\[1\]: the same model as pretrained\[0\]"):
        check_pretrained({**CONFIG, "pretrained": [entry, entry]})
    with pytest.raises(ConfigError, match=r"pretrained\[0\].hmm: unknown HMM 'nope'"):
        check_pretrained({**CONFIG, "pretrained": [{**entry, "hmm": "nope"}]})


def test_imported_summary_and_empty_evolution_have_the_trained_models_layout():
    convergence = {field.name: False if field.name.startswith("is_") else 1.5 for field in TRAINING_SCHEMA}
    summary = pretrained_summary(
        convergence,
        hmm="linear2",
        hidden_size=5,
        input_dim=3,
        seed=0,
        source="theirs.pt",
        num_states=2,
        seq_len=10,
        device="cpu",
        train_loss=0.3,
        val_loss=0.4,
        loss_floor=0.2,
    )
    pa.Table.from_pandas(summary, schema=TRAINING_SCHEMA, preserve_index=False)  # the declared types fit
    assert summary.loc[0, "source"] == "theirs.pt" and summary.loc[0, "epochs_run"] == 0
    evolution = empty_evolution(pretrained_state(authors_state(), **SIZES))
    assert evolution["epoch"].shape == (0,) and evolution["rnn.weight_hh_l0"].shape == (0, 5, 5)
