"""Fig 11: squared differences between HMM and RNN output transition matrices across the study."""

from typing import TYPE_CHECKING

from hmmrnn.files import log_to_file
from hmmrnn.plotting import figure_transition_differences, save_figure
from hmmrnn.summaries import load_study_metrics, transition_difference_summary

if TYPE_CHECKING:
    from snakemake.script import snakemake

log_to_file(snakemake.log[0])
metrics = load_study_metrics(snakemake.input.metrics, snakemake.input.training, snakemake.params.converged_only)
figure = figure_transition_differences(
    transition_difference_summary(metrics), snakemake.params.labels, vmax=snakemake.params.vmax
)
save_figure(figure, {"pdf": snakemake.output.pdf, "png": snakemake.output.png})
