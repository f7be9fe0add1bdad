"""Train one family's quick-study model outside Snakemake, to try CPU recipes; prints progress, asserts nothing.

    python benchmarks/recipes.py linear4 [--set training.batch_size=2048 --set data.num_train=8192 ...]

The config is ``config/config.yaml`` with ``config/quick.yaml`` merged over it (as ``--configfile`` does), then
every ``--set KEY=VALUE`` (VALUE is read as YAML). Data, floor, training and the convergence policy are exactly
those of the workflow's jobs for model (family, 150, 100, seed); the last line is one JSON record: epochs run,
wall seconds, whether the policy passed, and every criterion.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]


def merge(base: dict, override: dict) -> dict:
    """``override`` merged into ``base`` recursively (Snakemake's ``--configfile`` semantics)."""
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            merge(base[key], value)
        else:
            base[key] = value
    return base


def load_config(assignments: list[str], configfile: Path) -> dict:
    config = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    merge(config, yaml.safe_load(configfile.read_text()))
    for assignment in assignments:
        path, _, value = assignment.partition("=")
        *parents, last = path.split(".")
        node = config
        for name in parents:
            node = node.setdefault(name, {})
        node[last] = yaml.safe_load(value)
    return config


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("family")
    parser.add_argument("--set", dest="assignments", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--configfile", type=Path, default=REPO / "config" / "quick.yaml")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()

    import numpy as np
    import torch

    from hmmrnn.convergence import ConvergencePolicy, train_with_retries
    from hmmrnn.evaluation.loss import family_floor_draws
    from hmmrnn.hmm import build_hmm, sample_hmm
    from hmmrnn.seeds import numpy_rng
    from hmmrnn.study import (
        CHECK_EVALUATION_EXCLUDE,
        FLOOR_TRAINING,
        TRAINING_APART,
        ModelKey,
        data_sizes,
        evolution_every,
        only,
        without,
    )
    from hmmrnn.training import TrainSettings

    logging.basicConfig(stream=sys.stdout, level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    torch.set_num_threads(args.threads)
    config = load_config(args.assignments, args.configfile)
    key = ModelKey(args.family, 150, 100, args.seed)
    spec = config["hmms"][key.hmm]
    hmm = build_hmm(key.hmm, spec)
    sizes = data_sizes(config)
    counts = [sizes["num_train"], sizes["num_val"], sizes["num_test"]]
    _, outputs = sample_hmm(hmm, sum(counts), spec["seq_len"], numpy_rng(key.seed, "data", key.hmm))
    train, val, _ = np.split(outputs, np.cumsum(counts)[:2])

    started = time.perf_counter()
    floors = family_floor_draws(
        hmm,
        key.hmm,
        seed=config["seed"],
        floor_draws=config["convergence"]["floor_draws"],
        num_sequences=sizes["num_val"],
        num_timesteps=spec["seq_len"],
        **only(config["training"], FLOOR_TRAINING),
    )
    floor = float(np.mean(floors))
    logging.info("floor %.4f (%.1f s)", floor, time.perf_counter() - started)
    settings = TrainSettings.from_params(without(config["training"], TRAINING_APART))
    logging.info("settings %s", settings)
    run = train_with_retries(
        train,
        val,
        hmm,
        input_dim=key.input_dim,
        hidden_size=key.hidden_size,
        settings=settings,
        epochs=spec["epochs"],
        grad_clip=spec["grad_clip"],
        evolution_every=evolution_every(config, key),
        policy=ConvergencePolicy.from_params(config["convergence"]),
        eval_seq_len=spec["eval_seq_len"],
        evaluation=without(config["evaluation"], CHECK_EVALUATION_EXCLUDE),
        loss_floor=floor,
        seed=key.seed,
        device="cpu",
    )
    record = {
        "family": key.hmm,
        "set": args.assignments,
        "epochs": int(run.result.history["epoch"].iloc[-1]),
        "seconds": round(time.perf_counter() - started, 1),
        "floor": floor,
        **run.record.as_dict(),
    }
    print(json.dumps(record, default=float))


if __name__ == "__main__":
    main()
