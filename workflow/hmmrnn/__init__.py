"""hmmrnn: train noise-driven RNNs to emulate HMMs and reverse-engineer them (arXiv 2510.25674).

The package holds the science; the Snakemake workflow around it only wires files. Names that need torch
are loaded on first use, so that building the workflow's DAG does not import torch.
"""

from importlib import import_module
from typing import Any

from .errors import ConfigError, InputFileError
from .hmm import HMM, build_hmm, sample_hmm

_LAZY = {
    "NoiseRNN": "rnn",
    "gumbel_softmax_hard": "rnn",
    "TrainResult": "training",
    "TrainSettings": "training",
    "train_rnn": "training",
}

__all__ = ["HMM", "ConfigError", "InputFileError", "build_hmm", "sample_hmm", *_LAZY]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
