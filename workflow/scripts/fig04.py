"""Fig 4: emergence of the orbit while the 2-state network trains (PCA, transition rate, eigenvalues, E[δh2])."""

from typing import TYPE_CHECKING

from hmmrnn.io import log_to_file
from hmmrnn.plotting import save_figure, use_file_backend
from hmmrnn.plotting.evolution import figure_evolution, load_evolution_results

if TYPE_CHECKING:
    from snakemake.script import snakemake

log_to_file(snakemake.log[0])
use_file_backend()
results = load_evolution_results(snakemake.params.families, snakemake.params.labels, dict(snakemake.input.items()))
figure = figure_evolution(results, view=snakemake.params.view)
save_figure(figure, {"pdf": snakemake.output.pdf, "png": snakemake.output.png})
