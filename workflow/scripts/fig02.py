"""Fig 2: the dynamical motifs of the 2-state network (orbit, fixed point, noise scaling, slow and fast regions)."""

from typing import TYPE_CHECKING

from hmmrnn.files import log_to_file, read_parquet
from hmmrnn.plotting import save_figure
from hmmrnn.plotting_global import GlobalResults, figure_motifs, load_arrays
from hmmrnn.tables import GLOBAL_SCHEMA, RADIUS_SCHEMA

if TYPE_CHECKING:
    from snakemake.script import snakemake

log_to_file(snakemake.log[0])
labels, files = snakemake.params.labels, snakemake.input
results = [
    GlobalResults(
        labels[hmm],
        load_arrays(arrays),
        summary=read_parquet(summary, GLOBAL_SCHEMA),
        radius=read_parquet(radius, RADIUS_SCHEMA),
    )
    for hmm, arrays, summary, radius in zip(
        snakemake.params.families, files.arrays, files.summary, files.radius, strict=True
    )
]
save_figure(figure_motifs(results), {"pdf": snakemake.output.pdf, "png": snakemake.output.png})
