"""One model, every metric of §5: the evaluation that ``evaluate_rnn`` writes."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import torch

from ..dynamics.simulation import Weights
from ..hmm import HMM, sample_hmm
from ..training import one_hot
from .alignment import SinkhornAlignment, sinkhorn_alignment
from .sequences import generate_sequences
from .statistics import EmissionStats, emission_stats, squared_transition_difference

__all__ = ["ModelEvaluation", "evaluate_model"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ModelEvaluation:
    """All §5 metrics of one model.

    Attributes
    ----------
    alignment : SinkhornAlignment
        RNN sequences matched to the HMM sample S1.
    baseline : SinkhornAlignment
        HMM sample S3 matched to S2 (the HMM-vs-HMM baseline).
    rnn, hmm : EmissionStats
        Of the RNN sequences and of S1.
    transition_sq_diff : (num_outputs, num_outputs) ndarray
        ``(T_HMM - T_RNN)**2``.
    """

    alignment: SinkhornAlignment
    baseline: SinkhornAlignment
    rnn: EmissionStats
    hmm: EmissionStats
    transition_sq_diff: np.ndarray


def evaluate_model(
    hmm: HMM,
    weights: Weights,
    *,
    num_sequences: int,
    eval_seq_len: int,
    rng: np.random.Generator,
    generator: torch.Generator,
    emit_from_zero: bool,
    sinkhorn_epsilon: float,
    sinkhorn_max_iters: int,
    sinkhorn_tol: float,
) -> ModelEvaluation:
    """Compare ``num_sequences`` RNN sequences with fresh HMM samples S1, S2, S3 (§5); runs on the weights' device.

    Parameters
    ----------
    hmm : HMM
    weights : Weights
    num_sequences, eval_seq_len : int
        N_eval and T of every set (config ``evaluation.num_sequences``, ``hmms.<name>.eval_seq_len``).
    rng : np.random.Generator
        Stream for S1, S2, S3 (drawn in that order).
    generator : torch.Generator
        Stream for the RNN (see :func:`generate_sequences`), on the weights' device.
    emit_from_zero : bool
        See :func:`generate_sequences`.
    sinkhorn_epsilon, sinkhorn_max_iters, sinkhorn_tol : float, int, float
        ``epsilon``, ``max_iters`` and ``tol`` of :func:`sinkhorn_alignment` (config ``evaluation``).

    Returns
    -------
    ModelEvaluation
    """
    if hmm.num_outputs != weights.num_outputs:
        raise ValueError(f"the HMM emits {hmm.num_outputs} symbols but the network reads out {weights.num_outputs}")
    num_outputs, device = hmm.num_outputs, weights.W_hh.device
    log.info(
        "evaluation step 1: %d HMM and %d RNN sequences of %d steps", 3 * num_sequences, num_sequences, eval_seq_len
    )
    hmm_sets = [sample_hmm(hmm, num_sequences, eval_seq_len, rng)[1] for _ in range(3)]
    rnn_outputs = generate_sequences(weights, num_sequences, eval_seq_len, generator, emit_from_zero=emit_from_zero)
    settings = {"epsilon": sinkhorn_epsilon, "max_iters": sinkhorn_max_iters, "tol": sinkhorn_tol}
    encoded = [one_hot(outputs, num_outputs, device) for outputs in (*hmm_sets, rnn_outputs)]
    log.info("evaluation step 2: Sinkhorn-aligned distance, RNN vs HMM")
    alignment = sinkhorn_alignment(encoded[0], encoded[3], **settings)
    log.info("evaluation step 3: Sinkhorn-aligned distance, HMM vs HMM (baseline)")
    baseline = sinkhorn_alignment(encoded[1], encoded[2], **settings)
    rnn, reference = emission_stats(rnn_outputs, num_outputs), emission_stats(hmm_sets[0], num_outputs)
    return ModelEvaluation(
        alignment=alignment,
        baseline=baseline,
        rnn=rnn,
        hmm=reference,
        transition_sq_diff=squared_transition_difference(reference.transition_matrix, rnn.transition_matrix),
    )
