"""Why claim 5 (slow clusters, fast transitions) fails on a study's representatives: prints, per network and zone,
the step size the claim uses and what it is made of; measures, asserts nothing.

    python benchmarks/claim5_steps.py [STUDY_DIR]     # a folder holding a finished study's results/

Per representative (``results/tables/representatives.parquet``): a 5 000-step noisy run (σ = 1) from h = 0, its
residency zones as in the local analysis (20 rollouts of at most 60 steps, cuts 2 and 8, cluster probability 0.8),
and the mean over cluster and over transition states of: the step ``‖h_{t+1} − h_t‖`` (claim 5's statistic), its
input-free part ``‖ReLU(W h_t) − h_t‖``, the noise drive ``‖W_ih x_{t+1}‖``, the step within the PC1–PC2 plane and
the angle it turns there (README, "Claims on the quick networks").
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from hmmrnn.analysis.residency import residency_times, residency_zones, zone_means
from hmmrnn.analysis.runs import noisy_run
from hmmrnn.dynamics.simulation import Weights
from hmmrnn.io import load_checkpoint


def zone_statistics(weights: Weights, generator: torch.Generator) -> dict[str, dict[str, float]]:
    """Per-zone means of the step, its input-free part, the noise drive, the PC1-PC2 step and turning angle."""
    start = torch.zeros(weights.hidden_size, dtype=torch.float64)
    states, inputs = noisy_run(weights, start, num_steps=5000, warmup_steps=20, noise_std=1.0, generator=generator)
    recorded = states[1:]
    residency = residency_times(
        weights, recorded, num_rollouts=20, max_steps=60, noise_std=1.0, generator=generator, compute_unstable=False
    )
    zones = residency_zones(
        residency.residency_time, residency.max_probability, transition_cut=2, kick_cut=8, cluster_prob=0.8
    )
    centred = recorded - recorded.mean(0)
    plane = centred @ torch.linalg.svd(centred, full_matrices=False)[2][:2].T
    angle = torch.atan2(plane[:, 1], plane[:, 0])
    values = {
        "step": (recorded[1:] - recorded[:-1]).norm(dim=1),
        "input_free": (torch.relu(recorded[:-1] @ weights.W_hh.T) - recorded[:-1]).norm(dim=1),
        "noise_drive": (inputs[1:] @ weights.W_ih.T).norm(dim=1),
        "plane_step": (plane[1:] - plane[:-1]).norm(dim=1),
        "turn": torch.remainder(angle[1:] - angle[:-1] + torch.pi, 2 * torch.pi).sub(torch.pi).abs(),
    }
    return {name: zone_means(value.numpy(), zones.labels[:-1]) for name, value in values.items()}


def main() -> None:
    root = Path(sys.argv[1] if len(sys.argv) > 1 else ".")
    torch.set_num_threads(2)
    representatives = pd.read_parquet(root / "results" / "tables" / "representatives.parquet")
    for row in representatives.itertuples():
        model = f"{row.hmm}/hidden_{row.hidden_size}/input_{row.input_dim}/seed_{row.seed}"
        checkpoint = load_checkpoint(root / "results" / "models" / model / "final.pt", required=("state_dict",))
        stats = zone_statistics(Weights.from_state_dict(checkpoint["state_dict"]), torch.Generator().manual_seed(7))
        ratios = {name: float(np.divide(s["cluster"], s["transition"])) for name, s in stats.items()}
        print(
            f"{model}: cluster/transition step {ratios['step']:.2f}, input-free part {ratios['input_free']:.2f}, "
            f"PC1-2 step {ratios['plane_step']:.2f}, turn {ratios['turn']:.2f}; noise drive "
            f"{stats['noise_drive']['cluster']:.2f}/{stats['noise_drive']['transition']:.2f}, input-free part "
            f"{stats['input_free']['cluster']:.2f}/{stats['input_free']['transition']:.2f}"
        )


if __name__ == "__main__":
    main()
