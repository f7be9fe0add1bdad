"""The study described by a validated config: which models exist and the settings each rule receives.

Snakemake's ``common.smk`` calls these functions so that every derived list is computed in one place.
This module imports no torch, so building the DAG stays fast.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NamedTuple

from .errors import ConfigError
from .hmm import build_hmm

__all__ = [
    "ModelKey",
    "check_config",
    "convergence_params",
    "evaluation_params",
    "evolution_models",
    "family_labels",
    "floor_params",
    "cuda_present",
    "data_sizes",
    "hmm_matrices",
    "loss_curve_models",
    "model_keys",
    "resolve_device",
    "train_settings",
]

_HMM_TRAINING_KEYS = ("epochs", "grad_clip")


class ModelKey(NamedTuple):
    """Identifies one trained network; the fields are the workflow's wildcards and the tables' key columns."""

    hmm: str
    hidden_size: int
    input_dim: int
    seed: int


def check_config(config: Mapping[str, Any]) -> None:
    """Semantic checks the JSON schema cannot express; raise :class:`ConfigError` naming the key and the fix."""
    hmms = config["hmms"]
    for name, spec in hmms.items():
        build_hmm(name, spec)
    for index, block in enumerate(config["study"]):
        unknown = [name for name in block["hmms"] if name not in hmms]
        if unknown:
            raise ConfigError(
                f"study[{index}].hmms: unknown HMM {unknown}; define it under `hmms` or use one of {sorted(hmms)}"
            )
    if config["training"]["batch_size"] > config["data"]["num_train"]:
        raise ConfigError(
            f"training.batch_size ({config['training']['batch_size']}) exceeds data.num_train "
            f"({config['data']['num_train']}); lower the batch size or sample more sequences"
        )
    keys = model_keys(config)
    if len(set(keys)) != len(keys):
        raise ConfigError("study: the same (hmm, hidden_size, input_dim, seed) appears in two blocks; list each once")


def model_keys(config: Mapping[str, Any]) -> list[ModelKey]:
    """Every model of the study, in config order."""
    return [
        ModelKey(hmm, hidden_size, input_dim, seed)
        for block in config["study"]
        for hmm in block["hmms"]
        for hidden_size in block["hidden_sizes"]
        for input_dim in block["input_dims"]
        for seed in block["seeds"]
    ]


def data_sizes(config: Mapping[str, Any]) -> dict[str, int]:
    """Sequence counts per split, in split order."""
    return {key: config["data"][key] for key in ("num_train", "num_val", "num_test")}


def hmm_matrices(config: Mapping[str, Any], hmm: str) -> dict[str, list]:
    """The matrices that define HMM ``hmm`` as nested lists (what the sampling rule depends on)."""
    model = build_hmm(hmm, config["hmms"][hmm])
    return {
        "transition_matrix": model.transition_matrix.tolist(),
        "emission_matrix": model.emission_matrix.tolist(),
        "start_distribution": model.start_distribution.tolist(),
    }


def train_settings(config: Mapping[str, Any], key: ModelKey) -> dict[str, Any]:
    """Keyword arguments of :class:`hmmrnn.training.TrainSettings` for model ``key``."""
    training = dict(config["training"])
    evolution = training.pop("evolution")
    training.pop("device")
    family = config["hmms"][key.hmm]
    settings = {
        **training,
        **{name: family[name] for name in _HMM_TRAINING_KEYS},
        "adam_betas": list(training["adam_betas"]),
        "evolution_every": evolution["every"] if key in evolution_models(config) else 0,
    }
    return dict(sorted(settings.items()))  # key order of the config file must not look like a change


def convergence_params(config: Mapping[str, Any], hmm: str) -> dict[str, Any]:
    """Flat settings of :class:`hmmrnn.convergence.ConvergencePolicy` for family ``hmm`` (what training uses)."""
    convergence = dict(config["convergence"])
    convergence.pop("floor_draws")
    evaluation = config["evaluation"]
    params = {
        **convergence,
        "num_timesteps": config["hmms"][hmm]["eval_seq_len"],
        "emit_from_zero": evaluation["emit_from_zero"],
        **{key: evaluation[key] for key in ("sinkhorn_epsilon", "sinkhorn_max_iters", "sinkhorn_tol")},
    }
    return dict(sorted(params.items()))  # key order of the config file must not look like a change


def floor_params(config: Mapping[str, Any], hmm: str) -> dict[str, Any]:
    """Settings of the family's Sinkhorn floor: the validation pass's batching and the training loss."""
    training = config["training"]
    return {
        "num_sequences": config["data"]["num_val"],
        "batch_size": training["batch_size"],
        "num_timesteps": config["hmms"][hmm]["seq_len"],
        "num_draws": config["convergence"]["floor_draws"],
        **{key: training[key] for key in ("sinkhorn_blur", "sinkhorn_p", "sinkhorn_scaling")},
    }


def evaluation_params(config: Mapping[str, Any], hmm: str) -> dict[str, Any]:
    """Settings of :func:`hmmrnn.metrics.evaluate_model` for family ``hmm``."""
    evaluation = config["evaluation"]
    return {
        "num_sequences": evaluation["num_sequences"],
        "num_timesteps": config["hmms"][hmm]["eval_seq_len"],
        "emit_from_zero": evaluation["emit_from_zero"],
        "epsilon": evaluation["sinkhorn_epsilon"],
        "max_iters": evaluation["sinkhorn_max_iters"],
        "tol": evaluation["sinkhorn_tol"],
    }


def family_labels(config: Mapping[str, Any]) -> dict[str, str]:
    """Display titles of the HMM families, e.g. ``{"linear2": "linear chain, M=2"}``."""
    titles = {"linear_chain": "linear chain", "fully_connected": "fully connected", "cyclic": "cyclic"}
    labels = {}
    for name, spec in config["hmms"].items():
        num_states = build_hmm(name, spec).num_states
        labels[name] = (
            f"{titles[spec['kind']]}, M={num_states}" if spec["kind"] in titles else f"{name}, M={num_states}"
        )
    return labels


def evolution_models(config: Mapping[str, Any]) -> list[ModelKey]:
    """Models that keep per-epoch weight snapshots (config ``training.evolution``)."""
    evolution = config["training"]["evolution"]
    if evolution["every"] == 0:
        return []
    return [
        key
        for key in model_keys(config)
        if key.hidden_size in evolution["hidden_sizes"] and key.input_dim in evolution["input_dims"]
    ]


def loss_curve_models(config: Mapping[str, Any]) -> list[ModelKey]:
    """Models whose loss curves Fig 16 shows: those with evolution snapshots, or every model if there are none."""
    return evolution_models(config) or model_keys(config)


def cuda_present() -> bool:
    """Whether this machine has an NVIDIA GPU driver (cheap: no torch import)."""
    return Path("/dev/nvidiactl").exists() or shutil.which("nvidia-smi") is not None


def resolve_device(device: str) -> str:
    """``auto`` becomes ``cuda`` where :func:`cuda_present`, else ``cpu``; other values pass through."""
    if device == "auto":
        return "cuda" if cuda_present() else "cpu"
    if device not in ("cpu", "cuda"):
        raise ConfigError(f"training.device: unknown device {device!r}; use auto, cpu or cuda")
    return device
