"""Fig 16: training and validation loss curves of the models with evolution snapshots, with the Sinkhorn floor."""

from typing import TYPE_CHECKING

import pandas as pd

from hmmrnn.io import log_to_file, read_parquet
from hmmrnn.plotting import save_figure, use_file_backend
from hmmrnn.plotting.evaluation import figure_loss_curves
from hmmrnn.tables import FLOOR_SCHEMA, HISTORY_SCHEMA

if TYPE_CHECKING:
    from snakemake.script import snakemake

log_to_file(snakemake.log[0])
use_file_backend()
histories = pd.concat(
    [
        read_parquet(path, HISTORY_SCHEMA).assign(**key)
        for path, key in zip(snakemake.input.histories, snakemake.params.models, strict=True)
    ],
    ignore_index=True,
)
figure = figure_loss_curves(histories, read_parquet(snakemake.input.floors, FLOOR_SCHEMA), snakemake.params.labels)
save_figure(figure, {"pdf": snakemake.output.pdf, "png": snakemake.output.png})
