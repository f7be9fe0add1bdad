"""Simulation of a trained network from its weights: ``h_t = relu(W_hh h_{t-1} + W_ih x_t)``, its outputs, and
the states and weights (per training epoch) that the analyses start from.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import torch

__all__ = ["Weights", "argmax_outputs", "sample_states", "simulate", "to_numpy", "weights_at_epoch"]


@dataclass(frozen=True)
class Weights:
    """The three weight matrices of a :class:`hmmrnn.rnn.NoiseRNN`.

    Parameters
    ----------
    W_ih : (hidden_size, input_dim) tensor
    W_hh : (hidden_size, hidden_size) tensor
    W_o : (num_outputs, hidden_size) tensor
    """

    W_ih: torch.Tensor
    W_hh: torch.Tensor
    W_o: torch.Tensor

    @classmethod
    def from_state_dict(cls, state: Mapping[str, torch.Tensor], dtype: torch.dtype = torch.float64) -> Weights:
        """Weights from a ``NoiseRNN.state_dict()`` (or a checkpoint's ``state_dict``), detached, as ``dtype``."""
        return cls(
            W_ih=state["rnn.weight_ih_l0"].detach().to(dtype),
            W_hh=state["rnn.weight_hh_l0"].detach().to(dtype),
            W_o=state["readout.weight"].detach().to(dtype),
        )

    def to(self, device: str | torch.device) -> Weights:
        """The same weights on ``device``."""
        return Weights(self.W_ih.to(device), self.W_hh.to(device), self.W_o.to(device))

    @property
    def hidden_size(self) -> int:
        return self.W_hh.shape[0]

    @property
    def input_dim(self) -> int:
        return self.W_ih.shape[1]

    @property
    def num_outputs(self) -> int:
        return self.W_o.shape[0]


def simulate(weights: Weights, h0: torch.Tensor, inputs: torch.Tensor) -> torch.Tensor:
    """Iterate ``h_t = ReLU(W_hh h_{t-1} + W_ih x_t)`` for a batch of trajectories.

    Parameters
    ----------
    weights : Weights
    h0 : (batch, hidden_size) tensor
        Initial states.
    inputs : (batch, num_timesteps, input_dim) tensor
        Inputs x_1..x_T (zeros for a noise-free run).

    Returns
    -------
    (batch, num_timesteps, hidden_size) tensor of h_1..h_T
    """
    drive = inputs @ weights.W_ih.T  # all input projections at once
    states = torch.empty(drive.shape, dtype=drive.dtype, device=drive.device)
    h = h0
    for t in range(drive.shape[1]):
        h = torch.relu(h @ weights.W_hh.T + drive[:, t])
        states[:, t] = h
    return states


def argmax_outputs(weights: Weights, hidden: torch.Tensor) -> torch.Tensor:
    """Deterministic outputs ``argmax(W_o h)`` for states of any leading shape (..., hidden_size) -> (...)."""
    return (hidden @ weights.W_o.T).argmax(dim=-1)


def to_numpy(values) -> np.ndarray:
    """A tensor (on any device) or array-like as a NumPy array."""
    return values.detach().cpu().numpy() if isinstance(values, torch.Tensor) else np.asarray(values)


def weights_at_epoch(evolution: Mapping[str, torch.Tensor], epoch: int, dtype: torch.dtype = torch.float64) -> Weights:
    """The weights of one evolution snapshot.

    Parameters
    ----------
    evolution : mapping
        ``"epoch"`` (num_snapshots,) plus stacked state-dict tensors ``"rnn.weight_ih_l0"`` (E, H, d),
        ``"rnn.weight_hh_l0"`` (E, H, H) and ``"readout.weight"`` (E, K, H), as written by training.
    epoch : int
        A training epoch present in ``evolution["epoch"]``.
    dtype : torch.dtype
    """
    epochs = [int(e) for e in evolution["epoch"]]
    if epoch not in epochs:
        raise ValueError(f"epoch {epoch} has no evolution snapshot; available: {epochs}")
    index = epochs.index(epoch)
    return Weights.from_state_dict({key: value[index] for key, value in evolution.items() if key != "epoch"}, dtype)


def sample_states(
    states: np.ndarray | torch.Tensor, num_states: int, rng: np.random.Generator
) -> np.ndarray | torch.Tensor:
    """Rows drawn uniformly without replacement (§6.1: initial states from a noisy run).

    Parameters
    ----------
    states : (num_timesteps, hidden_size) ndarray or tensor
    num_states : int
    rng : numpy.random.Generator

    Returns
    -------
    (num_states, hidden_size) array of the same type as ``states``
    """
    if num_states > states.shape[0]:
        raise ValueError(f"cannot draw {num_states} distinct states from {states.shape[0]}")
    index = np.sort(rng.choice(states.shape[0], size=num_states, replace=False))
    return states[torch.as_tensor(index)] if isinstance(states, torch.Tensor) else states[index]
