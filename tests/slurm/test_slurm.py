"""The Slurm profile (profiles/slurm) against a real, throw-away single-node Slurm cluster with a fake GPU.

The cluster is started by tests/slurm/start_slurm.sh and stopped by tests/slurm/stop_slurm.sh, whatever happens.
It has no accounting (slurmdbd), on purpose: that is where the executor plugin's default status command hangs.
Skipped unless the test runs as root and the Slurm packages are installed or installable with apt-get.

One run of the tiny end-to-end study (tests/e2e/config.yaml, training on the CPU) up to its training and metrics
tables is shared by the tests: those are the torch rules, which carry the GPU resources; the analyses and figures
downstream are plain jobs, run end to end by tests/e2e. While it runs, one training job is cancelled with scancel.
Runs that change the config work on copies of its folder.
"""

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
import yaml

pytestmark = pytest.mark.slurm

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
E2E_CONFIG = REPO / "tests" / "e2e" / "config.yaml"
PROFILE = REPO / "profiles" / "slurm"
SLURM_PACKAGES = ["slurm-wlm", "slurm-client", "munge"]
SLURM_PROGRAMS = ["munged", "mungekey", "slurmctld", "slurmd", "sbatch", "squeue", "scontrol", "scancel"]
# Status polling for a test: the profile keeps the plugin's production defaults (40 s before the first check).
FAST_STATUS = ["--slurm-init-seconds-before-status-checks", "2", "--seconds-between-status-checks", "2"]
RUN_TIMEOUT_S = 360
TARGETS = ["results/tables/training.parquet", "results/tables/metrics.parquet"]
# The node offers more than this machine has, so that the jobs of a stage run side by side, as on a real cluster
# with many nodes; the test cluster enforces no limits (no cgroups), so nothing else changes.
NODE = {"NODE_CPUS": "8", "NODE_MEM_MB": "64000"}
TRAIN_OUTPUTS = ["final.pt", "best.pt", "history.parquet", "evolution.pt", "summary.parquet"]
GPU_MODEL = ("own", 6, 2, 1)  # (hmm, hidden_size, input_dim, seed) of the model the GPU tests retrain
# "Job 3 has been submitted with SLURM jobid 12 (log: .../slurm_logs/rule_train_rnn/own_6_2_1/12.log)."
SUBMITTED = re.compile(r"submitted with SLURM jobid (\d+) \(log: .*/slurm_logs/rule_(\w+)/(?:(\S+)/)?\d+\.log\)")


def missing_programs() -> list[str]:
    return [p for p in SLURM_PROGRAMS if shutil.which(p) is None and not Path("/usr/sbin", p).exists()]


def install_slurm() -> str | None:
    """Install the Slurm packages with apt-get if they are missing; the reason why not, or None."""
    if not missing_programs():
        return None
    if shutil.which("apt-get") is None:
        return f"Slurm programs {missing_programs()} are missing and there is no apt-get to install them"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update"], ["apt-get", "install", "-y", *SLURM_PACKAGES]):
        try:
            result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
        except subprocess.TimeoutExpired:
            return f"`{' '.join(command)}` took more than 10 minutes"
        if result.returncode != 0:
            return f"`{' '.join(command)}` failed: {result.stderr.strip()[-500:]}"
    if missing_programs():
        return f"Slurm programs {missing_programs()} are still missing after apt-get install"
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass(frozen=True)
class Cluster:
    root: Path
    env: dict[str, str]

    def slurm(self, *command: str) -> str:
        return subprocess.run(command, env=self.env, capture_output=True, text=True, check=True, timeout=30).stdout

    def job(self, job_id: str) -> dict[str, str]:
        """Slurm's record of a job (`scontrol show job`), as KEY: VALUE."""
        record = self.slurm("scontrol", "show", "job", "--oneliner", job_id)
        return dict(re.findall(r"(\w+)=(\S*)", record))


@pytest.fixture(scope="module")
def cluster(tmp_path_factory) -> Cluster:
    if os.geteuid() != 0:
        pytest.skip("needs root: slurmd and munged of the throw-away cluster run as root")
    reason = install_slurm()
    if reason is not None:
        pytest.skip(f"Slurm packages not available: {reason}")
    pytest.importorskip("snakemake_executor_plugin_slurm", reason="install the extra: pip install -e '.[slurm]'")

    root = tmp_path_factory.mktemp("slurm")
    settings = {"SLURMCTLD_PORT": str(free_port()), "SLURMD_PORT": str(free_port()), **NODE}
    # A CI time limit sends SIGTERM, which would end pytest without running this fixture's clean-up.
    previous_handler = signal.signal(signal.SIGTERM, raise_keyboard_interrupt)
    try:
        subprocess.run(
            ["bash", str(HERE / "start_slurm.sh"), str(root)], env={**os.environ, **settings}, check=True, timeout=120
        )
        env = {
            **os.environ,
            "SLURM_CONF": str(root / "etc" / "slurm.conf"),
            "PATH": f"{root / 'bin'}{os.pathsep}{os.environ['PATH']}",
            "PYTHONUNBUFFERED": "1",
        }
        yield Cluster(root, env)
    finally:
        subprocess.run(["bash", str(HERE / "stop_slurm.sh"), str(root)], timeout=120)
        signal.signal(signal.SIGTERM, previous_handler)
        pids = (root / "pids").read_text().splitlines() if (root / "pids").exists() else []
        alive = [line for line in pids if pid_alive(int(line.split()[1]))]
        assert not alive, f"daemons still running after stop_slurm.sh: {alive}"


def raise_keyboard_interrupt(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@dataclass(frozen=True)
class Run:
    workdir: Path
    returncode: int
    log: str

    def submissions(self, rule: str | None = None) -> list:
        """(Slurm job id, wildcards folder) of every job of ``rule`` submitted, in order; without ``rule``,
        (Slurm job id, rule, wildcards folder) of every job."""
        jobs = [(job, name, wildcards or "") for job, name, wildcards in SUBMITTED.findall(self.log)]
        if rule is None:
            return jobs
        return [(job, wildcards) for job, name, wildcards in jobs if name == rule]

    def sbatch_calls(self, rule: str = "") -> list[str]:
        """The sbatch command lines (logged with --verbose) of the jobs of ``rule``, or of all jobs."""
        return [line for line in self.log.splitlines() if line.startswith("sbatch call:") and f"rule_{rule}" in line]


def snakemake(cluster: Cluster, workdir: Path, *args: str, override: dict | None = None) -> Run:
    """Run the workflow in ``workdir`` with the Slurm profile and the tiny config (plus ``override``).

    A run that outlives RUN_TIMEOUT_S gets SIGINT, on which Snakemake cancels its Slurm jobs, then SIGKILL.
    """
    configfiles = [str(E2E_CONFIG)]
    if override is not None:
        path = workdir / "override.yaml"
        path.write_text(yaml.safe_dump(override))
        configfiles.append(str(path))
    command = [
        *[sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"), "--directory", str(workdir)],
        *["--configfile", *configfiles, "--profile", str(PROFILE), *FAST_STATUS, "--verbose", *args],
    ]
    log_path = workdir / f"snakemake_{time.monotonic_ns()}.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(command, cwd=workdir, env=cluster.env, stdout=log, stderr=subprocess.STDOUT)
        try:
            returncode = process.wait(timeout=RUN_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            raise AssertionError(f"snakemake {' '.join(args)} ran over {RUN_TIMEOUT_S} s; log: {log_path}") from None
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
    return Run(workdir, returncode, log_path.read_text())


def cancel_first_running(cluster: Cluster, rule: str, stop: threading.Event, cancelled: list[str]) -> None:
    """Cancel (scancel) the first job of ``rule`` seen running; its id goes to ``cancelled``."""
    while not stop.wait(0.2):
        try:
            queue = cluster.slurm("squeue", "--noheader", "--format=%i|%T|%k")
        except subprocess.SubprocessError:
            continue
        for job_id, state, comment in (line.split("|", 2) for line in queue.splitlines()):
            if state == "RUNNING" and comment.startswith(f"rule_{rule}_"):
                cluster.slurm("scancel", job_id)
                cancelled.append(job_id)
                return


def model_dir(workdir: Path, hmm: str, hidden_size: int, input_dim: int, seed: int) -> Path:
    return workdir / "results" / "models" / hmm / f"hidden_{hidden_size}" / f"input_{input_dim}" / f"seed_{seed}"


def tiny_models() -> list[tuple[str, int, int, int]]:
    study = yaml.safe_load(E2E_CONFIG.read_text())["study"]
    return [
        (hmm, hidden, input_dim, seed)
        for block in study
        for hmm in block["hmms"]
        for hidden in block["hidden_sizes"]
        for input_dim in block["input_dims"]
        for seed in block["seeds"]
    ]


def dry_run_jobs(log: str) -> list[tuple[str, str]]:
    """(rule, wildcards) of every job a `snakemake -n` would run."""
    jobs = []
    for block in re.split(r"^rule ", log, flags=re.M)[1:]:
        rule = block.split(":", 1)[0]
        wildcards = re.search(r"^\s+wildcards: (.*)$", block, flags=re.M)
        jobs.append((rule, wildcards.group(1) if wildcards else ""))
    return jobs


@pytest.fixture(scope="module")
def study_run(cluster, tmp_path_factory) -> tuple[Run, list[str]]:
    """The tiny study's TARGETS run on the cluster with the profile; one running training job is cancelled."""
    workdir = tmp_path_factory.mktemp("study")
    shutil.copytree(REPO / "config", workdir / "config")
    stop, cancelled = threading.Event(), []
    watcher = threading.Thread(target=cancel_first_running, args=(cluster, "train_rnn", stop, cancelled))
    watcher.start()
    try:
        run = snakemake(cluster, workdir, *TARGETS)
    finally:
        stop.set()
        watcher.join()
    assert run.returncode == 0, f"the study failed on the cluster:\n{run.log[-5000:]}"
    return run, cancelled


def copy_of(run: Run, parent: Path) -> Path:
    """A copy of a finished run's folder (results and Snakemake's records), to change without touching it."""
    workdir = parent / "copy"
    shutil.copytree(run.workdir, workdir, symlinks=True, ignore=shutil.ignore_patterns("snakemake_*.log"))
    return workdir


def test_study_outputs_exist_and_cpu_jobs_ask_for_no_gpu(study_run, cluster):
    run, _ = study_run
    # every output exists and is up to date, as far as Snakemake's records go
    rerun = snakemake(cluster, run.workdir, "--dry-run", *TARGETS)
    assert rerun.returncode == 0 and "Nothing to be done" in rerun.log, rerun.log[-3000:]
    table = pd.read_parquet(run.workdir / "results" / "tables" / "training.parquet")
    models = tiny_models()
    assert sorted(table[["hmm", "hidden_size", "input_dim", "seed"]].itertuples(index=False, name=None)) == sorted(
        models
    )
    assert (table["device"] == "cpu").all()
    for model in models:
        for name in TRAIN_OUTPUTS:
            assert (model_dir(run.workdir, *model) / name).is_file(), f"missing {name} of {model}"

    trained = run.submissions("train_rnn")
    assert {wildcards for _, wildcards in trained} == {"_".join(map(str, model)) for model in models}
    # training.device is cpu: no job asks for a GPU, and training jobs get the rule's 1 thread as CPUs
    for job_id, rule, wildcards in run.submissions():
        assert cluster.job(job_id).get("TresPerJob", "(null)") == "(null)", f"{rule} {wildcards} asked for a GPU"
    assert all(cluster.job(job_id)["NumCPUs"] == "1" for job_id, _ in trained)
    assert not [call for call in run.sbatch_calls() if "--gpus" in call]


def test_cancelled_job_is_detected_and_resubmitted(study_run, cluster):
    run, cancelled = study_run
    assert cancelled, "no training job was seen running, so none was cancelled"
    job_id = cancelled[0]
    assert cluster.job(job_id)["JobState"] == "CANCELLED"
    assert f"SLURM-job '{job_id}' failed, SLURM status is: 'CANCELLED'" in run.log
    submitted = run.submissions("train_rnn")
    wildcards = dict(submitted)[job_id]
    retries = [job for job, other in submitted if other == wildcards and job != job_id]
    assert len(retries) == 1, f"{wildcards} was submitted as {[j for j, w in submitted if w == wildcards]}"
    assert cluster.job(retries[0])["JobState"] == "COMPLETED"


def test_config_change_resubmits_only_that_models_jobs(study_run, cluster):
    """More epochs for the one linear2 model: of the per-model jobs only that model's rerun; the tables rerun
    because their inputs change."""
    run, _ = study_run
    changed = snakemake(cluster, run.workdir, "--dry-run", *TARGETS, override={"hmms": {"linear2": {"epochs": 5}}})
    assert changed.returncode == 0, changed.log[-3000:]
    jobs = dry_run_jobs(changed.log)
    assert ("train_rnn", "hmm=linear2, hidden_size=8, input_dim=4, seed=0") in jobs
    per_hmm = [(rule, wildcards) for rule, wildcards in jobs if "hmm=" in wildcards]
    assert {rule for rule, _ in per_hmm} == {"train_rnn", "evaluate_rnn"}, per_hmm  # data and floor are unchanged
    assert all(wildcards.startswith("hmm=linear2, hidden_size=8,") for _, wildcards in per_hmm), per_hmm
    study_level = [(rule, wildcards) for rule, wildcards in jobs if "hmm=" not in wildcards]
    assert all(wildcards == "" or wildcards.startswith("table=") for _, wildcards in study_level), study_level


@pytest.fixture(scope="module")
def device_runs(study_run, cluster, tmp_path_factory) -> dict[str, Run]:
    """GPU_MODEL retrained with training.device cuda, as is ("cuda") and with --set-resources train_rnn:gpu=0
    ("cpu"), each in a copy of the study's folder. The two runs go side by side to save time."""
    target = model_dir(Path("."), *GPU_MODEL) / "summary.parquet"
    extra_args = {
        # no retry: plugin 2.8 polls more slowly after each failure; the cancelled job already shows a retry
        "cuda": ["--retries", "0"],
        "cpu": ["--set-resources", "train_rnn:gpu=0"],
    }
    with ThreadPoolExecutor(len(extra_args)) as pool:
        futures = {
            name: pool.submit(
                snakemake,
                cluster,
                copy_of(study_run[0], tmp_path_factory.mktemp(name)),
                str(target),
                *args,
                override={"training": {"device": "cuda"}},
            )
            for name, args in extra_args.items()
        }
        return {name: future.result() for name, future in futures.items()}


def test_cuda_training_requests_a_gpu_and_fails_loudly_without_cuda(device_runs, cluster):
    """training.device cuda: the job asks Slurm for a GPU and is given the fake one; torch finds no CUDA
    device, so the job fails, and the failure is detected."""
    run = device_runs["cuda"]
    assert run.returncode != 0
    [(job_id, rule, wildcards)] = run.submissions()  # its data and floor are unchanged
    assert (rule, wildcards) == ("train_rnn", "_".join(map(str, GPU_MODEL)))
    [call] = run.sbatch_calls("train_rnn")
    assert "--gpus=1" in call
    record = cluster.job(job_id)
    assert record["TresPerJob"] == "gres:gpu:1"  # Slurm's own record of the request
    assert record["JobState"] == "FAILED"
    assert f"SLURM-job '{job_id}' failed, SLURM status is: 'FAILED'" in run.log
    job_log = run.workdir / ".snakemake" / "slurm_logs" / "rule_train_rnn" / wildcards / f"{job_id}.log"
    assert "'SLURM_GPUS': '1'" in job_log.read_text()  # the job was given the GPU ...
    assert "torch sees no CUDA device" in job_log.read_text()  # ... and refused to train on the CPU instead


def test_set_resources_gpu_0_trains_on_the_cpu(device_runs, cluster):
    """training.device cuda with --set-resources train_rnn:gpu=0: no GPU is requested and training runs on the
    CPU. (--resources gpu=0 is not enough on Slurm: it is not passed on to the job, which then asks for a GPU.)"""
    run = device_runs["cpu"]
    assert run.returncode == 0, run.log[-5000:]
    [(job_id, rule, _)] = run.submissions()
    assert rule == "train_rnn"
    assert cluster.job(job_id).get("TresPerJob", "(null)") == "(null)"
    assert all("--gpus" not in call for call in run.sbatch_calls("train_rnn"))
    summary = pd.read_parquet(model_dir(run.workdir, *GPU_MODEL) / "summary.parquet")
    assert summary["device"].tolist() == ["cpu"]
