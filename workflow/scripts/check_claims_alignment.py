"""Claim 15: the readout axes' projection on the orbit plane decreases with the number of HMM states."""

from typing import TYPE_CHECKING

import pandas as pd

from hmmrnn.claims.alignment import alignment_claims
from hmmrnn.io import log_to_file, read_parquet, write_parquet_atomic
from hmmrnn.tables import ALIGNMENT_SCHEMA, CLAIMS_SCHEMA

if TYPE_CHECKING:
    from snakemake.script import snakemake

log_to_file(snakemake.log[0])
table = pd.concat([read_parquet(path, ALIGNMENT_SCHEMA) for path in snakemake.input.tables], ignore_index=True)
claims = alignment_claims(
    table, snakemake.params.families, converged_only=snakemake.params.converged_only, min_drop=snakemake.params.min_drop
)
write_parquet_atomic(claims, snakemake.output.claims, CLAIMS_SCHEMA)
