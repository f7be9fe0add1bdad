"""End-to-end runs of the Snakemake workflow on the tiny test config, and checks of the paper config's DAG."""

import os
import re
import signal
import subprocess
import time

import pandas as pd
import pyarrow.parquet as pq
import pytest
import torch
import yaml
from conftest import E2E_CONFIG, REPO, run_snakemake, snakemake_command

from hmmrnn.io import load_sequences
from hmmrnn.study import model_keys
from hmmrnn.tables import (
    CLAIMS_SCHEMA,
    EVOLUTION_SCHEMA,
    FLOOR_SCHEMA,
    GLOBAL_SCHEMA,
    HISTORY_SCHEMA,
    METRICS_SCHEMA,
    RADIUS_SCHEMA,
    REPRESENTATIVE_SCHEMA,
    SUBSPACE_SCHEMA,
    TRAINING_SCHEMA,
    TRANSITION_SCHEMA,
)

pytestmark = pytest.mark.e2e


def dry_run_counts(output: str) -> dict[str, int]:
    """Job counts per rule from the table that `snakemake -n` prints."""
    table = output.split("job ", 1)[1].split("total", 1)[0]
    return {name: int(count) for name, count in re.findall(r"^(\w+)\s+(\d+)$", table, flags=re.M)}


def test_paper_config_has_150_training_jobs(workdir):
    result = run_snakemake(workdir, "-n", "--cores", "all", configfile=None)
    counts = dry_run_counts(result.stdout)
    assert counts["train_rnn"] == 150
    assert counts["sample_hmm"] == 6 * 3  # one data set per (hmm, seed)
    # global dynamics: one representative per family, evolution for all, output-pair subspaces for fully and cyclic
    assert counts["select_representative"] == 6
    assert counts["analyze_global_dynamics"] == counts["analyze_evolution"] == 6
    assert counts["analyze_subspaces"] == 2
    assert all(counts[figure] == 1 for figure in ("fig02", "fig03", "fig04", "fig12", "fig13", "fig14", "fig15"))


def test_quick_config_trains_one_model_per_family(workdir):
    result = run_snakemake(workdir, "-n", "--cores", "all", configfile=REPO / "config" / "quick.yaml")
    assert dry_run_counts(result.stdout)["train_rnn"] == 6


def test_tiny_study_runs_end_to_end_and_reruns_only_what_changed(workdir):
    # the analyses run with 2 threads (their default is 1): batched LAPACK calls must not hang with several threads
    analyses = ("global_dynamics", "subspaces", "evolution", "local", "alignment")
    run_snakemake(workdir, "--cores", "2", "--set-threads", *(f"analyze_{name}=2" for name in analyses))
    config = {**yaml.safe_load((REPO / "config" / "config.yaml").read_text())}
    e2e = yaml.safe_load(E2E_CONFIG.read_text())
    keys = model_keys({**config, "study": e2e["study"]})
    assert len(keys) == 4

    tables = workdir / "results" / "tables"
    global_tables = (
        ("representatives", REPRESENTATIVE_SCHEMA),
        ("global_dynamics", GLOBAL_SCHEMA),
        ("orbit_radius", RADIUS_SCHEMA),
        ("subspaces", SUBSPACE_SCHEMA),
        ("evolution", EVOLUTION_SCHEMA),
        ("transition_epochs", TRANSITION_SCHEMA),
        ("claims", CLAIMS_SCHEMA),
    )
    for name, schema in (
        ("training", TRAINING_SCHEMA),
        ("metrics", METRICS_SCHEMA),
        ("sinkhorn_floor", FLOOR_SCHEMA),
        *global_tables,
    ):
        table = pq.read_table(tables / f"{name}.parquet")
        assert table.schema.equals(schema, check_metadata=False), name
        assert table.num_rows > 0, name
    for figure in ("fig10", "fig11", "fig16", "fig02", "fig03", "fig04", "fig12", "fig13", "fig14", "fig15"):
        for fmt in ("pdf", "png"):
            path = workdir / "results" / "figures" / f"{figure}.{fmt}"
            assert path.stat().st_size > 1000, path
            assert path.stat().st_mode & 0o044, f"{path} is not readable by others"  # atomic writes keep the umask
    frame = pq.read_table(tables / "training.parquet").to_pandas()
    assert sorted(map(tuple, frame[["hmm", "hidden_size", "input_dim", "seed"]].values.tolist())) == sorted(
        map(tuple, keys)
    )
    expected_epochs = {"linear2": 3, "cyclic": 3, "own": 4}
    assert (frame["epochs_run"] <= frame["hmm"].map(expected_epochs)).all()
    assert (frame["device"] == "cpu").all()
    # the e2e config allows two attempts; an unconverged model used both, with the derived seed s + 10
    unconverged = frame[~frame["is_converged"]]
    assert (unconverged["attempts"] == 2).all()
    assert set(unconverged["seed_used"] - unconverged["seed"]) <= {0, 10}
    metrics = pq.read_table(tables / "metrics.parquet").to_pandas()
    assert len(metrics.groupby(["hmm", "hidden_size", "input_dim", "seed"])) == len(keys)
    assert set(metrics["source"]) == {"rnn", "hmm"}

    for key in keys:
        model_dir = workdir / "results" / "models" / key.hmm / f"hidden_{key.hidden_size}" / f"input_{key.input_dim}"
        model_dir = model_dir / f"seed_{key.seed}"
        history = pq.read_table(model_dir / "history.parquet")
        assert history.schema.names == HISTORY_SCHEMA.names
        assert 1 <= history.num_rows <= expected_epochs[key.hmm]
        final = torch.load(model_dir / "final.pt", weights_only=True)
        assert final["state_dict"]["rnn.weight_hh_l0"].shape == (key.hidden_size, key.hidden_size)
        evolution = torch.load(model_dir / "evolution.pt", weights_only=True)
        has_evolution = (key.hidden_size, key.input_dim) == (8, 4)  # the evolution schedule of the e2e config
        assert (len(evolution["epoch"]) > 0) == has_evolution
        # every attempt's finished state stays (outside Snakemake's outputs), so a rerun trains nothing
        states = sorted((model_dir / "resume").glob("attempt_*/state.pt"))
        assert states and all(torch.load(state, weights_only=True)["is_finished"] for state in states)

    # one representative per family at the e2e config's cell (H=8, d=4); its analyses and claim rows
    representatives = pq.read_table(tables / "representatives.parquet").to_pandas()
    assert sorted(representatives["hmm"]) == ["cyclic", "linear2", "own"]
    assert (representatives[["hidden_size", "input_dim", "seed"]].values == [8, 4, 0]).all()
    claims = pq.read_table(tables / "claims.parquet").to_pandas()
    # 14 needs kick groups the 3-epoch networks lack; 2 needs several (H, d) cells of a linear chain
    assert set(claims["claim"]) == set(range(1, 18)) - {2, 14}
    assert set(claims.loc[claims["claim"] == 15, "hmm"]) == {"linear2"}  # across the linear chains
    assert set(claims.loc[claims["claim"] == 9, "hmm"]) == {"cyclic", "linear2", "own"}
    summary = pq.read_table(tables / "claims_summary.parquet").to_pandas()
    assert summary["claim"].tolist() == list(range(1, 18))
    assert (summary.loc[summary["claim"].isin([2, 14]), "status"] == "not checked").all()

    # every figure target and every table exists and is non-empty
    figures = [f"fig{n:02d}" for n in (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 18, 19, 21, 22, 24, 25)]
    for figure in figures:
        for fmt in ("pdf", "png"):
            assert (workdir / "results" / "figures" / f"{figure}.{fmt}").stat().st_size > 1000, figure
    for name in ("zones", "noise_sensitivity", "kick_neurons", "populations", "interventions", "alignment"):
        assert (tables / f"{name}.parquet").exists(), name
    zones = pq.read_table(tables / "zones.parquet").to_pandas()
    assert set(zones["space"]) == {"all", "0-1", "1-2", "0-2"}  # pair subspaces for the multi-orbit cyclic
    assert pq.read_table(tables / "alignment.parquet").num_rows == 3 * 3  # families x outputs
    assert set(claims.loc[claims["claim"] == 17, "hmm"]) == {"cyclic"}  # multi-orbit families only
    assert set(claims.loc[claims["claim"] == 7, "hmm"]) == {"cyclic", "linear2", "own"}
    radius = pq.read_table(tables / "orbit_radius.parquet").to_pandas()
    assert len(radius) == 3 * 5  # families x noise levels
    transition = pq.read_table(tables / "transition_epochs.parquet").to_pandas()
    assert all(len(shown) >= 1 for shown in transition["epochs_shown"])

    # the user's own HMM flows through sampling with its own matrices
    outputs, hmm = load_sequences(workdir / "results" / "data" / "own" / "seed_1.npz", "train")
    assert outputs.shape == (64, 10)
    assert hmm.transition_matrix.tolist() == [[0.9, 0.1], [0.2, 0.8]]

    # nothing to do on a rerun; changing one family's epochs reruns exactly that family's models
    assert "Nothing to be done" in run_snakemake(workdir, "-n", "--cores", "2").stdout
    changed = run_snakemake(workdir, "-n", "--cores", "2", override={"hmms": {"cyclic": {"epochs": 5}}})
    counts = dry_run_counts(changed.stdout)
    assert counts.get("train_rnn") == 1 and counts.get("evaluate_rnn") == 1 and "sample_hmm" not in counts
    # a claim threshold reruns the claim rules, the claims tables and nothing else: never an analysis
    changed = run_snakemake(
        workdir, "-n", "--cores", "2", override={"analysis": {"claims": {"radius": {"min_r_squared": 0.5}}}}
    )
    counts = dry_run_counts(changed.stdout)
    claim_rules = {"check_claims_analysis", "check_claims_study", "check_claims_alignment", "summarize_claims"}
    assert counts.get("check_claims_analysis") and counts.get("summarize_claims") == 1
    assert set(counts) <= claim_rules | {"tabulate", "all"}, counts
    assert set(re.findall(r"output: results/tables/(\w+)\.parquet", changed.stdout)) <= {"claims", "claims_summary"}
    # a figure target alone: plotting changes rerun the figure, never training
    single = run_snakemake(workdir, "-n", "--cores", "2", "fig10", "--forcerun", "fig10")
    assert dry_run_counts(single.stdout) == {"fig10": 1}
    single = run_snakemake(workdir, "-n", "--cores", "2", "fig03", "--forcerun", "fig03")
    assert dry_run_counts(single.stdout) == {"fig03": 1}  # a global-dynamics figure never reruns its analysis

    # the self-contained HTML report collects every figure with its caption
    run_snakemake(workdir, "--report", "report.html")
    report = (workdir / "report.html").read_text(errors="ignore")
    assert len(report) > 100_000 and "Sinkhorn-aligned Euclidean distance" in report
    assert "Claims summary" in report and "residency" in report


def test_killed_training_job_resumes_when_snakemake_reruns(workdir):
    epochs = 120  # long enough that the job is still training when the first resume checkpoint (epoch 5) appears
    config = workdir / "resume.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "hmms": {"linear2": {"epochs": epochs, "seq_len": 10}},
                "study": [{"hmms": ["linear2"], "hidden_sizes": [8], "input_dims": [4], "seeds": [0]}],
                "data": {"num_train": 64, "num_val": 32, "num_test": 0},
                "training": {"device": "cpu", "batch_size": 32, "resume_every": 5},
                "evaluation": {"num_sequences": 40},
                "convergence": {"num_sequences": 24, "max_attempts": 1, "floor_draws": 1, "dynamics_steps": 40},
                "analysis": {"representative": {"hidden_size": 8, "input_dim": 4}},
            }
        )
    )
    targets = ["results/tables/training.parquet"]  # training only: the analyses play no part here
    model_dir = workdir / "results" / "models" / "linear2" / "hidden_8" / "input_4" / "seed_0"
    state = model_dir / "resume" / "attempt_0" / "state.pt"
    process = subprocess.Popen(
        snakemake_command(workdir, "--cores", "1", *targets, configfile=config),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while not state.exists() and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.1)
        assert state.exists(), "no resume checkpoint appeared"
        # kill the training job, not Snakemake: the processes of this session that run the train_rnn script
        listing = subprocess.run(
            ["ps", "-ww", "-o", "pid=,args=", "-s", str(process.pid)], capture_output=True, text=True
        )
        jobs = [int(line.split()[0]) for line in listing.stdout.splitlines() if "train_rnn" in line]
        assert jobs, listing.stdout
        for pid in jobs:
            os.kill(pid, signal.SIGKILL)
        assert process.wait(timeout=60) != 0  # Snakemake reports the failed job and exits
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    assert not (model_dir / "final.pt").exists()
    run_snakemake(workdir, "--cores", "1", *targets, configfile=config)
    log = (workdir / "results" / "logs" / "train_rnn" / "linear2" / "hidden_8" / "input_4" / "seed_0.log").read_text()
    assert re.search(r"resuming from epoch \d+", log)
    history = pd.read_parquet(model_dir / "history.parquet")
    assert history["epoch"].tolist() == list(range(1, epochs + 1))


OWN_HMM = {"kind": "custom", "emission_matrix": [[1, 0, 0], [0, 0, 1]], "seq_len": 5, "epochs": 1, "grad_clip": 1}


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"hmms": {"linear2": {"kind": "spiral"}}}, r"hmms\.linear2\.kind: 'spiral' is not one of"),
        (
            {"hmms": {"own": {**OWN_HMM, "transition_matrix": [[0.5, 0.6], [0.5, 0.5]]}}},
            r"hmms\.own\.transition_matrix: every row must sum to 1",
        ),
        ({"hmms": {"own": {**OWN_HMM, "transition_matrix": [[1, 0]]}}}, r"hmms\.own\.transition_matrix must be square"),
        ({"data": {"num_train": 0}}, r"data\.num_train: 0 is less than the minimum of 1"),
        ({"training": {"device": "tpu"}}, r"training\.device: 'tpu' is not one of"),
        ({"hmms": {"linear3": {"seq_len": -4}}}, r"hmms\.linear3\.seq_len: -4 is less than the minimum"),
        (
            {"study": [{"hmms": ["linear9"], "hidden_sizes": [4], "input_dims": [2], "seeds": [0]}]},
            r"study\[0\]\.hmms: unknown HMM \['linear9'\]",
        ),
        ({"training": {"batch_size": 5000}}, r"training\.batch_size \(5000\) exceeds data\.num_train"),
    ],
    ids=[
        "unknown-kind",
        "non-stochastic",
        "non-square",
        "zero-size",
        "unknown-device",
        "negative-length",
        "unknown-family",
        "batch-too-large",
    ],
)
def test_bad_config_is_rejected_before_any_job_runs(workdir, override, message):
    result = run_snakemake(workdir, "--cores", "1", override=override, check=False)
    assert result.returncode != 0
    assert re.search(message, result.stdout + result.stderr), result.stdout + result.stderr
    assert not (workdir / "results").exists()


def test_missing_key_is_named(workdir):
    config = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    del config["hmms"]["linear2"]["grad_clip"]
    (workdir / "config" / "config.yaml").write_text(yaml.safe_dump(config))
    result = run_snakemake(workdir, "-n", "--cores", "1", configfile=None, check=False)
    assert result.returncode != 0
    assert "hmms.linear2: 'grad_clip' is a required property" in result.stdout + result.stderr
