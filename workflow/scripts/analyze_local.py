"""Local dynamics of a family's representative model: residency zones, kick neurons, noise sensitivity,
populations, mean activities and interventions (PAPER_SPEC §6.8-6.14)."""

from typing import TYPE_CHECKING

import torch

from hmmrnn.analysis.local import analyze_local
from hmmrnn.analysis.representative import load_representative_weights
from hmmrnn.analysis.settings import EigenSettings, LocalSettings, SubspaceSettings
from hmmrnn.io import log_to_file, read_parquet, write_arrays_atomic, write_parquet_atomic
from hmmrnn.tables import (
    CLAIM_STATISTICS_SCHEMA,
    INTERVENTION_SCHEMA,
    KICK_SCHEMA,
    NOISE_SENSITIVITY_SCHEMA,
    POPULATION_SCHEMA,
    SECOND_ORDER_SCHEMA,
    ZONES_SCHEMA,
)

if TYPE_CHECKING:
    from snakemake.script import snakemake

log_to_file(snakemake.log[0])
torch.set_num_threads(snakemake.threads)
files, output, params = snakemake.input, snakemake.output, snakemake.params
key, weights = load_representative_weights(files.representatives, snakemake.wildcards.hmm, files.models, params.seeds)
# the family's evolution analysis is that of its representative
second_order = read_parquet(files.second_order, SECOND_ORDER_SCHEMA) if files.second_order else None
result = analyze_local(
    weights,
    key,
    settings=LocalSettings.from_params(params.settings),
    subspaces=SubspaceSettings.from_params(params.subspaces) if params.subspaces is not None else None,
    eigenvalues=EigenSettings.from_params(params.eigenvalues),
    max_state_norm=params.max_state_norm,
    claims=params.claims,
    seed=params.seed,
    second_order=second_order,
)
write_parquet_atomic(result.zones, output.zones, ZONES_SCHEMA)
write_parquet_atomic(result.noise_sensitivity, output.noise_sensitivity, NOISE_SENSITIVITY_SCHEMA)
write_parquet_atomic(result.kick_neurons, output.kick_neurons, KICK_SCHEMA)
write_parquet_atomic(result.populations, output.populations, POPULATION_SCHEMA)
write_parquet_atomic(result.interventions, output.interventions, INTERVENTION_SCHEMA)
write_parquet_atomic(result.statistics, output.statistics, CLAIM_STATISTICS_SCHEMA)
write_arrays_atomic(result.arrays, output.arrays)
