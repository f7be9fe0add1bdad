"""Recovery from bad files without losing trained networks, and bad configs rejected before any job.

A corrupt data file or floor makes Snakemake rerun (and so delete the outputs of) every training job that reads it;
the job fails, and its error message gives the command that rebuilds the file and everything made from it. Running
that command retrains nothing: each attempt's finished state survives in the model's resume folder, so the
weights come back bitwise equal in seconds.
"""

import re
import shlex
import shutil
import subprocess
import sys

import pytest
import yaml
from conftest import REPO, run_snakemake

pytestmark = pytest.mark.e2e

# one small model with two (unconverged) attempts and evolution snapshots; training and metrics tables only
RECOVERY_CONFIG = {
    "hmms": {"linear2": {"epochs": 4, "seq_len": 10}},
    "study": [{"hmms": ["linear2"], "hidden_sizes": [8], "input_dims": [4], "seeds": [0]}],
    "data": {"num_train": 64, "num_val": 32, "num_test": 0},
    "training": {
        "device": "cpu",
        "batch_size": 32,
        "resume_every": 2,
        "evolution": {"hidden_sizes": [8], "input_dims": [4], "every": 2},
    },
    "evaluation": {"num_sequences": 40, "sinkhorn_max_iters": 50},
    "convergence": {
        "num_sequences": 24,
        "num_trajectories": 4,
        "dynamics_steps": 40,
        "decay_steps": 20,
        "patience": 1,
        "max_attempts": 2,
        "floor_draws": 1,
    },
    "analysis": {"representative": {"hidden_size": 8, "input_dim": 4, "seeds": {}}},
}
TARGETS = ["results/tables/training.parquet", "results/tables/metrics.parquet"]
MODEL = "linear2/hidden_8/input_4/seed_0"
MODEL_FILES = ("final.pt", "best.pt", "evolution.pt", "history.parquet", "summary.parquet")
COMMAND = re.compile(r"`(snakemake [^`]*--forcerun [^`]+)`")


def model_bytes(workdir):
    return {name: (workdir / "results" / "models" / MODEL / name).read_bytes() for name in MODEL_FILES}


def run_message_command(workdir, message: str, expected_file: str):
    """Run the command an error message names (with the test's targets), as a user would, and return it."""
    commands = COMMAND.findall(message)
    assert commands, message
    command = shlex.split(commands[0])
    assert command[:3] == ["snakemake", "--cores", "all"] and command[-1] == expected_file, command
    prefix = [sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile")]
    # in the project folder, as the paths in the message are; targets first: --forcerun takes every later word
    result = subprocess.run(prefix + TARGETS + command[1:], capture_output=True, text=True, cwd=workdir)
    assert result.returncode == 0, f"{commands[0]} failed:\n{result.stdout}\n{result.stderr}"
    return result


def dry_run_counts(output: str) -> dict[str, int]:
    """Job counts per rule from the table that `snakemake -n` prints."""
    table = output.split("job ", 1)[1].split("total", 1)[0]
    return {name: int(count) for name, count in re.findall(r"^(\w+)\s+(\d+)$", table, flags=re.M)}


def train_log(workdir) -> str:
    return (workdir / "results" / "logs" / "train_rnn" / f"{MODEL}.log").read_text()


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A project folder where the recovery study has been run once (copied by each test, never changed)."""
    workdir = tmp_path_factory.mktemp("trained")
    shutil.copytree(REPO / "config", workdir / "config")
    (workdir / "recovery.yaml").write_text(yaml.safe_dump(RECOVERY_CONFIG))
    run_snakemake(workdir, "--cores", "2", *TARGETS, configfile=workdir / "recovery.yaml")
    return workdir


@pytest.fixture
def project(trained, tmp_path):
    """A copy of the trained project folder: outputs, resume folders, Snakemake's records and file times."""
    workdir = tmp_path / "project"
    shutil.copytree(trained, workdir, symlinks=True)
    return workdir


@pytest.mark.parametrize("bad_file", ["results/data/linear2/seed_0.npz", "results/floors/linear2.parquet"])
def test_a_corrupt_input_of_training_loses_no_trained_network(project, bad_file):
    workdir, config = project, project / "recovery.yaml"
    trained = model_bytes(workdir)
    resume = workdir / "results" / "models" / MODEL / "resume"
    assert sorted(path.parent.name for path in resume.glob("*/state.pt")) == ["attempt_0", "attempt_1"]

    (workdir / bad_file).write_bytes(b"corrupted by a full disk")
    failed = run_snakemake(workdir, "--cores", "2", *TARGETS, configfile=config, check=False)
    assert failed.returncode != 0
    message = failed.stdout + failed.stderr
    assert f"{bad_file}: " in message and "InputFileError" in message, message
    assert not (workdir / "results" / "models" / MODEL / "final.pt").exists()  # Snakemake deleted the outputs
    assert sorted(path.parent.name for path in resume.glob("*/state.pt")) == ["attempt_0", "attempt_1"]

    rebuilt = run_message_command(workdir, message, bad_file)
    assert "rule train_rnn" in rebuilt.stdout + rebuilt.stderr
    log = train_log(workdir)
    assert log.count("already finished") == 2  # both attempts reused ...
    assert not re.search(r"epoch \d+/\d+ ", log)  # ... and no epoch trained
    assert model_bytes(workdir) == trained  # bitwise equal weights, snapshots, history and summary
    assert "Nothing to be done" in run_snakemake(workdir, "-n", "--cores", "2", *TARGETS, configfile=config).stdout


def test_a_deleted_intermediate_file_is_rebuilt_by_forcerun_only(project):
    """What the README's recovery section says: after deleting a file, plain snakemake finds nothing to do."""
    config = project / "recovery.yaml"
    metrics = f"results/metrics/{MODEL}.parquet"
    (project / metrics).unlink()
    assert "Nothing to be done" in run_snakemake(project, "-n", "--cores", "2", *TARGETS, configfile=config).stdout
    planned = run_snakemake(project, "-n", "--cores", "2", *TARGETS, "--forcerun", metrics, configfile=config)
    assert dry_run_counts(planned.stdout) == {"evaluate_rnn": 1, "tabulate": 1}  # the file and its table


# as a user writes them (YAML reads 1e-3 as text, .nan as NaN), each with what the message must say
SCHEMA_ERRORS = """
study: [{hmms: [linear2], hidden_sizes: [8.0], input_dims: [4], seeds: [0]}]
hmms: {linear2: {epochs: 3.0}}
data: {num_train: 0}
training: {learning_rate: .nan, gumbel_tau: .inf, sinkhorn_blur: 1e-3, lerning_rate: 0.1}
"""
SCHEMA_MESSAGES = [
    r"7 problems",  # every one at once, one line each, sorted by key
    r"\n  data\.num_train: 0 is less than the minimum of 1\n",
    r"\n  hmms\.linear2\.epochs: 3\.0 must be an integer; write 3\n",
    r"\n  study\[0\]\.hidden_sizes\[0\]: 8\.0 must be an integer; write 8\n",
    r"\n  training: Additional properties are not allowed \('lerning_rate' was unexpected\)\n",
    r"\n  training\.gumbel_tau: inf is not a finite number",
    r"\n  training\.learning_rate: nan is not a finite number",
    r"\n  training\.sinkhorn_blur: '1e-3' was read as text, not a number .*; write 1\.0e-3",
]
REPRESENTATIVE_ERROR = "analysis: {representative: {hidden_size: 64}}\n"
REPRESENTATIVE_MESSAGES = [r"analysis\.representative: no study block trains hidden_size=64 with input_dim=100"]


@pytest.mark.parametrize(
    ("override", "messages"),
    [(SCHEMA_ERRORS, SCHEMA_MESSAGES), (REPRESENTATIVE_ERROR, REPRESENTATIVE_MESSAGES)],
    ids=["schema", "untrained-representative"],
)
def test_a_bad_config_is_rejected_before_any_job_naming_the_key(workdir, override, messages):
    path = workdir / "override.yaml"
    path.write_text(override)
    result = run_snakemake(workdir, "-n", "--cores", "1", configfile=path, check=False)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    for message in messages:
        assert re.search(message, output), (message, output)
    assert "Building DAG of jobs" not in output  # rejected while the workflow is read, before any job


def test_a_yaml_syntax_error_in_the_config_names_the_file_and_line(workdir):
    default = workdir / "config" / "config.yaml"
    lines = default.read_text().splitlines()
    line = next(number for number, text in enumerate(lines, 1) if text.startswith("  batch_size:"))
    lines[line - 1] = "  batch_size: [4096"
    default.write_text("\n".join(lines) + "\n")
    result = run_snakemake(workdir, "-n", "--cores", "1", configfile=None, check=False)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert re.search(rf"config/config\.yaml, line {line + 1}, column \d+: YAML syntax error", output), output
