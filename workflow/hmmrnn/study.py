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
    "TRAINING_APART",
    "CHECK_EVALUATION_EXCLUDE",
    "CLAIM_MEASUREMENTS",
    "FLOOR_TRAINING",
    "check_analysis_config",
    "check_config",
    "claim_measurements",
    "evolution_every",
    "evolution_families",
    "evolution_models",
    "evolution_group",
    "global_figure_families",
    "family_labels",
    "cuda_present",
    "data_sizes",
    "hmm_matrices",
    "local_group",
    "local_subspaces",
    "key_sorted",
    "loss_curve_models",
    "model_keys",
    "only",
    "output_counts",
    "check_pretrained",
    "pretrained_models",
    "representative_candidates",
    "representative_group",
    "resolve_device",
    "subspace_families",
    "without",
]


class ModelKey(NamedTuple):
    """Identifies one trained network; the fields are the workflow's wildcards and the tables' key columns."""

    hmm: str
    hidden_size: int
    input_dim: int
    seed: int

    @classmethod
    def from_wildcards(cls, wildcards: Mapping[str, str]) -> ModelKey:
        """The key of a job from its (string) wildcards."""
        return cls(wildcards["hmm"], int(wildcards["hidden_size"]), int(wildcards["input_dim"]), int(wildcards["seed"]))


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
    """Every model of the study, in config order: the ``study`` grids, then pre-trained networks not in them."""
    trained = [
        ModelKey(hmm, hidden_size, input_dim, seed)
        for block in config["study"]
        for hmm in block["hmms"]
        for hidden_size in block["hidden_sizes"]
        for input_dim in block["input_dims"]
        for seed in block["seeds"]
    ]
    listed = set(trained)
    return trained + [key for key in pretrained_models(config) if key not in listed]


def pretrained_models(config: Mapping[str, Any]) -> dict[ModelKey, str]:
    """Networks trained elsewhere (config ``pretrained``): model key -> checkpoint path, in config order.

    These models are imported instead of trained; a key that is also in a ``study`` block is the same model.
    """
    return {
        ModelKey(entry["hmm"], entry["hidden_size"], entry["input_dim"], entry["seed"]): entry["path"]
        for entry in config["pretrained"]
    }


def check_pretrained(config: Mapping[str, Any]) -> None:
    """Checks of ``pretrained`` the schema cannot express (the files are checked by ``hmmrnn.pretrained``)."""
    seen: dict[ModelKey, int] = {}
    for index, entry in enumerate(config["pretrained"]):
        if entry["hmm"] not in config["hmms"]:
            raise ConfigError(
                f"pretrained[{index}].hmm: unknown HMM {entry['hmm']!r}; define it under `hmms` or use one of "
                f"{sorted(config['hmms'])}"
            )
        key = ModelKey(entry["hmm"], entry["hidden_size"], entry["input_dim"], entry["seed"])
        if key in seen:
            raise ConfigError(f"pretrained[{index}]: the same model as pretrained[{seen[key]}]; list each once")
        seen[key] = index


def data_sizes(config: Mapping[str, Any]) -> dict[str, int]:
    """Sequence counts per split, in split order."""
    return {key: config["data"][key] for key in ("num_train", "num_val", "num_test")}


def output_counts(config: Mapping[str, Any]) -> dict[str, int]:
    """The number of output symbols K of every HMM family."""
    return {name: build_hmm(name, spec).num_outputs for name, spec in config["hmms"].items()}


def hmm_matrices(config: Mapping[str, Any], hmm: str) -> dict[str, list]:
    """The matrices that define HMM ``hmm`` as nested lists (what the sampling rule depends on)."""
    model = build_hmm(hmm, config["hmms"][hmm])
    return {
        "transition_matrix": model.transition_matrix.tolist(),
        "emission_matrix": model.emission_matrix.tolist(),
        "start_distribution": model.start_distribution.tolist(),
    }


def evolution_every(config: Mapping[str, Any], key: ModelKey) -> int:
    """Epochs between the evolution checkpoints of model ``key``: config ``training.evolution.every`` for the models
    the evolution analysis covers, else 0 (none)."""
    return config["training"]["evolution"]["every"] if key in evolution_models(config) else 0


# keys of config `training` that the rules pass apart from :class:`hmmrnn.training.TrainSettings` (the device; the
# evolution schedule, as a model's evolution_every)
TRAINING_APART = ("device", "evolution")

# the key of config `evaluation` that the convergence check does not read (it draws convergence.num_sequences
# sequences): the rules leave it out, so that a change of it reruns no training job
CHECK_EVALUATION_EXCLUDE = ("num_sequences",)

# the keys of config `training` that the family's Sinkhorn floor reads (:func:`hmmrnn.evaluation.loss.sinkhorn_floor`'s
# names): the validation pass's batching and the training loss
FLOOR_TRAINING = ("batch_size", "sinkhorn_backend", "sinkhorn_blur", "sinkhorn_p", "sinkhorn_scaling")


def without(group: Mapping[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    """Config ``group`` less the keys ``names`` (those a rule passes apart), otherwise unchanged."""
    return {key: value for key, value in group.items() if key not in names}


def only(group: Mapping[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    """The keys ``names`` of config ``group``, in that order (a missing key raises ``KeyError``)."""
    return {name: group[name] for name in names}


def key_sorted(value: Any) -> Any:
    """``value`` with the keys of every mapping in it sorted: the key order of the config file must not look like a
    change of a rule's params (Snakemake compares their ``repr``)."""
    if isinstance(value, Mapping):
        return {name: key_sorted(item) for name, item in sorted(value.items())}
    return value


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
    """Trained models that keep per-epoch weight snapshots (config ``training.evolution``); imported ones have none."""
    evolution = config["training"]["evolution"]
    if evolution["every"] == 0:
        return []
    imported = pretrained_models(config)
    return [
        key
        for key in model_keys(config)
        if key.hidden_size in evolution["hidden_sizes"]
        and key.input_dim in evolution["input_dims"]
        and key not in imported
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


# --------------------------------------------------------------------------------------------------------------
# Global latent dynamics (PAPER_SPEC §6.1-6.7, §8.13): representative models, figure families, analysis settings
# --------------------------------------------------------------------------------------------------------------


def representative_candidates(config: Mapping[str, Any]) -> dict[str, list[int]]:
    """Seeds trained at the representative (hidden_size, input_dim) cell, per family in config order.

    Families without a model at that cell are absent: they get no per-model analysis.
    """
    cell = config["analysis"]["representative"]
    candidates: dict[str, list[int]] = {}
    for key in model_keys(config):
        if (key.hidden_size, key.input_dim) == (cell["hidden_size"], cell["input_dim"]):
            candidates.setdefault(key.hmm, []).append(key.seed)
    return {hmm: sorted(seeds) for hmm, seeds in candidates.items()}


def evolution_families(config: Mapping[str, Any]) -> list[str]:
    """Analysed families whose candidates keep evolution snapshots (the training-evolution analyses need them)."""
    cell = config["analysis"]["representative"]
    with_snapshots = set(evolution_models(config))
    return [
        hmm
        for hmm, seeds in representative_candidates(config).items()
        if all(ModelKey(hmm, cell["hidden_size"], cell["input_dim"], seed) in with_snapshots for seed in seeds)
    ]


def subspace_families(config: Mapping[str, Any]) -> list[str]:
    """Analysed families whose output-pair subspaces are analysed (``analysis.figures.multi_orbit``)."""
    analysed = representative_candidates(config)
    return [hmm for hmm in config["analysis"]["figures"]["multi_orbit"] if hmm in analysed]


def global_figure_families(config: Mapping[str, Any]) -> dict[str, list[str]]:
    """The families each global-dynamics figure shows; a figure with none is not built by default."""
    figures = config["analysis"]["figures"]
    analysed = representative_candidates(config)
    evolving = evolution_families(config)
    two_state = [figures["two_state"]] if figures["two_state"] in analysed else []
    others = [hmm for hmm in evolving if hmm not in two_state]
    return {
        "fig02": two_state,
        "fig03": two_state,
        "fig04": [hmm for hmm in two_state if hmm in evolving],
        "fig12": [hmm for hmm in figures["linear_chains"] if hmm in analysed],
        "fig13": subspace_families(config),
        "fig14": others,
        "fig15": others,
    }


def check_analysis_config(config: Mapping[str, Any]) -> None:
    """Semantic checks of ``analysis`` the schema cannot express; raise :class:`ConfigError` naming the key."""
    hmms = config["hmms"]
    analysis = config["analysis"]
    cell = analysis["representative"]
    candidates = representative_candidates(config)
    if not candidates:
        trained = sorted({(key.hidden_size, key.input_dim) for key in model_keys(config)})
        cells = ", ".join(f"{{hidden_size: {h}, input_dim: {d}}}" for h, d in trained)
        raise ConfigError(
            f"analysis.representative: no study block trains hidden_size={cell['hidden_size']} with "
            f"input_dim={cell['input_dim']}, so no family would get its per-model analyses and figures; set "
            f"analysis.representative to a trained cell ({cells}) or add that cell to a `study` block"
        )
    for hmm, seed in analysis["representative"]["seeds"].items():
        if seed not in candidates.get(hmm, []):
            raise ConfigError(
                f"analysis.representative.seeds.{hmm}: no model {hmm} with hidden_size={cell['hidden_size']}, "
                f"input_dim={cell['input_dim']}, seed={seed} in `study`; trained seeds there: {candidates.get(hmm, [])}"
            )
    figures = analysis["figures"]
    named = {
        "analysis.figures.two_state": [figures["two_state"]],
        "analysis.figures.linear_chains": figures["linear_chains"],
        "analysis.figures.multi_orbit": figures["multi_orbit"],
        "analysis.evolution.max_epochs": list(analysis["evolution"]["max_epochs"]),
    }
    for where, names in named.items():
        unknown = [name for name in names if name not in hmms]
        if unknown:
            raise ConfigError(f"{where}: unknown HMM {unknown}; use names defined under `hmms` ({sorted(hmms)})")
    subspaces = analysis["subspaces"]
    if any(a == b for a, b in subspaces["pairs"]):
        raise ConfigError(f"analysis.subspaces.pairs: a pair needs two different outputs; found {subspaces['pairs']}")
    if max(subspaces["shown_components"]) > subspaces["pair_components"]:
        raise ConfigError(
            f"analysis.subspaces.shown_components {subspaces['shown_components']} exceed pair_components "
            f"({subspaces['pair_components']})"
        )
    if subspaces["pair_components"] > subspaces["global_components"]:
        raise ConfigError("analysis.subspaces.pair_components must not exceed global_components")
    contours = analysis["contours"]
    low, high = contours["fill_levels"]
    if not low < contours["line_level"] < high:
        raise ConfigError(
            f"analysis.contours: need fill_levels[0] < line_level < fill_levels[1]; found {low}, "
            f"{contours['line_level']}, {high}"
        )
    first, last = analysis["claims"]["orbit"]["norm_window"]
    if first >= last:
        raise ConfigError(f"analysis.claims.orbit.norm_window: need first < last; found [{first}, {last}]")


def representative_group(config: Mapping[str, Any], hmm: str) -> dict[str, Any]:
    """Config ``analysis.representative`` with ``seeds`` cut to family ``hmm``'s entry (keys sorted): another
    family's chosen seed is no change of this family's selection."""
    cell = config["analysis"]["representative"]
    return key_sorted({**cell, "seeds": {name: seed for name, seed in cell["seeds"].items() if name == hmm}})


def evolution_group(config: Mapping[str, Any], hmm: str) -> dict[str, Any]:
    """Config ``analysis.evolution`` with ``max_epochs`` cut to family ``hmm``'s entry (keys sorted): another
    family's last epoch is no change of this family's analysis."""
    evolution = config["analysis"]["evolution"]
    max_epochs = {name: epoch for name, epoch in evolution["max_epochs"].items() if name == hmm}
    return key_sorted({**evolution, "max_epochs": max_epochs})


# The settings of config ``analysis.claims`` that shape what an analysis measures (a window, the noise levels of a
# scaling test, which pairs or components are checked), not how a statistic is judged. The analyses take only these;
# every other key is a threshold, read by the check_claims rules alone.
CLAIM_MEASUREMENTS = {
    "orbit": ("norm_window",),
    "pair_orbits": ("min_occupancy",),
    "transition": ("after_epochs",),
    "second_order": ("noise_stds",),
    "double_descent": ("window_strides", "smoothing"),
    "kick_profile": ("top_components",),
    "oscillation": ("min_burst_ratio",),
}


def claim_measurements(config: Mapping[str, Any]) -> dict[str, Any]:
    """The measurement settings of config ``analysis.claims`` (:data:`CLAIM_MEASUREMENTS`), grouped as there."""
    claims = config["analysis"]["claims"]
    return {group: {name: claims[group][name] for name in names} for group, names in CLAIM_MEASUREMENTS.items()}


def local_group(config: Mapping[str, Any], hmm: str) -> dict[str, Any]:
    """Config ``analysis.local`` for family ``hmm`` (keys sorted); only the multi-orbit families
    (:func:`subspace_families`) keep ``subspace_residency``, the others get None, so a change there reruns only
    their analyses."""
    local = config["analysis"]["local"]
    subspace_residency = local["subspace_residency"] if hmm in subspace_families(config) else None
    return key_sorted({**local, "subspace_residency": subspace_residency})


def local_subspaces(config: Mapping[str, Any], hmm: str) -> dict[str, Any] | None:
    """Config ``analysis.subspaces`` (keys sorted) for a multi-orbit family's local analysis, else None."""
    return key_sorted(config["analysis"]["subspaces"]) if hmm in subspace_families(config) else None


def local_figure_families(config: Mapping[str, Any]) -> dict[str, list[str]]:
    """The families each local-dynamics figure shows (Figs 5-8, 17-25); a figure with none is not built by default."""
    figures = config["analysis"]["figures"]
    analysed = representative_candidates(config)
    two_state = [figures["two_state"]] if figures["two_state"] in analysed else []
    chains = [hmm for hmm in figures["linear_chains"] if hmm in analysed]
    other_chains = [hmm for hmm in chains if hmm not in two_state]
    multi_orbit = subspace_families(config)
    return {
        "fig05": two_state,
        "fig06": two_state,
        "fig07": two_state,
        "fig08": two_state,
        "fig17": other_chains,
        "fig18": multi_orbit,
        "fig19": multi_orbit,
        "fig20": other_chains,
        "fig21": chains,
        "fig22": two_state,
        "fig23": other_chains,
        "fig24": multi_orbit,
        "fig25": chains,
    }
