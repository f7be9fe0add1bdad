"""GPU seats for CUDA jobs (hmmrnn.devices), on the CPU with a fake device count; one test needs CUDA."""

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from hmmrnn.devices import GpuBusyError, claim_gpu, visible_devices

REPO = Path(__file__).resolve().parents[2]


def fake(count):
    return lambda: count


def claims(tmp_path, count, number, **kwargs):
    environ = kwargs.pop("environ", {})
    return [
        claim_gpu("cuda", 1, environ=environ, device_count=fake(count), lock_dir=tmp_path, timeout=0, **kwargs)
        for _ in range(number)
    ]


def test_visible_devices_follow_cuda_visible_devices_else_the_count():
    assert visible_devices({}, fake(3)) == ["0", "1", "2"]
    assert visible_devices({"CUDA_VISIBLE_DEVICES": "2, 5"}, fake(8)) == ["2", "5"]
    assert visible_devices({"CUDA_VISIBLE_DEVICES": ""}, fake(8)) == []  # every device hidden
    assert visible_devices({}, fake(0)) == []


def test_concurrent_claimers_get_different_devices(tmp_path):
    first, second = claims(tmp_path, 2, 2)
    assert {first.device, second.device} == {"0", "1"}
    assert first.environment == {"CUDA_VISIBLE_DEVICES": first.device}
    assert first.lock_file != second.lock_file


def test_two_jobs_per_gpu_fill_every_device_before_doubling_up(tmp_path):
    held = claims(tmp_path, 2, 4, jobs_per_gpu=2)
    assert [claim.device for claim in held] == ["0", "1", "0", "1"]
    assert [claim.seat for claim in held] == [0, 0, 1, 1]
    with pytest.raises(GpuBusyError, match="every seat of CUDA devices 0,1 is taken"):
        claims(tmp_path, 2, 1, jobs_per_gpu=2)


def test_without_a_cap_seats_are_spread_evenly(tmp_path):
    devices = [claim.device for claim in claims(tmp_path, 3, 7)]
    assert sorted(devices.count(device) for device in "012") == [2, 2, 3]


def test_release_frees_the_seat(tmp_path):
    first, second = claims(tmp_path, 2, 2, jobs_per_gpu=1)
    first.release()
    first.release()  # a second release does nothing
    [again] = claims(tmp_path, 2, 1, jobs_per_gpu=1)
    assert again.device == first.device
    second.release()


def test_a_new_claim_goes_to_the_least_busy_device(tmp_path):
    held = claims(tmp_path, 2, 4)  # devices 0, 1, 0, 1
    held[0].release()
    held[2].release()  # device 0 is free, device 1 has two jobs
    assert [claim.device for claim in claims(tmp_path, 2, 2)] == ["0", "0"]


def test_a_user_restriction_of_the_devices_is_kept(tmp_path):
    environ = {"CUDA_VISIBLE_DEVICES": "2,3"}
    assert [claim.device for claim in claims(tmp_path, 8, 3, environ=environ)] == ["2", "3", "2"]


def test_the_device_that_slurm_gave_the_job_is_used_as_it_is(tmp_path):
    environ = {"SLURM_JOB_ID": "12", "CUDA_VISIBLE_DEVICES": "3"}
    claim = claim_gpu("cuda", 1, environ=environ, device_count=fake(8), lock_dir=tmp_path)
    assert claim.device == "3" and claim.environment == {} and claim.lock_file is None
    assert not any(tmp_path.iterdir())  # no seat taken
    # an allocation with more devices than the job asked for (a local run inside salloc): seats per allocation
    environ = {"SLURM_JOB_ID": "13", "CUDA_VISIBLE_DEVICES": "0,1"}
    claim = claim_gpu("cuda", 1, environ=environ, device_count=fake(8), lock_dir=tmp_path)
    assert claim.device == "0" and claim.lock_file.parent == tmp_path / "slurm-13"


def test_cpu_jobs_and_machines_without_a_device_claim_nothing(tmp_path):
    for requested, gpus, count in (("cpu", 1, 2), ("cuda", 0, 2), ("cuda", 1, 0)):
        claim = claim_gpu(requested, gpus, environ={}, device_count=fake(count), lock_dir=tmp_path)
        assert claim.device is None and claim.environment == {}
    assert not any(tmp_path.iterdir())


def test_jobs_per_gpu_comes_from_the_environment(tmp_path):
    environ = {"HMMRNN_JOBS_PER_GPU": "1"}
    claims(tmp_path, 1, 1, environ=environ)
    with pytest.raises(GpuBusyError, match="HMMRNN_JOBS_PER_GPU=1"):
        claims(tmp_path, 1, 1, environ=environ)
    with pytest.raises(ValueError, match="HMMRNN_JOBS_PER_GPU='none'"):
        claims(tmp_path, 1, 1, environ={"HMMRNN_JOBS_PER_GPU": "none"})


def test_lock_folder_comes_from_the_environment(tmp_path):
    environ = {"HMMRNN_GPU_LOCK_DIR": str(tmp_path / "locks")}
    claim = claim_gpu("cuda", 1, environ=environ, device_count=fake(1))
    assert claim.lock_file.parent == tmp_path / "locks" / "local"


def test_a_claimer_waits_for_a_free_seat(tmp_path):
    [held] = claims(tmp_path, 1, 1, jobs_per_gpu=1)
    timer = threading.Timer(0.3, held.release)
    timer.start()
    started = time.monotonic()
    claim = claim_gpu(
        "cuda", 1, environ={}, device_count=fake(1), lock_dir=tmp_path, jobs_per_gpu=1, timeout=10, poll_seconds=0.05
    )
    assert claim.device == "0" and 0.2 < time.monotonic() - started < 5
    timer.join()


CLAIM_AND_WAIT = """
import sys, time
from hmmrnn.devices import claim_gpu
claim = claim_gpu("cuda", 1, environ={}, device_count=lambda: 2, lock_dir=sys.argv[1], jobs_per_gpu=1, timeout=0)
print(claim.device, flush=True)
if sys.argv[2] == "hold":
    time.sleep(60)
"""


def child(tmp_path, mode):
    return subprocess.Popen(
        [sys.executable, "-c", CLAIM_AND_WAIT, str(tmp_path), mode],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO / "workflow")},
    )


def test_seats_are_exclusive_across_processes_and_freed_when_a_process_dies(tmp_path):
    holder = child(tmp_path, "hold")
    try:
        assert holder.stdout.readline().strip() == "0"
        [claim] = claims(tmp_path, 2, 1, jobs_per_gpu=1)
        assert claim.device == "1"  # device 0 is the other process's
        claim.release()
    finally:
        holder.kill()  # SIGKILL: no clean-up runs, the kernel drops the lock
        holder.wait()
    exited = child(tmp_path, "exit")
    assert exited.communicate(timeout=30)[0].strip() == "0"
    assert [claim.device for claim in claims(tmp_path, 2, 2, jobs_per_gpu=1)] == ["0", "1"]


def test_claiming_after_cuda_started_is_refused(tmp_path, monkeypatch):
    class Cuda:
        @staticmethod
        def is_initialized():
            return True

    monkeypatch.setitem(sys.modules, "torch", type("torch", (), {"cuda": Cuda}))
    with pytest.raises(RuntimeError, match="before torch initialises CUDA"):
        claims(tmp_path, 2, 1)


GPU_CHILD = """
import sys, os
from hmmrnn.devices import claim_gpu
claim = claim_gpu("cuda", 1, lock_dir=sys.argv[1], jobs_per_gpu=1)
os.environ.update(claim.environment)
import torch
x = torch.ones(3, device="cuda")
print(claim.device, torch.cuda.device_count(), torch.cuda.get_device_properties(0).uuid, float(x.sum()), flush=True)
sys.stdin.readline()
"""


@pytest.mark.gpu
def test_each_claimer_sees_only_its_own_gpu(tmp_path):
    import torch

    count = torch.cuda.device_count()
    env = {**os.environ, "PYTHONPATH": str(REPO / "workflow")}
    children = [
        subprocess.Popen(
            [sys.executable, "-c", GPU_CHILD, str(tmp_path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        for _ in range(min(count, 2))
    ]
    try:
        lines = [process.stdout.readline().split() for process in children]
    finally:
        for process in children:
            process.communicate("\n", timeout=60)
    assert [line[1:2] + line[3:] for line in lines] == [["1", "3.0"]] * len(children)  # one device, and it works
    assert sorted(line[0] for line in lines) == [str(index) for index in range(len(children))]
    assert len({line[2] for line in lines}) == len(children)  # different physical GPUs
