"""The claim rows of one analysis of one family: its measured checks judged against config ``analysis.claims``."""

from typing import TYPE_CHECKING

from hmmrnn.claims.checks import judge
from hmmrnn.io import log_to_file, read_parquet, write_parquet_atomic
from hmmrnn.tables import CLAIM_STATISTICS_SCHEMA, CLAIMS_SCHEMA

if TYPE_CHECKING:
    from snakemake.script import snakemake

log_to_file(snakemake.log[0])
statistics = read_parquet(snakemake.input.statistics, CLAIM_STATISTICS_SCHEMA)
write_parquet_atomic(judge(statistics, snakemake.params.thresholds), snakemake.output.claims, CLAIMS_SCHEMA)
