"""Import one network trained elsewhere (config `pretrained`): train_rnn's outputs, judged by the same policy."""

import logging
from typing import TYPE_CHECKING

import pandas as pd
import torch

from hmmrnn.convergence import ConvergencePolicy
from hmmrnn.io import load_sequences, log_to_file, read_parquet, save_checkpoint, write_parquet_atomic
from hmmrnn.pretrained import assess_pretrained, empty_evolution, load_pretrained
from hmmrnn.tables import FLOOR_SCHEMA, HISTORY_SCHEMA, TRAINING_SCHEMA, pretrained_summary
from hmmrnn.training import TrainSettings

if TYPE_CHECKING:
    from snakemake.script import snakemake

log_to_file(snakemake.log[0])
torch.set_num_threads(snakemake.threads)

key = snakemake.params.key
train, hmm = load_sequences(snakemake.input.data, "train")
val, _ = load_sequences(snakemake.input.data, "val")
loss_floor = float(read_parquet(snakemake.input.floor, FLOOR_SCHEMA)["sinkhorn_floor"].iloc[0])
sizes = {"input_dim": key["input_dim"], "hidden_size": key["hidden_size"], "num_outputs": hmm.num_outputs}
state = load_pretrained(
    snakemake.input.checkpoint, hidden_size=key["hidden_size"], input_dim=key["input_dim"], num_outputs=hmm.num_outputs
)
assessment = assess_pretrained(
    state,
    train,
    val,
    hmm,
    settings=TrainSettings.from_params(snakemake.params.settings),
    policy=ConvergencePolicy.from_params(snakemake.params.convergence),
    eval_seq_len=snakemake.params.eval_seq_len,
    evaluation=snakemake.params.evaluation,
    loss_floor=loss_floor,
    seed=key["seed"],
)
logging.info("imported %s from %s: %s", key, snakemake.params.source, assessment)

save_checkpoint(snakemake.output.final, {"state_dict": state, "epoch": 0, **sizes})
save_checkpoint(snakemake.output.best, {"state_dict": state, "epoch": 0, **sizes})
save_checkpoint(snakemake.output.evolution, {**empty_evolution(state), **sizes})
write_parquet_atomic(pd.DataFrame(columns=HISTORY_SCHEMA.names), snakemake.output.history, HISTORY_SCHEMA)
summary = pretrained_summary(
    assessment.record.as_dict(),
    **key,
    source=snakemake.params.source,
    num_states=hmm.num_states,
    seq_len=train.shape[1],
    device="cpu",
    train_loss=assessment.train_loss,
    val_loss=assessment.val_loss,
    loss_floor=loss_floor,
)
write_parquet_atomic(summary, snakemake.output.summary, TRAINING_SCHEMA)
