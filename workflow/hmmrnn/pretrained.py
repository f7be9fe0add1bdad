"""Networks trained elsewhere (config ``pretrained``): read, checked against their model key, judged like ours.

Two checkpoint formats are read, told apart by their keys:

- ``hmmrnn``: this workflow's ``final.pt`` / ``best.pt`` (a dict with ``state_dict`` and the sizes ``input_dim``,
  ``hidden_size``, ``num_outputs``), or a bare :meth:`hmmrnn.rnn.NoiseRNN.state_dict`;
- ``nn.RNN``: the authors' format, ``torch.save`` of the state dict of a module with ``rnn = nn.RNN(d, H,
  nonlinearity="relu", batch_first=True)`` and ``fc = nn.Linear(H, K)``: keys ``rnn.weight_ih_l0`` (H, d),
  ``rnn.weight_hh_l0`` (H, H) and ``fc.weight`` (K, H), and ``rnn.bias_ih_l0``, ``rnn.bias_hh_l0``, ``fc.bias``
  where the module had biases. :class:`hmmrnn.rnn.NoiseRNN` has none, so biases must be zero.

Torch is imported on first use: ``common.smk`` imports this module to check the files before any job runs.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

from .errors import InputFileError

if TYPE_CHECKING:
    import numpy as np
    import torch

    from .convergence import ConvergencePolicy, ConvergenceRecord
    from .hmm import HMM
    from .training import TrainSettings

__all__ = [
    "CHECKPOINT_FORMATS",
    "PretrainedAssessment",
    "assess_pretrained",
    "check_pretrained_files",
    "checkpoint_format",
    "empty_evolution",
    "load_pretrained",
    "pretrained_state",
]

CHECKPOINT_FORMATS = ("hmmrnn", "nn.RNN")

# NoiseRNN state-dict key -> the authors' key
_AUTHORS_WEIGHTS = {
    "rnn.weight_ih_l0": "rnn.weight_ih_l0",
    "rnn.weight_hh_l0": "rnn.weight_hh_l0",
    "readout.weight": "fc.weight",
}
_AUTHORS_BIASES = ("rnn.bias_ih_l0", "rnn.bias_hh_l0", "fc.bias")
_SIZES = ("input_dim", "hidden_size", "num_outputs")


def checkpoint_format(payload: Any) -> str:
    """``"hmmrnn"`` or ``"nn.RNN"`` (see the module docstring), from the keys of a loaded checkpoint.

    Raises
    ------
    ValueError
        Where the payload is neither, naming the keys it found.
    """
    keys = sorted(map(str, payload)) if isinstance(payload, Mapping) else []
    if "state_dict" in keys or "readout.weight" in keys:
        return "hmmrnn"
    if "fc.weight" in keys:
        return "nn.RNN"
    found = f"keys {keys[:8]}{' ...' if len(keys) > 8 else ''}" if keys else f"a {type(payload).__name__}"
    raise ValueError(
        f"unknown checkpoint format: found {found}; expected this workflow's checkpoint (state_dict with "
        f"{sorted(_AUTHORS_WEIGHTS)}) or an nn.RNN + nn.Linear state dict ({sorted(_AUTHORS_WEIGHTS.values())})"
    )


def pretrained_state(
    payload: Mapping[str, Any], *, hidden_size: int, input_dim: int, num_outputs: int
) -> dict[str, torch.Tensor]:
    """The :class:`hmmrnn.rnn.NoiseRNN` state dict (float32, CPU) of a loaded checkpoint of either format.

    Parameters
    ----------
    payload : mapping
        What ``torch.load`` returned.
    hidden_size, input_dim : int
        H and d of the model key the checkpoint is listed under.
    num_outputs : int
        K, the number of output symbols of the key's HMM.

    Raises
    ------
    ValueError
        For an unknown format, unexpected or missing keys, non-zero biases, non-finite weights, or a shape that
        does not match (H, d, K); the message names the key and the expected and found shapes.
    """
    import torch

    if checkpoint_format(payload) == "hmmrnn":
        sizes = {name: payload[name] for name in _SIZES if name in payload}
        expected = {"input_dim": input_dim, "hidden_size": hidden_size, "num_outputs": num_outputs}
        wrong = {name: value for name, value in sizes.items() if int(value) != expected[name]}
        if wrong:
            raise ValueError(f"checkpoint declares {wrong}; the model key and its HMM need {expected}")
        state = payload.get("state_dict", payload)
        names = dict(zip(_AUTHORS_WEIGHTS, _AUTHORS_WEIGHTS, strict=True))
        allowed = set(names)
    else:
        state, names = payload, _AUTHORS_WEIGHTS
        allowed = set(_AUTHORS_WEIGHTS.values()) | set(_AUTHORS_BIASES)
    if not isinstance(state, Mapping):
        raise ValueError(f"state_dict is a {type(state).__name__}, not a mapping of tensors")
    unexpected = sorted(set(map(str, state)) - allowed)
    if unexpected:
        raise ValueError(
            f"unexpected keys {unexpected}: the analyses need a single-layer ReLU RNN with a linear readout "
            f"({sorted(allowed)})"
        )
    missing = sorted(key for key in names.values() if key not in state)
    if missing:
        raise ValueError(f"missing weights {missing}")
    biased = [key for key in _AUTHORS_BIASES if key in state and bool(torch.as_tensor(state[key]).any())]
    if biased:
        raise ValueError(
            f"non-zero biases {biased}: this workflow's RNN is bias-free (h_t = ReLU(W_ih x_t + W_hh h_(t-1)), "
            "logits = W_o h_t), so its analyses would not describe this network"
        )
    shapes = {
        "rnn.weight_ih_l0": (hidden_size, input_dim),
        "rnn.weight_hh_l0": (hidden_size, hidden_size),
        "readout.weight": (num_outputs, hidden_size),
    }
    converted = {}
    for ours, theirs in names.items():
        weight = torch.as_tensor(state[theirs]).detach().to("cpu", torch.float32).contiguous()
        if tuple(weight.shape) != shapes[ours]:
            raise ValueError(
                f"{theirs} has shape {tuple(weight.shape)}; hidden_size={hidden_size}, input_dim={input_dim} and "
                f"{num_outputs} outputs need {shapes[ours]}"
            )
        if not bool(torch.isfinite(weight).all()):
            raise ValueError(f"{theirs} has non-finite entries")
        converted[ours] = weight
    return converted


def load_pretrained(
    path: str | os.PathLike, *, hidden_size: int, input_dim: int, num_outputs: int
) -> dict[str, torch.Tensor]:
    """:func:`pretrained_state` of the checkpoint file ``path``.

    Raises
    ------
    InputFileError
        Naming the file, where it is missing, unreadable, of an unknown format or of the wrong shape.
    """
    import torch

    if not os.path.isfile(path):
        raise InputFileError(f"{path}: checkpoint not found (paths are relative to the working directory)")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # torch raises many types for foreign or truncated files
        raise InputFileError(f"{path}: not a readable torch checkpoint ({type(err).__name__}: {err})") from None
    try:
        return pretrained_state(payload, hidden_size=hidden_size, input_dim=input_dim, num_outputs=num_outputs)
    except ValueError as err:
        raise InputFileError(f"{path}: {err}") from None


def check_pretrained_files(models: Mapping[Any, str], num_outputs: Mapping[str, int]) -> None:
    """Read every listed checkpoint as :func:`load_pretrained` does, before any job runs.

    Parameters
    ----------
    models : mapping
        :class:`hmmrnn.study.ModelKey` -> checkpoint path (:func:`hmmrnn.study.pretrained_models`).
    num_outputs : mapping
        K of every HMM family.

    Raises
    ------
    InputFileError
        Naming the model key and the file.
    """
    for key, path in models.items():
        try:
            load_pretrained(
                path, hidden_size=key.hidden_size, input_dim=key.input_dim, num_outputs=num_outputs[key.hmm]
            )
        except InputFileError as err:
            raise InputFileError(
                f"pretrained model hmm={key.hmm}, hidden_size={key.hidden_size}, input_dim={key.input_dim}, "
                f"seed={key.seed}: {err}"
            ) from None


def empty_evolution(state: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """An ``evolution.pt`` payload without snapshots: ``epoch`` (0,) and every weight stacked as (0, ...)."""
    import torch

    return {
        "epoch": torch.zeros(0, dtype=torch.int64),
        **{key: torch.empty((0, *value.shape), dtype=value.dtype) for key, value in state.items()},
    }


class PretrainedAssessment(NamedTuple):
    """The Sinkhorn losses of an imported network on this workflow's data and its convergence record."""

    train_loss: float
    val_loss: float
    record: ConvergenceRecord


def assess_pretrained(
    state: Mapping[str, torch.Tensor],
    train_outputs: np.ndarray,
    val_outputs: np.ndarray,
    hmm: HMM,
    *,
    settings: TrainSettings,
    policy: ConvergencePolicy,
    eval_seq_len: int,
    evaluation: Mapping[str, Any],
    loss_floor: float,
    seed: int,
    device: str = "cpu",
) -> PretrainedAssessment:
    """Judge an imported network as training judges its kept run: losses, then the convergence policy.

    The losses are the training loss (``settings``' Sinkhorn divergence, batched like training's validation pass)
    between the network's sampled sequences and the train and validation splits; no weight changes. The
    validation loss and the family's floor then enter :func:`hmmrnn.convergence.check_convergence`.

    Parameters
    ----------
    state : mapping
        The :class:`hmmrnn.rnn.NoiseRNN` state dict (:func:`load_pretrained`).
    train_outputs, val_outputs : (n, T) uint8 ndarray
    hmm : HMM
    settings : TrainSettings
    policy : ConvergencePolicy
    eval_seq_len : int
    evaluation : mapping
        The family's evaluation sequence length and config ``evaluation`` less ``num_sequences``, as for
        :func:`hmmrnn.convergence.check_convergence`.
    loss_floor : float
    seed : int
        The model key's seed: seeds every draw (stream ``"pretrained"``).
    device : str

    Returns
    -------
    PretrainedAssessment
    """
    import torch

    from .convergence import check_convergence
    from .dynamics.simulation import Weights
    from .evaluation.loss import sinkhorn_loss
    from .evaluation.sequences import generate_sequences
    from .seeds import torch_generator

    weights = Weights.from_state_dict(state, dtype=torch.float32).to(device)
    losses = {}
    for split, outputs in (("train", train_outputs), ("val", val_outputs)):
        samples = generate_sequences(
            weights,
            outputs.shape[0],
            outputs.shape[1],
            torch_generator(seed, "pretrained", split, device=device),
            emit_from_zero=False,
        )
        losses[split] = sinkhorn_loss(
            samples,
            outputs,
            hmm.num_outputs,
            batch_size=settings.batch_size,
            sinkhorn_blur=settings.sinkhorn_blur,
            sinkhorn_p=settings.sinkhorn_p,
            sinkhorn_scaling=settings.sinkhorn_scaling,
            sinkhorn_backend=settings.sinkhorn_backend,
            device=device,
        )
    record = check_convergence(
        hmm,
        weights,
        val_loss=losses["val"],
        loss_floor=loss_floor,
        policy=policy,
        eval_seq_len=eval_seq_len,
        evaluation=evaluation,
        seed=seed,
        tag="pretrained",
    )
    return PretrainedAssessment(losses["train"], losses["val"], record)
