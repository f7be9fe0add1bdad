"""Fig 13: fully-connected and cyclic networks: 2-D and 3-D trajectories and their output-pair subspace orbits."""

from typing import TYPE_CHECKING

from hmmrnn.io import log_to_file
from hmmrnn.plotting import save_figure, use_file_backend
from hmmrnn.plotting.global_dynamics import figure_multi_orbit, load_global_results

if TYPE_CHECKING:
    from snakemake.script import snakemake

log_to_file(snakemake.log[0])
use_file_backend()
results = load_global_results(snakemake.params.families, snakemake.params.labels, dict(snakemake.input.items()))
figure = figure_multi_orbit(results, view=snakemake.params.view)
save_figure(figure, {"pdf": snakemake.output.pdf, "png": snakemake.output.png})
