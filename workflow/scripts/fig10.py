"""Fig 10: Sinkhorn-aligned distances of RNN and HMM sequences across the study."""

from typing import TYPE_CHECKING

from hmmrnn.evaluation.summaries import distance_summary, load_study_metrics
from hmmrnn.io import log_to_file
from hmmrnn.plotting import save_figure, use_file_backend
from hmmrnn.plotting.evaluation import figure_distances

if TYPE_CHECKING:
    from snakemake.script import snakemake

log_to_file(snakemake.log[0])
use_file_backend()
metrics = load_study_metrics(snakemake.input.metrics, snakemake.input.training, snakemake.params.converged_only)
figure = figure_distances(distance_summary(metrics), snakemake.params.labels)
save_figure(figure, {"pdf": snakemake.output.pdf, "png": snakemake.output.png})
