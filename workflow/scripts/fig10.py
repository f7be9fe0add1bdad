"""Fig 10: Sinkhorn-aligned distances of RNN and HMM sequences across the study."""

from typing import TYPE_CHECKING

from hmmrnn.files import log_to_file
from hmmrnn.plotting import figure_distances, save_figure
from hmmrnn.summaries import distance_summary, load_study_metrics

if TYPE_CHECKING:
    from snakemake.script import snakemake

log_to_file(snakemake.log[0])
metrics = load_study_metrics(snakemake.input.metrics, snakemake.input.training, snakemake.params.converged_only)
figure = figure_distances(distance_summary(metrics), snakemake.params.labels)
save_figure(figure, {"pdf": snakemake.output.pdf, "png": snakemake.output.png})
