"""The representative model of one family (PAPER_SPEC §8.13), from its candidates' training summaries and metrics."""

from typing import TYPE_CHECKING

import pandas as pd

from hmmrnn.analysis.representative import select_representatives
from hmmrnn.io import log_to_file, read_parquet, write_parquet_atomic
from hmmrnn.tables import METRICS_SCHEMA, REPRESENTATIVE_SCHEMA, TRAINING_SCHEMA

if TYPE_CHECKING:
    from snakemake.script import snakemake

log_to_file(snakemake.log[0])
representative = select_representatives(
    pd.concat([read_parquet(path, TRAINING_SCHEMA) for path in snakemake.input.summaries], ignore_index=True),
    pd.concat([read_parquet(path, METRICS_SCHEMA) for path in snakemake.input.metrics], ignore_index=True),
    candidates=snakemake.params.candidates,
    **snakemake.params.settings,
)
write_parquet_atomic(representative, snakemake.output.table, REPRESENTATIVE_SCHEMA)
