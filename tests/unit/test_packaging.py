"""The conda environments and pyproject.toml declare the same packages with the same pins, and every
third-party module that the workflow imports is declared; the Slurm extra allows only plugin versions with
every option of profiles/slurm."""

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

REPO = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())
ENV_FILES = sorted((REPO / "envs").glob("*.yaml"))
FIRST_PARTY = {path.name for path in (REPO / "workflow").iterdir() if (path / "__init__.py").is_file()}
SMK_IMPORT = re.compile(r"^\s*(?:from|import)\s+([A-Za-z_]\w*)", flags=re.M)


def pins(requirements) -> dict[str, str]:
    """Canonical package name -> its version specifier, as written."""
    parsed = [Requirement(requirement) for requirement in requirements]
    return {canonicalize_name(requirement.name): str(requirement.specifier) for requirement in parsed}


def environment(path: Path) -> tuple[list[str], list[str]]:
    """(conda dependencies, pip dependencies) of a conda environment file."""
    conda, pip = [], []
    for entry in yaml.safe_load(path.read_text())["dependencies"]:
        if isinstance(entry, dict):
            pip += entry["pip"]
        else:
            conda.append(entry)
    return conda, pip


def imported_modules() -> dict[str, set[str]]:
    """Top-level module -> the workflow files that import it (Python files, rule files and the Snakefile)."""
    modules: dict[str, set[str]] = {}
    for path in sorted((REPO / "workflow").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                modules.setdefault(name.split(".")[0], set()).add(str(path.relative_to(REPO)))
    for path in [REPO / "Snakefile", *sorted((REPO / "workflow").rglob("*.smk"))]:
        for name in SMK_IMPORT.findall(path.read_text()):
            modules.setdefault(name, set()).add(str(path.relative_to(REPO)))
    return modules


@pytest.mark.parametrize("path", ENV_FILES, ids=lambda path: path.name)
def test_conda_environment_has_the_pins_of_pyproject(path):
    conda, pip = environment(path)
    assert pins(pip) == pins(PYPROJECT["project"]["dependencies"])
    assert "pip" in conda


@pytest.mark.parametrize("path", ENV_FILES, ids=lambda path: path.name)
def test_conda_environment_builds_anywhere(path):
    """Nothing is installed from a path, which resolves only from one folder (e.g. `-e ../..`)."""
    conda, pip = environment(path)
    local = [entry for entry in pip if entry.startswith("-") or "/" in entry or entry.startswith(".")]
    assert not local, f"{path.name} installs from a local path: {local}"
    assert all(Requirement(entry).url is None for entry in pip)
    [python] = [entry for entry in conda if entry.split("=")[0] == "python"]
    version = python.split("=", 1)[1]
    assert Version(version) in SpecifierSet(PYPROJECT["project"]["requires-python"])


def test_every_imported_third_party_module_is_declared():
    declared = set(pins(PYPROJECT["project"]["dependencies"]))
    distributions = packages_distributions()
    missing = {}
    for module, files in imported_modules().items():
        if module in sys.stdlib_module_names or module in FIRST_PARTY or module == "__future__":
            continue
        names = {canonicalize_name(name) for name in distributions.get(module, [module])}
        if not names & declared:
            missing[module] = sorted(files)
    assert not missing, f"imported but not in pyproject.toml's dependencies (nor envs/): {missing}"


def test_imports_are_found_where_they_are_known():
    """The scan itself: it sees the modules that are known to be imported."""
    modules = imported_modules()
    assert {"torch", "scipy", "sklearn", "snakemake", "hmmrnn", "mpl_toolkits"} <= set(modules)
    assert "workflow/rules/common.smk" in modules["snakemake"]


def test_slurm_extra_has_every_option_of_the_profile():
    """profiles/slurm sets slurm-status-command, which the plugin has from 2.0.1 on."""
    profile = yaml.safe_load((REPO / "profiles" / "slurm" / "config.yaml").read_text())
    assert "slurm-status-command" in profile
    [plugin] = [Requirement(entry) for entry in PYPROJECT["project"]["optional-dependencies"]["slurm"]]
    assert plugin.name == "snakemake-executor-plugin-slurm"
    assert "2.0.0" not in plugin.specifier and "2.0.1" in plugin.specifier and "2.8.0" in plugin.specifier
