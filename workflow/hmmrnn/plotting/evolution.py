"""Figures of the training evolution (Figs 4, 14, 15)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import NamedTuple

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from mpl_toolkits.mplot3d.art3d import Line3DCollection

from ..io import load_arrays
from ._style import empty_figure, empty_panel, output_colors
from .global_dynamics import CRITICAL_COLOR, TRANSITION_COLOR, UNSTABLE_COLOR

__all__ = [
    "EvolutionResults",
    "figure_evolution",
    "figure_evolution_pca",
    "figure_evolution_statistics",
    "load_evolution_results",
]


class EvolutionResults(NamedTuple):
    """One family's training-evolution results (None: not needed)."""

    label: str
    transition: pd.DataFrame
    arrays: dict[str, np.ndarray] | None = None
    epochs: pd.DataFrame | None = None
    second_order: pd.DataFrame | None = None


def load_evolution_results(
    families: Sequence[str], labels: Mapping[str, str], files: Mapping[str, Sequence[str]]
) -> list[EvolutionResults]:
    """One :class:`EvolutionResults` per family from the per-family files named in ``files``.

    ``files`` maps ``transition`` and any of ``arrays, epochs, second_order`` to lists of paths in the order of
    ``families`` (a figure rule's named inputs); other names are ignored.
    """
    from ..io import read_parquet
    from ..tables import EVOLUTION_SCHEMA, SECOND_ORDER_SCHEMA, TRANSITION_SCHEMA

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
            colors = output_colors(outputs[keep])
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
        empty_panel(ax, "no E[δh2]")
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


def figure_evolution(results: Sequence[EvolutionResults], view: Sequence[float]) -> Figure:
    """Fig 4: emergence of the orbit during training (first of ``results``).

    A: PCA across epochs (transition epoch in purple); B: transition rate; C: critical complex and unstable
    eigenvalue fractions; D: √|E[δh⁽²⁾]| per unit and epoch.
    """
    if not results:
        return empty_figure("no 2-state family with evolution snapshots")
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
        return empty_figure("no further family with evolution snapshots")
    columns = min(3, len(results))
    rows = -(-len(results) // columns)
    figure = plt.figure(figsize=(5.5 * columns, 5 * rows))
    for index, result in enumerate(results):
        _panel_pca_evolution(figure.add_subplot(rows, columns, index + 1, projection="3d"), result, view)
    return figure


def figure_evolution_statistics(results: Sequence[EvolutionResults]) -> Figure:
    """Fig 15: per family (rows) the transition rate, eigenvalue fractions and E[δh⁽²⁾] across epochs."""
    if not results:
        return empty_figure("no further family with evolution snapshots")
    figure, axes = plt.subplots(len(results), 3, figsize=(16, 3.6 * len(results)), squeeze=False)
    for row, result in zip(axes, results, strict=True):
        _panel_rate(row[0], result)
        _panel_fractions(row[1], result)
        _panel_heatmap(row[2], result)
        row[0].set_title(f"{result.label}: average transition rate", fontsize=8)
    figure.tight_layout()
    return figure
