"""Training evolution of a family's representative model: eigenvalue fractions, transition rate, E[δh2], e*."""

from typing import TYPE_CHECKING

import torch

from hmmrnn.analysis.evolution import analyze_evolution
from hmmrnn.analysis.representative import candidate_file, representative_key
from hmmrnn.analysis.settings import EigenSettings, EvolutionSettings
from hmmrnn.io import load_checkpoint, log_to_file, read_parquet, write_arrays_atomic, write_parquet_atomic
from hmmrnn.tables import (
    CLAIM_STATISTICS_SCHEMA,
    EVOLUTION_SCHEMA,
    HISTORY_SCHEMA,
    REPRESENTATIVE_SCHEMA,
    SECOND_ORDER_SCHEMA,
    TRANSITION_SCHEMA,
)

if TYPE_CHECKING:
    from snakemake.script import snakemake

log_to_file(snakemake.log[0])
torch.set_num_threads(snakemake.threads)
key = representative_key(read_parquet(snakemake.input.representatives, REPRESENTATIVE_SCHEMA), snakemake.wildcards.hmm)
seeds = snakemake.params.seeds
evolution = load_checkpoint(candidate_file(snakemake.input.evolutions, seeds, key["seed"]), required=("epoch",))
history = read_parquet(candidate_file(snakemake.input.histories, seeds, key["seed"]), HISTORY_SCHEMA)
result = analyze_evolution(
    evolution,
    history,
    key,
    settings=EvolutionSettings.from_params(snakemake.params.settings),
    eigenvalues=EigenSettings.from_params(snakemake.params.eigenvalues),
    max_state_norm=snakemake.params.max_state_norm,
    claims=snakemake.params.claims,
    seed=snakemake.params.seed,
)
write_parquet_atomic(result.epochs, snakemake.output.epochs, EVOLUTION_SCHEMA)
write_parquet_atomic(result.second_order, snakemake.output.second_order, SECOND_ORDER_SCHEMA)
write_parquet_atomic(result.transition, snakemake.output.transition, TRANSITION_SCHEMA)
write_parquet_atomic(result.statistics, snakemake.output.statistics, CLAIM_STATISTICS_SCHEMA)
write_arrays_atomic(result.arrays, snakemake.output.arrays)
