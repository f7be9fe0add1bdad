"""Concatenate per-model (or per-family) Parquet tables into one table under results/tables/."""

from typing import TYPE_CHECKING

import pandas as pd

from hmmrnn import tables
from hmmrnn.io import log_to_file, read_parquet, write_parquet_atomic

if TYPE_CHECKING:
    from snakemake.script import snakemake

log_to_file(snakemake.log[0])
schema = getattr(tables, snakemake.params.schema)
frame = pd.concat([read_parquet(path, schema) for path in snakemake.input.parts], ignore_index=True)
write_parquet_atomic(frame, snakemake.output.table, schema)
