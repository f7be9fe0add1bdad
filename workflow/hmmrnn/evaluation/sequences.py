"""Output sequences of a trained network, generated from noise for the evaluation (§5)."""

from __future__ import annotations

import numpy as np
import torch

from ..dynamics.simulation import Weights, simulate
from ..rnn import gumbel_softmax_hard

__all__ = ["generate_sequences"]


def generate_sequences(
    weights: Weights,
    num_sequences: int,
    num_timesteps: int,
    generator: torch.Generator,
    *,
    emit_from_zero: bool,
) -> np.ndarray:
    """Sample output sequences from the noise-driven RNN, all sequences at once (§2 ``gen_seq``).

    The recurrence ``h_t = ReLU(W_hh h_{t-1} + W_ih x_t)`` starts from ``h_0 = 0`` with fresh ``x_t ~ N(0, I)``
    at every step; outputs are sampled from ``logits = W_o h`` with the hard Gumbel-max of
    :func:`hmmrnn.rnn.gumbel_softmax_hard` (the temperature does not change the argmax, so none is taken).

    Parameters
    ----------
    weights : Weights
        The network; its device and dtype are used for the whole simulation.
    num_sequences, num_timesteps : int
        n and T of the returned array.
    generator : torch.Generator
        Stream for the input noise (drawn first, one ``(n, d)`` block per step) and then the Gumbel noise.
        Must live on the weights' device.
    emit_from_zero : bool
        ``True``: the authors' generator — the symbol at t = 0 is emitted from ``h_0 = 0`` (zero logits, so it
        is uniform random) and only the T - 1 later symbols are network driven (§9.11). ``False``: symbols are
        emitted from ``h_1 .. h_T``, as in training.

    Returns
    -------
    (num_sequences, num_timesteps) uint8 ndarray of output symbols
    """
    if num_sequences < 1 or num_timesteps < 1:
        raise ValueError(f"need num_sequences >= 1 and num_timesteps >= 1, found ({num_sequences}, {num_timesteps})")
    device, dtype = weights.W_hh.device, weights.W_hh.dtype
    logits = torch.zeros((num_sequences, num_timesteps, weights.num_outputs), dtype=dtype, device=device)
    h = torch.zeros((num_sequences, weights.hidden_size), dtype=dtype, device=device)
    with torch.no_grad():
        for t in range(1 if emit_from_zero else 0, num_timesteps):
            x = torch.randn((num_sequences, weights.input_dim), generator=generator, dtype=dtype, device=device)
            h = simulate(weights, h, x[:, None, :])[:, 0]
            logits[:, t] = h @ weights.W_o.T
        symbols = gumbel_softmax_hard(logits, generator=generator).argmax(dim=-1)
    return symbols.to(torch.uint8).cpu().numpy()
