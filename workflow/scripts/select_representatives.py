"""The representative model of every analysed family (PAPER_SPEC §8.13), chosen from the training and metrics tables."""

from typing import TYPE_CHECKING

from hmmrnn.files import log_to_file, read_parquet, write_parquet_atomic
from hmmrnn.global_analysis import select_representatives
from hmmrnn.tables import METRICS_SCHEMA, REPRESENTATIVE_SCHEMA, TRAINING_SCHEMA

if TYPE_CHECKING:
    from snakemake.script import snakemake

log_to_file(snakemake.log[0])
representatives = select_representatives(
    read_parquet(snakemake.input.training, TRAINING_SCHEMA),
    read_parquet(snakemake.input.metrics, METRICS_SCHEMA),
    **snakemake.params.settings,
)
write_parquet_atomic(representatives, snakemake.output.table, REPRESENTATIVE_SCHEMA)
