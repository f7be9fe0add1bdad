"""Benchmarks of the M=2, H=150, d=100 model on this machine; prints figures, asserts nothing.

    python benchmarks/benchmark.py [--device cpu|cuda] [--threads 2]
        [--measure epoch evaluate convergence sinkhorn threads]

- epoch: median seconds per training epoch (validation every epoch) and peak memory, for the paper's data
  sizes (10 000 + 10 000 sequences, batch 4096) and the quick study's (config/quick.yaml's ``data`` and batch).
- evaluate: median seconds of the full evaluation of one model (5 000 sequences x T=100, all metrics).
- convergence: wall time of the convergence-aware trainer (quick sizes and policy, config/quick.yaml) until
  converged, against 500 fixed epochs validated every epoch (500 x the measured epoch time at the same sizes).
- sinkhorn: both Sinkhorn backends (training.sinkhorn_backend: hmmrnn, geomloss) in one process, their
  repetitions interleaved: median seconds per call, forward+backward and forward only, at N = 4096 and N = 512
  (T = 100, HMM sequences of M=2), and per paper-sized epoch (10 000 + 10 000 sequences, batch 4096, M=2, H=150,
  d=100: training and validation), with the ratio geomloss / hmmrnn.
- threads (not run by default): the quick recipe's linear4 and cyclic models (config/quick.yaml), 15 fixed epochs
  each, trained as two jobs at once with one thread each and as one job at a time with ``--threads`` threads;
  the two alternate, twice, and the wall time of each pair is printed with the load average.
Each measurement runs in a fresh process, so that peak memory is its own.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SETUPS = ("paper", "quick")  # config/config.yaml's and config/quick.yaml's data sizes and batch
KEY = ("linear2", 150, 100, 0)


def _config(quick: bool) -> dict:
    import yaml
    from recipes import merge  # benchmarks/recipes.py: --configfile semantics

    config = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    if quick:  # the quick file is merged over the paper config
        merge(config, yaml.safe_load((REPO / "config" / "quick.yaml").read_text()))
    return config


def _peak_mb(device: str) -> float:
    import torch

    if device == "cuda":
        return torch.cuda.max_memory_allocated() / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _data(config: dict, num_train: int, num_val: int, family: str = KEY[0]):
    from hmmrnn.hmm import build_hmm, sample_hmm
    from hmmrnn.seeds import numpy_rng

    hmm = build_hmm(family, config["hmms"][family])
    _, outputs = sample_hmm(hmm, num_train + num_val, config["hmms"][family]["seq_len"], numpy_rng(0, "benchmark"))
    return hmm, outputs[:num_train], outputs[num_train:]


def _train_settings(config: dict):
    """:class:`hmmrnn.training.TrainSettings` of config ``training``, as the train rule passes it."""
    from hmmrnn.study import TRAINING_APART, without
    from hmmrnn.training import TrainSettings

    return TrainSettings.from_params(without(config["training"], TRAINING_APART))


def measure_epoch(setup: str, device: str) -> dict:
    from hmmrnn.training import train_rnn

    config = _config(quick=setup == "quick")
    settings = replace(_train_settings(config), validate_every=1)
    _, train, val = _data(config, config["data"]["num_train"], config["data"]["num_val"])
    result = train_rnn(
        train,
        val,
        input_dim=KEY[2],
        hidden_size=KEY[1],
        num_outputs=3,
        settings=settings,
        epochs=3,
        grad_clip=config["hmms"][KEY[0]]["grad_clip"],
        evolution_every=0,
        seed=0,
        device=device,
    )
    seconds = result.history["seconds"].tolist()[1:]  # the first epoch includes warm-up
    return {"label": f"epoch ({setup})", "seconds": statistics.median(seconds), "peak_mb": _peak_mb(device)}


def measure_train(family: str, epochs: int, device: str) -> dict:
    """Seconds of ``epochs`` fixed epochs of the quick recipe's (family, 150, 100, 0) model."""
    from hmmrnn.training import train_rnn

    config = _config(quick=True)
    _, train, val = _data(config, config["data"]["num_train"], config["data"]["num_val"], family)
    start = time.perf_counter()
    train_rnn(
        train,
        val,
        input_dim=100,
        hidden_size=150,
        num_outputs=3,
        settings=_train_settings(config),
        epochs=epochs,
        grad_clip=config["hmms"][family]["grad_clip"],
        evolution_every=0,
        seed=0,
        device=device,
    )
    return {"label": f"train {family}", "seconds": time.perf_counter() - start, "peak_mb": _peak_mb(device)}


def compare_threads(device: str, threads: int, epochs: int = 15, repeats: int = 2) -> None:
    """Print the wall time of two quick trainings run at once (1 thread each) and one at a time."""
    families = ("linear4", "cyclic")

    def command(family: str, num_threads: int) -> list[str]:
        return [sys.executable, __file__, "--device", device, "--threads", str(num_threads), "--child", "train",
                family, str(epochs)]  # fmt: skip

    for repeat in range(repeats):
        start = time.perf_counter()
        jobs = [subprocess.Popen(command(family, 1), stdout=subprocess.DEVNULL) for family in families]
        if any(job.wait() for job in jobs):
            raise RuntimeError("a training job failed")
        together = time.perf_counter() - start
        start = time.perf_counter()
        for family in families:
            subprocess.run(command(family, threads), check=True, stdout=subprocess.DEVNULL)
        apart = time.perf_counter() - start
        print(
            f"threads, repeat {repeat + 1}: {' + '.join(families)}, {epochs} epochs each: two jobs at once with 1 "
            f"thread {together:.1f} s, one at a time with {threads} threads {apart:.1f} s "
            f"(ratio {together / apart:.2f}; load average {os.getloadavg()[0]:.2f})",
            flush=True,
        )


def measure_evaluate(device: str) -> dict:
    import torch

    from hmmrnn.dynamics.simulation import Weights
    from hmmrnn.evaluation.model import evaluate_model
    from hmmrnn.rnn import NoiseRNN
    from hmmrnn.seeds import numpy_rng, torch_generator

    config = _config(quick=False)
    hmm, _, _ = _data(config, 1, 1)
    model = NoiseRNN(KEY[2], KEY[1], generator=torch_generator(0, "benchmark"))
    weights = Weights.from_state_dict(model.state_dict(), dtype=torch.float32).to(device)
    times = []
    for run in range(3):
        start = time.perf_counter()
        evaluate_model(
            hmm,
            weights,
            rng=numpy_rng(run, "benchmark"),
            generator=torch_generator(run, "b", device=device),
            eval_seq_len=config["hmms"][KEY[0]]["eval_seq_len"],
            **config["evaluation"],
        )
        times.append(time.perf_counter() - start)
    return {"label": "evaluate (5000 x 100)", "seconds": statistics.median(times), "peak_mb": _peak_mb(device)}


def measure_convergence(device: str) -> dict:
    from hmmrnn.convergence import ConvergencePolicy, train_with_retries
    from hmmrnn.evaluation.loss import sinkhorn_floor
    from hmmrnn.seeds import numpy_rng
    from hmmrnn.study import CHECK_EVALUATION_EXCLUDE, FLOOR_TRAINING, ModelKey, evolution_every, only, without
    from hmmrnn.training import train_rnn

    config = _config(quick=True)
    hmm, train, val = _data(config, config["data"]["num_train"], config["data"]["num_val"])
    floor = sinkhorn_floor(
        hmm,
        num_sequences=config["data"]["num_val"],
        num_timesteps=config["hmms"][KEY[0]]["seq_len"],
        rng=numpy_rng(0, "benchmark-floor"),
        **only(config["training"], FLOOR_TRAINING),
    )
    settings = _train_settings(config)
    start = time.perf_counter()
    run = train_with_retries(
        train,
        val,
        hmm,
        input_dim=KEY[2],
        hidden_size=KEY[1],
        settings=settings,
        epochs=config["hmms"][KEY[0]]["epochs"],
        grad_clip=config["hmms"][KEY[0]]["grad_clip"],
        evolution_every=evolution_every(config, ModelKey(*KEY)),
        policy=ConvergencePolicy.from_params(config["convergence"]),
        eval_seq_len=config["hmms"][KEY[0]]["eval_seq_len"],
        evaluation=without(config["evaluation"], CHECK_EVALUATION_EXCLUDE),
        loss_floor=floor,
        seed=0,
        device=device,
    )
    converged_seconds = time.perf_counter() - start
    fixed = train_rnn(
        train,
        val,
        input_dim=KEY[2],
        hidden_size=KEY[1],
        num_outputs=3,
        seed=0,
        device=device,
        settings=replace(settings, validate_every=1),
        epochs=4,
        grad_clip=config["hmms"][KEY[0]]["grad_clip"],
        evolution_every=0,
    )
    fixed_seconds = 500 * statistics.median(fixed.history["seconds"].tolist()[1:])
    return {
        "label": "convergence (quick sizes)",
        "seconds": converged_seconds,
        "fixed_500_seconds": fixed_seconds,
        "epochs": int(run.result.history["epoch"].iloc[-1]),
        "is_converged": run.record.is_converged,
        "peak_mb": _peak_mb(device),
    }


def _sinkhorn_call_seconds(loss, x, y, key: object, backward: bool) -> float:
    """Seconds of one loss call on a fresh copy of ``x`` (with its backward pass, or without gradients)."""
    import torch

    start = time.perf_counter()
    if backward:
        loss(x.clone().requires_grad_(), y, key).backward()
    else:
        with torch.no_grad():
            loss(x, y, key)
    return time.perf_counter() - start


def measure_sinkhorn(device: str) -> dict:
    from hmmrnn.sinkhorn import make_sinkhorn_loss
    from hmmrnn.training import one_hot, train_rnn

    config = _config(quick=False)
    loss_settings = {key: config["training"][f"sinkhorn_{key}"] for key in ("p", "blur", "scaling")}
    backends = ("geomloss", "hmmrnn")
    lines = []
    for size, repeats in ((4096, 3), (512, 10)):
        _, first, second = _data(config, size, size)
        x, y = one_hot(first, 3, device), one_hot(second, 3, device)
        losses = {backend: make_sinkhorn_loss(backend, **loss_settings) for backend in backends}
        losses["hmmrnn"](x, y, "target")  # fills the target cache, as the first epoch does in training
        times: dict[str, list[float]] = {}
        for _ in range(repeats):  # interleaved, so that both backends see the same load
            for backend in backends:
                for kind, backward in (("fwd+bwd", True), ("fwd", False)):
                    seconds = _sinkhorn_call_seconds(losses[backend], x, y, "target", backward)
                    times.setdefault(f"{backend} {kind}", []).append(seconds)
            uncached = _sinkhorn_call_seconds(losses["hmmrnn"], x, y, None, backward=True)
            times.setdefault("hmmrnn fwd+bwd uncached", []).append(uncached)
        median = {key: statistics.median(value) for key, value in times.items()}
        for kind in ("fwd+bwd", "fwd"):
            reference, ours = median[f"geomloss {kind}"], median[f"hmmrnn {kind}"]
            line = (
                f"sinkhorn N={size:<5d}T=100 {kind:<8}geomloss {reference:7.3f} s   hmmrnn {ours:7.3f} s   "
                f"ratio {reference / ours:5.1f}   median of {repeats}"
            )
            if kind == "fwd+bwd":
                line += f"   (hmmrnn without the target cache: {median['hmmrnn fwd+bwd uncached']:.3f} s)"
            lines.append(line)
    _, train, val = _data(config, 10_000, 10_000)
    base = _train_settings(config)
    epochs: dict[str, list[float]] = {}
    for _ in range(2):  # geomloss, hmmrnn, geomloss, hmmrnn: the second epoch of each run (the first warms up)
        for backend in backends:
            settings = replace(base, validate_every=1, sinkhorn_backend=backend)
            sizes = {"input_dim": KEY[2], "hidden_size": KEY[1], "num_outputs": 3}
            run = {"epochs": 2, "grad_clip": config["hmms"][KEY[0]]["grad_clip"], "evolution_every": 0}
            result = train_rnn(train, val, **sizes, settings=settings, **run, seed=0, device=device)
            epochs.setdefault(backend, []).append(float(result.history["seconds"].iloc[-1]))
    reference, ours = (statistics.median(epochs[backend]) for backend in backends)
    lines.append(
        f"paper epoch (10000 + 10000, batch 4096, M=2 H=150 d=100, train + validation): geomloss {reference:.2f} s   "
        f"hmmrnn {ours:.2f} s   ratio {reference / ours:.2f}   (median of two runs' second epochs)"
    )
    return {"label": "sinkhorn", "lines": lines, "load": os.getloadavg()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    parser.add_argument(
        "--measure",
        nargs="+",
        default=["epoch", "evaluate", "convergence", "sinkhorn"],
        choices=["epoch", "evaluate", "convergence", "sinkhorn", "threads"],
    )
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    if args.child:
        kind, *rest = args.child
        measure = {
            "epoch": lambda: measure_epoch(rest[0], args.device),
            "evaluate": lambda: measure_evaluate(args.device),
            "convergence": lambda: measure_convergence(args.device),
            "sinkhorn": lambda: measure_sinkhorn(args.device),
            "train": lambda: measure_train(rest[0], int(rest[1]), args.device),
        }[kind]
        print(json.dumps(measure()))
        return
    name = torch.cuda.get_device_name() if args.device == "cuda" else f"{platform.machine()} CPU"
    print(
        f"# M=2 H=150 d=100 on {args.device} ({name}), torch {torch.__version__}, {args.threads} thread(s), "
        f"{time.strftime('%Y-%m-%d')}"
    )
    jobs = [("epoch", setup) for setup in SETUPS] if "epoch" in args.measure else []
    jobs += [(kind,) for kind in ("evaluate", "convergence", "sinkhorn") if kind in args.measure]
    for job in jobs:
        command = [sys.executable, __file__, "--device", args.device, "--threads", str(args.threads), "--child", *job]
        row = json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout.splitlines()[-1])
        if "lines" in row:
            print("\n".join(row["lines"]), f"\n(load average {row['load'][0]:.2f} at the end)", flush=True)
            continue
        line = f"{row['label']:<28}{row['seconds']:>10.2f} s   peak {row['peak_mb']:>7.0f} MiB"
        if "fixed_500_seconds" in row:
            line += (
                f"   converged={row['is_converged']} after {row['epochs']} epochs; 500 fixed epochs validated "
                f"every epoch: {row['fixed_500_seconds']:.0f} s (ratio {row['seconds'] / row['fixed_500_seconds']:.2f})"
            )
        print(line, flush=True)
    if "threads" in args.measure:
        compare_threads(args.device, args.threads)


if __name__ == "__main__":
    main()
