"""Fig 19: residency zones in the output-pair subspaces of the multi-orbit networks (PAPER_SPEC §6.8)."""

from typing import TYPE_CHECKING

from hmmrnn.io import log_to_file
from hmmrnn.plotting import save_figure, use_file_backend
from hmmrnn.plotting.local import figure_subspace_residency, load_local_results

if TYPE_CHECKING:
    from snakemake.script import snakemake

log_to_file(snakemake.log[0])
use_file_backend()
results = load_local_results(snakemake.params.families, snakemake.params.labels, dict(snakemake.input.items()))
figure = figure_subspace_residency(results)
save_figure(figure, {"pdf": snakemake.output.pdf, "png": snakemake.output.png})
