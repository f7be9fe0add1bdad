"""The family's Sinkhorn floor: the training loss between independent HMM samples, batched like validation."""

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from hmmrnn.evaluation.loss import family_floor_draws
from hmmrnn.hmm import HMM, check_hmm
from hmmrnn.io import log_to_file, write_parquet_atomic
from hmmrnn.tables import FLOOR_SCHEMA

if TYPE_CHECKING:
    from snakemake.script import snakemake

log_to_file(snakemake.log[0])
name, params = snakemake.wildcards.hmm, snakemake.params
hmm = check_hmm(HMM(*(np.asarray(params.matrices[key], dtype=float) for key in HMM.__dataclass_fields__)), name)
floors = family_floor_draws(
    hmm,
    name,
    seed=params.seed,
    floor_draws=params.floor_draws,
    num_sequences=params.num_val,
    num_timesteps=params.seq_len,
    **params.training,  # config training's batch_size and sinkhorn_* (study.FLOOR_TRAINING)
)
row = {
    "hmm": name,
    "sinkhorn_floor": float(np.mean(floors)),
    "sinkhorn_floor_std": float(np.std(floors)),
    "num_draws": params.floor_draws,
    "num_sequences": params.num_val,
    "batch_size": params.training["batch_size"],
    "seq_len": params.seq_len,
}
write_parquet_atomic(pd.DataFrame([row]), snakemake.output.floor, FLOOR_SCHEMA)
