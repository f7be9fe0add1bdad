"""Output-pair subspaces of a multi-orbit family's representative model (PAPER_SPEC §6.4)."""

from typing import TYPE_CHECKING

import torch

from hmmrnn.analysis.representative import load_representative_weights
from hmmrnn.analysis.settings import ContourSettings, SubspaceSettings
from hmmrnn.analysis.subspaces import analyze_subspaces
from hmmrnn.io import log_to_file, write_arrays_atomic, write_parquet_atomic
from hmmrnn.tables import CLAIM_STATISTICS_SCHEMA, SUBSPACE_SCHEMA

if TYPE_CHECKING:
    from snakemake.script import snakemake

log_to_file(snakemake.log[0])
torch.set_num_threads(snakemake.threads)
key, weights = load_representative_weights(
    snakemake.input.representatives, snakemake.wildcards.hmm, snakemake.input.models, snakemake.params.seeds
)
result = analyze_subspaces(
    weights,
    key,
    settings=SubspaceSettings.from_params(snakemake.params.settings),
    contours=ContourSettings.from_params(snakemake.params.contours),
    max_state_norm=snakemake.params.max_state_norm,
    claims=snakemake.params.claims,
    seed=snakemake.params.seed,
)
write_parquet_atomic(result.table, snakemake.output.table, SUBSPACE_SCHEMA)
write_parquet_atomic(result.statistics, snakemake.output.statistics, CLAIM_STATISTICS_SCHEMA)
write_arrays_atomic(result.arrays, snakemake.output.arrays)
