"""Fig 11: squared differences between HMM and RNN output transition matrices across the study."""

from typing import TYPE_CHECKING

from hmmrnn.evaluation.summaries import load_study_metrics, transition_difference_summary
from hmmrnn.io import log_to_file
from hmmrnn.plotting import save_figure, use_file_backend
from hmmrnn.plotting.evaluation import figure_transition_differences

if TYPE_CHECKING:
    from snakemake.script import snakemake

log_to_file(snakemake.log[0])
use_file_backend()
metrics = load_study_metrics(snakemake.input.metrics, snakemake.input.training, snakemake.params.converged_only)
figure = figure_transition_differences(
    transition_difference_summary(metrics), snakemake.params.labels, vmax=snakemake.params.vmax
)
save_figure(figure, {"pdf": snakemake.output.pdf, "png": snakemake.output.png})
