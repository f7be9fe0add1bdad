"""The Sinkhorn loss of a network on held-out data and the family's loss floor (HMM against HMM samples)."""

from __future__ import annotations

import numpy as np
import torch

from ..hmm import HMM, sample_hmm
from ..seeds import numpy_rng
from ..sinkhorn import make_sinkhorn_loss
from ..training import one_hot
from .statistics import check_symbols

__all__ = ["family_floor_draws", "sinkhorn_floor", "sinkhorn_loss"]


def sinkhorn_loss(
    x_outputs: np.ndarray,
    y_outputs: np.ndarray,
    num_outputs: int,
    *,
    batch_size: int,
    sinkhorn_blur: float,
    sinkhorn_p: int,
    sinkhorn_scaling: float,
    sinkhorn_backend: str,
    device: str | torch.device = "cpu",
) -> float:
    """The training loss between two symbol sets, batched like the validation pass of training (§3).

    Both sets are cut into consecutive batches of ``batch_size`` (the last may be smaller); each batch pair is
    compared with the Sinkhorn divergence of ``sinkhorn_backend`` (:func:`hmmrnn.sinkhorn.make_sinkhorn_loss`)
    on flattened one-hot sequences and the batch losses are averaged without weights.

    Parameters
    ----------
    x_outputs, y_outputs : (num_sequences, num_timesteps) integer ndarray
        Same shape.
    num_outputs : int
    batch_size : int
    sinkhorn_blur, sinkhorn_p, sinkhorn_scaling, sinkhorn_backend : float, int, float, str
        The training loss settings (config ``training``).
    device : str or torch.device

    Returns
    -------
    float
    """
    x_symbols = check_symbols(x_outputs, num_outputs)
    y_symbols = check_symbols(y_outputs, num_outputs)
    if x_symbols.shape != y_symbols.shape:
        raise ValueError(f"x_outputs and y_outputs must have one shape, found {x_symbols.shape} and {y_symbols.shape}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, found {batch_size}")
    loss_fn = make_sinkhorn_loss(sinkhorn_backend, p=sinkhorn_p, blur=sinkhorn_blur, scaling=sinkhorn_scaling)
    x, y = one_hot(x_symbols, num_outputs, device), one_hot(y_symbols, num_outputs, device)
    losses = []
    with torch.no_grad():
        for start in range(0, x.shape[0], batch_size):
            losses.append(loss_fn(x[start : start + batch_size], y[start : start + batch_size], None).item())
    return float(np.mean(losses))


def sinkhorn_floor(
    hmm: HMM,
    *,
    num_sequences: int,
    batch_size: int,
    num_timesteps: int,
    rng: np.random.Generator,
    sinkhorn_blur: float,
    sinkhorn_p: int,
    sinkhorn_scaling: float,
    sinkhorn_backend: str,
    device: str | torch.device = "cpu",
) -> float:
    """Irreducible training loss of a family: :func:`sinkhorn_loss` between two independent HMM samples (§8.1 a).

    The floor depends on the batch size (it falls by about 10 % per doubling), so use the batch size and the
    number of sequences of the validation pass the loss is compared with.

    Parameters
    ----------
    hmm : HMM
    num_sequences, batch_size, num_timesteps : int
        Size of each sample, batch size, and sequence length.
    rng : np.random.Generator
        Stream for the two samples.
    sinkhorn_blur, sinkhorn_p, sinkhorn_scaling, sinkhorn_backend : float, int, float, str
        The training loss settings (the same backend as training's, so that the floor and the loss agree).
    device : str or torch.device

    Returns
    -------
    float
    """
    first = sample_hmm(hmm, num_sequences, num_timesteps, rng)[1]
    second = sample_hmm(hmm, num_sequences, num_timesteps, rng)[1]
    return sinkhorn_loss(
        first,
        second,
        hmm.num_outputs,
        batch_size=batch_size,
        sinkhorn_blur=sinkhorn_blur,
        sinkhorn_p=sinkhorn_p,
        sinkhorn_scaling=sinkhorn_scaling,
        sinkhorn_backend=sinkhorn_backend,
        device=device,
    )


def family_floor_draws(
    hmm: HMM, name: str, *, seed: int, floor_draws: int, num_sequences: int, num_timesteps: int, **loss
) -> np.ndarray:
    """The ``floor_draws`` draws of :func:`sinkhorn_floor` of family ``name`` that the workflow averages (§8.1 a).

    Draw ``k`` uses the stream ``numpy_rng(seed, "floor", name, k)`` (``seed``: config ``seed``); ``loss`` holds
    the batch size and the training loss settings (config ``training``'s ``study.FLOOR_TRAINING`` keys).

    Returns
    -------
    (floor_draws,) float ndarray
    """
    return np.array(
        [
            sinkhorn_floor(
                hmm,
                num_sequences=num_sequences,
                num_timesteps=num_timesteps,
                rng=numpy_rng(seed, "floor", name, draw),
                **loss,
            )
            for draw in range(floor_draws)
        ]
    )
