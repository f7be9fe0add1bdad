"""Local dynamics and the single-neuron mechanism of a family's representative (§6.8-6.14), step by step."""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
import torch

from ..claims.checks import Check, statistic_rows
from ..dynamics.pca import PCABasis, pca_basis, project
from ..dynamics.simulation import Weights, argmax_outputs, to_numpy
from ..seeds import torch_generator
from ..study import ModelKey
from ..tables import (
    INITIAL_CONDITIONS,
    INTERVENTION_SCHEMA,
    INTERVENTIONS,
    KICK_SCHEMA,
    NOISE_SENSITIVITY_SCHEMA,
    POPULATION_SCHEMA,
    ZONES,
    ZONES_SCHEMA,
)
from .activities import mean_activities, oscillation_statistics
from .interventions import control_mask, intervene, kick_mask, noise_projection_mask
from .kick_neurons import KickNeurons, SilencingEffect, component_ranks, discover_kick_neurons, silencing_effect
from .locate import LocatedAreas, LocateError, locate_cluster_and_transition
from .noise_sensitivity import dispersion, noise_sensitivity
from .populations import IntegratingPopulations, circuit_statistics, integrating_populations, ordered_weight_blocks
from .residency import ResidencyZones, residency_times, residency_zones, zone_means
from .rows import ratio, with_key
from .runs import DTYPE, bounded_prefix, contiguous_runs, noise_window, noisy_run, random_initial_state
from .settings import (
    ActivitySettings,
    EigenSettings,
    InterventionSettings,
    LocalSettings,
    NoiseSensitivitySettings,
    SubspaceSettings,
)

__all__ = ["LOCAL_CLAIMS", "LocalAnalysis", "NetworkDiverges", "analyze_local", "mu_grid"]

log = logging.getLogger(__name__)


def mu_grid(settings: InterventionSettings) -> np.ndarray:
    """μ = 0, step, …, mu_max plus the shown values (sorted, deduplicated at 1e-9)."""
    grid = np.arange(0.0, settings.mu_max + settings.mu_step / 2, settings.mu_step)
    values = np.concatenate([grid, np.asarray(settings.shown_mus, dtype=float)])
    return np.unique(np.round(values, 9))


def _reduction(before: float, after: float) -> float:
    """Relative drop ``1 - after/before`` (NaN without a baseline)."""
    return 1 - after / before if before > 0 else math.nan


def _codes(labels: np.ndarray) -> np.ndarray:
    """Index of each zone label in :data:`ZONES`."""
    lookup = {zone: code for code, zone in enumerate(ZONES)}
    unique, inverse = np.unique(np.asarray(labels), return_inverse=True)
    return np.array([lookup[str(zone)] for zone in unique], dtype=np.int64)[inverse].reshape(-1)


def _zone_rows(zones, space: str, step_means: Mapping[str, float] | None = None) -> list[dict[str, Any]]:
    return [
        {
            "space": space,
            "zone": summary.zone,
            "count": summary.count,
            "mean_residency_time": summary.mean_residency_time,
            "mean_sign_changes": summary.mean_sign_changes,
            "mean_unstable_directions": summary.mean_unstable_directions,
            "mean_step_size": float(step_means[summary.zone]) if step_means is not None else math.nan,
        }
        for summary in zones.summary
    ]


class LocalAnalysis(NamedTuple):
    """Results of :func:`analyze_local`: tables of :mod:`hmmrnn.tables` and the plotting arrays of ``local.npz``.

    The arrays are listed in the data contract of the local figures (:mod:`hmmrnn.plotting.local`);
    ``statistics`` (``CLAIM_STATISTICS_SCHEMA``) holds the checks of claims 5, 8 (kick part) and 9-14, judged by the
    claim rules.
    """

    zones: pd.DataFrame
    noise_sensitivity: pd.DataFrame
    kick_neurons: pd.DataFrame
    populations: pd.DataFrame
    interventions: pd.DataFrame
    statistics: pd.DataFrame
    arrays: dict[str, np.ndarray]


class NetworkDiverges(ValueError):
    """A noisy run of the analysed network leaves every bounded region (a state norm exceeds ``max_state_norm``)."""

    def __init__(self, bounded_fraction: float, detail: str) -> None:
        super().__init__(f"the noisy run diverges after {detail}")
        self.bounded_fraction = bounded_fraction


LOCAL_CLAIMS = (5, 9, 10, 11, 12, 13, 14)


def _recorded_run(
    weights: Weights,
    num_steps: int,
    warmup_steps: int,
    s: LocalSettings,
    max_state_norm: float,
    generator: torch.Generator,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Noisy run from h = 0: states h_1..h_T (T, H) after warm-up and their pre-activations z_t (T, H)."""
    start = torch.zeros(weights.hidden_size, dtype=DTYPE, device=weights.W_hh.device)
    states, inputs = noisy_run(
        weights, start, num_steps=num_steps, warmup_steps=warmup_steps, noise_std=s.noise_std, generator=generator
    )
    bounded = bounded_prefix(states, max_state_norm).shape[0]
    if bounded < states.shape[0]:
        raise NetworkDiverges(bounded / states.shape[0], f"{bounded} of {states.shape[0]} steps")
    return states[1:], states[:-1] @ weights.W_hh.T + inputs @ weights.W_ih.T


def _long_run_states(outputs: np.ndarray, pair: Sequence[int], min_run_length: int) -> np.ndarray:
    """Indices of the states inside contiguous runs longer than ``min_run_length`` whose outputs lie in ``pair``."""
    starts, lengths = contiguous_runs(np.isin(outputs, pair))
    keep = lengths > min_run_length
    edges = np.zeros(outputs.size + 1, dtype=np.int64)
    np.add.at(edges, starts[keep], 1)
    np.add.at(edges, starts[keep] + lengths[keep], -1)
    return np.flatnonzero(np.cumsum(edges)[:-1] > 0)


def _subspace_residency(
    weights: Weights, s: LocalSettings, subspaces: SubspaceSettings, max_state_norm: float, generator
) -> tuple[list[dict[str, Any]], dict[str, np.ndarray]]:
    """Residency statistics of the states of each output pair's long runs, in that pair's PCA (§6.8 subspaces):
    the run of ``s.subspace_residency``, the pairs and components of ``subspaces`` (config ``analysis.subspaces``)."""
    run, r = s.subspace_residency, s.residency
    states, _ = _recorded_run(weights, run.steps, r.warmup_steps, s, max_state_norm, generator("subspace_run"))
    outputs = to_numpy(argmax_outputs(weights, states))
    global_basis = pca_basis(states, min(subspaces.global_components, weights.hidden_size))
    coordinates = project(global_basis, to_numpy(states))
    shown = np.asarray(subspaces.shown_components, dtype=np.int64)
    arrays = {
        "subspace_pairs": np.asarray(subspaces.pairs, dtype=np.int64).reshape(-1, 2),
        "subspace_shown_components": shown,
    }
    rows = []
    for p, (a, b) in enumerate(subspaces.pairs):  # loop over the (few) output pairs only
        index = _long_run_states(outputs, (a, b), subspaces.min_run_length)
        if index.size > run.max_states:
            index = index[np.unique(np.linspace(0, index.size - 1, run.max_states).round().astype(np.int64))]
        if index.size > subspaces.pair_components:
            pair_basis = pca_basis(coordinates[index], subspaces.pair_components)
            plane = project(pair_basis, coordinates[index])[:, shown - 1]
            residency = residency_times(
                weights,
                states[torch.as_tensor(index, device=states.device)],
                num_rollouts=r.num_rollouts,
                max_steps=r.max_steps,
                noise_std=s.noise_std,
                generator=generator("subspace_residency", a, b),
            )
            stats = (residency.residency_time, residency.sign_changes, residency.unstable_directions)
            probability = residency.max_probability
        else:
            log.warning(
                "outputs %d & %d: %d states in runs longer than %d steps", a, b, index.size, subspaces.min_run_length
            )
            plane = np.zeros((0, 2))
            stats, probability = (np.zeros(0), np.zeros(0), np.zeros(0, dtype=np.int64)), np.zeros(0)
        zones = residency_zones(
            stats[0],
            probability,
            transition_cut=r.transition_cut,
            kick_cut=r.kick_cut,
            cluster_prob=r.cluster_prob,
            sign_changes=stats[1],
            unstable_directions=stats[2],
        )
        rows += _zone_rows(zones, f"{a}-{b}")
        arrays.update(
            {
                f"subspace{p}_pc": plane,
                f"subspace{p}_residency_time": stats[0],
                f"subspace{p}_sign_changes": stats[1],
                f"subspace{p}_unstable_directions": stats[2],
                f"subspace{p}_zone": _codes(zones.labels),
            }
        )
    return rows, arrays


def _locate_kwargs(s: LocalSettings) -> dict[str, Any]:
    return {**s.locate.__dict__, "noise_std": s.noise_std, "cluster_prob": s.residency.cluster_prob}


def _locate(weights: Weights, s: LocalSettings, generator: torch.Generator, direction=None) -> LocatedAreas | None:
    source, target = direction if direction is not None else (None, None)
    try:
        return locate_cluster_and_transition(
            weights, **_locate_kwargs(s), generator=generator, source_output=source, target_output=target
        )
    except LocateError as error:
        log.error("no cluster/transition point: %s", error)
        return None


def _second_order_values(second_order: pd.DataFrame | None, hidden_size: int) -> np.ndarray | None:
    """|E[δh⁽²⁾]| per unit at the last epoch of the evolution analysis (None without one)."""
    if second_order is None or second_order.empty:
        return None
    last = second_order[second_order["epoch"] == second_order["epoch"].max()].sort_values("unit")
    values = np.full(hidden_size, np.nan)
    values[last["unit"].to_numpy()] = last["delta_h2"].to_numpy()
    return np.nan_to_num(values)


def analyze_local(
    weights: Weights,
    key: Mapping[str, Any],
    *,
    settings: LocalSettings,
    subspaces: SubspaceSettings | None,
    eigenvalues: EigenSettings,
    max_state_norm: float,
    claims: Mapping[str, Any],
    seed: int,
    second_order: pd.DataFrame | None = None,
) -> LocalAnalysis:
    """Every local analysis of one model (§6.8-6.14) and claims 5, 8 (kick part) and 9-14.

    1. Residency run (h = 0, warm-up, ``residency.num_states`` states): PCA(2) basis used by every plot,
       residency times / sign changes / unstable directions, zones, step sizes (claims 5, 9).
    2. Pair subspaces (when ``subspaces`` is given; then ``settings.subspace_residency`` must be too).
    3. Kick neurons from a long run (§8.3); their mean pre-activation per zone of the residency run (claim 11)
       and their rank in ``|E[δh⁽²⁾]|`` (claim 8, when ``second_order`` is given); a pre-activation map run.
    4. Per kick group a→b, the cluster point and transition onset of an a→b switch (§8.9) and the silencing
       check from that cluster point.
    5. Noise sensitivity from the first group's points (or from an undirected search without groups; claim 10).
    6. Integrating populations and weight blocks of every pair of groups (claim 12 on groups 0 and 1).
    7. Mean activities of groups 0 and 1 and their populations (claim 14).
    8. Interventions on the first ``interventions.max_groups`` groups (claim 13).

    If a recorded noisy run diverges (a state norm exceeds ``max_state_norm``: an unstable, unconverged network),
    the error is logged and the result has empty tables and arrays and one failed ``run_bounded`` check per claim.

    Parameters
    ----------
    weights : Weights
    key : mapping with ``hmm, hidden_size, input_dim, seed``
    settings : LocalSettings
        Config ``analysis.local``; ``subspace_residency`` may be None where ``subspaces`` is.
    subspaces : SubspaceSettings or None
        Config ``analysis.subspaces`` (its pairs and components) for the multi-orbit families, else None.
    eigenvalues : EigenSettings
        Config ``analysis.eigenvalues``.
    max_state_norm : float
        Config ``analysis.max_state_norm``: a recorded run beyond it diverges.
    claims : mapping
        The measurement settings of config ``analysis.claims`` (:data:`hmmrnn.study.CLAIM_MEASUREMENTS`: uses
        ``kick_profile.top_components`` and ``oscillation.min_burst_ratio``; thresholds are judged apart).
    seed : int
        Root seed of the analysis streams.
    second_order : DataFrame (``SECOND_ORDER_SCHEMA``) or None
        The evolution analysis of this model.
    """
    if subspaces is not None and settings.subspace_residency is None:
        raise ValueError("analyze_local: pair subspaces given without settings.subspace_residency (their run)")
    weights = Weights(*(w.to(DTYPE) for w in (weights.W_ih, weights.W_hh, weights.W_o)))
    try:
        return _analyze_local(
            weights, key, settings, subspaces, eigenvalues, max_state_norm, claims, seed, second_order
        )
    except NetworkDiverges as error:
        log.error("%s: %s; an unstable network has no clusters to analyse, so its local claims fail", dict(key), error)
        return _diverged(key, settings, error)


@dataclass(frozen=True)
class _Steps:
    """What every step of :func:`_analyze_local` shares: the network, its settings (config ``analysis.local``,
    ``analysis.eigenvalues`` and ``analysis.max_state_norm``), the measurement settings of ``analysis.claims`` and
    the seed streams; and the plotting arrays and claim checks that the steps add to."""

    weights: Weights
    settings: LocalSettings
    eigenvalues: EigenSettings
    max_state_norm: float
    claims: Mapping[str, Any]
    streams: tuple
    arrays: dict[str, np.ndarray]
    checks: list[Check]

    def generator(self, *purpose: object) -> torch.Generator:
        return torch_generator(*self.streams, *purpose, device=self.weights.W_hh.device)

    def unpack(self) -> tuple:
        return self.weights, self.settings, self.claims, self.generator, self.arrays, self.checks


class _KickGroups(NamedTuple):
    """The kick neurons found (step 3): per switch direction with a group, its index, direction and neurons."""

    kicks: KickNeurons | None
    found: list[tuple[int, tuple[int, int]]]
    directions: list[tuple[int, int]]
    groups: list[np.ndarray]
    all_kick: np.ndarray
    group_of: np.ndarray


def _analyze_local(
    weights: Weights,
    key: Mapping[str, Any],
    s: LocalSettings,
    subspaces: SubspaceSettings | None,
    eigenvalues: EigenSettings,
    max_state_norm: float,
    claims: Mapping[str, Any],
    seed: int,
    second_order: pd.DataFrame | None,
) -> LocalAnalysis:
    """:func:`analyze_local` of a float64 network; raises :class:`NetworkDiverges` if a recorded run diverges."""
    streams = (seed, "local", *(key[name] for name in ModelKey._fields))
    steps = _Steps(weights, s, eigenvalues, max_state_norm, claims, streams, {}, [])
    arrays, checks = steps.arrays, steps.checks
    zone_rows, basis, z, zones = _residency_step(steps)
    # 2. pair subspaces
    log.info("local dynamics step 2: pair subspaces")
    arrays["subspace_pairs"] = np.zeros((0, 2), dtype=np.int64)
    if subspaces is not None:
        rows, subspace_arrays = _subspace_residency(weights, s, subspaces, max_state_norm, steps.generator)
        zone_rows += rows
        arrays.update(subspace_arrays)

    kick = _kick_step(steps, basis)
    located, silencing, kick_rows = _kick_profile_step(steps, kick, zones, z, second_order)
    ns_rows = _noise_sensitivity_step(steps, located, basis)
    population_rows, populations = _population_step(steps, kick.groups)
    _activity_step(steps, kick, populations)
    intervention_rows = _intervention_step(steps, kick, located, silencing, basis)
    return LocalAnalysis(
        zones=with_key(zone_rows, key, ZONES_SCHEMA),
        noise_sensitivity=with_key(ns_rows, key, NOISE_SENSITIVITY_SCHEMA),
        kick_neurons=with_key(kick_rows, key, KICK_SCHEMA),
        populations=with_key(population_rows, key, POPULATION_SCHEMA),
        interventions=with_key(intervention_rows, key, INTERVENTION_SCHEMA),
        statistics=statistic_rows(checks, **{name: key[name] for name in ModelKey._fields}),
        arrays=arrays,
    )


def _residency_step(steps: _Steps) -> tuple[list[dict[str, Any]], PCABasis, torch.Tensor, ResidencyZones]:
    """Step 1: residency times, zones and their checks (claims 5, 9); the PCA basis of the recorded run."""
    weights, s, claims, generator, arrays, checks = steps.unpack()
    H = weights.hidden_size
    # 1. residency zones
    log.info("local dynamics step 1: residency zones")
    r = s.residency
    recorded, z = _recorded_run(
        weights, r.num_states, r.warmup_steps, s, steps.max_state_norm, generator("residency_run")
    )
    basis = pca_basis(recorded, min(2, H))
    residency = residency_times(
        weights,
        recorded,
        num_rollouts=r.num_rollouts,
        max_steps=r.max_steps,
        noise_std=s.noise_std,
        generator=generator("residency"),
    )
    zones = residency_zones(
        residency.residency_time,
        residency.max_probability,
        transition_cut=r.transition_cut,
        kick_cut=r.kick_cut,
        cluster_prob=r.cluster_prob,
        sign_changes=residency.sign_changes,
        unstable_directions=residency.unstable_directions,
    )
    step_sizes = to_numpy((recorded[1:] - recorded[:-1]).norm(dim=1))  # the step leaving state i
    step_means = zone_means(step_sizes, zones.labels[:-1])
    zone_rows = _zone_rows(zones, "all", step_means)
    summary = {row.zone: row for row in zones.summary}
    arrays.update(
        {
            "pca_explained": basis.explained_variance_ratio,
            "zone_cuts": np.array([r.transition_cut, r.kick_cut], dtype=float),
            "residency_pc": project(basis, to_numpy(recorded)),
            "residency_time": residency.residency_time,
            "sign_changes": residency.sign_changes,
            "unstable_directions": residency.unstable_directions,
            "zone": _codes(zones.labels),
        }
    )
    cluster, kick_zone, transition = summary["cluster"], summary["kick_zone"], summary["transition"]
    checks.append(
        Check(
            5,
            "step_size_cluster_over_transition",
            ratio(step_means["cluster"], step_means["transition"]),
            "<",
            "zones.max_step_ratio",
        )
    )
    checks += [Check(9, f"{zone.zone}_count", zone.count, ">=", 1) for zone in (cluster, kick_zone, transition)]
    checks += [
        Check(
            9,
            "unstable_kick_zone_minus_cluster",
            kick_zone.mean_unstable_directions - cluster.mean_unstable_directions,
            ">",
            0,
        ),
        Check(9, "unstable_cluster", cluster.mean_unstable_directions, "<=", "zones.max_cluster_unstable"),
        Check(
            9, "sign_changes_cluster_minus_kick_zone", cluster.mean_sign_changes - kick_zone.mean_sign_changes, ">", 0
        ),
        Check(
            9,
            "sign_changes_kick_zone_minus_transition",
            kick_zone.mean_sign_changes - transition.mean_sign_changes,
            ">",
            0,
        ),
        Check(9, "sign_changes_cluster", cluster.mean_sign_changes, ">=", "zones.min_cluster_sign_changes"),
    ]

    return zone_rows, basis, z, zones


def _kick_step(steps: _Steps, basis: PCABasis) -> _KickGroups:
    """Step 3: the kick neurons of each switch direction and their pre-activation map."""
    weights, s, claims, generator, arrays, checks = steps.unpack()
    device = weights.W_hh.device
    # 3. kick neurons
    log.info("local dynamics step 3: kick neurons")
    k = s.kick_neurons
    kick_generator = generator("kick_neurons")
    try:
        kicks = discover_kick_neurons(
            weights,
            random_initial_state(weights, s.locate.init_scale, kick_generator),
            num_steps=k.num_steps,
            warmup_steps=k.warmup_steps,
            noise_std=s.noise_std,
            window=k.window,
            cluster_margin=k.cluster_margin,
            min_switches=k.min_switches,
            max_cluster_active_fraction=k.max_cluster_active_fraction,
            num_kick=k.num_kick,
            generator=kick_generator,
        )
        found = [(d, direction) for d, direction in enumerate(kicks.directions) if kicks.groups[d].size]
    except ValueError as error:
        log.error("no kick neurons: %s", error)
        kicks, found = None, []
    directions = [direction for _, direction in found]
    groups = [kicks.groups[d] for d, _ in found]
    all_kick = np.concatenate(groups) if groups else np.zeros(0, dtype=np.int64)
    group_of = np.concatenate([np.full(g.size, i) for i, g in enumerate(groups)]) if groups else all_kick
    log.info("kick groups: %s", {f"{a}->{b}": g.tolist() for (a, b), g in zip(directions, groups, strict=True)})
    arrays.update(
        {
            "kick_directions": np.asarray(directions, dtype=np.int64).reshape(-1, 2),
            "kick_neurons": all_kick,
            "kick_group": group_of.astype(np.int64),
        }
    )
    map_states, map_z = _recorded_run(weights, k.map_steps, 0, s, steps.max_state_norm, generator("preactivation_map"))
    arrays.update(
        {
            "map_pc": project(basis, to_numpy(map_states)),
            "map_preactivation": to_numpy(map_z[:, torch.as_tensor(all_kick, device=device)]),
            "map_outputs": to_numpy(argmax_outputs(weights, map_states)),
        }
    )

    return _KickGroups(kicks, found, directions, groups, all_kick, group_of)


def _kick_profile_step(
    steps: _Steps, kick: _KickGroups, zones: ResidencyZones, z: torch.Tensor, second_order: pd.DataFrame | None
) -> tuple[list[LocatedAreas | None], list[SilencingEffect | None], list[dict[str, Any]]]:
    """Step 4: cluster and transition points per group, the silencing check, the kick-neuron rows (claims 8, 11)."""
    weights, s, claims, generator, arrays, checks = steps.unpack()
    H = weights.hidden_size
    k = s.kick_neurons
    kicks, found, directions, groups, all_kick, group_of = kick
    # 4. cluster and transition points per group, silencing check
    log.info("local dynamics step 4: cluster and transition points per group, silencing check")
    located = [_locate(weights, s, generator("locate", a, b), (a, b)) for a, b in directions]
    silencing = [
        silencing_effect(
            weights,
            group,
            place.track[place.cluster_time],
            source_output=a,
            target_output=b,
            num_trajectories=k.silencing_trajectories,
            num_steps=k.silencing_steps,
            noise_std=s.noise_std,
            generator=generator("silencing", a, b),
            scope=k.silencing_scope,
        )
        if place is not None
        else None
        for (a, b), group, place in zip(directions, groups, located, strict=True)
    ]
    z_kick = to_numpy(z)[:, all_kick]
    per_zone = zone_means(z_kick, zones.labels)
    z_std = z_kick.std(axis=0)
    magnitude = _second_order_values(second_order, H)
    ranks = component_ranks(magnitude, all_kick) if magnitude is not None else None
    kick_rows = []
    for j, neuron in enumerate(all_kick):  # loop over the (few) kick neurons only
        g = int(group_of[j])
        d, (a, b) = found[g]
        effect = silencing[g]
        kick_rows.append(
            {
                "group": g,
                "source_output": a,
                "target_output": b,
                "neuron": int(neuron),
                "score": float(kicks.scores[d, neuron]),
                "transition_preactivation": float(kicks.transition_mean[d, neuron]),
                "cluster_preactivation": float(kicks.cluster_mean[neuron]),
                "cluster_active_fraction": float(kicks.cluster_active_fraction[neuron]),
                "zone_cluster_preactivation": float(per_zone["cluster"][j]),
                "zone_kick_preactivation": float(per_zone["kick_zone"][j]),
                "zone_transition_preactivation": float(per_zone["transition"][j]),
                "preactivation_std": float(z_std[j]),
                "second_order_rank": int(ranks[j]) if ranks is not None else None,
                "control_switch_rate": effect.control_rate if effect else math.nan,
                "silenced_switch_rate": effect.silenced_rate if effect else math.nan,
            }
        )
    profile = claims["kick_profile"]
    checks.append(Check(11, "num_kick_groups", len(groups), ">=", 2))
    for row in kick_rows:
        name = f"neuron{row['neuron']}"
        checks += [
            Check(11, f"{name}_cluster_preactivation", row["zone_cluster_preactivation"], "<", 0),
            Check(
                11,
                f"{name}_kick_zone_over_std",
                abs(row["zone_kick_preactivation"]) / row["preactivation_std"]
                if row["preactivation_std"] > 0
                else math.nan,
                "<=",
                "kick_profile.max_kick_zone_ratio",
            ),
            Check(11, f"{name}_transition_preactivation", row["transition_preactivation"], ">", 0),
        ]
    if ranks is not None:
        for g, (a, b) in enumerate(directions):
            in_top = int((ranks[group_of == g] <= profile["top_components"]).sum())
            checks.append(
                Check(8, f"kick_{a}to{b}_in_top{profile['top_components']}", in_top, ">=", "kick_profile.min_in_top")
            )

    return located, silencing, kick_rows


def _noise_sensitivity_step(steps: _Steps, located: list[LocatedAreas | None], basis: PCABasis) -> list[dict[str, Any]]:
    """Step 5: sensitivity to aligned noise at the cluster and transition points (claim 10)."""
    weights, s, claims, generator, arrays, checks = steps.unpack()
    # 5. noise sensitivity
    log.info("local dynamics step 5: noise sensitivity")
    ns = s.noise_sensitivity
    place = located[0] if located else _locate(weights, s, generator("locate", "any"))
    ns_rows, gammas = [], np.asarray(ns.gammas, dtype=float)
    arrays["ns_gammas"] = gammas
    arrays["ns_found"] = np.array(place is not None)
    if place is not None:
        starts = {"cluster": place.cluster_time, "transition": place.transition_time}
        trajectories, traces, distances = [], [], []
        for name in INITIAL_CONDITIONS:
            index = starts[name]
            nominal = noise_window(
                place.noise, index, ns.num_steps, noise_std=s.noise_std, generator=generator("noise_window", name)
            )
            result = noise_sensitivity(
                weights,
                place.track[index],
                nominal,
                gammas=ns.gammas,
                num_trajectories=ns.num_trajectories,
                num_steps=ns.num_steps,
                noise_std=s.noise_std,
                generator=generator("noise_sensitivity", name),
                noise_alignment=ns.noise_alignment,
            )
            spread = dispersion(result.trajectories)  # (G, S + 1)
            trajectories.append(project(basis, to_numpy(result.trajectories[:, : ns.num_display])))
            traces.append(spread.trace_covariance)
            distances.append(spread.mean_distance)
            ns_rows += [
                {
                    "initial_condition": name,
                    "gamma": float(gamma),
                    "step": step,
                    "trace_covariance": float(spread.trace_covariance[i, step]),
                    "mean_distance": float(spread.mean_distance[i, step]),
                }
                for i, gamma in enumerate(gammas)
                for step in range(ns.num_steps + 1)
            ]
        arrays.update(
            {
                "track_pc": project(basis, to_numpy(place.track)),
                "track_outputs": place.outputs,
                "ns_trajectories": np.stack(trajectories),
                "ns_trace": np.stack(traces),
                "ns_distance": np.stack(distances),
            }
        )
        trace = arrays["ns_trace"]
        top = int(np.argmax(gammas))
        checks.append(Check(10, "points_found", 1.0, "==", 1.0))
        checks.append(
            Check(
                10,
                "trace_cluster_over_transition",
                ratio(trace[0, top, -1], trace[1, top, -1]),
                ">",
                "noise_sensitivity.min_trace_ratio",
            )
        )
        if (gammas == 0).any():
            checks.append(Check(10, "trace_at_gamma_0", float(trace[:, gammas == 0].max()), "==", 0.0))
        order = np.argsort(gammas)
        if order.size >= 2:
            checks.append(
                Check(10, "cluster_trace_increase_with_gamma", float(np.diff(trace[0, order, -1]).min()), ">", 0)
            )
    else:
        checks.append(Check(10, "points_found", 0.0, "==", 1.0))
        arrays.update(_no_noise_sensitivity(ns))

    return ns_rows


def _population_step(
    steps: _Steps, groups: list[np.ndarray]
) -> tuple[list[dict[str, Any]], list[IntegratingPopulations]]:
    """Step 6: the integrating populations of each pair of kick groups and the ordered weight blocks (claim 12)."""
    weights, s, claims, generator, arrays, checks = steps.unpack()
    W = weights.W_hh
    # 6. populations and weight blocks
    log.info("local dynamics step 6: populations and weight blocks")
    p = s.populations
    pairs = [(i, j) for i in range(len(groups)) for j in range(i + 1, len(groups))]
    population_rows, populations = [], []
    arrays["block_pairs"] = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    for b, (i, j) in enumerate(pairs):  # loop over the (few) group pairs only
        pops = integrating_populations(
            W, groups[i], groups[j], num_per_population=p.num_per_population, method=p.method
        )
        populations.append(pops)
        blocks = ordered_weight_blocks(W, [groups[i], groups[j]], [pops.population_1, pops.population_2])
        arrays.update(
            {
                f"block{b}_kick_kick": blocks.kick_kick,
                f"block{b}_kick_population": blocks.kick_population,
                f"block{b}_population_population": blocks.population_population,
                f"block{b}_kick": blocks.kick,
                f"block{b}_population": blocks.population,
                f"block{b}_num_population_1": np.array(pops.population_1.size),
            }
        )
        population_rows += [
            {"group_a": i, "group_b": j, "population": number, "neuron": int(n), "g_a": pops.g_a[n], "g_b": pops.g_b[n]}
            for number, members in ((1, pops.population_1), (2, pops.population_2))
            for n in members
        ]
    if populations:
        circuit = circuit_statistics(W, groups[:2], [populations[0].population_1, populations[0].population_2])
        checks += [
            Check(12, "within_kick_weight", circuit.within_kick, ">", 0),
            Check(12, "cross_kick_weight", circuit.cross_kick, "<", 0),
            Check(
                12, "within_minus_cross_population_weight", circuit.within_population - circuit.cross_population, ">", 0
            ),
            Check(12, "cross_population_weight", circuit.cross_population, "<", 0),
        ]
    else:
        checks.append(Check(12, "num_kick_group_pairs", 0, ">=", 1))

    return population_rows, populations


def _activity_step(steps: _Steps, kick: _KickGroups, populations: list[IntegratingPopulations]) -> None:
    """Step 7: mean activities of the kick groups and populations around switches (claim 14)."""
    weights, s, claims, generator, arrays, checks = steps.unpack()
    kicks, found, directions, groups, all_kick, group_of = kick
    # 7. mean activities
    log.info("local dynamics step 7: mean activities")
    m, o = s.mean_activities, claims["oscillation"]
    arrays.update(_no_activities(m))
    if groups:
        activity_generator = generator("mean_activities")
        activities = mean_activities(
            weights,
            random_initial_state(weights, s.locate.init_scale, activity_generator),
            groups[:2],
            [populations[0].population_1, populations[0].population_2] if populations else [],
            num_steps=m.num_steps,
            warmup_steps=0,
            noise_std=s.noise_std,
            generator=activity_generator,
        )
        oscillation = oscillation_statistics(
            activities, pre_switch_steps=m.pre_switch_steps, cluster_margin=m.cluster_margin, directions=directions[:2]
        )
        checks.append(
            Check(
                14,
                "population_correlation",
                oscillation.population_correlation,
                "<",
                "oscillation.max_population_correlation",
            )
        )
        checks += [
            Check(
                14,
                f"kick_{a}to{b}_burst_minus_{o['min_burst_ratio']:g}x_cluster",
                oscillation.kick_pre_switch[g] - o["min_burst_ratio"] * oscillation.kick_cluster[g],
                ">",
                0,
            )
            for g, (a, b) in enumerate(directions[:2])
        ]
        arrays.update(
            {
                "activity_kick": activities.kick,
                "activity_population": activities.population,
                "activity_outputs": activities.outputs,
            }
        )


def _intervention_step(
    steps: _Steps,
    kick: _KickGroups,
    located: list[LocatedAreas | None],
    silencing: list[SilencingEffect | None],
    basis: PCABasis,
) -> list[dict[str, Any]]:
    """Step 8: interventions on each kick group, its noise projection and a control (claim 13)."""
    weights, s, claims, generator, arrays, checks = steps.unpack()
    kicks, found, directions, groups, all_kick, group_of = kick
    # 8. interventions
    log.info("local dynamics step 8: interventions")
    iv = s.interventions
    mus, shown = _mu_axis(iv)
    intervention_rows, intervened, displays, statistics = [], [], [], []
    for g, ((a, b), group, place_g) in enumerate(zip(directions, groups, located, strict=True)):
        if g >= iv.max_groups:
            break
        if place_g is None:
            log.error("kick group %d->%d: no cluster point, so no interventions", a, b)
            continue
        rows, display, statistic = _intervene_group(steps, g, (a, b), group, place_g, all_kick, silencing[g], basis)
        intervention_rows += rows
        intervened.append(g)
        displays.append(display)
        statistics.append(statistic)
    if not intervened:
        checks.append(Check(13, "num_intervened_groups", 0, ">=", 1))
    arrays.update(_no_interventions(iv))
    if intervened:
        stacked = np.stack(statistics)
        arrays.update(
            {
                "intervention_groups": np.asarray(intervened, dtype=np.int64),
                "intervention_display": np.stack(displays),
                "intervention_critical_mean": stacked[:, :, 0],
                "intervention_critical_std": stacked[:, :, 1],
                "intervention_switch_rate": stacked[:, :, 2],
            }
        )

    return intervention_rows


def _intervene_group(
    steps: _Steps,
    g: int,
    direction: tuple[int, int],
    group: np.ndarray,
    place_g: LocatedAreas,
    all_kick: np.ndarray,
    silenced: SilencingEffect | None,
    basis: PCABasis,
) -> tuple[list[dict[str, Any]], np.ndarray, np.ndarray]:
    """The interventions of step 8 on kick group ``g``: its table rows, display trajectories and statistics."""
    weights, s, claims, generator, arrays, checks = steps.unpack()
    H, W = weights.hidden_size, weights.W_hh
    iv, eig = s.interventions, steps.eigenvalues
    mus, shown = _mu_axis(iv)
    a, b = direction
    intervention_rows = []
    tc = place_g.cluster_time
    nominal = noise_window(
        place_g.noise, tc, iv.num_steps, noise_std=s.noise_std, generator=generator("intervention_window", a, b)
    )
    masks = {
        "kick": kick_mask(H, group, scope=iv.scope),
        "noise_projection": noise_projection_mask(W, group, all_kick, num_presynaptic=iv.noise_presynaptic),
        "control": control_mask(W, all_kick, num_presynaptic=iv.control_presynaptic),
    }
    results = {}
    for name in INTERVENTIONS:  # the same random numbers for every intervention type
        results[name] = intervene(
            weights,
            masks[name],
            mus,
            initial_state=place_g.track[tc],
            nominal_noise=nominal,
            source_output=a,
            target_output=b,
            num_trajectories=iv.num_trajectories,
            num_steps=iv.num_steps,
            gamma=iv.gamma,
            num_statistics_steps=iv.statistics_steps,
            init_scale=s.locate.init_scale,
            window=iv.window,
            eps_re=eig.eps_re,
            eps_im=iv.eps_im,
            min_switches=iv.min_switches,
            noise_std=s.noise_std,
            num_display=iv.num_display,
            generator=generator("interventions", a, b),
            gating=eig.gating,
            basis=basis,
        )
        result = results[name]
        critical_mean, critical_std = result.critical_mean, result.critical_std
        intervention_rows += [
            {
                "group": g,
                "source_output": a,
                "target_output": b,
                "intervention": name,
                "mu": float(mu),
                "switch_rate": float(result.switch_rate[i]),
                "max_excursion": float(result.max_excursion[i]),
                "critical_mean": float(critical_mean[i]),
                "critical_std": float(critical_std[i]),
                "num_windows": int(result.critical_counts[i].size),
                "num_switches": int(result.num_switches[i]),
                "used_fallback": bool(result.used_fallback[i]),
            }
            for i, mu in enumerate(mus)
        ]
    low, nominal_index, high = shown
    label = f"{a}to{b}"
    for name in ("kick", "noise_projection"):
        result = results[name]
        checks += [
            Check(
                13,
                f"{name}_{label}_switch_reduction",
                _reduction(result.switch_rate[nominal_index], result.switch_rate[low]),
                ">=",
                "interventions.min_switch_reduction",
            ),
            Check(
                13,
                f"{name}_{label}_critical_reduction",
                _reduction(result.critical_mean[nominal_index], result.critical_mean[low]),
                ">=",
                "interventions.min_critical_reduction",
            ),
        ]
    control, kick = results["control"], results["kick"]
    checks += [
        Check(
            13,
            f"control_{label}_switch_change",
            abs(_reduction(control.switch_rate[nominal_index], control.switch_rate[low])),
            "<=",
            "interventions.max_control_change",
        ),
        Check(
            13,
            f"control_{label}_critical_change",
            abs(_reduction(control.critical_mean[nominal_index], control.critical_mean[low])),
            "<=",
            "interventions.max_control_change",
        ),
        Check(
            13,
            f"kick_{label}_excursion_increase",
            -_reduction(kick.max_excursion[nominal_index], kick.max_excursion[high]),
            ">=",
            "interventions.min_excursion_increase",
        ),
        Check(
            13,
            f"kick_{label}_excitation_critical_change",
            abs(_reduction(kick.critical_mean[nominal_index], kick.critical_mean[high])),
            "<=",
            "interventions.max_critical_change",
        ),
    ]
    if silenced is not None:
        checks.append(
            Check(
                13,
                f"silencing_{label}_switch_reduction",
                silenced.relative_reduction,
                ">=",
                "interventions.min_switch_reduction",
            )
        )
    display = np.stack(
        [project(basis, to_numpy(results[name].display[shown, :, : iv.display_steps + 1])) for name in INTERVENTIONS]
    )
    statistic = np.stack(  # (3 types, 3 statistics, M)
        [
            np.stack([results[name].critical_mean, results[name].critical_std, results[name].switch_rate])
            for name in INTERVENTIONS
        ]
    )
    return intervention_rows, display, statistic


def _no_noise_sensitivity(ns: NoiseSensitivitySettings) -> dict[str, np.ndarray]:
    """The noise-sensitivity arrays without a cluster/transition point."""
    G, K, S = len(ns.gammas), ns.num_display, ns.num_steps
    return {
        "track_pc": np.zeros((0, 2)),
        "track_outputs": np.zeros(0, dtype=np.int64),
        "ns_trajectories": np.zeros((0, G, K, S + 1, 2)),
        "ns_trace": np.zeros((0, G, S + 1)),
        "ns_distance": np.zeros((0, G, S + 1)),
    }


def _no_activities(m: ActivitySettings) -> dict[str, np.ndarray]:
    """The mean-activity arrays without kick groups."""
    return {
        "activity_kick": np.zeros((0, 0)),
        "activity_population": np.zeros((0, 0)),
        "activity_outputs": np.zeros(0, dtype=np.int64),
        "activity_shown_steps": np.array(m.shown_steps),
    }


def _mu_axis(iv: InterventionSettings) -> tuple[np.ndarray, np.ndarray]:
    """The μ grid and the indices of its values nearest to ``shown_mus``."""
    mus = mu_grid(iv)
    return mus, np.array([int(np.argmin(np.abs(mus - mu))) for mu in iv.shown_mus])


def _no_interventions(iv: InterventionSettings) -> dict[str, np.ndarray]:
    """The intervention arrays without an intervened group."""
    mus, shown = _mu_axis(iv)
    statistics = np.zeros((0, len(INTERVENTIONS), mus.size))
    return {
        "intervention_groups": np.zeros(0, dtype=np.int64),
        "intervention_mus": mus,
        "intervention_shown_mus": mus[shown],
        "intervention_display": np.zeros((0, len(INTERVENTIONS), shown.size, iv.num_display, iv.display_steps + 1, 2)),
        "intervention_critical_mean": statistics,
        "intervention_critical_std": statistics,
        "intervention_switch_rate": statistics,
    }


def _diverged(key: Mapping[str, Any], s: LocalSettings, error: NetworkDiverges) -> LocalAnalysis:
    """The result of :func:`analyze_local` for a network whose noisy run diverges: nothing found, claims failed."""
    no_pairs = np.zeros((0, 2), dtype=np.int64)
    no_units = np.zeros(0, dtype=np.int64)
    arrays = {
        "diverged": np.array(str(error)),
        "pca_explained": np.full(2, math.nan),
        "zone_cuts": np.array([s.residency.transition_cut, s.residency.kick_cut], dtype=float),
        "residency_pc": np.zeros((0, 2)),
        "residency_time": np.zeros(0),
        "sign_changes": np.zeros(0),
        "unstable_directions": no_units,
        "zone": no_units,
        "subspace_pairs": no_pairs,
        "kick_directions": no_pairs,
        "kick_neurons": no_units,
        "kick_group": no_units,
        "map_pc": np.zeros((0, 2)),
        "map_preactivation": np.zeros((0, 0)),
        "map_outputs": no_units,
        "ns_gammas": np.asarray(s.noise_sensitivity.gammas, dtype=float),
        "ns_found": np.array(False),
        **_no_noise_sensitivity(s.noise_sensitivity),
        "block_pairs": no_pairs,
        **_no_activities(s.mean_activities),
        **_no_interventions(s.interventions),
    }
    checks = [Check(claim, "run_bounded", error.bounded_fraction, ">=", 1.0) for claim in LOCAL_CLAIMS]
    return LocalAnalysis(
        zones=with_key([], key, ZONES_SCHEMA),
        noise_sensitivity=with_key([], key, NOISE_SENSITIVITY_SCHEMA),
        kick_neurons=with_key([], key, KICK_SCHEMA),
        populations=with_key([], key, POPULATION_SCHEMA),
        interventions=with_key([], key, INTERVENTION_SCHEMA),
        statistics=statistic_rows(checks, **{name: key[name] for name in ModelKey._fields}),
        arrays=arrays,
    )
