"""Claims 1 (emission statistics, per model and grid) and 2 (input dimension and hidden size) of PAPER_SPEC §10."""

from typing import TYPE_CHECKING

import pandas as pd

from hmmrnn.claims.study import emission_claims, grid_claims
from hmmrnn.io import log_to_file, read_parquet, write_parquet_atomic
from hmmrnn.tables import CLAIMS_SCHEMA, METRICS_SCHEMA, TRAINING_SCHEMA

if TYPE_CHECKING:
    from snakemake.script import snakemake

log_to_file(snakemake.log[0])
params = snakemake.params
training = read_parquet(snakemake.input.training, TRAINING_SCHEMA)
metrics = read_parquet(snakemake.input.metrics, METRICS_SCHEMA)
claims = pd.concat(
    [
        emission_claims(training, params.convergence, min_fraction=params.emission["min_fraction"]),
        grid_claims(
            metrics,
            [hmm for hmm in params.families if hmm in set(training["hmm"])],
            hidden_sizes=tuple(params.grid["hidden_sizes"]),
            max_gain=params.grid["max_hidden_gain"],
        ),
    ],
    ignore_index=True,
)
write_parquet_atomic(claims, snakemake.output.claims, CLAIMS_SCHEMA)
