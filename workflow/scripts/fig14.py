"""Fig 14: PCA of the latent dynamics across training epochs for the families other than the 2-state one."""

from typing import TYPE_CHECKING

from hmmrnn.files import log_to_file, read_parquet
from hmmrnn.plotting import save_figure
from hmmrnn.plotting_global import EvolutionResults, figure_evolution_pca, load_arrays
from hmmrnn.tables import TRANSITION_SCHEMA

if TYPE_CHECKING:
    from snakemake.script import snakemake

log_to_file(snakemake.log[0])
labels, files = snakemake.params.labels, snakemake.input
results = [
    EvolutionResults(labels[hmm], read_parquet(transition, TRANSITION_SCHEMA), arrays=load_arrays(arrays))
    for hmm, transition, arrays in zip(snakemake.params.families, files.transition, files.arrays, strict=True)
]
figure = figure_evolution_pca(results, view=snakemake.params.view)
save_figure(figure, {"pdf": snakemake.output.pdf, "png": snakemake.output.png})
