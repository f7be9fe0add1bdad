"""Figures of the global latent dynamics (Figs 2, 3, 4, 12, 13, 14, 15). Functions take loaded results and plot.

The results come from :mod:`hmmrnn.global_analysis` (tables and ``.npz`` arrays); nothing here simulates a
network. Each ``figure_*`` function returns a Figure; :func:`hmmrnn.plotting.save_figure` writes it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import NamedTuple

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.collections import LineCollection  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from mpl_toolkits.mplot3d.art3d import Line3DCollection  # noqa: E402

from .plotting import OUTPUT_COLORS  # noqa: E402

__all__ = [
    "EvolutionResults",
    "GlobalResults",
    "figure_evolution",
    "figure_evolution_pca",
    "figure_evolution_statistics",
    "figure_global_dynamics",
    "figure_linear_chains",
    "figure_motifs",
    "figure_multi_orbit",
    "load_arrays",
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


class EvolutionResults(NamedTuple):
    """One family's training-evolution results (None: not needed)."""

    label: str
    transition: pd.DataFrame
    arrays: dict[str, np.ndarray] | None = None
    epochs: pd.DataFrame | None = None
    second_order: pd.DataFrame | None = None


def load_arrays(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """The named plotting arrays of an ``.npz`` written by :func:`hmmrnn.global_analysis.write_arrays_atomic`.

    Raises :class:`hmmrnn.errors.InputFileError` naming the file and the command that rebuilds it.
    """
    from .files import load_arrays as load

    return load(path)


def load_global_results(
    families: Sequence[str], labels: Mapping[str, str], files: Mapping[str, Sequence[str]]
) -> list[GlobalResults]:
    """One :class:`GlobalResults` per family from the per-family files named in ``files``.

    ``files`` maps ``arrays`` and any of ``summary, radius, spectrum, subspaces, subspace_arrays`` to lists of
    paths in the order of ``families`` (a figure rule's named inputs); other names are ignored.
    """
    from .files import read_parquet
    from .tables import GLOBAL_SCHEMA, RADIUS_SCHEMA, SPECTRUM_SCHEMA, SUBSPACE_SCHEMA

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


def load_evolution_results(
    families: Sequence[str], labels: Mapping[str, str], files: Mapping[str, Sequence[str]]
) -> list[EvolutionResults]:
    """One :class:`EvolutionResults` per family from the per-family files named in ``files``.

    ``files`` maps ``transition`` and any of ``arrays, epochs, second_order`` to lists of paths in the order of
    ``families`` (a figure rule's named inputs); other names are ignored.
    """
    from .files import read_parquet
    from .tables import EVOLUTION_SCHEMA, SECOND_ORDER_SCHEMA, TRANSITION_SCHEMA

    tables = {"epochs": EVOLUTION_SCHEMA, "second_order": SECOND_ORDER_SCHEMA}
    results = []
    for index, hmm in enumerate(families):
        fields = {name: read_parquet(files[name][index], schema) for name, schema in tables.items() if name in files}
        if "arrays" in files:
            fields["arrays"] = load_arrays(files["arrays"][index])
        results.append(
            EvolutionResults(labels[hmm], read_parquet(files["transition"][index], TRANSITION_SCHEMA), **fields)
        )
    return results


# --------------------------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------------------------


def _colors(outputs: np.ndarray) -> np.ndarray:
    """Colour per output symbol (the paper's three colours, then tab10; -1 = light grey)."""
    palette = list(OUTPUT_COLORS) + [plt.cm.tab10(i) for i in range(3, 10)]
    rgba = np.array([matplotlib.colors.to_rgba(color) for color in palette])
    outputs = np.asarray(outputs, dtype=np.int64)
    colors = rgba[np.clip(outputs, 0, len(rgba) - 1) % len(rgba)]
    colors[outputs < 0] = matplotlib.colors.to_rgba("lightgrey")
    return colors


def _output_legend(ax, num_outputs: int = 3, **kwargs) -> None:
    handles = [Line2D([], [], color=_colors([i])[0], lw=2, label=f"output {i}") for i in range(num_outputs)]
    ax.legend(handles=handles, fontsize=6, **kwargs)


def _empty(ax, message: str) -> None:
    ax.text(0.5, 0.5, message, ha="center", va="center", transform=ax.transAxes, color="grey", fontsize=8)
    ax.set_xticks([])
    ax.set_yticks([])


def _pc_label(ratios: np.ndarray, index: int, prefix: str = "PC") -> str:
    if index < len(ratios) and np.isfinite(ratios[index]):
        return f"{prefix}{index + 1} ({100 * ratios[index]:.1f}%)"
    return f"{prefix}{index + 1}"


def _segments(trajectory: np.ndarray, dims: Sequence[int]) -> np.ndarray:
    """(T-1, 2, len(dims)) line segments of a (T, C) trajectory; segments touching a nan are dropped."""
    points = trajectory[:, list(dims)]
    segments = np.stack([points[:-1], points[1:]], axis=1)
    return segments[np.isfinite(segments).all(axis=(1, 2))]


def _segment_colors(trajectory: np.ndarray, outputs: np.ndarray) -> np.ndarray:
    keep = np.isfinite(trajectory[:-1]).all(axis=1) & np.isfinite(trajectory[1:]).all(axis=1)
    return _colors(outputs[:-1][keep])


def _label_axes(ax, ratios: np.ndarray, dims: Sequence[int] = (0, 1), prefix: str = "PC") -> None:
    ax.set_xlabel(_pc_label(ratios, dims[0], prefix), fontsize=7)
    ax.set_ylabel(_pc_label(ratios, dims[1], prefix), fontsize=7)
    ax.tick_params(labelsize=6)


def _noise_colors(count: int) -> np.ndarray:
    return plt.cm.inferno(np.linspace(0.9, 0.1, count))  # light (small noise) to dark (large noise)


# --------------------------------------------------------------------------------------------------------------
# Panels of the global dynamics
# --------------------------------------------------------------------------------------------------------------


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
    ax.scatter(starts[:, 0], starts[:, 1], s=3, c=_colors(arrays["no_input_outputs"][:, 0]), lw=0)
    fixed = arrays["fixed_points"]
    ax.scatter(fixed[:, 0], fixed[:, 1], marker="x", s=60, color="black", lw=2, zorder=5, label="fixed point")
    ax.autoscale_view()
    _label_axes(ax, arrays["explained_variance_ratio"])
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
            color=_colors(outputs[:-1][keep]),
            angles="xy",
            scale_units="xy",
            scale=1,
            width=0.004,
            headwidth=3,
        )
    ax.autoscale_view()
    _label_axes(ax, arrays["explained_variance_ratio"])
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
        _empty(ax, "no contour")
    _label_axes(ax, arrays["explained_variance_ratio"])
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
    _label_axes(ax, arrays["explained_variance_ratio"])
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
    ax.set_xlabel(_pc_label(ratios, 0), fontsize=6)
    ax.set_ylabel(_pc_label(ratios, 1), fontsize=6)
    ax.set_zlabel(_pc_label(ratios, 2), fontsize=6)
    ax.tick_params(labelsize=5)
    ax.view_init(elev=view[0], azim=view[1])
    ax.set_title(title, fontsize=8)


def _panel_pair_trajectory(ax, subspace: dict[str, np.ndarray], index: int) -> None:
    a, b = subspace["pairs"][index]
    shown = [int(c) - 1 for c in subspace["shown_components"]]
    trajectory, outputs = subspace[f"trajectory_{index}"], subspace[f"trajectory_outputs_{index}"]
    if len(trajectory) < 2:
        _empty(ax, f"no run of outputs {a}, {b}")
    else:
        points = trajectory[:, shown]
        step = np.diff(points, axis=0)
        ax.quiver(
            points[:-1, 0],
            points[:-1, 1],
            step[:, 0],
            step[:, 1],
            color=_colors(outputs[:-1]),
            angles="xy",
            scale_units="xy",
            scale=1,
            width=0.003,
            headwidth=3,
        )
        ax.autoscale_view()
    _label_axes(ax, subspace[f"explained_{index}"], shown, prefix="subspace PC")
    ax.set_title(f"outputs {a}-{b}: longest pair sequence ({len(trajectory)} steps)", fontsize=7)


def _panel_pair_contours(ax, subspace: dict[str, np.ndarray], index: int) -> None:
    a, b = subspace["pairs"][index]
    shown = [int(c) - 1 for c in subspace["shown_components"]]
    if not _draw_contours(ax, subspace, subspace["noise_levels"], (index,)):
        _empty(ax, "too few states")
    _label_axes(ax, subspace[f"explained_{index}"], shown, prefix="subspace PC")
    ax.set_title(f"outputs {a}-{b}: noise scaling", fontsize=7)


# --------------------------------------------------------------------------------------------------------------
# Panels of the training evolution
# --------------------------------------------------------------------------------------------------------------


def _transition_epoch(transition: pd.DataFrame) -> int | None:
    value = transition["transition_epoch"].iloc[0] if len(transition) else None
    return None if value is None or pd.isna(value) else int(value)


def _mark_transition(ax, epoch: int | None) -> None:
    if epoch is not None:
        ax.axvline(epoch, color=TRANSITION_COLOR, ls="--", lw=1, label=f"transition e* = {epoch}")


def _panel_pca_evolution(ax, results: EvolutionResults, view: Sequence[float]) -> None:
    """Per-epoch PCA of the latent dynamics stacked along z; the transition epoch in purple (§6.6)."""
    arrays, epoch_star = results.arrays, _transition_epoch(results.transition)
    for layer, (epoch, coordinates, outputs) in enumerate(
        zip(arrays["epochs_shown"], arrays["coordinates"], arrays["outputs"], strict=True)
    ):
        keep = np.isfinite(coordinates).all(axis=1)
        points = coordinates[keep]
        if not len(points):
            continue
        z = np.full(len(points), layer, dtype=float)
        xyz = np.column_stack([points, z])
        segments = np.stack([xyz[:-1], xyz[1:]], axis=1)
        if int(epoch) == epoch_star:
            colors = np.array([matplotlib.colors.to_rgba(TRANSITION_COLOR)] * len(points))
        else:
            colors = _colors(outputs[keep])
        if len(segments):
            ax.add_collection3d(Line3DCollection(segments, colors=colors[:-1], lw=0.5, alpha=0.5))
        ax.scatter(points[:, 0], points[:, 1], z, s=3, c=colors, alpha=0.3, lw=0)
    finite = arrays["coordinates"][np.isfinite(arrays["coordinates"]).all(axis=-1)]
    if len(finite):
        ax.set_xlim(finite[:, 0].min(), finite[:, 0].max())
        ax.set_ylim(finite[:, 1].min(), finite[:, 1].max())
    ax.set_zlim(0, max(len(arrays["epochs_shown"]) - 1, 1))
    ax.set_zticks(range(len(arrays["epochs_shown"])))
    ax.set_zticklabels([str(int(e)) for e in arrays["epochs_shown"]], fontsize=6)
    ax.set_xlabel("PC1", fontsize=6)
    ax.set_ylabel("PC2", fontsize=6)
    ax.set_zlabel("epoch", fontsize=6)
    ax.tick_params(labelsize=5)
    ax.view_init(elev=view[0], azim=view[1])
    star = f"; e* = {epoch_star} (purple)" if epoch_star is not None else "; no transition found"
    ax.set_title(f"{results.label}: PCA across epochs{star}", fontsize=8)


def _sampled(results: EvolutionResults) -> pd.DataFrame:
    return results.epochs[results.epochs["is_sampled"]].sort_values("epoch")


def _panel_rate(ax, results: EvolutionResults) -> None:
    sampled, epoch_star = _sampled(results), _transition_epoch(results.transition)
    ax.plot(sampled["epoch"], sampled["transition_rate"], "o-", color="black", ms=3, lw=1)
    converged = results.transition["converged_rate"].iloc[0]
    if np.isfinite(converged):
        ax.axhline(converged, color="grey", ls="--", lw=1, label=f"converged rate {converged:.3f}")
    _mark_transition(ax, epoch_star)
    ax.set_xlabel("epoch", fontsize=7)
    ax.set_ylabel("transition rate mean(1/Δ)", fontsize=7)
    ax.tick_params(labelsize=6)
    ax.legend(fontsize=6)
    ax.set_title("average transition rate", fontsize=8)


def _panel_fractions(ax, results: EvolutionResults) -> None:
    sampled, epoch_star = _sampled(results), _transition_epoch(results.transition)
    ax.plot(
        sampled["epoch"],
        sampled["critical_fraction"],
        "o-",
        color=CRITICAL_COLOR,
        ms=3,
        lw=1,
        label="critical complex pair",
    )
    ax.plot(
        sampled["epoch"], sampled["unstable_fraction"], "o-", color=UNSTABLE_COLOR, ms=3, lw=1, label="unstable |λ| > 1"
    )
    _mark_transition(ax, epoch_star)
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("epoch", fontsize=7)
    ax.set_ylabel("fraction of time steps", fontsize=7)
    ax.tick_params(labelsize=6)
    ax.legend(fontsize=6)
    ax.set_title("Jacobian eigenvalues along the run", fontsize=8)


def _panel_heatmap(ax, results: EvolutionResults) -> None:
    """√|E[δh⁽²⁾]| per unit (rows) and sampled epoch (columns); values at or below the threshold in white."""
    frame = results.second_order
    if frame is None or frame.empty:
        _empty(ax, "no E[δh2]")
        return
    table = frame.pivot(index="unit", columns="epoch", values="delta_h2").sort_index(axis=1)
    values = np.sqrt(np.abs(table.to_numpy()))
    threshold = results.transition["heatmap_threshold"].iloc[0]
    masked = np.ma.masked_where(~np.isfinite(values) | (values <= threshold), values)
    cmap = plt.get_cmap("inferno").copy()
    cmap.set_bad("white")
    epochs = table.columns.to_numpy()
    image = ax.imshow(masked, aspect="auto", cmap=cmap, interpolation="nearest", origin="lower")
    ticks = np.unique(np.linspace(0, len(epochs) - 1, min(len(epochs), 6)).round().astype(int))
    ax.set_xticks(ticks, labels=[str(int(epochs[i])) for i in ticks])
    epoch_star = _transition_epoch(results.transition)
    if epoch_star is not None and (epochs >= epoch_star).any():
        ax.axvline(int(np.argmax(epochs >= epoch_star)) - 0.5, color=TRANSITION_COLOR, ls="--", lw=1)
    plt.colorbar(image, ax=ax, label="√|E[δh⁽²⁾]|")
    ax.set_xlabel("epoch", fontsize=7)
    ax.set_ylabel("hidden unit", fontsize=7)
    ax.tick_params(labelsize=6)
    ax.set_title(f"second-order perturbation (masked ≤ {threshold:.3g})", fontsize=8)


# --------------------------------------------------------------------------------------------------------------
# Figures
# --------------------------------------------------------------------------------------------------------------


def _nothing(message: str) -> Figure:
    figure, ax = plt.subplots(figsize=(4, 3))
    _empty(ax, message)
    return figure


def figure_motifs(results: Sequence[GlobalResults]) -> Figure:
    """Fig 2: the dynamical motifs of the 2-state network (first of ``results``).

    A: orbit under noise; B: collapse onto one fixed point without input; C: the orbit grows with the noise
    level; D: slow clusters linked by fast transitions (step sizes along the noisy trajectories).
    """
    if not results:
        return _nothing("no 2-state family in the study")
    result = results[0]
    figure, axes = plt.subplots(1, 4, figsize=(16, 3.8))
    _panel_input(axes[0], result.arrays, "A  orbit under noise")
    _panel_no_input(axes[1], result.arrays, "B  no input: one fixed point")
    _panel_contours(axes[2], result.arrays, "C  radius grows with noise")
    _panel_speed(axes[3], result.arrays)
    axes[3].set_title("D  slow clusters, fast transitions", fontsize=8)
    _output_legend(axes[0], loc="lower left")
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
        return _nothing("no 2-state family in the study")
    result = results[0]
    figure, axes = plt.subplots(1, 5, figsize=(20, 3.8))
    _panel_no_input(axes[0], result.arrays, "A  no input + fixed point")
    _panel_input(axes[1], result.arrays, "B  with input (σ = 1)")
    _panel_contours(axes[2], result.arrays, "C  noise level (std)")
    _panel_radius(axes[3], result.radius, result.summary)
    _panel_spectrum(axes[4], result.arrays, result.spectrum)
    _output_legend(axes[1], loc="lower left")
    figure.suptitle(result.label, fontsize=10)
    figure.tight_layout()
    return figure


def figure_linear_chains(results: Sequence[GlobalResults]) -> Figure:
    """Fig 12: one column per family; rows: no input + fixed point, with input, contours, radius vs noise."""
    if not results:
        return _nothing("no linear-chain family in the study")
    figure, axes = plt.subplots(4, len(results), figsize=(3.8 * len(results), 13), squeeze=False)
    for column, result in enumerate(results):
        _panel_no_input(axes[0, column], result.arrays, f"{result.label}\nno input + fixed point")
        _panel_input(axes[1, column], result.arrays)
        _panel_contours(axes[2, column], result.arrays)
        _panel_radius(axes[3, column], result.radius, result.summary)
    _output_legend(axes[1, 0], loc="lower left")
    figure.tight_layout()
    return figure


def figure_multi_orbit(results: Sequence[GlobalResults], view: Sequence[float]) -> Figure:
    """Fig 13: per family, 2-D and 3-D trajectories, output-pair subspace trajectories and their noise scaling."""
    if not results:
        return _nothing("no multi-orbit family in the study")
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


def figure_evolution(results: Sequence[EvolutionResults], view: Sequence[float]) -> Figure:
    """Fig 4: emergence of the orbit during training (first of ``results``).

    A: PCA across epochs (transition epoch in purple); B: transition rate; C: critical complex and unstable
    eigenvalue fractions; D: √|E[δh⁽²⁾]| per unit and epoch.
    """
    if not results:
        return _nothing("no 2-state family with evolution snapshots")
    result = results[0]
    figure = plt.figure(figsize=(20, 4.2))
    _panel_pca_evolution(figure.add_subplot(1, 4, 1, projection="3d"), result, view)
    _panel_rate(figure.add_subplot(1, 4, 2), result)
    _panel_fractions(figure.add_subplot(1, 4, 3), result)
    _panel_heatmap(figure.add_subplot(1, 4, 4), result)
    figure.suptitle(result.label, fontsize=10)
    return figure


def figure_evolution_pca(results: Sequence[EvolutionResults], view: Sequence[float]) -> Figure:
    """Fig 14: PCA of the latent dynamics across epochs, one 3-D panel per family."""
    if not results:
        return _nothing("no further family with evolution snapshots")
    columns = min(3, len(results))
    rows = -(-len(results) // columns)
    figure = plt.figure(figsize=(5.5 * columns, 5 * rows))
    for index, result in enumerate(results):
        _panel_pca_evolution(figure.add_subplot(rows, columns, index + 1, projection="3d"), result, view)
    return figure


def figure_evolution_statistics(results: Sequence[EvolutionResults]) -> Figure:
    """Fig 15: per family (rows) the transition rate, eigenvalue fractions and E[δh⁽²⁾] across epochs."""
    if not results:
        return _nothing("no further family with evolution snapshots")
    figure, axes = plt.subplots(len(results), 3, figsize=(16, 3.6 * len(results)), squeeze=False)
    for row, result in zip(axes, results, strict=True):
        _panel_rate(row[0], result)
        _panel_fractions(row[1], result)
        _panel_heatmap(row[2], result)
        row[0].set_title(f"{result.label}: average transition rate", fontsize=8)
    figure.tight_layout()
    return figure
