"""Fig 10: Sinkhorn-aligned distances of RNN and HMM sequences across the study."""

from typing import TYPE_CHECKING

from hmmrnn.files import log_to_file, read_parquet
from hmmrnn.plotting import figure_distances, save_figure
from hmmrnn.summaries import distance_summary, select_models
from hmmrnn.tables import METRICS_SCHEMA, TRAINING_SCHEMA

if TYPE_CHECKING:
    from snakemake.script import snakemake

log_to_file(snakemake.log[0])
metrics = select_models(
    read_parquet(snakemake.input.metrics, METRICS_SCHEMA),
    read_parquet(snakemake.input.training, TRAINING_SCHEMA),
    snakemake.params.converged_only,
)
figure = figure_distances(distance_summary(metrics), snakemake.params.labels)
save_figure(figure, {"pdf": snakemake.output.pdf, "png": snakemake.output.png})
