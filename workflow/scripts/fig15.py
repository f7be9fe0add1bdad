"""Fig 15: transition rate, eigenvalue fractions and E[δh2] across epochs for the other families."""

from typing import TYPE_CHECKING

from hmmrnn.io import log_to_file
from hmmrnn.plotting import save_figure, use_file_backend
from hmmrnn.plotting.evolution import figure_evolution_statistics, load_evolution_results

if TYPE_CHECKING:
    from snakemake.script import snakemake

log_to_file(snakemake.log[0])
use_file_backend()
results = load_evolution_results(snakemake.params.families, snakemake.params.labels, dict(snakemake.input.items()))
save_figure(figure_evolution_statistics(results), {"pdf": snakemake.output.pdf, "png": snakemake.output.png})
