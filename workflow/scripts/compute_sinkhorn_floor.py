"""The family's Sinkhorn floor: the training loss between independent HMM samples, batched like validation."""

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from hmmrnn.evaluation.loss import sinkhorn_floor
from hmmrnn.hmm import HMM, check_hmm
from hmmrnn.io import log_to_file, write_parquet_atomic
from hmmrnn.seeds import numpy_rng
from hmmrnn.tables import FLOOR_SCHEMA

if TYPE_CHECKING:
    from snakemake.script import snakemake

log_to_file(snakemake.log[0])
name, settings = snakemake.wildcards.hmm, dict(snakemake.params.settings)
matrices = snakemake.params.matrices
hmm = check_hmm(HMM(*(np.asarray(matrices[key], dtype=float) for key in HMM.__dataclass_fields__)), name)
num_draws = settings.pop("num_draws")
floors = [
    sinkhorn_floor(hmm, rng=numpy_rng(snakemake.params.seed, "floor", name, draw), **settings)
    for draw in range(num_draws)
]
row = {
    "hmm": name,
    "sinkhorn_floor": float(np.mean(floors)),
    "sinkhorn_floor_std": float(np.std(floors)),
    "num_draws": num_draws,
    "num_sequences": settings["num_sequences"],
    "batch_size": settings["batch_size"],
    "seq_len": settings["num_timesteps"],
}
write_parquet_atomic(pd.DataFrame([row]), snakemake.output.floor, FLOOR_SCHEMA)
