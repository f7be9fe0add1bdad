"""Fig 22: kick-neuron pre-activation maps (PAPER_SPEC §6.11)."""

from typing import TYPE_CHECKING

from hmmrnn.io import log_to_file
from hmmrnn.plotting import save_figure, use_file_backend
from hmmrnn.plotting.local import figure_preactivation_maps, load_local_results

if TYPE_CHECKING:
    from snakemake.script import snakemake

log_to_file(snakemake.log[0])
use_file_backend()
results = load_local_results(snakemake.params.families, snakemake.params.labels, dict(snakemake.input.items()))
figure = figure_preactivation_maps(results)
save_figure(figure, {"pdf": snakemake.output.pdf, "png": snakemake.output.png})
