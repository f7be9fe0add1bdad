"""Fig 12: latent dynamics of the linear-chain networks, one column per number of states."""

from typing import TYPE_CHECKING

from hmmrnn.io import log_to_file
from hmmrnn.plotting import save_figure, use_file_backend
from hmmrnn.plotting.global_dynamics import figure_linear_chains, load_global_results

if TYPE_CHECKING:
    from snakemake.script import snakemake

log_to_file(snakemake.log[0])
use_file_backend()
results = load_global_results(snakemake.params.families, snakemake.params.labels, dict(snakemake.input.items()))
save_figure(figure_linear_chains(results), {"pdf": snakemake.output.pdf, "png": snakemake.output.png})
