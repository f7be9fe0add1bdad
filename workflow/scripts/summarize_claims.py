"""Per-claim summary of results/tables/claims.parquet, plus both tables as TSV for the HTML report."""

from typing import TYPE_CHECKING

from hmmrnn.claims.summary import claims_summary
from hmmrnn.io import atomic_path, log_to_file, read_parquet, write_parquet_atomic
from hmmrnn.tables import CLAIMS_SCHEMA, CLAIMS_SUMMARY_SCHEMA

if TYPE_CHECKING:
    from snakemake.script import snakemake

log_to_file(snakemake.log[0])
claims = read_parquet(snakemake.input.claims, CLAIMS_SCHEMA)
summary = claims_summary(claims)
write_parquet_atomic(summary, snakemake.output.summary, CLAIMS_SUMMARY_SCHEMA)
for table, path in ((summary, snakemake.output.summary_tsv), (claims, snakemake.output.claims_tsv)):
    with atomic_path(path) as temporary:
        table.to_csv(temporary, sep="\t", index=False, float_format="%.4g")
