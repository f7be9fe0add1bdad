"""Fig 21: dispersion of the trajectories from the cluster and the transition point (PAPER_SPEC §6.10)."""

from typing import TYPE_CHECKING

from hmmrnn.io import log_to_file
from hmmrnn.plotting import save_figure, use_file_backend
from hmmrnn.plotting.local import figure_dispersion, load_local_results

if TYPE_CHECKING:
    from snakemake.script import snakemake

log_to_file(snakemake.log[0])
use_file_backend()
results = load_local_results(snakemake.params.families, snakemake.params.labels, dict(snakemake.input.items()))
figure = figure_dispersion(results)
save_figure(figure, {"pdf": snakemake.output.pdf, "png": snakemake.output.png})
