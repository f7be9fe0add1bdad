"""Helpers to run the workflow in a throw-away working directory, as a user's project folder."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
E2E_CONFIG = REPO / "tests" / "e2e" / "config.yaml"


def snakemake_command(workdir: Path, *args: str, configfile: Path | None = E2E_CONFIG, override: dict | None = None):
    """Command line running the workflow in ``workdir`` with ``configfile`` (and ``override``) over config/."""
    command = [sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "--directory", str(workdir)]
    configfiles = [] if configfile is None else [str(configfile)]
    if override is not None:
        path = workdir / "override.yaml"
        path.write_text(yaml.safe_dump(override))
        configfiles.append(str(path))
    if configfiles:
        command += ["--configfile", *configfiles]
    return command + list(args)


def run_snakemake(workdir: Path, *args: str, check: bool = True, **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run(
        snakemake_command(workdir, *args, **kwargs),
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    if check and result.returncode != 0:
        raise AssertionError(f"snakemake {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A fresh project folder holding a copy of the repository's config/ (the default config file)."""
    shutil.copytree(REPO / "config", tmp_path / "config")
    return tmp_path
