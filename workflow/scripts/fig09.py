"""Fig 9: the HMM architectures, one column per family: transition graph and emission matrix."""

from typing import TYPE_CHECKING

from hmmrnn.io import log_to_file
from hmmrnn.plotting import save_figure, use_file_backend
from hmmrnn.plotting.overview import figure_architectures

if TYPE_CHECKING:
    from snakemake.script import snakemake

log_to_file(snakemake.log[0])
use_file_backend()
figure = figure_architectures(snakemake.params.matrices, snakemake.params.labels)
save_figure(figure, {"pdf": snakemake.output.pdf, "png": snakemake.output.png})
