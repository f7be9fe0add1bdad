"""Benchmark: seconds per training epoch and peak memory for the M=2, H=150, d=100 model.

Prints one line per setup: the paper's (10 000 training and validation sequences, batch 4096) and the quick
study's (2 048 / 2 048, batch 512). Each setup runs in a fresh process so that peak memory is its own.

    python benchmarks/train_epoch.py [--device cpu|cuda] [--epochs 3] [--threads 2] [--setup paper quick]
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import statistics
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

SETUPS = {
    "paper": {"num_train": 10_000, "num_val": 10_000, "batch_size": 4096},
    "quick": {"num_train": 2048, "num_val": 2048, "batch_size": 512},
}


def measure(setup: str, device: str, epochs: int, threads: int) -> dict:
    """Train the M=2 model for ``epochs`` epochs (validation every epoch) and return timings and peak memory."""
    import torch
    import yaml

    from hmmrnn.hmm import build_hmm, sample_hmm
    from hmmrnn.seeds import numpy_rng
    from hmmrnn.study import ModelKey, train_settings
    from hmmrnn.training import TrainSettings, train_rnn

    torch.set_num_threads(threads)
    with open(Path(__file__).resolve().parents[1] / "config" / "config.yaml") as handle:
        config = yaml.safe_load(handle)
    sizes = SETUPS[setup]
    config["training"]["batch_size"] = sizes["batch_size"]
    key = ModelKey("linear2", 150, 100, 0)
    settings = replace(TrainSettings(**train_settings(config, key)), epochs=epochs, validate_every=1, evolution_every=0)
    hmm = build_hmm("linear2", config["hmms"]["linear2"])
    _, outputs = sample_hmm(
        hmm, sizes["num_train"] + sizes["num_val"], config["hmms"]["linear2"]["seq_len"], numpy_rng(0, "benchmark")
    )
    result = train_rnn(
        outputs[: sizes["num_train"]],
        outputs[sizes["num_train"] :],
        input_dim=100,
        hidden_size=150,
        num_outputs=3,
        settings=settings,
        seed=0,
        device=device,
    )
    seconds = result.history["seconds"].tolist()[1:] or result.history["seconds"].tolist()  # skip the warm-up epoch
    peak = (
        torch.cuda.max_memory_allocated() / 2**20
        if device == "cuda"
        else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    )
    return {
        "setup": setup,
        "device": device,
        "median_s_per_epoch": statistics.median(seconds),
        "peak_mb": peak,
        "epochs_timed": len(seconds),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--epochs", type=int, default=3, help="epochs per setup (the first is not timed)")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    parser.add_argument("--setup", nargs="+", default=list(SETUPS), choices=list(SETUPS))
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.child, args.device, args.epochs, args.threads)))
        return
    import torch

    name = torch.cuda.get_device_name() if args.device == "cuda" else platform.processor() or platform.machine()
    print(f"# M=2 H=150 d=100 T=100 on {args.device} ({name}), torch {torch.__version__}, {args.threads} thread(s)")
    peak_kind = "CUDA allocated" if args.device == "cuda" else "RSS"
    print(f"{'setup':<8}{'median s/epoch':>16}{'peak MiB':>12}  (peak = {peak_kind})")
    for setup in args.setup:
        command = [
            sys.executable,
            __file__,
            "--child",
            setup,
            "--device",
            args.device,
            "--epochs",
            str(args.epochs),
            "--threads",
            str(args.threads),
        ]
        row = json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout.splitlines()[-1])
        print(f"{setup:<8}{row['median_s_per_epoch']:>16.2f}{row['peak_mb']:>12.0f}")


if __name__ == "__main__":
    main()
