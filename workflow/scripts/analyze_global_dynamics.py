"""Global latent dynamics of a family's representative model: PCA, trajectories, fixed point, orbit radius vs noise."""

from typing import TYPE_CHECKING

import torch

from hmmrnn.analysis.global_dynamics import analyze_global
from hmmrnn.analysis.representative import load_representative_weights
from hmmrnn.analysis.settings import ContourSettings, EigenSettings, GlobalSettings
from hmmrnn.io import log_to_file, write_arrays_atomic, write_parquet_atomic
from hmmrnn.tables import CLAIM_STATISTICS_SCHEMA, GLOBAL_SCHEMA, RADIUS_SCHEMA, SPECTRUM_SCHEMA

if TYPE_CHECKING:
    from snakemake.script import snakemake

log_to_file(snakemake.log[0])
torch.set_num_threads(snakemake.threads)
key, weights = load_representative_weights(
    snakemake.input.representatives, snakemake.wildcards.hmm, snakemake.input.models, snakemake.params.seeds
)
result = analyze_global(
    weights,
    key,
    settings=GlobalSettings.from_params(snakemake.params.settings),
    contours=ContourSettings.from_params(snakemake.params.contours),
    eigenvalues=EigenSettings.from_params(snakemake.params.eigenvalues),
    max_state_norm=snakemake.params.max_state_norm,
    claims=snakemake.params.claims,
    seed=snakemake.params.seed,
)
write_parquet_atomic(result.summary, snakemake.output.summary, GLOBAL_SCHEMA)
write_parquet_atomic(result.radius, snakemake.output.radius, RADIUS_SCHEMA)
write_parquet_atomic(result.spectrum, snakemake.output.spectrum, SPECTRUM_SCHEMA)
write_parquet_atomic(result.statistics, snakemake.output.statistics, CLAIM_STATISTICS_SCHEMA)
write_arrays_atomic(result.arrays, snakemake.output.arrays)
