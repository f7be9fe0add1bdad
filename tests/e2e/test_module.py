"""The workflow as a Snakemake module of another project (what snakedeploy generates), with hmmrnn not installed.

The wrapper projects live in temporary folders and run with a Python that has every dependency but not the
``hmmrnn`` package, so the workflow must find its own package from its source (workflow/rules/package.smk).
"""

import os
import re
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pandas as pd
import pytest
import yaml
from conftest import E2E_CONFIG, REPO

pytestmark = pytest.mark.e2e

# the tiny study cut to one trained family without evolution snapshots, so that it runs end to end in ~2 min
ONE_FAMILY = {
    "study": [{"hmms": ["linear2"], "hidden_sizes": [8], "input_dims": [4], "seeds": [0]}],
    "training": {"evolution": {"hidden_sizes": [8], "input_dims": [4], "every": 0}},
    "convergence": {"max_attempts": 1},
    "analysis": {"figures": {"two_state": "linear2", "linear_chains": ["linear2"], "multi_orbit": []}},
}
# the families' figures of a linear2-only study without evolution (Figs 4, 14, 15 need snapshots; 13, 17-20,
# 23, 24 other families)
FIGURES = ("fig01", "fig02", "fig03", "fig05", "fig06", "fig07", "fig08", "fig09", "fig10", "fig11", "fig12")
FIGURES += ("fig16", "fig21", "fig22", "fig25")

WRAPPER = """\
configfile: "config/config.yaml"
configfile: "config/tiny.yaml"
configfile: "config/one_family.yaml"


module hmmrnn:
    snakefile:
        {snakefile}
    config:
        config


use rule * from hmmrnn{rename}
"""


@pytest.fixture(scope="module")
def bare_python(tmp_path_factory) -> Path:
    """A virtual environment with this one's packages, linked, except hmmrnn (and its editable-install hook)."""
    venv = tmp_path_factory.mktemp("bare_venv")
    subprocess.run([sys._base_executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    query = "import sysconfig; print(sysconfig.get_paths()['purelib'])"
    site = Path(subprocess.run([python, "-c", query], capture_output=True, text=True, check=True).stdout.strip())
    for entry in Path(sysconfig.get_paths()["purelib"]).iterdir():
        if "hmmrnn" not in entry.name.lower():  # the package, its metadata, an editable install's .pth or finder
            (site / entry.name).symlink_to(entry)
    check = subprocess.run([python, "-c", "import snakemake, torch, hmmrnn"], cwd=venv, capture_output=True, text=True)
    assert "No module named 'hmmrnn'" in check.stderr, check.stderr
    return python


def wrapper_project(root: Path, snakefile: str, rename: str = "") -> Path:
    """A project folder as snakedeploy writes it: config/ copied from the workflow, workflow/Snakefile a module."""
    shutil.copytree(REPO / "config", root / "config")
    shutil.copy(E2E_CONFIG, root / "config" / "tiny.yaml")
    (root / "config" / "one_family.yaml").write_text(yaml.safe_dump(ONE_FAMILY))
    (root / "workflow").mkdir()
    (root / "workflow" / "Snakefile").write_text(WRAPPER.format(snakefile=snakefile, rename=rename))
    return root


def run_module(python: Path, project: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    environment = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    environment.update(PYTHONUNBUFFERED="1", **(env or {}))
    result = subprocess.run(
        [str(python), "-m", "snakemake", "--cores", "2", *args],
        cwd=project,
        env=environment,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise AssertionError(f"snakemake {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result


def test_the_tiny_study_runs_to_the_end_as_a_module_of_another_project(bare_python, tmp_path):
    project = wrapper_project(tmp_path, repr(str(REPO / "Snakefile")), rename=" as hmmrnn_*")
    run_module(bare_python, project)
    figures = project / "results" / "figures"
    assert all((figures / f"{figure}.{fmt}").stat().st_size > 0 for figure in FIGURES for fmt in ("pdf", "png"))
    training = pd.read_parquet(project / "results" / "tables" / "training.parquet")
    assert training[["hmm", "source"]].values.tolist() == [["linear2", "trained"]]
    assert (project / "results" / "tables" / "claims_summary.parquet").exists()
    # the package files listed as code inputs resolve to the same recorded paths in a new run: nothing reruns
    assert "Nothing to be done" in run_module(bare_python, project, "-n").stdout


def test_a_module_from_github_imports_its_package_from_snakemakes_source_cache(bare_python, tmp_path):
    """``github(...)`` as snakedeploy writes it, served offline from a bare clone placed in Snakemake's git cache."""
    if shutil.which("git") is None or not (REPO / ".git").exists():
        pytest.skip("needs git and a git checkout of the workflow")
    source = tmp_path / "source"
    files = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=REPO, capture_output=True, check=True
    ).stdout.decode()
    for relative in filter(None, files.split("\0")):
        if (REPO / relative).is_file():
            (source / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / relative, source / relative)
    git = ["git", "-c", "user.name=test", "-c", "user.email=test@example.org"]
    for command in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-qm", "snapshot"], ["tag", "v0"]):
        subprocess.run(git + command, cwd=source, check=True)
    cache = tmp_path / "cache"  # XDG_CACHE_HOME: Snakemake keeps hosted repositories in <cache>/.../github.com/<repo>
    clone = cache / "snakemake" / "snakemake" / "source-cache" / "snakemake-git-cache" / "github.com" / "hmmrnn-test"
    clone.mkdir(parents=True)
    subprocess.run(["git", "clone", "-q", "--bare", str(source), str(clone / "hmmrnn")], check=True)

    project = wrapper_project(tmp_path / "project", 'github("hmmrnn-test/hmmrnn", path="Snakefile", tag="v0")')
    env = {"XDG_CACHE_HOME": str(cache)}
    assert "train_rnn" in run_module(bare_python, project, "-n", env=env).stdout
    floor = "results/floors/linear2.parquet"
    run_module(bare_python, project, floor, env=env)  # the job imports the package from the cached copy too
    assert (project / floor).exists()
    assert "Nothing to be done" in run_module(bare_python, project, "-n", floor, env=env).stdout
    # an edit to a module the floor's script imports reruns it; one to a module it does not import does not
    package = cache / "snakemake" / "snakemake" / "source-cache" / "hosted-git" / "githubfile" / "github.com"
    package = package / "hmmrnn-test" / "hmmrnn" / "v0" / "workflow" / "hmmrnn"
    with open(package / "plotting" / "_style.py", "a") as handle:
        handle.write("# an edit\n")
    assert "Nothing to be done" in run_module(bare_python, project, "-n", floor, env=env).stdout
    with open(package / "evaluation" / "loss.py", "a") as handle:
        handle.write("# an edit\n")
    dry_run = run_module(bare_python, project, "-n", floor, env=env).stdout
    assert re.search(r"Updated input files: \S*/hmmrnn/evaluation/loss\.py", dry_run)
