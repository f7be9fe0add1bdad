"""The tiny study end to end on CUDA, with two jobs per GPU (skipped without CUDA; README, "GPUs")."""

import os
import re

import pandas as pd
import pytest
import torch
from conftest import run_snakemake

from hmmrnn.devices import visible_devices

pytestmark = [pytest.mark.e2e, pytest.mark.gpu]

FIGURES = [f"fig{n:02d}" for n in (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 18, 19, 21, 22, 24, 25)]


def gpu_command(num_gpus: int) -> list[str]:
    """Two CUDA jobs per GPU at once, one thread each."""
    return ["--cores", str(max(4, 2 * num_gpus)), "--resources", f"gpu={2 * num_gpus}"]


def test_tiny_study_runs_on_cuda_with_two_jobs_per_gpu(workdir, tmp_path, monkeypatch):
    num_gpus = torch.cuda.device_count()
    devices = visible_devices(os.environ, torch.cuda.device_count)  # what the jobs may claim
    monkeypatch.setenv("HMMRNN_GPU_LOCK_DIR", str(tmp_path / "seats"))  # seats of this test only
    monkeypatch.setenv("HMMRNN_JOBS_PER_GPU", "2")
    run_snakemake(workdir, *gpu_command(num_gpus), override={"training": {"device": "cuda"}})

    training = pd.read_parquet(workdir / "results" / "tables" / "training.parquet")
    assert (training["device"] == "cuda").all() and len(training) == 4
    metrics = pd.read_parquet(workdir / "results" / "tables" / "metrics.parquet")
    assert metrics["value"].notna().any()
    logs = sorted((workdir / "results" / "logs").glob("*_rnn/**/*.log"))
    assert len(logs) == 8  # train_rnn and evaluate_rnn of 4 models
    for log in logs:
        [device] = re.findall(r"using CUDA device (\S+) \(seat [01];", log.read_text()) or [None]
        assert device in devices, f"{log} names no claimed GPU"
    summary = pd.read_parquet(workdir / "results" / "tables" / "claims_summary.parquet")
    assert len(summary) > 0
    for figure in FIGURES:
        assert (workdir / "results" / "figures" / f"{figure}.pdf").stat().st_size > 1000, figure
