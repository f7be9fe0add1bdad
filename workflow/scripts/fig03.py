"""Fig 3: global latent dynamics of the 2-state network in PC space, the orbit radius vs noise and the spectra."""

from typing import TYPE_CHECKING

from hmmrnn.io import log_to_file
from hmmrnn.plotting import save_figure, use_file_backend
from hmmrnn.plotting.global_dynamics import figure_global_dynamics, load_global_results

if TYPE_CHECKING:
    from snakemake.script import snakemake

log_to_file(snakemake.log[0])
use_file_backend()
results = load_global_results(snakemake.params.families, snakemake.params.labels, dict(snakemake.input.items()))
save_figure(figure_global_dynamics(results), {"pdf": snakemake.output.pdf, "png": snakemake.output.png})
