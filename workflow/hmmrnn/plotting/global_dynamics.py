"""Figures of the global latent dynamics (Figs 2, 3, 12, 13)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import NamedTuple

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from mpl_toolkits.mplot3d.art3d import Line3DCollection

from ..io import load_arrays
from ._style import empty_figure, empty_panel, label_axes, output_colors, output_legend, pc_label

__all__ = [
    "CRITICAL_COLOR",
    "GlobalResults",
    "TRANSITION_COLOR",
    "UNSTABLE_COLOR",
    "figure_global_dynamics",
    "figure_linear_chains",
    "figure_motifs",
    "figure_multi_orbit",
    "load_global_results",
]


TRANSITION_COLOR = "purple"

CRITICAL_COLOR = "orange"

UNSTABLE_COLOR = "darkred"


class GlobalResults(NamedTuple):
    """One family's global-dynamics results as loaded from ``results/analysis/{hmm}/`` (None: not needed)."""

    label: str
    arrays: dict[str, np.ndarray]
    summary: pd.DataFrame | None = None
    radius: pd.DataFrame | None = None
    spectrum: pd.DataFrame | None = None
    subspace_arrays: dict[str, np.ndarray] | None = None
    subspaces: pd.DataFrame | None = None


def load_global_results(
    families: Sequence[str], labels: Mapping[str, str], files: Mapping[str, Sequence[str]]
) -> list[GlobalResults]:
    """One :class:`GlobalResults` per family from the per-family files named in ``files``.

    ``files`` maps ``arrays`` and any of ``summary, radius, spectrum, subspaces, subspace_arrays`` to lists of
    paths in the order of ``families`` (a figure rule's named inputs); other names are ignored.
    """
    from ..io import read_parquet
    from ..tables import GLOBAL_SCHEMA, RADIUS_SCHEMA, SPECTRUM_SCHEMA, SUBSPACE_SCHEMA

    tables = {
        "summary": GLOBAL_SCHEMA,
        "radius": RADIUS_SCHEMA,
        "spectrum": SPECTRUM_SCHEMA,
        "subspaces": SUBSPACE_SCHEMA,
    }
    results = []
    for index, hmm in enumerate(families):
        fields = {name: read_parquet(files[name][index], schema) for name, schema in tables.items() if name in files}
        if "subspace_arrays" in files:
            fields["subspace_arrays"] = load_arrays(files["subspace_arrays"][index])
        results.append(GlobalResults(labels[hmm], load_arrays(files["arrays"][index]), **fields))
    return results


def _segments(trajectory: np.ndarray, dims: Sequence[int]) -> np.ndarray:
    """(T-1, 2, len(dims)) line segments of a (T, C) trajectory; segments touching a nan are dropped."""
    points = trajectory[:, list(dims)]
    segments = np.stack([points[:-1], points[1:]], axis=1)
    return segments[np.isfinite(segments).all(axis=(1, 2))]


def _segment_colors(trajectory: np.ndarray, outputs: np.ndarray) -> np.ndarray:
    keep = np.isfinite(trajectory[:-1]).all(axis=1) & np.isfinite(trajectory[1:]).all(axis=1)
    return output_colors(outputs[:-1][keep])


def _noise_colors(count: int) -> np.ndarray:
    return plt.cm.inferno(np.linspace(0.9, 0.1, count))  # light (small noise) to dark (large noise)


def _panel_no_input(ax, arrays: dict[str, np.ndarray], title: str = "no input") -> None:
    """Input-free trajectories (coloured by output) and the fixed point(s) found (black ×)."""
    for trajectory, outputs in zip(arrays["no_input"], arrays["no_input_outputs"], strict=True):
        if len(_segments(trajectory, (0, 1))) == 0:
            continue
        ax.add_collection(
            LineCollection(
                _segments(trajectory, (0, 1)), colors=_segment_colors(trajectory, outputs), lw=0.7, alpha=0.6
            )
        )
    starts = arrays["no_input"][:, 0]
    ax.scatter(starts[:, 0], starts[:, 1], s=3, c=output_colors(arrays["no_input_outputs"][:, 0]), lw=0)
    fixed = arrays["fixed_points"]
    ax.scatter(fixed[:, 0], fixed[:, 1], marker="x", s=60, color="black", lw=2, zorder=5, label="fixed point")
    ax.autoscale_view()
    label_axes(ax, arrays["explained_variance_ratio"])
    ax.set_title(title, fontsize=8)


def _panel_input(ax, arrays: dict[str, np.ndarray], title: str = "with input (σ = 1)") -> None:
    """Noisy trajectories as arrows, each coloured by the output at its start."""
    for trajectory, outputs in zip(arrays["input"], arrays["input_outputs"], strict=True):
        keep = np.isfinite(trajectory[:-1, :2]).all(axis=1) & np.isfinite(trajectory[1:, :2]).all(axis=1)
        if not keep.any():
            continue
        start, step = trajectory[:-1, :2][keep], np.diff(trajectory[:, :2], axis=0)[keep]
        ax.quiver(
            start[:, 0],
            start[:, 1],
            step[:, 0],
            step[:, 1],
            color=output_colors(outputs[:-1][keep]),
            angles="xy",
            scale_units="xy",
            scale=1,
            width=0.004,
            headwidth=3,
        )
    ax.autoscale_view()
    label_axes(ax, arrays["explained_variance_ratio"])
    ax.set_title(title, fontsize=8)


def _draw_contours(ax, grids: dict[str, np.ndarray], noise_levels: np.ndarray, index: tuple = ()) -> int:
    """KDE contours per noise level: solid line at the middle proportion, band between the outer two."""
    drawn = 0
    for level, color in enumerate(_noise_colors(len(noise_levels))):
        x, y = grids["kde_x"][(*index, level)], grids["kde_y"][(*index, level)]
        density, levels = grids["kde_density"][(*index, level)], grids["kde_levels"][(*index, level)]
        if not (np.isfinite(density).all() and np.isfinite(levels).all()) or not levels[0] < levels[1] < levels[2]:
            continue
        ax.contourf(x, y, density, levels=[levels[0], levels[2]], colors=[color], alpha=0.25)
        ax.contour(x, y, density, levels=[levels[1]], colors=[color], linewidths=1.2)
        drawn += 1
    handles = [
        Line2D([], [], color=c, lw=1.5, label=f"σ = {s:g}")
        for c, s in zip(_noise_colors(len(noise_levels)), noise_levels, strict=True)
    ]
    ax.legend(handles=handles, fontsize=5, loc="upper right")
    return drawn


def _panel_contours(ax, arrays: dict[str, np.ndarray], title: str = "noise level (std)") -> None:
    if not _draw_contours(ax, arrays, arrays["noise_levels"]):
        empty_panel(ax, "no contour")
    label_axes(ax, arrays["explained_variance_ratio"])
    proportions = arrays["kde_proportions"]
    ax.set_title(f"{title}: {100 * (1 - proportions[1]):.0f}% contours", fontsize=8)


def _panel_radius(ax, radius: pd.DataFrame, summary: pd.DataFrame | None) -> None:
    """Orbit radius (PC1-PC2) against the noise standard deviation, with the fitted line."""
    ax.plot(radius["noise_std"], radius["radius_pc"], "o", color="black", ms=4, label="orbit radius")
    if summary is not None and len(summary) and np.isfinite(summary["radius_slope"].iloc[0]):
        row = summary.iloc[0]
        grid = np.linspace(0, radius["noise_std"].max(), 50)
        ax.plot(
            grid,
            row["radius_slope"] * grid + row["radius_intercept"],
            color="tab:red",
            lw=1,
            label=f"slope {row['radius_slope']:.2f}, R² = {row['radius_r_squared']:.4f}",
        )
    ax.set_xlabel("noise std σ", fontsize=7)
    ax.set_ylabel("mean distance to centroid (PC1-PC2)", fontsize=7)
    ax.tick_params(labelsize=6)
    ax.legend(fontsize=6)
    ax.set_title("orbit radius vs noise", fontsize=8)


def _panel_spectrum(ax, arrays: dict[str, np.ndarray], spectrum: pd.DataFrame | None) -> None:
    """Möbius images w = (λ-1)/(λ+1) of Jacobian eigenvalues: along the σ = 1 orbit and near the fixed point."""
    eigenvalues = arrays["orbit_eigenvalues"].ravel()
    eigenvalues = eigenvalues[np.abs(eigenvalues) > 0]
    with np.errstate(divide="ignore", invalid="ignore"):
        w = (eigenvalues - 1) / (eigenvalues + 1)
    w = w[np.isfinite(w)]
    ax.scatter(w.real, w.imag, s=1, color="grey", alpha=0.2, lw=0, label="along the orbit")
    if spectrum is not None:
        for source, color, marker in (("endpoint", "tab:blue", "o"), ("fixed_point", "black", "x")):
            rows = spectrum[(spectrum["source"] == source) & (spectrum["modulus"] > 0)]
            if len(rows):
                label = "input-free end points" if source == "endpoint" else "fixed point"
                ax.scatter(
                    rows["mobius_real"], rows["mobius_imag"], s=8, color=color, marker=marker, lw=0.8, label=label
                )
    ax.axvline(0, color="black", lw=0.6, ls="--")
    ax.set_xlim(-1.5, 1.5)
    ax.set_ylim(-1.5, 1.5)
    ax.set_xlabel("Re w  (< 0: |λ| < 1)", fontsize=7)
    ax.set_ylabel("Im w", fontsize=7)
    ax.tick_params(labelsize=6)
    ax.legend(fontsize=5, loc="upper left", markerscale=2)
    ax.set_title("Jacobian spectra, Möbius plane", fontsize=8)


def _panel_speed(ax, arrays: dict[str, np.ndarray]) -> None:
    """Noisy trajectories coloured by step size ‖h_{t+1} - h_t‖: slow clusters and fast transitions."""
    speeds, points = [], []
    for trajectory, speed in zip(arrays["input"], arrays["input_speed"], strict=True):
        keep = np.isfinite(trajectory[:-1, :2]).all(axis=1) & np.isfinite(speed) & (speed > 0)
        points.append(trajectory[:-1, :2][keep])
        speeds.append(speed[keep])
    points, speeds = np.concatenate(points), np.concatenate(speeds)
    if len(points):
        for trajectory in arrays["input"]:
            ax.plot(trajectory[:, 0], trajectory[:, 1], color="lightgrey", lw=0.5, zorder=0)
        order = np.argsort(speeds)
        scatter = ax.scatter(
            points[order, 0],
            points[order, 1],
            c=speeds[order],
            cmap="viridis",
            s=6,
            lw=0,
            norm=matplotlib.colors.LogNorm(),
        )
        plt.colorbar(scatter, ax=ax, label="step size ‖Δh‖")
    label_axes(ax, arrays["explained_variance_ratio"])
    ax.set_title("slow clusters, fast transitions", fontsize=8)


def _panel_3d(ax, arrays: dict[str, np.ndarray], name: str, view: Sequence[float], title: str) -> None:
    """PC1-PC3 trajectories (``name`` = no_input or input) coloured by output, the fixed point for no input."""
    for trajectory, outputs in zip(arrays[name], arrays[f"{name}_outputs"], strict=True):
        segments = _segments(trajectory, (0, 1, 2))
        if len(segments):
            colors = _segment_colors(trajectory, outputs)
            ax.add_collection3d(Line3DCollection(segments, colors=colors, lw=0.7, alpha=0.7))
    points = arrays[name].reshape(-1, 3)
    points = points[np.isfinite(points).all(axis=1)]
    if len(points):
        ax.set_xlim(points[:, 0].min(), points[:, 0].max())
        ax.set_ylim(points[:, 1].min(), points[:, 1].max())
        ax.set_zlim(points[:, 2].min(), points[:, 2].max())
    if name == "no_input":
        fixed = arrays["fixed_points"]
        ax.scatter(fixed[:, 0], fixed[:, 1], fixed[:, 2], marker="x", s=60, color="black", lw=2)
    ratios = arrays["explained_variance_ratio"]
    ax.set_xlabel(pc_label(ratios, 0), fontsize=6)
    ax.set_ylabel(pc_label(ratios, 1), fontsize=6)
    ax.set_zlabel(pc_label(ratios, 2), fontsize=6)
    ax.tick_params(labelsize=5)
    ax.view_init(elev=view[0], azim=view[1])
    ax.set_title(title, fontsize=8)


def _panel_pair_trajectory(ax, subspace: dict[str, np.ndarray], index: int) -> None:
    a, b = subspace["pairs"][index]
    shown = [int(c) - 1 for c in subspace["shown_components"]]
    trajectory, outputs = subspace[f"trajectory_{index}"], subspace[f"trajectory_outputs_{index}"]
    if len(trajectory) < 2:
        empty_panel(ax, f"no run of outputs {a}, {b}")
    else:
        points = trajectory[:, shown]
        step = np.diff(points, axis=0)
        ax.quiver(
            points[:-1, 0],
            points[:-1, 1],
            step[:, 0],
            step[:, 1],
            color=output_colors(outputs[:-1]),
            angles="xy",
            scale_units="xy",
            scale=1,
            width=0.003,
            headwidth=3,
        )
        ax.autoscale_view()
    label_axes(ax, subspace[f"explained_{index}"], shown, prefix="subspace PC")
    ax.set_title(f"outputs {a}-{b}: longest pair sequence ({len(trajectory)} steps)", fontsize=7)


def _panel_pair_contours(ax, subspace: dict[str, np.ndarray], index: int) -> None:
    a, b = subspace["pairs"][index]
    shown = [int(c) - 1 for c in subspace["shown_components"]]
    if not _draw_contours(ax, subspace, subspace["noise_levels"], (index,)):
        empty_panel(ax, "too few states")
    label_axes(ax, subspace[f"explained_{index}"], shown, prefix="subspace PC")
    ax.set_title(f"outputs {a}-{b}: noise scaling", fontsize=7)


def figure_motifs(results: Sequence[GlobalResults]) -> Figure:
    """Fig 2: the dynamical motifs of the 2-state network (first of ``results``).

    A: orbit under noise; B: collapse onto one fixed point without input; C: the orbit grows with the noise
    level; D: slow clusters linked by fast transitions (step sizes along the noisy trajectories).
    """
    if not results:
        return empty_figure("no 2-state family in the study")
    result = results[0]
    figure, axes = plt.subplots(1, 4, figsize=(16, 3.8))
    _panel_input(axes[0], result.arrays, "A  orbit under noise")
    _panel_no_input(axes[1], result.arrays, "B  no input: one fixed point")
    _panel_contours(axes[2], result.arrays, "C  radius grows with noise")
    _panel_speed(axes[3], result.arrays)
    axes[3].set_title("D  slow clusters, fast transitions", fontsize=8)
    output_legend(axes[0], loc="lower left")
    figure.suptitle(result.label, fontsize=10)
    figure.tight_layout()
    return figure


def figure_global_dynamics(results: Sequence[GlobalResults]) -> Figure:
    """Fig 3: latent dynamics of the 2-state network in PC space (first of ``results``).

    A: input-free trajectories and the fixed point found numerically; B: noisy trajectories (arrows coloured by
    output); C: KDE contours per noise level; D: orbit radius against the noise std with the fitted line;
    E: Jacobian spectra in the Möbius plane (orbit, input-free end points, fixed point).
    """
    if not results:
        return empty_figure("no 2-state family in the study")
    result = results[0]
    figure, axes = plt.subplots(1, 5, figsize=(20, 3.8))
    _panel_no_input(axes[0], result.arrays, "A  no input + fixed point")
    _panel_input(axes[1], result.arrays, "B  with input (σ = 1)")
    _panel_contours(axes[2], result.arrays, "C  noise level (std)")
    _panel_radius(axes[3], result.radius, result.summary)
    _panel_spectrum(axes[4], result.arrays, result.spectrum)
    output_legend(axes[1], loc="lower left")
    figure.suptitle(result.label, fontsize=10)
    figure.tight_layout()
    return figure


def figure_linear_chains(results: Sequence[GlobalResults]) -> Figure:
    """Fig 12: one column per family; rows: no input + fixed point, with input, contours, radius vs noise."""
    if not results:
        return empty_figure("no linear-chain family in the study")
    figure, axes = plt.subplots(4, len(results), figsize=(3.8 * len(results), 13), squeeze=False)
    for column, result in enumerate(results):
        _panel_no_input(axes[0, column], result.arrays, f"{result.label}\nno input + fixed point")
        _panel_input(axes[1, column], result.arrays)
        _panel_contours(axes[2, column], result.arrays)
        _panel_radius(axes[3, column], result.radius, result.summary)
    output_legend(axes[1, 0], loc="lower left")
    figure.tight_layout()
    return figure


def figure_multi_orbit(results: Sequence[GlobalResults], view: Sequence[float]) -> Figure:
    """Fig 13: per family, 2-D and 3-D trajectories, output-pair subspace trajectories and their noise scaling."""
    if not results:
        return empty_figure("no multi-orbit family in the study")
    num_pairs = max(len(result.subspace_arrays["pairs"]) for result in results)
    columns = max(4, num_pairs + 1)
    figure = plt.figure(figsize=(4 * columns, 10.5 * len(results)), layout="constrained")
    blocks = figure.subfigures(len(results), 1, squeeze=False)[:, 0]
    for block, result in zip(blocks, results, strict=True):
        block.suptitle(result.label, fontsize=10)
        arrays, subspace = result.arrays, result.subspace_arrays
        _panel_no_input(block.add_subplot(3, columns, 1), arrays, "no input + fixed point")
        _panel_input(block.add_subplot(3, columns, 2), arrays)
        _panel_3d(block.add_subplot(3, columns, 3, projection="3d"), arrays, "no_input", view, "no input, PC1-PC3")
        _panel_3d(block.add_subplot(3, columns, 4, projection="3d"), arrays, "input", view, "with input, PC1-PC3")
        for index in range(len(subspace["pairs"])):
            _panel_pair_trajectory(block.add_subplot(3, columns, columns + 1 + index), subspace, index)
            _panel_pair_contours(block.add_subplot(3, columns, 2 * columns + 1 + index), subspace, index)
        _panel_contours(block.add_subplot(3, columns, 2 * columns), arrays, "full space")
    return figure
