"""Train one RNN on its (hmm, seed) data set until converged (with retries); write weights, history and summary."""

import logging
import os
from typing import TYPE_CHECKING

import torch

from hmmrnn.convergence import ConvergencePolicy, train_with_retries
from hmmrnn.devices import claim_gpu
from hmmrnn.io import load_sequences, log_to_file, read_parquet, save_checkpoint, write_parquet_atomic
from hmmrnn.study import ModelKey
from hmmrnn.tables import FLOOR_SCHEMA, HISTORY_SCHEMA, TRAINING_SCHEMA, training_summary
from hmmrnn.training import TrainSettings, select_device

if TYPE_CHECKING:
    from snakemake.script import snakemake

log_to_file(snakemake.log[0])
torch.set_num_threads(snakemake.threads)
torch.backends.cudnn.deterministic = True
torch.backends.cudnn.benchmark = False
gpus = int(snakemake.resources.get("gpu", 0))
gpu = claim_gpu(snakemake.params.device, gpus)  # a seat on one of the machine's GPUs, held until the job ends
os.environ.update(gpu.environment)  # CUDA_VISIBLE_DEVICES, set before torch starts CUDA

key = ModelKey.from_wildcards(snakemake.wildcards)._asdict()
train, hmm = load_sequences(snakemake.input.data, "train")
val, _ = load_sequences(snakemake.input.data, "val")
loss_floor = float(read_parquet(snakemake.input.floor, FLOOR_SCHEMA)["sinkhorn_floor"].iloc[0])
device = select_device(snakemake.params.device, gpus=gpus)
logging.info("training %s on %s with %d thread(s); Sinkhorn floor %.4f", key, device, snakemake.threads, loss_floor)

run = train_with_retries(
    train,
    val,
    hmm,
    input_dim=key["input_dim"],
    hidden_size=key["hidden_size"],
    settings=TrainSettings.from_params(snakemake.params.settings),
    epochs=snakemake.params.epochs,
    grad_clip=snakemake.params.grad_clip,
    evolution_every=snakemake.params.evolution_every,
    policy=ConvergencePolicy.from_params(snakemake.params.convergence),
    eval_seq_len=snakemake.params.eval_seq_len,
    evaluation=snakemake.params.evaluation,
    loss_floor=loss_floor,
    seed=key["seed"],
    device=device,
    resume_dir=snakemake.params.resume_dir,  # keeps every attempt's finished state: a rerun trains nothing
    rebuild_target=snakemake.output.final,
)

result = run.result
sizes = {"input_dim": key["input_dim"], "hidden_size": key["hidden_size"], "num_outputs": hmm.num_outputs}
last_epoch = int(result.history["epoch"].iloc[-1])
save_checkpoint(snakemake.output.final, {"state_dict": result.final_state, "epoch": last_epoch, **sizes})
save_checkpoint(snakemake.output.best, {"state_dict": result.best_state, "epoch": result.best_epoch, **sizes})
save_checkpoint(snakemake.output.evolution, {**result.evolution, **sizes})
write_parquet_atomic(result.history, snakemake.output.history, HISTORY_SCHEMA)
summary = training_summary(
    result.history,
    run.record.as_dict(),
    **key,
    num_states=hmm.num_states,
    seq_len=train.shape[1],
    device=result.device,
    attempts=run.attempts,
    seed_used=run.seed_used,
    loss_floor=loss_floor,
)
write_parquet_atomic(summary, snakemake.output.summary, TRAINING_SCHEMA)
