"""Fig 4: emergence of the orbit while the 2-state network trains (PCA, transition rate, eigenvalues, E[δh2])."""

from typing import TYPE_CHECKING

from hmmrnn.files import log_to_file, read_parquet
from hmmrnn.plotting import save_figure
from hmmrnn.plotting_global import EvolutionResults, figure_evolution, load_arrays
from hmmrnn.tables import EVOLUTION_SCHEMA, SECOND_ORDER_SCHEMA, TRANSITION_SCHEMA

if TYPE_CHECKING:
    from snakemake.script import snakemake

log_to_file(snakemake.log[0])
labels, files = snakemake.params.labels, snakemake.input
results = [
    EvolutionResults(
        labels[hmm],
        read_parquet(transition, TRANSITION_SCHEMA),
        arrays=load_arrays(arrays),
        epochs=read_parquet(epochs, EVOLUTION_SCHEMA),
        second_order=read_parquet(second_order, SECOND_ORDER_SCHEMA),
    )
    for hmm, transition, arrays, epochs, second_order in zip(
        snakemake.params.families, files.transition, files.arrays, files.epochs, files.second_order, strict=True
    )
]
figure = figure_evolution(results, view=snakemake.params.view)
save_figure(figure, {"pdf": snakemake.output.pdf, "png": snakemake.output.png})
