"""Fig 7: interventions on kick neurons, their noise projection and a control (PAPER_SPEC §6.14)."""

from typing import TYPE_CHECKING

from hmmrnn.io import log_to_file
from hmmrnn.plotting import save_figure, use_file_backend
from hmmrnn.plotting.local import figure_interventions, load_local_results

if TYPE_CHECKING:
    from snakemake.script import snakemake

log_to_file(snakemake.log[0])
use_file_backend()
results = load_local_results(snakemake.params.families, snakemake.params.labels, dict(snakemake.input.items()))
figure = figure_interventions(results)
save_figure(figure, {"pdf": snakemake.output.pdf, "png": snakemake.output.png})
