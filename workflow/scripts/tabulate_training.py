"""Concatenate the per-model training summaries into results/tables/training.parquet."""

from typing import TYPE_CHECKING

import pandas as pd

from hmmrnn.files import log_to_file, read_parquet, write_parquet_atomic
from hmmrnn.tables import TRAINING_SCHEMA

if TYPE_CHECKING:
    from snakemake.script import snakemake

log_to_file(snakemake.log[0])
table = pd.concat([read_parquet(path, TRAINING_SCHEMA) for path in snakemake.input.summaries], ignore_index=True)
write_parquet_atomic(table, snakemake.output.table, TRAINING_SCHEMA)
