"""Fig 25: projection of the readout axes on the PC1-PC2 plane vs the number of HMM states (PAPER_SPEC §6.15)."""

from typing import TYPE_CHECKING

from hmmrnn.io import log_to_file
from hmmrnn.plotting import save_figure, use_file_backend
from hmmrnn.plotting.alignment import figure_alignment, load_alignment

if TYPE_CHECKING:
    from snakemake.script import snakemake

log_to_file(snakemake.log[0])
use_file_backend()
alignment = load_alignment(snakemake.input.alignment)
figure = figure_alignment(alignment, snakemake.params.converged_only, snakemake.params.labels)
save_figure(figure, {"pdf": snakemake.output.pdf, "png": snakemake.output.png})
