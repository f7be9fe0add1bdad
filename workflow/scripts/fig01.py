"""Fig 1: the training paradigm, with emission rasters of the two-state HMM's data and of its representative RNN."""

import logging
from typing import TYPE_CHECKING

from hmmrnn.analysis.representative import candidate_file, load_representative_weights
from hmmrnn.evaluation.sequences import generate_sequences
from hmmrnn.io import load_sequences, log_to_file
from hmmrnn.plotting import save_figure, use_file_backend
from hmmrnn.plotting.overview import figure_paradigm
from hmmrnn.seeds import torch_generator

if TYPE_CHECKING:
    from snakemake.script import snakemake

log_to_file(snakemake.log[0])
use_file_backend()
params, files = snakemake.params, snakemake.input
key, weights = load_representative_weights(files.representatives, params.hmm, files.models, params.seeds)
outputs, hmm = load_sequences(candidate_file(files.data, params.seeds, key["seed"]), "train")  # its own training data
num_sequences, num_steps = min(params.num_sequences, outputs.shape[0]), min(params.num_steps, outputs.shape[1])
logging.info("showing %d of %d sequences, %d of %d steps", num_sequences, outputs.shape[0], num_steps, outputs.shape[1])
generator = torch_generator(params.seed, "fig01", params.hmm)
generated = generate_sequences(weights, num_sequences, num_steps, generator, emit_from_zero=params.emit_from_zero)
model = f"H={key['hidden_size']}, d={key['input_dim']}, seed {key['seed']}"
figure = figure_paradigm(
    outputs[:num_sequences, :num_steps], generated, hmm.transition_matrix, params.labels[params.hmm], model
)
save_figure(figure, {"pdf": snakemake.output.pdf, "png": snakemake.output.png})
