"""Fig 15: transition rate, eigenvalue fractions and E[δh2] across epochs for the other families."""

from typing import TYPE_CHECKING

from hmmrnn.files import log_to_file, read_parquet
from hmmrnn.plotting import save_figure
from hmmrnn.plotting_global import EvolutionResults, figure_evolution_statistics
from hmmrnn.tables import EVOLUTION_SCHEMA, SECOND_ORDER_SCHEMA, TRANSITION_SCHEMA

if TYPE_CHECKING:
    from snakemake.script import snakemake

log_to_file(snakemake.log[0])
labels, files = snakemake.params.labels, snakemake.input
results = [
    EvolutionResults(
        labels[hmm],
        read_parquet(transition, TRANSITION_SCHEMA),
        epochs=read_parquet(epochs, EVOLUTION_SCHEMA),
        second_order=read_parquet(second_order, SECOND_ORDER_SCHEMA),
    )
    for hmm, transition, epochs, second_order in zip(
        snakemake.params.families, files.transition, files.epochs, files.second_order, strict=True
    )
]
save_figure(figure_evolution_statistics(results), {"pdf": snakemake.output.pdf, "png": snakemake.output.png})
