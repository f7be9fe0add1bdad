"""The noise-driven vanilla ReLU RNN of PAPER_SPEC §2 with a hard Gumbel-softmax output head."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

__all__ = ["NoiseRNN", "gumbel_softmax_hard", "rnn_from_checkpoint"]


class NoiseRNN(nn.Module):
    """Bias-free Elman RNN: ``h_t = ReLU(W_ih x_t + W_hh h_{t-1})``, ``logits_t = W_o h_t``, ``h_0 = 0``.

    Parameters
    ----------
    input_dim, hidden_size, num_outputs : int
        d, H and the number of output symbols K.
    generator : torch.Generator, optional
        Stream for the initial weights, all drawn from U(-1/sqrt(H), 1/sqrt(H)) (PyTorch's defaults).
    """

    def __init__(
        self, input_dim: int, hidden_size: int, num_outputs: int = 3, generator: torch.Generator | None = None
    ) -> None:
        super().__init__()
        self.rnn = nn.RNN(input_dim, hidden_size, nonlinearity="relu", bias=False, batch_first=True)
        self.readout = nn.Linear(hidden_size, num_outputs, bias=False)
        bound = hidden_size**-0.5
        with torch.no_grad():
            for weight in (self.rnn.weight_ih_l0, self.rnn.weight_hh_l0, self.readout.weight):
                weight.uniform_(-bound, bound, generator=generator)

    @property
    def hidden_size(self) -> int:
        return self.rnn.hidden_size

    @property
    def input_dim(self) -> int:
        return self.rnn.input_size

    @property
    def num_outputs(self) -> int:
        return self.readout.out_features

    def forward(self, inputs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Run the recurrence from ``h_0 = 0``.

        Parameters
        ----------
        inputs : (batch, num_timesteps, input_dim) tensor

        Returns
        -------
        hidden : (batch, num_timesteps, hidden_size) tensor of h_1..h_T
        logits : (batch, num_timesteps, num_outputs) tensor
        """
        hidden, _ = self.rnn(inputs)
        return hidden, self.readout(hidden)

    def sample(self, inputs: torch.Tensor, generator: torch.Generator | None = None, tau: float = 1.0) -> torch.Tensor:
        """One-hot outputs ``(batch, num_timesteps, num_outputs)`` via the straight-through hard Gumbel-softmax."""
        _, logits = self(inputs)
        return gumbel_softmax_hard(logits, tau=tau, generator=generator)

    def weights(self) -> dict[str, torch.Tensor]:
        """The three weight matrices under their paper names: ``W_ih (H, d)``, ``W_hh (H, H)``, ``W_o (K, H)``."""
        return {"W_ih": self.rnn.weight_ih_l0, "W_hh": self.rnn.weight_hh_l0, "W_o": self.readout.weight}


def gumbel_softmax_hard(
    logits: torch.Tensor, tau: float = 1.0, generator: torch.Generator | None = None
) -> torch.Tensor:
    """Straight-through hard Gumbel-softmax: exact one-hot forward, softmax gradient backward.

    ``g = -log(E)``, ``E ~ Exp(1)``; ``y_soft = softmax((logits + g) / tau)``; returns
    ``one_hot(argmax y_soft) - stopgrad(y_soft) + y_soft``.
    """
    exponential = torch.empty_like(logits).exponential_(generator=generator)
    y_soft = torch.softmax((logits - exponential.log()) / tau, dim=-1)
    index = y_soft.argmax(dim=-1, keepdim=True)
    y_hard = torch.zeros_like(y_soft).scatter_(-1, index, 1.0)
    return y_hard - y_soft.detach() + y_soft


def rnn_from_checkpoint(payload: dict[str, Any]) -> NoiseRNN:
    """Rebuild a :class:`NoiseRNN` from a checkpoint dict with ``state_dict`` and its sizes."""
    model = NoiseRNN(int(payload["input_dim"]), int(payload["hidden_size"]), int(payload["num_outputs"]))
    model.load_state_dict(payload["state_dict"])
    return model
