"""Global latent dynamics of a family's representative model: PCA, trajectories, fixed point, orbit radius vs noise."""

from typing import TYPE_CHECKING

import torch

from hmmrnn.files import load_checkpoint, log_to_file, read_parquet, write_parquet_atomic
from hmmrnn.global_analysis import (
    GlobalSettings,
    analyze_global,
    candidate_file,
    representative_key,
    write_arrays_atomic,
)
from hmmrnn.simulate import Weights
from hmmrnn.tables import CLAIMS_SCHEMA, GLOBAL_SCHEMA, RADIUS_SCHEMA, REPRESENTATIVE_SCHEMA, SPECTRUM_SCHEMA

if TYPE_CHECKING:
    from snakemake.script import snakemake

log_to_file(snakemake.log[0])
torch.set_num_threads(snakemake.threads)
key = representative_key(read_parquet(snakemake.input.representatives, REPRESENTATIVE_SCHEMA), snakemake.wildcards.hmm)
model = candidate_file(snakemake.input.models, snakemake.params.seeds, key["seed"])
weights = Weights.from_state_dict(load_checkpoint(model, required=("state_dict",))["state_dict"], torch.float64)
result = analyze_global(
    weights,
    key,
    settings=GlobalSettings.from_params(snakemake.params.settings),
    claims=snakemake.params.claims,
    seed=snakemake.params.seed,
)
write_parquet_atomic(result.summary, snakemake.output.summary, GLOBAL_SCHEMA)
write_parquet_atomic(result.radius, snakemake.output.radius, RADIUS_SCHEMA)
write_parquet_atomic(result.spectrum, snakemake.output.spectrum, SPECTRUM_SCHEMA)
write_parquet_atomic(result.claims, snakemake.output.claims, CLAIMS_SCHEMA)
write_arrays_atomic(result.arrays, snakemake.output.arrays)
