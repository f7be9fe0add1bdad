"""A tiny training set-up shared by the training, convergence and recovery tests (seconds on one CPU thread)."""

import math

import numpy as np

from hmmrnn.convergence import ConvergencePolicy, RetriedTraining, train_with_retries
from hmmrnn.hmm import linear_chain, sample_hmm
from hmmrnn.seeds import numpy_rng
from hmmrnn.training import TrainSettings

HMM = linear_chain(2, 0.05)
SETTINGS = TrainSettings(
    batch_size=32,
    learning_rate=1e-2,
    adam_betas=(0.9, 0.9),
    sinkhorn_blur=0.2,
    sinkhorn_p=2,
    sinkhorn_scaling=0.5,
    sinkhorn_backend="hmmrnn",
    gumbel_tau=1.0,
    validate_every=2,
    resume_every=2,
)
RUN = {"epochs": 6, "grad_clip": 0.9, "evolution_every": 2}  # train_rnn's family and per-model arguments
POLICY = ConvergencePolicy(  # every criterion passes (infinite thresholds); a check of 16 sequences
    max_loss_ratio=math.inf,
    max_distance_ratio=math.inf,
    max_transition_sq_diff=math.inf,
    max_switch_rel_error=math.inf,
    max_frequency_error=math.inf,
    max_norm_growth=math.inf,
    max_decay_ratio=math.inf,
    num_sequences=16,
    num_trajectories=2,
    dynamics_steps=8,
    decay_steps=4,
    patience=2,
    train_on_epochs=0,
    max_attempts=3,
    seed_stride=10,
    floor_draws=1,
)
# the convergence check's other arguments: sequences of 10 steps (the family's eval_seq_len) and config evaluation
# less num_sequences
CHECK = {
    "eval_seq_len": 10,
    "evaluation": {"emit_from_zero": False, "sinkhorn_epsilon": 0.1, "sinkhorn_max_iters": 20, "sinkhorn_tol": 0.1},
}


def two_state_data() -> tuple[np.ndarray, np.ndarray]:
    """64 training and 32 validation sequences of length 10 from the two-state linear chain."""
    _, outputs = sample_hmm(HMM, 96, 10, numpy_rng(0, "data"))
    return outputs[:64], outputs[64:]


def train_retried(data: tuple[np.ndarray, np.ndarray], **kwargs) -> RetriedTraining:
    """``train_with_retries`` of the tiny set-up (seed 5, floor 1.0, CPU); ``kwargs`` override any argument."""
    arguments = {
        "input_dim": 3,
        "hidden_size": 8,
        "settings": SETTINGS,
        **RUN,
        "policy": POLICY,
        **CHECK,
        "loss_floor": 1.0,
    }
    return train_with_retries(*data, HMM, **{**arguments, "seed": 5, "device": "cpu", **kwargs})
