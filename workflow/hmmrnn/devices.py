"""One CUDA device per job on a machine with several GPUs, and several jobs per GPU (README, "GPUs").

Snakemake counts GPU jobs (``--resources gpu=N`` runs at most N at once) but does not tell a job which
device to use, so every job would start on device 0. A CUDA job therefore calls :func:`claim_gpu` first,
before torch initialises CUDA. It takes a *seat* on one of the devices it may see: an exclusive ``flock`` on
``<lock dir>/<namespace>/gpu<device>-seat<k>.lock``, held until the job's process ends (the kernel drops the
lock however the process ends, so a killed job never leaves a seat taken). The script then narrows
``CUDA_VISIBLE_DEVICES`` to that one device (:attr:`GpuClaim.environment`), so torch's ``cuda`` is that GPU.

Seats fill breadth first: a job goes to the device with the fewest taken seats (the first such device on a
tie), so a device gets a second job only once every device has one. ``--resources gpu=N`` on a machine with
G GPUs thus runs N jobs, about N / G on each; ``gpu=2*G`` runs two on each.

- The devices a job may see are the entries of ``CUDA_VISIBLE_DEVICES`` where it is set (e.g. ``2,3``: the
  run uses GPUs 2 and 3 only), else devices ``0 .. n-1`` with n from the NVIDIA driver (NVML, which does not
  initialise CUDA), else the number of ``/dev/nvidia<k>`` files.
- Inside a Slurm job (``SLURM_JOB_ID``) whose ``CUDA_VISIBLE_DEVICES`` lists no more devices than the job
  asked for, Slurm has already chosen: the job uses them as they are, and takes no seat.
- ``HMMRNN_JOBS_PER_GPU=k`` caps the seats of each device at k for every run that shares the lock folder
  (several Snakemake runs on one machine): a job that finds every seat taken waits for one.
- ``HMMRNN_GPU_LOCK_DIR`` moves the lock folder (default ``/tmp/hmmrnn-gpu-seats``; one per machine).
"""

from __future__ import annotations

import errno
import fcntl
import glob
import logging
import os
import re
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "JOBS_PER_GPU_VARIABLE",
    "LOCK_DIR_VARIABLE",
    "GpuBusyError",
    "GpuClaim",
    "claim_gpu",
    "count_cuda_devices",
    "visible_devices",
]

log = logging.getLogger(__name__)

JOBS_PER_GPU_VARIABLE = "HMMRNN_JOBS_PER_GPU"
LOCK_DIR_VARIABLE = "HMMRNN_GPU_LOCK_DIR"
DEFAULT_LOCK_DIR = Path("/tmp/hmmrnn-gpu-seats")
MAX_SEATS = 64  # seats per device when HMMRNN_JOBS_PER_GPU is not set: Snakemake's --resources gpu=N is the cap


class GpuBusyError(RuntimeError):
    """Every seat of every visible device is taken, and the wait for one ran out."""


@dataclass(frozen=True)
class GpuClaim:
    """The device a job uses and the seat it holds on it (released when the process ends or on ``release``).

    ``device`` is the ``CUDA_VISIBLE_DEVICES`` entry the job uses (None: the job uses no GPU, or none is
    visible); ``environment`` is what the job's script puts into ``os.environ`` before torch starts CUDA.
    """

    device: str | None
    seat: int | None
    environment: dict[str, str]
    description: str
    lock_file: Path | None = None
    _handle: int | None = field(default=None, repr=False, compare=False)

    def release(self) -> None:
        """Give the seat back (the end of the process does the same)."""
        if self._handle is not None:
            try:
                os.close(self._handle)
            except OSError as error:  # already released
                if error.errno != errno.EBADF:
                    raise


def _nvml_device_count() -> int | None:
    """Number of NVIDIA GPUs from the driver's NVML library, which (unlike the CUDA runtime) ignores
    ``CUDA_VISIBLE_DEVICES`` and can be asked before it is set; None where there is no driver."""
    import ctypes

    try:
        nvml = ctypes.CDLL("libnvidia-ml.so.1")
    except OSError:
        return None
    count = ctypes.c_uint(0)
    try:
        if nvml.nvmlInit_v2() != 0:
            return None
        try:
            if nvml.nvmlDeviceGetCount_v2(ctypes.byref(count)) != 0:
                return None
        finally:
            nvml.nvmlShutdown()
    except AttributeError:  # a library without these symbols
        return None
    return int(count.value)


def count_cuda_devices() -> int:
    """Number of NVIDIA GPUs on this machine, without initialising CUDA (NVML, else ``/dev/nvidia<k>``)."""
    count = _nvml_device_count()
    if count is not None:
        return count
    return sum(1 for path in glob.glob("/dev/nvidia*") if re.fullmatch(r"/dev/nvidia\d+", path))


def visible_devices(environ: Mapping[str, str], device_count: Callable[[], int] = count_cuda_devices) -> list[str]:
    """The devices a process may use: the entries of ``CUDA_VISIBLE_DEVICES`` where it is set (an empty
    value hides every device), else ``"0" .. "n-1"`` for the n devices of ``device_count()``."""
    if "CUDA_VISIBLE_DEVICES" in environ:
        return [entry.strip() for entry in environ["CUDA_VISIBLE_DEVICES"].split(",") if entry.strip()]
    return [str(index) for index in range(device_count())]


def _jobs_per_gpu(environ: Mapping[str, str]) -> int | None:
    value = environ.get(JOBS_PER_GPU_VARIABLE, "").strip()
    if not value:
        return None
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"{JOBS_PER_GPU_VARIABLE}={value!r}: expected a whole number of jobs per GPU, at least 1")
    return int(value)


def _lock_name(device: str, seat: int) -> str:
    return "gpu{}-seat{}.lock".format(re.sub(r"[^A-Za-z0-9_.-]", "_", device), seat)


def _seat_is_taken(path: Path) -> bool:
    """Whether a job holds ``path``'s lock (a shared probe: probes never block each other)."""
    try:
        handle = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return False
    except PermissionError:  # another user's seat that this user may not open: count it as taken
        return True
    try:
        fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(handle)  # also drops the probe's shared lock
    return False


def _take_seat(path: Path) -> int | None:
    """An open handle holding ``path``'s exclusive lock, or None where another job holds it."""
    try:
        handle = os.open(path, os.O_RDONLY | os.O_CREAT, 0o666)
    except PermissionError:
        return None
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(handle)
        return None
    try:  # let other users' jobs open the seat too
        os.chmod(path, 0o666)
    except OSError:
        pass
    return handle


def _try_claim(devices: Sequence[str], seats: int, folder: Path) -> GpuClaim | None:
    taken = {
        device: sum(_seat_is_taken(folder / _lock_name(device, seat)) for seat in range(seats)) for device in devices
    }
    for device in sorted(devices, key=lambda device: (taken[device], devices.index(device))):
        for seat in range(seats):
            path = folder / _lock_name(device, seat)
            handle = _take_seat(path)
            if handle is not None:
                return GpuClaim(
                    device=device,
                    seat=seat,
                    environment={"CUDA_VISIBLE_DEVICES": device},
                    description=f"CUDA device {device} (seat {seat}; devices {','.join(devices)}; lock {path})",
                    lock_file=path,
                    _handle=handle,
                )
    return None


def _make_folder(folder: Path) -> None:
    for part in (folder.parent, folder):
        if not part.is_dir():
            part.mkdir(parents=True, exist_ok=True)
            try:  # a folder that every user's jobs can add seats to, as /tmp itself
                os.chmod(part, 0o1777)
            except OSError:
                pass


def claim_gpu(
    requested: str,
    gpus: int,
    *,
    environ: Mapping[str, str] | None = None,
    device_count: Callable[[], int] = count_cuda_devices,
    lock_dir: str | os.PathLike | None = None,
    jobs_per_gpu: int | None = None,
    timeout: float | None = None,
    poll_seconds: float = 5.0,
) -> GpuClaim:
    """A seat on one CUDA device for a job that asked for device ``requested`` and was granted ``gpus`` GPUs.

    Parameters
    ----------
    requested : str
        The job's device, ``cpu`` or ``cuda``; a ``cpu`` job, or one granted no GPU, claims nothing.
    gpus : int
        GPUs the job was granted (its ``gpu`` resource).
    environ : mapping, optional
        The process environment (default ``os.environ``); read only.
    device_count : callable
        Number of devices where ``CUDA_VISIBLE_DEVICES`` is unset (tests pass a fake count).
    lock_dir : path, optional
        Folder of the seat locks (default ``$HMMRNN_GPU_LOCK_DIR``, else ``/tmp/hmmrnn-gpu-seats``).
    jobs_per_gpu : int, optional
        Seats per device (default ``$HMMRNN_JOBS_PER_GPU``, else no cap of its own).
    timeout : float, optional
        Seconds to wait for a free seat when every one is taken (None: as long as it takes).
    poll_seconds : float
        Seconds between two looks for a free seat while waiting.

    Returns
    -------
    GpuClaim
        The device and seat, and ``environment`` (``CUDA_VISIBLE_DEVICES``) to set before CUDA starts.
    """
    environ = os.environ if environ is None else environ
    if requested == "cpu" or gpus <= 0:
        return GpuClaim(None, None, {}, "no GPU: the job runs on the CPU")
    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_initialized():
        raise RuntimeError("claim_gpu must run before torch initialises CUDA: CUDA_VISIBLE_DEVICES is read only then")
    devices = visible_devices(environ, device_count)
    if not devices:
        return GpuClaim(None, None, {}, "no CUDA device is visible to this job")
    if "SLURM_JOB_ID" in environ and "CUDA_VISIBLE_DEVICES" in environ and len(devices) <= gpus:
        chosen = ",".join(devices)
        return GpuClaim(chosen, None, {}, f"CUDA device {chosen}, given to Slurm job {environ['SLURM_JOB_ID']}")

    cap = jobs_per_gpu if jobs_per_gpu is not None else _jobs_per_gpu(environ)
    if cap is not None and cap < 1:
        raise ValueError(f"jobs_per_gpu={cap}: expected at least 1")
    root = Path(lock_dir if lock_dir is not None else environ.get(LOCK_DIR_VARIABLE) or DEFAULT_LOCK_DIR)
    # the devices of one Slurm allocation are numbered from 0 in every allocation: keep their seats apart
    folder = root / (f"slurm-{environ['SLURM_JOB_ID']}" if "SLURM_JOB_ID" in environ else "local")
    _make_folder(folder)
    seats = cap if cap is not None else MAX_SEATS
    deadline = None if timeout is None else time.monotonic() + timeout
    waiting = False
    while True:
        claim = _try_claim(devices, seats, folder)
        if claim is not None:
            log.info("using %s", claim.description)
            return claim
        if deadline is not None and time.monotonic() >= deadline:
            raise GpuBusyError(
                f"every seat of CUDA devices {','.join(devices)} is taken ({seats} per device, "
                f"{JOBS_PER_GPU_VARIABLE}={cap}; locks in {folder}); waited {timeout:g} s. Run fewer GPU jobs at "
                f"once (--resources gpu=N) or allow more per device ({JOBS_PER_GPU_VARIABLE})"
            )
        if not waiting:
            log.info(
                "every seat of CUDA devices %s is taken (%d per device): waiting for one", ",".join(devices), seats
            )
            waiting = True
        time.sleep(poll_seconds)
