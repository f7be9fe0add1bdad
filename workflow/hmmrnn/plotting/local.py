"""Figures of the local dynamics and the single-neuron mechanism (Figs 5-8, 17-24)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import NamedTuple

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.cm import ScalarMappable
from matplotlib.collections import LineCollection, PolyCollection
from matplotlib.colors import BoundaryNorm, ListedColormap, Normalize, to_rgba_array
from matplotlib.figure import Figure, SubFigure
from matplotlib.lines import Line2D

from ..io import load_arrays
from ..tables import (
    INITIAL_CONDITIONS,
    INTERVENTIONS,
    ZONES,
)
from ._style import empty_figure, empty_panel, label_axes

__all__ = [
    "BAND_COLORS",
    "CONDITION_TITLES",
    "DISPERSION_COLORS",
    "INTERVENTION_TITLES",
    "KICK_GROUP_COLORS",
    "LocalResults",
    "POPULATION_STYLES",
    "RT_BIN_COLORS",
    "RT_CMAP",
    "TRACK_COLORS",
    "TRAJECTORY_COLOR",
    "UNSTABLE_COLORS",
    "WEIGHT_TITLES",
    "figure_dispersion",
    "figure_interventions",
    "figure_local_dynamics",
    "figure_mean_activities",
    "figure_noise_sensitivity",
    "figure_preactivation_maps",
    "figure_residency",
    "figure_subspace_residency",
    "figure_weight_blocks",
    "load_local_results",
    "residency_bins",
]


RT_BIN_COLORS = (plt.cm.inferno(0.88), plt.cm.inferno(0.6), "darkred", "grey")

RT_CMAP = "inferno_r"  # mean RT of histogram bars and zone bars: short (bright) to long (dark)

UNSTABLE_COLORS = ("silver", "orange", "darkred")  # U = 0, 1, ≥ 2

TRACK_COLORS = ("dimgrey", "darkgrey")  # background track: output 0, any other output (§6.10)

TRAJECTORY_COLOR = "darkblue"

CONDITION_TITLES = tuple(condition.capitalize() for condition in INITIAL_CONDITIONS)  # "Cluster", "Transition"

DISPERSION_COLORS = {"Cluster": ("royalblue", "darkblue"), "Transition": ("indianred", "darkred")}

KICK_GROUP_COLORS = ("darkred", "navy", "darkorange", "teal", "purple", "olive")

POPULATION_STYLES = (("blue", "Integrating pop 1"), ("red", "Integrating pop 2"))

BAND_COLORS = ("#efefef", "#d0d0d0")  # alternating output segments of Fig 8

INTERVENTION_TITLES = {"kick": "Kick neurons", "noise_projection": "Noise projection", "control": "Control"}


class LocalResults(NamedTuple):
    """One family's local-dynamics results as loaded from ``results/analysis/{hmm}/`` (None: not loaded)."""

    label: str
    arrays: dict[str, np.ndarray]
    zones: pd.DataFrame | None = None
    noise_sensitivity: pd.DataFrame | None = None
    kick_neurons: pd.DataFrame | None = None
    interventions: pd.DataFrame | None = None


class _States(NamedTuple):
    """States of one residency run: (n, 2) PC coordinates and (n,) RT, SC, U and zone index into ZONES."""

    pc: np.ndarray
    residency_time: np.ndarray
    sign_changes: np.ndarray
    unstable_directions: np.ndarray
    zone: np.ndarray


def load_local_results(
    families: Sequence[str], labels: Mapping[str, str], files: Mapping[str, Sequence[str]]
) -> list[LocalResults]:
    """One :class:`LocalResults` per family from the per-family files named in ``files``.

    Parameters
    ----------
    families : sequence of str
        Family names, in the order of the file lists.
    labels : mapping of str to str
        Display label per family.
    files : mapping of str to sequence of str
        ``arrays`` (``local.npz``) and any of ``zones, noise_sensitivity, kick_neurons, interventions`` mapped to
        one path per family (a figure rule's named inputs); other names are ignored.

    Returns
    -------
    list of LocalResults
    """
    from ..io import read_parquet
    from ..tables import INTERVENTION_SCHEMA, KICK_SCHEMA, NOISE_SENSITIVITY_SCHEMA, ZONES_SCHEMA

    tables = {
        "zones": ZONES_SCHEMA,
        "noise_sensitivity": NOISE_SENSITIVITY_SCHEMA,
        "kick_neurons": KICK_SCHEMA,
        "interventions": INTERVENTION_SCHEMA,
    }
    return [
        LocalResults(
            labels[hmm],
            load_arrays(files["arrays"][index]),
            **{name: read_parquet(files[name][index], schema) for name, schema in tables.items() if name in files},
        )
        for index, hmm in enumerate(families)
    ]


def residency_bins(residency_time: np.ndarray, zone_cuts: np.ndarray) -> np.ndarray:
    """RT colour bin of every state (§6.8): edges [1, transition_cut, 4, kick_cut + 1, max RT].

    Parameters
    ----------
    residency_time : (n,) ndarray
    zone_cuts : (2,) ndarray
        ``[transition_cut, kick_cut]``.

    Returns
    -------
    (n,) int ndarray
        0: RT < transition_cut; 1: < 4; 2: < kick_cut + 1; 3: the rest (an edge below the previous one is raised).
    """
    return np.searchsorted(_bin_edges(zone_cuts), np.asarray(residency_time, dtype=float), side="right")


def _bin_edges(zone_cuts: np.ndarray) -> np.ndarray:
    """The inner RT bin edges [transition_cut, 4, kick_cut + 1], each raised to at least the one before."""
    return np.maximum.accumulate([float(zone_cuts[0]), 4.0, float(zone_cuts[1]) + 1.0])


def _bin_labels(zone_cuts: np.ndarray) -> list[str]:
    low, middle, high = _bin_edges(zone_cuts)
    return [f"[1, {low:g})", f"[{low:g}, {middle:g})", f"[{middle:g}, {high:g})", f"≥ {high:g}"]


def _zone_labels(zone_cuts: np.ndarray) -> list[str]:
    """Bar labels of the transition, kick-zone and cluster zones with the actual cut-offs."""
    low, high = (f"{float(cut):g}" for cut in zone_cuts)
    return [f"RT < {low}\n(Transition)", f"{low} <= RT <= {high}\n(Kick-Zone)", f"RT > {high}\n(Cluster)"]


def _states(arrays: Mapping[str, np.ndarray], pair: int | None = None) -> _States:
    """The whole-space residency states (``pair`` None) or those of output-pair subspace ``pair``."""
    if pair is None:
        names = ("residency_pc", "residency_time", "sign_changes", "unstable_directions", "zone")
    else:
        names = tuple(
            f"subspace{pair}_{name}" for name in ("pc", "residency_time", "sign_changes", "unstable_directions", "zone")
        )
    pc, time, sign_changes, unstable, zone = (np.asarray(arrays[name]) for name in names)
    return _States(pc.reshape(-1, 2), time.astype(float), sign_changes.astype(float), unstable.astype(int), zone)


def _trajectory_segments(trajectories: np.ndarray) -> np.ndarray:
    """(K·S, 2, 2) line segments of (K, S+1, 2) trajectories (segments touching a nan dropped)."""
    trajectories = np.asarray(trajectories, dtype=float).reshape(-1, trajectories.shape[-2], 2)
    segments = np.stack([trajectories[:, :-1], trajectories[:, 1:]], axis=2).reshape(-1, 2, 2)
    return segments[np.isfinite(segments).all(axis=(1, 2))]


def _track_background(ax, arrays: Mapping[str, np.ndarray]) -> None:
    """The located noisy track as a faint scatter: output 0 dim grey, other outputs dark grey (§6.10)."""
    track = np.asarray(arrays.get("track_pc", np.zeros((0, 2)))).reshape(-1, 2)
    if not len(track):
        return
    outputs = np.asarray(arrays["track_outputs"])[: len(track)]
    colors = to_rgba_array(TRACK_COLORS)[(outputs != 0).astype(int)]
    ax.scatter(track[:, 0], track[:, 1], s=2, c=colors, alpha=0.35, lw=0, zorder=0, rasterized=True)


def _draw_trajectories(ax, trajectories: np.ndarray, color, label: str | None = None) -> None:
    """(K, S+1, 2) trajectories as one LineCollection plus their points, coloured ``color``."""
    segments = _trajectory_segments(trajectories)
    if len(segments):
        ax.add_collection(LineCollection(segments, colors=color, lw=0.7, alpha=0.7, label=label, zorder=2))
        points = np.asarray(trajectories).reshape(-1, 2)
        ax.scatter(points[:, 0], points[:, 1], s=3, color=color, lw=0, alpha=0.7, zorder=2)


def _start_star(ax, trajectories: np.ndarray) -> None:
    starts = np.asarray(trajectories).reshape(-1, np.shape(trajectories)[-2], 2)[:, 0]
    starts = starts[np.isfinite(starts).all(axis=1)]
    if len(starts):
        ax.scatter(starts[:1, 0], starts[:1, 1], marker="*", s=140, color="black", zorder=5, label="start")


def _direction(arrays: Mapping[str, np.ndarray], group: int) -> str:
    """``a→b`` of kick group ``group`` (``?`` if unknown)."""
    directions = np.asarray(arrays.get("kick_directions", np.zeros((0, 2), dtype=int))).reshape(-1, 2)
    if 0 <= group < len(directions):
        return f"{int(directions[group, 0])}→{int(directions[group, 1])}"
    return "?"


def _why(arrays: Mapping[str, np.ndarray], default: str) -> str:
    """Why a panel is empty: the analysis' reason when the network's noisy run diverged, else ``default``."""
    return f"not analysed: {arrays['diverged']}" if "diverged" in arrays else default


def _rows(figure: Figure, count: int) -> np.ndarray:
    """``count`` stacked subfigures of ``figure``."""
    return figure.subfigures(count, 1, squeeze=False)[:, 0]


def _colorbar_label(colorbar, label: str) -> None:
    colorbar.set_label(label, fontsize=7)
    colorbar.ax.tick_params(labelsize=6)


def _off(axes: Sequence) -> None:
    for ax in axes:
        ax.set_axis_off()


def _panel_rt_scatter(ax, states: _States, zone_cuts: np.ndarray) -> None:
    """(a) States in PC space coloured by the four RT bins; short-lived states drawn on top."""
    bins = residency_bins(states.residency_time, zone_cuts)
    order = np.argsort(-bins, kind="stable")
    colors = to_rgba_array(RT_BIN_COLORS)[bins[order]]
    ax.scatter(states.pc[order, 0], states.pc[order, 1], c=colors, s=3, lw=0, rasterized=True)
    mappable = ScalarMappable(BoundaryNorm(np.arange(5) - 0.5, 4), ListedColormap(RT_BIN_COLORS))
    colorbar = ax.figure.colorbar(mappable, ax=ax, ticks=range(4), fraction=0.08, pad=0.02)
    colorbar.ax.set_yticklabels(_bin_labels(zone_cuts))
    _colorbar_label(colorbar, "residency time (steps)")
    ax.set_title("(a) residency time", fontsize=8)


def _panel_sign_changes(ax, states: _States, norm: Normalize) -> None:
    """(b) Histogram of SC with int(max SC) bins, each bar coloured by the mean RT of its states."""
    num_bins = max(int(np.nanmax(states.sign_changes)), 1)
    counts, edges = np.histogram(states.sign_changes, bins=num_bins)
    index = np.clip(np.searchsorted(edges, states.sign_changes, side="right") - 1, 0, num_bins - 1)
    sums = np.bincount(index, weights=states.residency_time, minlength=num_bins)
    mean_time = np.divide(sums, counts, out=np.full(num_bins, np.nan), where=counts > 0)
    colors = plt.get_cmap(RT_CMAP)(norm(np.nan_to_num(mean_time, nan=norm.vmin)))
    ax.bar(edges[:-1], counts, width=np.diff(edges), align="edge", color=colors, edgecolor="white", lw=0.3)
    _colorbar_label(ax.figure.colorbar(ScalarMappable(norm, RT_CMAP), ax=ax, fraction=0.08, pad=0.02), "mean RT")
    ax.set_xlabel("logit-gradient sign changes (SC)", fontsize=7)
    ax.set_ylabel("number of states", fontsize=7)
    ax.tick_params(labelsize=6)
    ax.set_title("(b) sign changes", fontsize=8)


def _panel_zone_unstable(ax, states: _States, zone_cuts: np.ndarray, norm: Normalize) -> None:
    """(c) Mean number of unstable directions per zone, bars coloured by the zone's mean RT, n per zone on top."""
    shown = [ZONES.index(zone) for zone in ("transition", "kick_zone", "cluster")]
    zone = np.clip(states.zone.astype(int), 0, len(ZONES) - 1)
    counts = np.bincount(zone, minlength=len(ZONES))[shown]
    mean_unstable = np.bincount(zone, weights=states.unstable_directions, minlength=len(ZONES))[shown]
    mean_time = np.bincount(zone, weights=states.residency_time, minlength=len(ZONES))[shown]
    mean_unstable = np.divide(mean_unstable, counts, out=np.zeros(3), where=counts > 0)
    mean_time = np.divide(mean_time, counts, out=np.full(3, norm.vmin), where=counts > 0)
    bars = ax.bar(range(3), mean_unstable, color=plt.get_cmap(RT_CMAP)(norm(mean_time)), edgecolor="black", lw=0.4)
    ax.bar_label(bars, labels=[f"n={count}" for count in counts], fontsize=6, padding=1)
    ax.set_xticks(range(3), labels=_zone_labels(zone_cuts), fontsize=6)
    ax.set_ylabel("mean # unstable directions (U)", fontsize=7)
    ax.tick_params(axis="y", labelsize=6)
    ax.margins(y=0.15)
    _colorbar_label(ax.figure.colorbar(ScalarMappable(norm, RT_CMAP), ax=ax, fraction=0.08, pad=0.02), "mean RT")
    ax.set_title("(c) unstable directions per zone", fontsize=8)


def _panel_unstable_scatter(ax, states: _States) -> None:
    """(d) States in PC space coloured by U ∈ {0, 1, ≥ 2}; unstable states drawn on top."""
    category = np.minimum(states.unstable_directions, 2)
    order = np.argsort(category, kind="stable")
    colors = to_rgba_array(UNSTABLE_COLORS)[category[order]]
    ax.scatter(states.pc[order, 0], states.pc[order, 1], c=colors, s=3, lw=0, rasterized=True)
    counts = np.bincount(category, minlength=3)
    handles = [
        Line2D([], [], ls="", marker="o", ms=4, color=color, label=f"{name} (n={count})")
        for color, name, count in zip(UNSTABLE_COLORS, ("U = 0", "U = 1", "U ≥ 2"), counts, strict=True)
    ]
    ax.legend(handles=handles, fontsize=6, loc="best", title="unstable directions", title_fontsize=6)
    ax.set_title("(d) unstable directions", fontsize=8)


def _residency_row(block: SubFigure, arrays: Mapping[str, np.ndarray], pair: int | None, title: str) -> None:
    """The four residency panels of §6.8 for the whole space (``pair`` None) or an output-pair subspace."""
    block.suptitle(title, fontsize=9)
    states = _states(arrays, pair)
    if not len(states.residency_time):
        empty_panel(
            block.subplots(),
            _why(arrays, "no states in this space" if pair is None else "no states in this output-pair subspace"),
        )
        return
    axes = block.subplots(1, 4)
    zone_cuts = np.asarray(arrays["zone_cuts"], dtype=float)
    norm = Normalize(1.0, max(float(np.nanmax(states.residency_time)), 2.0))
    if pair is None:
        ratios, dims, prefix = np.asarray(arrays["pca_explained"]), (0, 1), "PC"
    else:
        ratios, prefix = np.zeros(0), "subspace PC"
        dims = tuple(int(component) - 1 for component in arrays["subspace_shown_components"])
    _panel_rt_scatter(axes[0], states, zone_cuts)
    _panel_sign_changes(axes[1], states, norm)
    _panel_zone_unstable(axes[2], states, zone_cuts, norm)
    _panel_unstable_scatter(axes[3], states)
    for ax in (axes[0], axes[3]):
        label_axes(ax, ratios, dims, prefix)


def _pair_title(arrays: Mapping[str, np.ndarray], pair: int) -> str:
    a, b = (int(output) for output in np.asarray(arrays["subspace_pairs"])[pair])
    first, second = (int(component) for component in arrays["subspace_shown_components"])
    return f"Outputs {a} & {b} Subspace (PC{first} vs PC{second})"


def _has_noise_sensitivity(arrays: Mapping[str, np.ndarray]) -> bool:
    return bool(arrays["ns_found"]) and np.asarray(arrays["ns_trajectories"]).shape[0] == 2


def _noise_columns(arrays: Mapping[str, np.ndarray]) -> int:
    return 2 * len(arrays["ns_gammas"]) if _has_noise_sensitivity(arrays) else 1


def _noise_row(block: SubFigure, arrays: Mapping[str, np.ndarray], columns: int, title: str) -> None:
    """1 × 2G panels: trajectories from the cluster and the transition point for every γ over the located track."""
    block.suptitle(title, fontsize=9)
    if not _has_noise_sensitivity(arrays):
        empty_panel(block.subplots(), _why(arrays, "no cluster/transition point found"))
        return
    axes = block.subplots(1, columns, squeeze=False)[0]
    gammas, trajectories = np.asarray(arrays["ns_gammas"]), np.asarray(arrays["ns_trajectories"])
    for start, name in enumerate(CONDITION_TITLES):
        for index, gamma in enumerate(gammas):
            ax = axes[start * len(gammas) + index]
            _track_background(ax, arrays)
            _draw_trajectories(ax, trajectories[start, index], TRAJECTORY_COLOR)
            _start_star(ax, trajectories[start, index])
            ax.autoscale_view()
            label_axes(ax, np.asarray(arrays["pca_explained"]))
            ax.set_title(f"{name} (γ={gamma:g})", fontsize=8)
    _off(axes[2 * len(gammas) :])


def _shades(name: str, count: int) -> list:
    """``count`` colours of an initial condition, light (small γ) to dark (γ = 1)."""
    palette = DISPERSION_COLORS[name]
    if count <= len(palette):
        return list(palette[len(palette) - count :])
    return list(plt.get_cmap("Blues" if name == "Cluster" else "Reds")(np.linspace(0.45, 1.0, count)))


def _dispersion_row(axes: Sequence, arrays: Mapping[str, np.ndarray], label: str) -> None:
    """Trace of the covariance and mean distance to the mean trajectory vs step, for every γ > 0."""
    if not _has_noise_sensitivity(arrays):
        for ax in axes:
            empty_panel(ax, _why(arrays, "no cluster/transition point found"))
        axes[0].set_title(label, fontsize=8)
        return
    gammas = np.asarray(arrays["ns_gammas"], dtype=float)
    shown = np.flatnonzero(gammas > 0)
    if not len(shown):
        for ax in axes:
            empty_panel(ax, "only γ = 0 (no dispersion)")
        return
    for ax, name, ylabel in (
        (axes[0], "ns_trace", "trace of covariance"),
        (axes[1], "ns_distance", "mean distance to mean trajectory"),
    ):
        values = np.asarray(arrays[name])
        steps = np.arange(values.shape[-1])
        for start, condition in enumerate(CONDITION_TITLES):
            for color, index in zip(_shades(condition, len(shown)), shown, strict=True):
                label_line = f"{condition} (γ={gammas[index]:g})"
                ax.plot(steps, values[start, index], "o-", color=color, ms=3, lw=1.2, label=label_line)
        ax.set_xlabel("step", fontsize=7)
        ax.set_ylabel(ylabel, fontsize=7)
        ax.tick_params(labelsize=6)
        ax.set_title(f"{label}: {ylabel}", fontsize=8)
    axes[0].legend(fontsize=6)


def _zone_profile(table: pd.DataFrame | None, neuron: int) -> str:
    """``cl · kz · tr`` mean pre-activations of ``neuron`` from the kick-neuron table (empty if unknown)."""
    if table is None:
        return ""
    rows = table[table["neuron"] == neuron]
    if rows.empty:
        return ""
    row = rows.iloc[0]
    values = (row["zone_cluster_preactivation"], row["zone_kick_preactivation"], row["zone_transition_preactivation"])
    return "\nz̄ cl {:.2f} · kz {:.2f} · tr {:.2f}".format(*values)


def _preactivation_block(block: SubFigure, result: LocalResults) -> None:
    """One panel per kick neuron (rows = kick groups): the trajectory coloured by that neuron's pre-activation."""
    arrays = result.arrays
    neurons = np.asarray(arrays["kick_neurons"], dtype=int)
    groups = np.asarray(arrays["kick_group"], dtype=int)
    points, values = np.asarray(arrays["map_pc"]).reshape(-1, 2), np.asarray(arrays["map_preactivation"])
    block.suptitle(f"{result.label}: kick-neuron pre-activation maps", fontsize=9)
    if not len(neurons) or len(points) < 2:
        empty_panel(
            block.subplots(),
            _why(arrays, "no kick neurons found" if not len(neurons) else "no pre-activation trajectory"),
        )
        return
    order = np.argsort(groups, kind="stable")
    group_ids, rows = np.unique(groups[order], return_inverse=True)
    columns = np.arange(len(order)) - np.searchsorted(groups[order], groups[order], side="left")
    axes = block.subplots(len(group_ids), int(columns.max()) + 1, squeeze=False)
    limit = float(np.nanmax(np.abs(values))) if np.isfinite(values).any() else 1.0
    norm, cmap = Normalize(-(limit or 1.0), limit or 1.0), plt.get_cmap("seismic")
    segments = np.stack([points[:-1], points[1:]], axis=1)
    used = np.zeros(axes.shape, dtype=bool)
    for row, column, column_index in zip(rows, columns, order, strict=True):
        ax, used[row, column] = axes[row, column], True
        ax.plot(points[:, 0], points[:, 1], color="lightgrey", lw=0.4, zorder=0)
        lines = LineCollection(segments, cmap=cmap, norm=norm, lw=0.8)
        lines.set_array(values[1:, column_index])
        ax.add_collection(lines)
        ax.scatter(points[:, 0], points[:, 1], c=values[:, column_index], cmap=cmap, norm=norm, s=3, lw=0)
        ax.autoscale_view()
        label_axes(ax, np.asarray(arrays["pca_explained"]))
        neuron, group = int(neurons[column_index]), int(groups[column_index])
        ax.set_title(
            f"neuron {neuron} (group {_direction(arrays, group)})" + _zone_profile(result.kick_neurons, neuron),
            fontsize=7,
        )
    _off(axes[~used])
    _colorbar_label(
        block.colorbar(ScalarMappable(norm, cmap), ax=axes[used].tolist(), shrink=0.8), "Pre-Activation Value"
    )


WEIGHT_TITLES = (
    "Kick Neurons ⇄ Kick Neurons",
    "Kick Neurons ⇄ Integrating Populations",
    "Integrating Pop. ⇄ Integrating Pop.",
)


def _kick_boundaries(arrays: Mapping[str, np.ndarray], block_kick: np.ndarray) -> np.ndarray:
    """Positions (between rows) where the kick group changes along ``block_kick``."""
    neurons, groups = np.asarray(arrays["kick_neurons"]), np.asarray(arrays["kick_group"])
    if not len(neurons):
        return np.zeros(0, dtype=int)
    match = np.asarray(block_kick)[:, None] == neurons[None, :]
    group = np.where(match.any(axis=1), groups[match.argmax(axis=1)], -1)
    return np.flatnonzero(np.diff(group) != 0) + 1


def _population_ticks(ax, axis: str, count: int, num_first: int) -> None:
    """Ticks "pop 1" and "pop 2" at the centres of the two populations (the first ``num_first`` of ``count``)."""
    sizes, centres = np.array([num_first, count - num_first]), np.array([num_first, count + num_first]) / 2 - 0.5
    setter = ax.set_xticks if axis == "x" else ax.set_yticks
    setter(centres[sizes > 0], labels=np.array(["pop 1", "pop 2"])[sizes > 0], fontsize=6)


def _weight_row(block: SubFigure, result: LocalResults, index: int | None) -> None:
    """The three weight blocks of block pair ``index`` (rows = targets, columns = sources), symmetric "bwr" range."""
    arrays = result.arrays
    axes = block.subplots(1, 3)
    if index is None:
        block.suptitle(f"{result.label}: recurrent weights", fontsize=9)
        for ax in axes:
            empty_panel(ax, _why(arrays, "no pair of kick groups found"))
        return
    pair = np.asarray(arrays["block_pairs"])[index]
    block.suptitle(
        f"{result.label}: kick groups {_direction(arrays, int(pair[0]))} and {_direction(arrays, int(pair[1]))}",
        fontsize=9,
    )
    matrices = [np.asarray(arrays[f"block{index}_{name}"]) for name in ("kick_kick", "kick_population")]
    matrices.append(np.asarray(arrays[f"block{index}_population_population"]))
    limit = max((float(np.nanmax(np.abs(matrix))) for matrix in matrices if matrix.size), default=0.0) or 1.0
    norm = Normalize(-limit, limit)
    kick = np.asarray(arrays[f"block{index}_kick"], dtype=int)
    num_population, num_first = len(arrays[f"block{index}_population"]), int(arrays[f"block{index}_num_population_1"])
    kick_lines = _kick_boundaries(arrays, kick) - 0.5
    population_lines = [num_first - 0.5] if 0 < num_first < num_population else []
    images = []
    for ax, matrix, title, (row_lines, column_lines) in zip(
        axes,
        matrices,
        WEIGHT_TITLES,
        ((kick_lines, kick_lines), (kick_lines, population_lines), (population_lines, population_lines)),
        strict=True,
    ):
        ax.set_title(title, fontsize=8)
        if not matrix.size:
            empty_panel(ax, "no integrating population")
            continue
        images.append(ax.imshow(matrix, cmap="bwr", norm=norm, interpolation="nearest", aspect="auto"))
        for line in row_lines:
            ax.axhline(line, color="black", lw=0.6)
        for line in column_lines:
            ax.axvline(line, color="black", lw=0.6)
        ax.set_xlabel("source", fontsize=7)
        ax.set_ylabel("target", fontsize=7)
    if matrices[0].size:
        axes[0].set_xticks(range(len(kick)), labels=kick, fontsize=6, rotation=90)
        axes[0].set_yticks(range(len(kick)), labels=kick, fontsize=6)
    if matrices[1].size:
        axes[1].set_yticks(range(len(kick)), labels=kick, fontsize=6)
        _population_ticks(axes[1], "x", num_population, num_first)
    if matrices[2].size:
        _population_ticks(axes[2], "x", num_population, num_first)
        _population_ticks(axes[2], "y", num_population, num_first)
    if images:
        _colorbar_label(block.colorbar(images[0], ax=axes.tolist(), shrink=0.9), "Weight value")


def _activity_panel(ax, arrays: Mapping[str, np.ndarray], label: str) -> None:
    """Mean activity of the kick groups and the two integrating populations over output-segment bands (§6.13)."""
    kick = np.asarray(arrays["activity_kick"])
    ax.set_title(f"{label}: Mean activity of Kick Neurons and Noise Integrating Populations", fontsize=8)
    if kick.ndim != 2 or not kick.size:
        empty_panel(ax, _why(arrays, "no kick groups found"))
        return
    shown = int(arrays["activity_shown_steps"]) or kick.shape[1]
    shown = min(shown, kick.shape[1])
    steps, outputs = np.arange(shown), np.asarray(arrays["activity_outputs"])[:shown]
    starts = np.r_[0, np.flatnonzero(np.diff(outputs) != 0) + 1]
    ends = np.r_[starts[1:], shown] - 0.5
    starts = starts - 0.5
    rectangles = np.stack(
        [np.c_[starts, np.zeros_like(starts)], np.c_[starts, np.ones_like(starts)]]
        + [np.c_[ends, np.ones_like(ends)], np.c_[ends, np.zeros_like(ends)]],
        axis=1,
    )
    colors = np.asarray(BAND_COLORS)[np.arange(len(starts)) % 2]
    ax.add_collection(PolyCollection(rectangles, facecolors=colors, lw=0, transform=ax.get_xaxis_transform(), zorder=0))
    for group in range(kick.shape[0]):
        ax.plot(
            steps,
            kick[group, :shown],
            color=KICK_GROUP_COLORS[group % len(KICK_GROUP_COLORS)],
            lw=1.2,
            label=f"Kick group {_direction(arrays, group)}",
        )
    population = np.asarray(arrays["activity_population"])
    population = population if population.ndim == 2 else np.zeros((0, shown))
    for row, (color, name) in zip(population, POPULATION_STYLES, strict=False):
        ax.plot(steps, row[:shown], "--", color=color, lw=1.2, label=name)
    ax.set_xlim(-0.5, shown - 0.5)
    ax.set_xlabel("Time", fontsize=7)
    ax.set_ylabel("Mean activity", fontsize=7)
    ax.tick_params(labelsize=6)
    ax.legend(
        fontsize=6, loc="upper left", bbox_to_anchor=(1.01, 1.0), title="grey bands: output segments", title_fontsize=6
    )


def _mu_style(mu: float, nominal: str = "grey") -> tuple[str, str]:
    """Colour and name of a shown modulation factor: < 1 inhibition, 1 nominal, > 1 excitation."""
    if np.isclose(mu, 1.0):
        return nominal, "nominal"
    return ("darkblue", "inhibition") if mu < 1 else ("darkred", "excitation")


def _fallback_note(table: pd.DataFrame | None, group: int, intervention: str) -> str:
    if table is None or "used_fallback" not in table:
        return ""
    rows = table[(table["group"] == group) & (table["intervention"] == intervention) & table["used_fallback"]]
    return "" if rows.empty else f"{len(rows)} μ with < 2 switches: windows at the μ = 1 switches"


def _intervention_block(block: SubFigure, result: LocalResults, index: int | None) -> None:
    """2 × 3 panels for intervened group ``index``: displayed trajectories per shown μ, # critical pairs vs μ."""
    arrays = result.arrays
    if index is None:
        block.suptitle(f"{result.label}: interventions", fontsize=9)
        empty_panel(block.subplots(), _why(arrays, "no kick group to intervene on"))
        return
    group = int(np.asarray(arrays["intervention_groups"])[index])
    block.suptitle(f"{result.label}: kick group {_direction(arrays, group)}", fontsize=9)
    axes = block.subplots(2, 3)
    for ax in axes[1, 1:]:
        ax.sharey(axes[1, 0])
    display = np.asarray(arrays["intervention_display"])[index]
    mus, shown_mus = np.asarray(arrays["intervention_mus"]), np.asarray(arrays["intervention_shown_mus"])
    means, stds = np.asarray(arrays["intervention_critical_mean"]), np.asarray(arrays["intervention_critical_std"])
    highlight = np.isclose(mus[:, None], shown_mus[None, :]).any(axis=1)
    for kind, intervention in enumerate(INTERVENTIONS):
        title = INTERVENTION_TITLES.get(intervention, intervention)
        top, bottom = axes[0, kind], axes[1, kind]
        _track_background(top, arrays)
        for shown, mu in enumerate(shown_mus):
            color, name = _mu_style(float(mu))
            _draw_trajectories(top, display[kind, shown], color, label=f"μ = {mu:g} ({name})")
        if len(shown_mus):
            _start_star(top, display[kind, 0])
        top.autoscale_view()
        label_axes(top, np.asarray(arrays["pca_explained"]))
        top.set_title(title, fontsize=8)
        bottom.errorbar(
            mus[~highlight],
            means[index, kind, ~highlight],
            yerr=stds[index, kind, ~highlight],
            fmt="o",
            color="grey",
            ms=3,
            capsize=2,
            lw=0.8,
        )
        for mu in shown_mus:
            at = np.isclose(mus, mu)
            bottom.errorbar(
                mus[at],
                means[index, kind, at],
                yerr=stds[index, kind, at],
                fmt="o",
                color=_mu_style(float(mu), "black")[0],
                ms=5,
                capsize=3,
                lw=1,
                label=f"μ = {mu:g}",
            )
        note = _fallback_note(result.interventions, group, intervention)
        if note:
            bottom.text(0.02, 0.02, note, transform=bottom.transAxes, fontsize=5, color="grey")
        bottom.set_xlabel("modulation μ", fontsize=7)
        bottom.set_ylabel("# Critical pairs", fontsize=7)
        bottom.tick_params(labelsize=6)
        top.tick_params(labelsize=6)
    axes[0, 0].legend(fontsize=6, loc="best")
    axes[1, 0].legend(fontsize=6, loc="best")


def _residency_rows(results: Sequence[LocalResults]) -> Figure:
    figure = plt.figure(figsize=(19, 3.9 * len(results)), layout="constrained")
    for block, result in zip(_rows(figure, len(results)), results, strict=True):
        _residency_row(block, result.arrays, None, f"{result.label}: Residency Analysis")
    return figure


def figure_local_dynamics(results: Sequence[LocalResults]) -> Figure:
    """Fig 5: local dynamics of the 2-state network (first of ``results``).

    A: residency zones (RT bins in PC space, SC histogram, mean U per zone, U in PC space); B: trajectories from
    the cluster and the transition point for every γ.
    """
    if not results:
        return empty_figure("no 2-state family in the study")
    result = results[0]
    figure = plt.figure(figsize=(19, 7.8), layout="constrained")
    top, bottom = _rows(figure, 2)
    _residency_row(top, result.arrays, None, "A  Residency Analysis")
    _noise_row(bottom, result.arrays, _noise_columns(result.arrays), "B  Noise sensitivity")
    figure.suptitle(result.label, fontsize=10)
    return figure


def figure_residency(results: Sequence[LocalResults]) -> Figure:
    """Figs 17, 18: one row of the four residency panels (whole state space) per family."""
    if not results:
        return empty_figure("no family for this figure in the study")
    return _residency_rows(results)


def figure_subspace_residency(results: Sequence[LocalResults]) -> Figure:
    """Fig 19: one row of the four residency panels per (family, output-pair subspace)."""
    rows = [
        (result, pair)
        for result in results
        for pair in (range(len(result.arrays["subspace_pairs"])) if len(result.arrays["subspace_pairs"]) else [None])
    ]
    if not rows:
        return empty_figure("no multi-orbit family in the study")
    figure = plt.figure(figsize=(19, 3.9 * len(rows)), layout="constrained")
    for block, (result, pair) in zip(_rows(figure, len(rows)), rows, strict=True):
        if pair is None:
            block.suptitle(f"{result.label}: Residency Analysis", fontsize=9)
            empty_panel(block.subplots(), "no output-pair subspace")
            continue
        _residency_row(
            block, result.arrays, pair, f"{result.label}: Residency Analysis - {_pair_title(result.arrays, pair)}"
        )
    return figure


def figure_noise_sensitivity(results: Sequence[LocalResults]) -> Figure:
    """Fig 20: per family, the 1 × 2G noise-sensitivity panels (cluster and transition point, every γ)."""
    if not results:
        return empty_figure("no family for this figure in the study")
    columns = max(_noise_columns(result.arrays) for result in results)
    figure = plt.figure(figsize=(3.2 * max(columns, 2), 3.3 * len(results)), layout="constrained")
    for block, result in zip(_rows(figure, len(results)), results, strict=True):
        _noise_row(block, result.arrays, columns, result.label)
    return figure


def figure_dispersion(results: Sequence[LocalResults]) -> Figure:
    """Fig 21: per family, trace of covariance and mean distance to the mean trajectory vs step (γ > 0)."""
    if not results:
        return empty_figure("no linear-chain family in the study")
    figure, axes = plt.subplots(len(results), 2, figsize=(9, 3.2 * len(results)), squeeze=False, layout="constrained")
    for row, result in zip(axes, results, strict=True):
        _dispersion_row(row, result.arrays, result.label)
    return figure


def figure_preactivation_maps(results: Sequence[LocalResults]) -> Figure:
    """Fig 22: per family, one trajectory panel per kick neuron coloured by its pre-activation ("seismic", ±max)."""
    if not results:
        return empty_figure("no 2-state family in the study")
    heights = [max(len(np.unique(result.arrays["kick_group"])), 1) for result in results]
    figure = plt.figure(figsize=(12, 3.3 * sum(heights) + 0.4 * len(results)), layout="constrained")
    for block, result in zip(
        figure.subfigures(len(results), 1, squeeze=False, height_ratios=heights)[:, 0], results, strict=True
    ):
        _preactivation_block(block, result)
    return figure


def figure_weight_blocks(results: Sequence[LocalResults], all_blocks: bool = False) -> Figure:
    """Figs 6, 23, 24: the three recurrent weight blocks, one row per (family, block pair).

    Parameters
    ----------
    results : sequence of LocalResults
    all_blocks : bool
        One row per pair of kick groups (Fig 24) instead of the first pair only (Figs 6, 23).

    Returns
    -------
    Figure
    """
    rows = []
    for result in results:
        count = len(result.arrays["block_pairs"])
        rows += [(result, index) for index in range(count if all_blocks else min(count, 1))] or [(result, None)]
    if not rows:
        return empty_figure("no family for this figure in the study")
    figure = plt.figure(figsize=(15, 4.2 * len(rows)), layout="constrained")
    for block, (result, index) in zip(_rows(figure, len(rows)), rows, strict=True):
        _weight_row(block, result, index)
    return figure


def figure_interventions(results: Sequence[LocalResults]) -> Figure:
    """Fig 7: per family and intervened kick group, trajectories for the shown μ and # critical pairs vs μ."""
    rows = [
        (result, index) for result in results for index in (range(len(result.arrays["intervention_groups"])) or [None])
    ]
    if not rows:
        return empty_figure("no 2-state family in the study")
    figure = plt.figure(figsize=(13, 6.6 * len(rows)), layout="constrained")
    for block, (result, index) in zip(_rows(figure, len(rows)), rows, strict=True):
        _intervention_block(block, result, index)
    return figure


def figure_mean_activities(results: Sequence[LocalResults]) -> Figure:
    """Fig 8: per family, mean activity of the kick groups and the integrating populations over time."""
    if not results:
        return empty_figure("no 2-state family in the study")
    figure, axes = plt.subplots(len(results), 1, figsize=(11, 3.4 * len(results)), squeeze=False, layout="constrained")
    for ax, result in zip(axes[:, 0], results, strict=True):
        _activity_panel(ax, result.arrays, result.label)
    return figure
