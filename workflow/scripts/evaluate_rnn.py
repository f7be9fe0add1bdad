"""Evaluation metrics (PAPER_SPEC §5) of one trained RNN against fresh HMM samples, in long format."""

import os
from typing import TYPE_CHECKING

import torch

from hmmrnn.devices import claim_gpu
from hmmrnn.dynamics.simulation import Weights
from hmmrnn.evaluation.model import evaluate_model
from hmmrnn.io import load_checkpoint, load_sequences, log_to_file, write_parquet_atomic
from hmmrnn.seeds import numpy_rng, torch_generator
from hmmrnn.study import ModelKey
from hmmrnn.tables import METRICS_SCHEMA, metrics_rows
from hmmrnn.training import select_device

if TYPE_CHECKING:
    from snakemake.script import snakemake

log_to_file(snakemake.log[0])
torch.set_num_threads(snakemake.threads)
gpus = int(snakemake.resources.get("gpu", 0))
gpu = claim_gpu(snakemake.params.device, gpus)  # a seat on one of the machine's GPUs, held until the job ends
os.environ.update(gpu.environment)  # CUDA_VISIBLE_DEVICES, set before torch starts CUDA
key = ModelKey.from_wildcards(snakemake.wildcards)._asdict()
_, hmm = load_sequences(snakemake.input.data, "train")
checkpoint = load_checkpoint(snakemake.input.model, required=("state_dict",))
device = select_device(snakemake.params.device, gpus=gpus)
weights = Weights.from_state_dict(checkpoint["state_dict"], dtype=torch.float32).to(device)
evaluation = evaluate_model(
    hmm,
    weights,
    rng=numpy_rng(key["seed"], "evaluation", *key.values()),
    generator=torch_generator(key["seed"], "evaluation", *key.values(), device=device),
    eval_seq_len=snakemake.params.eval_seq_len,
    **snakemake.params.settings,
)
write_parquet_atomic(metrics_rows(evaluation, **key), snakemake.output.metrics, METRICS_SCHEMA)
