"""Fig 13: fully-connected and cyclic networks: 2-D and 3-D trajectories and their output-pair subspace orbits."""

from typing import TYPE_CHECKING

from hmmrnn.files import log_to_file, read_parquet
from hmmrnn.plotting import save_figure
from hmmrnn.plotting_global import GlobalResults, figure_multi_orbit, load_arrays
from hmmrnn.tables import GLOBAL_SCHEMA, SUBSPACE_SCHEMA

if TYPE_CHECKING:
    from snakemake.script import snakemake

log_to_file(snakemake.log[0])
labels, files = snakemake.params.labels, snakemake.input
results = [
    GlobalResults(
        labels[hmm],
        load_arrays(arrays),
        summary=read_parquet(summary, GLOBAL_SCHEMA),
        subspace_arrays=load_arrays(subspace_arrays),
        subspaces=read_parquet(subspaces, SUBSPACE_SCHEMA),
    )
    for hmm, arrays, summary, subspace_arrays, subspaces in zip(
        snakemake.params.families, files.arrays, files.summary, files.subspace_arrays, files.subspaces, strict=True
    )
]
figure = figure_multi_orbit(results, view=snakemake.params.view)
save_figure(figure, {"pdf": snakemake.output.pdf, "png": snakemake.output.png})
