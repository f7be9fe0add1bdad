"""Config checks before any job: every schema problem at once, named by key with its fix; YAML errors by line."""

import copy
import json
from pathlib import Path

import pytest
import yaml

from hmmrnn import study
from hmmrnn.errors import ConfigError
from hmmrnn.validation import check_config_schema, checked_yaml_file, schema_problems

REPO = Path(__file__).resolve().parents[2]
CONFIG = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
SCHEMA = json.loads((REPO / "config" / "config.schema.json").read_text())


def with_values(*changes: tuple[tuple, object]) -> dict:
    """A copy of the paper config with each ``(path of keys and list indices, value)`` of ``changes`` set."""
    config = copy.deepcopy(CONFIG)
    for (*parents, last), value in changes:
        node = config
        for part in parents:
            node = node[part]
        node[last] = value
    return config


def test_the_shipped_configs_pass():
    assert schema_problems(CONFIG, SCHEMA) == []
    quick = yaml.safe_load((REPO / "config" / "quick.yaml").read_text())
    study.check_analysis_config({**CONFIG, "study": quick["study"]})


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ((("study", 0, "hidden_sizes"), [8.0]), "study[0].hidden_sizes[0]: 8.0 must be an integer; write 8"),
        ((("hmms", "linear2", "epochs"), 3.0), "hmms.linear2.epochs: 3.0 must be an integer; write 3"),
        ((("training", "sinkhorn_p"), 2.0), "training.sinkhorn_p: 2.0 must be an integer; write 2"),
        ((("training", "learning_rate"), float("nan")), "training.learning_rate: nan is not a finite number"),
        ((("training", "learning_rate"), float("inf")), "training.learning_rate: inf is not a finite number"),
        ((("hmms", "linear2", "epochs"), float("-inf")), "hmms.linear2.epochs: -inf is not a finite number"),
        ((("analysis", "figures", "view_3d"), [float("nan"), 75]), "analysis.figures.view_3d[0]: nan is not a"),
        ((("training", "learning_rate"), "1e-3"), "training.learning_rate: '1e-3' was read as text, not a number"),
        ((("training", "learning_rate"), "0.001"), "training.learning_rate: '0.001' is quoted text, not a number"),
        ((("data", "num_train"), 0), "data.num_train: 0 is less than the minimum of 1"),
    ],
    ids=[
        "float-item",
        "float-epochs",
        "float-enum",
        "nan",
        "inf",
        "minus-inf",
        "nan-in-list",
        "1e-3",
        "quoted",
        "range",
    ],
)
def test_a_bad_value_is_named_by_its_key_with_the_fix(change, message):
    problems = schema_problems(with_values(change), SCHEMA)
    assert len(problems) == 1 and problems[0].startswith(message), problems


def test_yaml_text_numbers_get_the_spelling_yaml_reads_as_a_number():
    config = with_values((("training", "learning_rate"), "1e-3"), (("analysis", "max_state_norm"), "1e6"))
    problems = "\n".join(schema_problems(config, SCHEMA))
    assert "write 1.0e-3" in problems and "write 1.0e+6" in problems
    assert isinstance(yaml.safe_load("1.0e-3"), float) and isinstance(yaml.safe_load("1.0e+6"), float)


def test_every_problem_of_a_config_is_reported_at_once():
    config = with_values(
        (("hmms", "linear2", "epochs"), 3.0), (("training", "learning_rate"), float("nan")), (("data", "num_val"), -1)
    )
    config["training"]["lerning_rate"] = 0.01
    with pytest.raises(ConfigError) as error:
        check_config_schema(config, SCHEMA)
    message = str(error.value)
    assert message.startswith("4 problems")
    for key in ("hmms.linear2.epochs", "training.learning_rate", "data.num_val", "training: Additional properties"):
        assert f"\n  {key}" in message, message


def test_a_yaml_syntax_error_names_the_file_and_line(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text("training:\n  learning_rate: 0.001\n  adam_betas: [0.9, 0.9\nseed: 1\n")
    with pytest.raises(ConfigError, match=rf"^{path}, line 4, column 5: YAML syntax error: .*line 3"):
        checked_yaml_file(path)
    path.write_text("training:\n\tbatch_size: 4\n")
    with pytest.raises(ConfigError, match=rf"^{path}, line 2, column 1: YAML syntax error: .*'\\t'"):
        checked_yaml_file(path)
    path.write_text("training:\n  batch_size: 4\nseed: 1\ntraining:\n  batch_size: 8\n")
    twice = "line 4, column 1: YAML syntax error: key 'training' is written twice.*line 1, column 1"
    with pytest.raises(ConfigError, match=rf"^{path}, {twice}"):
        checked_yaml_file(path)
    path.write_text("seed: 1\n")
    assert checked_yaml_file(path) == path
    assert checked_yaml_file(tmp_path / "absent.yaml") == tmp_path / "absent.yaml"  # left to Snakemake


def test_a_representative_cell_that_no_study_block_trains_is_rejected():
    config = copy.deepcopy(CONFIG)
    config["analysis"]["representative"]["hidden_size"] = 64
    with pytest.raises(ConfigError, match=r"analysis\.representative: no study block trains hidden_size=64") as error:
        study.check_analysis_config(config)
    assert "{hidden_size: 150, input_dim: 100}" in str(error.value)  # the trained cells to choose from
