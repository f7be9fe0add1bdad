"""Readout-axis alignment with the PC1-PC2 plane of every candidate seed of a family (PAPER_SPEC §6.15)."""

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import torch

from hmmrnn.analysis.alignment import analyze_alignment
from hmmrnn.dynamics.simulation import Weights
from hmmrnn.hmm import HMM
from hmmrnn.io import load_checkpoint, log_to_file, read_parquet, write_parquet_atomic
from hmmrnn.study import ModelKey
from hmmrnn.tables import ALIGNMENT_SCHEMA, TRAINING_SCHEMA

if TYPE_CHECKING:
    from snakemake.script import snakemake

log_to_file(snakemake.log[0])
torch.set_num_threads(snakemake.threads)
params = snakemake.params
hmm = HMM(
    *(np.asarray(params.matrices[name]) for name in ("transition_matrix", "emission_matrix", "start_distribution"))
)
rows = []
for model, summary in zip(snakemake.input.models, snakemake.input.summaries, strict=True):
    training = read_parquet(summary, TRAINING_SCHEMA).iloc[0]
    key = {name: training[name] for name in ModelKey._fields}
    weights = Weights.from_state_dict(load_checkpoint(model, required=("state_dict",))["state_dict"], torch.float64)
    rows.append(
        analyze_alignment(
            weights,
            key,
            hmm,
            is_converged=bool(training["is_converged"]),
            seed=params.seed,
            noise_std=params.noise_std,
            max_state_norm=params.max_state_norm,
            **params.settings,
        )
    )
write_parquet_atomic(pd.concat(rows, ignore_index=True), snakemake.output.table, ALIGNMENT_SCHEMA)
