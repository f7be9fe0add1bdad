"""Fig 5: residency zones and noise sensitivity of the 2-state network (PAPER_SPEC §6.8-6.10)."""

from typing import TYPE_CHECKING

from hmmrnn.files import log_to_file
from hmmrnn.plotting import save_figure
from hmmrnn.plotting_local import figure_local_dynamics, load_local_results

if TYPE_CHECKING:
    from snakemake.script import snakemake

log_to_file(snakemake.log[0])
results = load_local_results(snakemake.params.families, snakemake.params.labels, dict(snakemake.input.items()))
figure = figure_local_dynamics(results)
save_figure(figure, {"pdf": snakemake.output.pdf, "png": snakemake.output.png})
