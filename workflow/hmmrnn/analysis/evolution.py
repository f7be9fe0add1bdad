"""The training evolution of a family's representative (§6.6-6.7): eigenvalue fractions, transition rate and
E[δh⁽²⁾] per sampled epoch, the transition epoch and the per-epoch PCA.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
import torch

from ..claims.checks import Check, statistic_rows
from ..dynamics.jacobians import jacobian_eigenvalues
from ..dynamics.pca import pca_basis, project
from ..dynamics.perturbation import SecondOrder, second_order_perturbation
from ..dynamics.simulation import Weights, argmax_outputs, simulate, to_numpy, weights_at_epoch
from ..dynamics.spectra import eigen_fractions
from ..seeds import torch_generator
from ..study import ModelKey
from ..tables import EVOLUTION_SCHEMA, SECOND_ORDER_SCHEMA, TRANSITION_SCHEMA
from .rows import ratio, with_key
from .runs import DTYPE, bounded_prefix, standard_normal
from .settings import EigenSettings, EvolutionSettings
from .transitions import (
    evolution_epochs_to_show,
    heatmap_threshold,
    loss_rise_near,
    refine_transition_epoch,
    sampled_epochs,
    transition_epoch,
    transition_rate,
)

__all__ = ["EvolutionAnalysis", "analyze_evolution", "second_order_scaling_deviation"]

log = logging.getLogger(__name__)


class _Draws(NamedTuple):
    """Draws shared by all epochs: the initial state, the warm-up noise and the run noise."""

    initial: torch.Tensor  # (H,)
    warmup: torch.Tensor  # (warmup_steps, d)
    noise: torch.Tensor  # (num_steps, d)


def _warmed_up(weights: Weights, draws: _Draws) -> torch.Tensor:
    """h̄ (1, H): the shared initial state after the warm-up steps."""
    h = draws.initial[None]
    if draws.warmup.shape[0]:
        h = simulate(weights, h, draws.warmup[None])[0, -1:]
    return h


def _epoch_run(weights: Weights, draws: _Draws, max_norm: float) -> torch.Tensor:
    """States h̄ (after the warm-up), h_1, ..., h_T of one epoch's run, cut before divergence."""
    h = _warmed_up(weights, draws)
    states = torch.cat([h, simulate(weights, h, draws.noise[None])[0]])
    return bounded_prefix(states, max_norm)


def _epoch_statistics(
    weights: Weights,
    draws: _Draws,
    settings: EvolutionSettings,
    eigenvalues: EigenSettings,
    max_state_norm: float,
    generator: torch.Generator | None,
) -> tuple[dict[str, Any], np.ndarray | None, np.ndarray | None]:
    """Eigenvalue fractions and transition rate of one epoch's run, and E[δh⁽²⁾], E[δh⁽¹⁾] if ``generator``."""
    s = settings
    states = _epoch_run(weights, draws, max_state_norm)
    row: dict[str, Any] = {"num_steps": max(states.shape[0] - 1, 0)}
    steps = states.shape[0] - 1
    previous = states[:steps][s.discard_steps :]
    if previous.shape[0]:
        run_eigenvalues = jacobian_eigenvalues(
            weights, previous, draws.noise[:steps][s.discard_steps :], gating=eigenvalues.gating
        )
        fractions = eigen_fractions(run_eigenvalues, eps_re=eigenvalues.eps_re, eps_im=eigenvalues.eps_im)
        row.update(
            critical_fraction=fractions.critical_fraction,
            critical_fraction_std=float(fractions.is_critical.std()),
            unstable_fraction=fractions.unstable_fraction,
            unstable_fraction_std=float(fractions.is_unstable.std()),
            mean_critical_count=float(fractions.critical_counts.mean()),
            mean_unstable_count=float(fractions.unstable_counts.mean()),
        )
    outputs = to_numpy(argmax_outputs(weights, states)) if states.shape[0] else np.zeros(0, dtype=np.int64)
    rate = transition_rate(outputs, fallback_on=s.rate_fallback_on) if outputs.size else None
    row.update(
        transition_rate=rate.rate if rate else math.nan,
        residence_steps=rate.residence if rate else math.nan,
        num_switches=rate.num_switches if rate else 0,
    )
    if generator is None or states.shape[0] == 0:
        return row, None, None
    second = _second_order(weights, states[0], s, 1.0, generator)
    delta_h2, delta_h1 = to_numpy(second.delta_h2), to_numpy(second.delta_h1)
    row.update(delta_h2_norm=float(np.linalg.norm(delta_h2)), delta_h1_norm=float(np.linalg.norm(delta_h1)))
    return row, delta_h2, delta_h1


def _second_order(
    weights: Weights, h_bar: torch.Tensor, settings: EvolutionSettings, noise_std: float, generator: torch.Generator
) -> SecondOrder:
    """:func:`second_order_perturbation` from ``h_bar`` with the trial settings of ``settings``."""
    s = settings
    return second_order_perturbation(
        weights,
        h_bar,
        num_trials=s.second_order_trials,
        horizon=s.second_order_horizon,
        warmup_steps=s.second_order_warmup_steps,
        init_scale=s.second_order_init_scale,
        noise_std=noise_std,
        generator=generator,
        variant=s.second_order_variant,
    )


def second_order_scaling_deviation(
    weights: Weights,
    h_bar: torch.Tensor,
    settings: EvolutionSettings,
    noise_stds: Sequence[float],
    seed_streams: Sequence[Any],
) -> float:
    """How far E[δh⁽²⁾](σ)/σ² is from constant across ``noise_stds`` (claim 8's scaling with the noise variance).

    Every σ uses the same standard-normal draws (a generator from ``seed_streams``), scaled by σ. Returns
    max_σ ‖v_σ − v̄‖ / ‖v̄‖ for v_σ = E[δh⁽²⁾](σ)/σ² and v̄ their mean (nan if v̄ = 0). A positively homogeneous
    network started at h̄ = 0 with no trial perturbation scales exactly (deviation 0); elsewhere the base
    trajectory moves with σ and the deviation measures how far the response is from the small-noise expansion.
    """
    device = weights.W_hh.device
    scaled = torch.stack(
        [
            _second_order(weights, h_bar, settings, std, torch_generator(*seed_streams, device=device)).delta_h2
            / std**2
            for std in noise_stds
        ]
    )
    mean = scaled.mean(dim=0)
    return ratio(float((scaled - mean).norm(dim=1).max()), float(mean.norm()))


def _epoch_pca(
    weights: Weights, draws: _Draws, settings: EvolutionSettings, max_state_norm: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-epoch 2-component PCA of the run (§6.6): clipped coordinates and outputs of the first ``pca_points``."""
    states = _epoch_run(weights, draws, max_state_norm)
    coordinates = np.full((settings.pca_points, 2), math.nan)
    outputs = np.full(settings.pca_points, -1, dtype=np.int64)
    explained = np.full(2, math.nan)
    if states.shape[0] >= 3:
        basis = pca_basis(states, 2)
        shown = states[: settings.pca_points]
        coordinates[: shown.shape[0]] = np.clip(project(basis, to_numpy(shown)), -settings.pca_clip, settings.pca_clip)
        outputs[: shown.shape[0]] = to_numpy(argmax_outputs(weights, shown))
        explained = basis.explained_variance_ratio
    return coordinates, outputs, explained


class EvolutionAnalysis(NamedTuple):
    """Results of :func:`analyze_evolution`.

    Attributes
    ----------
    epochs : DataFrame (``EVOLUTION_SCHEMA``)
    second_order : DataFrame (``SECOND_ORDER_SCHEMA``)
    transition : DataFrame (``TRANSITION_SCHEMA``, one row)
    statistics : DataFrame (``CLAIM_STATISTICS_SCHEMA``; the checks of claims 7, 8 and 16, judged by the claim rules)
    arrays : dict of ndarray
        ``epochs_shown`` (k,), ``coordinates`` (k, pca_points, 2) (nan-padded), ``outputs`` (k, pca_points)
        (-1 padded), ``explained`` (k, 2).
    """

    epochs: pd.DataFrame
    second_order: pd.DataFrame
    transition: pd.DataFrame
    statistics: pd.DataFrame
    arrays: dict[str, np.ndarray]


def analyze_evolution(
    evolution: Mapping[str, torch.Tensor],
    history: pd.DataFrame,
    key: Mapping[str, Any],
    *,
    settings: EvolutionSettings,
    eigenvalues: EigenSettings,
    max_state_norm: float,
    claims: Mapping[str, Any],
    seed: int,
) -> EvolutionAnalysis:
    """Eigenvalue fractions, transition rate and E[δh⁽²⁾] across training epochs; the transition epoch (§6.6, §6.7).

    Every sampled epoch (:func:`sampled_epochs`) restarts from the same initial state ``init_scale·(2n - 1)``
    and sees the same warm-up and run noise (§9.26). The transition epoch e* is the first rise of the critical
    fraction by more than ``transition_jump`` (:func:`hmmrnn.analysis.transitions.transition_epoch`), optionally
    refined over every snapshot within ±r (§8.6). e* decides the epochs of the PCA-evolution plot (§8.7) and the
    heat-map threshold (§8.8, a percentile of √|E[δh⁽²⁾]| from e* on; all sampled epochs if there is no e*).

    Parameters
    ----------
    evolution : mapping
        ``"epoch"`` (E,) and stacked weights, as in ``evolution.pt`` (other entries are ignored).
    history : DataFrame
        The model's ``history.parquet`` (claim 16).
    key : mapping with ``hmm, hidden_size, input_dim, seed``
    settings : EvolutionSettings
        Config ``analysis.evolution``; ``max_epochs`` is read at ``key["hmm"]`` (absent: every snapshot).
    eigenvalues : EigenSettings
        Config ``analysis.eigenvalues``.
    max_state_norm : float
        Config ``analysis.max_state_norm``: a state beyond it counts as diverged.
    claims : mapping
        The measurement settings of config ``analysis.claims`` (:data:`hmmrnn.study.CLAIM_MEASUREMENTS`: uses
        ``transition.after_epochs``, ``second_order.noise_stds``, ``double_descent.window_strides`` and ``smoothing``;
        thresholds are judged apart).
    seed : int
    """
    s = settings
    snapshots = {name: value for name, value in evolution.items() if isinstance(value, torch.Tensor)}
    available = [int(epoch) for epoch in snapshots["epoch"]]
    epochs = sampled_epochs(available, s.epoch_stride, s.max_epochs.get(key["hmm"]))
    last_epoch = epochs[-1]
    considered = [epoch for epoch in available if epoch <= last_epoch]
    first = weights_at_epoch(snapshots, epochs[0], DTYPE)
    device, H, d = first.W_hh.device, first.hidden_size, first.input_dim
    streams = (seed, "evolution", *(key[name] for name in ModelKey._fields))
    draw = torch_generator(*streams, "draws", device=device)
    draws = _Draws(
        initial=s.init_scale * (2 * standard_normal(draw, H, device=device) - 1),
        warmup=standard_normal(draw, s.warmup_steps, d, device=device),
        noise=standard_normal(draw, s.num_steps, d, device=device),
    )

    rows, second_rows = {}, []
    log.info("evolution: %d sampled epochs of %d snapshots", len(epochs), len(available))
    for epoch in epochs:
        weights = weights_at_epoch(snapshots, epoch, DTYPE)
        generator = torch_generator(*streams, "second_order", epoch, device=device)
        row, delta_h2, delta_h1 = _epoch_statistics(weights, draws, s, eigenvalues, max_state_norm, generator)
        rows[epoch] = {"epoch": epoch, "is_sampled": True, **row}
        if delta_h2 is not None:
            second_rows += [
                {"epoch": epoch, "unit": unit, "delta_h2": float(v2), "delta_h1": float(v1)}
                for unit, (v2, v1) in enumerate(zip(delta_h2, delta_h1, strict=True))
            ]
        log.info(
            "epoch %d: %s",
            epoch,
            {name: value for name, value in row.items() if "fraction" in name or name == "transition_rate"},
        )

    frame = pd.DataFrame([rows[epoch] for epoch in epochs])
    critical = frame["critical_fraction"].to_numpy(dtype=float)
    coarse = transition_epoch(epochs, np.nan_to_num(critical), s.transition_jump, report=s.transition_report)
    found = coarse
    if coarse is not None and s.refine:
        window = [epoch for epoch in considered if abs(epoch - coarse) <= s.epoch_stride]
        for epoch in window:
            if epoch not in rows:
                row, _, _ = _epoch_statistics(
                    weights_at_epoch(snapshots, epoch, DTYPE), draws, s, eigenvalues, max_state_norm, None
                )
                rows[epoch] = {"epoch": epoch, "is_sampled": False, **row}
        refined = refine_transition_epoch(
            window,
            [rows[epoch].get("critical_fraction", math.nan) for epoch in window],
            reference_max=float(np.nanmax(critical)),
            level=s.refine_level,
        )
        found = refined if refined is not None else coarse
    log.info("transition epoch: coarse %s, refined %s", coarse, found)

    table = pd.DataFrame(
        [rows[epoch] for epoch in sorted(rows)],
        columns=[n for n in EVOLUTION_SCHEMA.names if n not in ModelKey._fields],
    )
    second = pd.DataFrame(second_rows, columns=["epoch", "unit", "delta_h2", "delta_h1"])
    sampled = table[table["is_sampled"]].reset_index(drop=True)
    rates = sampled["transition_rate"].to_numpy(dtype=float)
    last_rates = rates[-s.converged_rate_epochs :]
    converged_rate = float(np.mean(last_rates))
    rate_cv = ratio(float(np.std(last_rates)), converged_rate)
    after = second[second["epoch"] >= found] if found is not None else second
    threshold = heatmap_threshold(after["delta_h2"].to_numpy(), s.heatmap_percentile) if len(after) else math.nan
    shown = evolution_epochs_to_show(found, considered)

    pca = [_epoch_pca(weights_at_epoch(snapshots, epoch, DTYPE), draws, s, max_state_norm) for epoch in shown]
    arrays = {
        "epochs_shown": np.asarray(shown, dtype=np.int64),
        "coordinates": np.stack([coordinates for coordinates, _, _ in pca]),
        "outputs": np.stack([outputs for _, outputs, _ in pca]),
        "explained": np.stack([explained for _, _, explained in pca]),
    }

    # claims 7, 8 and 16
    transition, second_claims, descent = claims["transition"], claims["second_order"], claims["double_descent"]
    last = weights_at_epoch(snapshots, last_epoch, DTYPE)
    h_bar = bounded_prefix(_warmed_up(last, draws), max_state_norm)  # empty if the warm-up already diverged
    scaling = (
        second_order_scaling_deviation(
            last, h_bar[0], s, second_claims["noise_stds"], (*streams, "second_order_scaling")
        )
        if h_bar.shape[0]
        else math.nan
    )
    rise = loss_rise_near(
        history, found, window=descent["window_strides"] * s.epoch_stride, smoothing=descent["smoothing"]
    )
    checks = _evolution_checks(sampled, found, transition["after_epochs"], converged_rate, rate_cv, scaling, rise)
    summary = {
        "num_snapshots": len(available),
        "max_epoch": last_epoch,
        "coarse_transition_epoch": coarse,
        "transition_epoch": found,
        "converged_rate": converged_rate,
        "rate_cv": rate_cv,
        "heatmap_threshold": threshold,
        "epochs_shown": shown,
    }
    transition_frame = with_key([summary], key, TRANSITION_SCHEMA)
    transition_frame[["coarse_transition_epoch", "transition_epoch"]] = transition_frame[
        ["coarse_transition_epoch", "transition_epoch"]
    ].astype("Int64")
    return EvolutionAnalysis(
        epochs=with_key(table, key, EVOLUTION_SCHEMA),
        second_order=with_key(second, key, SECOND_ORDER_SCHEMA),
        transition=transition_frame,
        statistics=statistic_rows(checks, **{name: key[name] for name in ModelKey._fields}),
        arrays=arrays,
    )


def _evolution_checks(
    sampled: pd.DataFrame,
    found: int | None,
    after_epochs: int,
    converged_rate: float,
    rate_cv: float,
    scaling: float,
    loss_rise: float,
) -> list[Check]:
    """The checks of claims 7, 8 and 16 on the sampled epochs (thresholds as keys of ``analysis.claims``)."""
    before = sampled[sampled["epoch"] < found] if found is not None else sampled.iloc[:0]
    since = sampled[sampled["epoch"] >= found] if found is not None else sampled.iloc[:0]
    tail = sampled.tail(after_epochs)

    def mean(values: pd.Series) -> float:
        return float(values.mean()) if len(values) else math.nan

    return [
        Check(7, "transition_epoch_found", float(found is not None), ">=", 1),
        Check(7, "critical_fraction_before", mean(before["critical_fraction"]), "<=", "transition.max_fraction_before"),
        Check(7, "unstable_fraction_before", mean(before["unstable_fraction"]), "<=", "transition.max_fraction_before"),
        Check(7, "critical_fraction_last", mean(tail["critical_fraction"]), ">=", "transition.min_fraction_after"),
        Check(7, "unstable_fraction_last", mean(tail["unstable_fraction"]), ">=", "transition.min_fraction_after"),
        Check(
            7,
            "rate_ratio_before",
            ratio(mean(before["transition_rate"]), converged_rate),
            "<=",
            "transition.max_rate_ratio_before",
        ),
        Check(7, "rate_cv_last", rate_cv, "<=", "transition.max_rate_cv"),
        Check(
            8,
            "second_order_ratio",
            ratio(mean(since["delta_h2_norm"]), mean(before["delta_h2_norm"])),
            ">=",
            "second_order.min_ratio_after",
        ),
        Check(
            8,
            "first_order_ratio",
            mean(since["delta_h1_norm"] / since["delta_h2_norm"]),
            "<=",
            "second_order.max_first_order_ratio",
        ),
        Check(8, "second_order_scaling_deviation", scaling, "<=", "second_order.max_scaling_deviation"),
        Check(
            16,
            "loss_rise_near_transition",
            loss_rise,
            ">=",
            "double_descent.min_rise",
        ),
    ]
