"""Figures of the trained networks' evaluation: distances (Fig 10), transition differences (Fig 11), loss curves
(Fig 16)."""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import NullFormatter

from ._style import HMM_COLOR, empty_panel

__all__ = ["figure_distances", "figure_loss_curves", "figure_transition_differences"]


def _grid_and_point_families(summary: pd.DataFrame) -> tuple[list[str], list[str]]:
    """Families with several (hidden_size, input_dim) cells get their own panel; the others share one."""
    cells = summary.groupby("hmm")[["hidden_size", "input_dim"]].apply(lambda f: len(f.drop_duplicates()))
    return sorted(cells[cells > 1].index), sorted(cells[cells == 1].index)


def figure_distances(summary: pd.DataFrame, labels: Mapping[str, str]) -> Figure:
    """Fig 10: Sinkhorn-aligned distance vs input dimension per family (lines per hidden size, HMM band).

    ``summary`` is :func:`hmmrnn.evaluation.summaries.distance_summary`; ``labels`` maps family names to titles.
    """
    grid, points = _grid_and_point_families(summary)
    panels = len(grid) + (1 if points else 0)
    figure, axes = plt.subplots(1, max(panels, 1), figsize=(3.6 * max(panels, 1), 3.4), squeeze=False)
    axes = axes[0]
    if summary.empty:
        empty_panel(axes[0], "no converged model", fontsize=None)
    for ax, hmm in zip(axes, grid, strict=False):
        family = summary[summary["hmm"] == hmm]
        baseline = family[family["source"] == "hmm"]
        band_mean, band_std = baseline["mean"].mean(), baseline["mean"].std(ddof=0)
        ax.axhspan(band_mean - band_std, band_mean + band_std, color=HMM_COLOR, alpha=0.2, lw=0)
        ax.axhline(band_mean, color=HMM_COLOR, label="HMM vs HMM")
        rnn = family[family["source"] == "rnn"]
        for hidden_size, line in rnn.groupby("hidden_size"):
            line = line.sort_values("input_dim")
            ax.errorbar(
                line["input_dim"], line["mean"], yerr=line["std"], marker="o", capsize=3, label=f"H={hidden_size}"
            )
        ax.set_xscale("log")
        ax.set_xticks(sorted(rnn["input_dim"].unique()), labels=sorted(rnn["input_dim"].unique()))
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_title(labels.get(hmm, hmm))
        ax.set_xlabel("input dimension d")
        ax.legend(fontsize=7)
    axes[0].set_ylabel("Sinkhorn-aligned Euclidean distance")
    if points:
        ax = axes[len(grid)]
        for index, hmm in enumerate(points):
            family = summary[summary["hmm"] == hmm]
            for offset, (source, color) in enumerate((("hmm", HMM_COLOR), ("rnn", "black"))):
                row = family[family["source"] == source]
                ax.errorbar(
                    index + (offset - 0.5) * 0.2,
                    row["mean"],
                    yerr=row["mean_within"],
                    marker="o",
                    color=color,
                    capsize=3,
                    label=("HMM vs HMM" if source == "hmm" else "HMM vs RNN") if index == 0 else None,
                )
        ax.set_xticks(range(len(points)), labels=[labels.get(hmm, hmm) for hmm in points])
        ax.set_xlim(-0.5, len(points) - 0.5)
        ax.set_title("single-configuration families")
        ax.legend(fontsize=7)
    figure.tight_layout()
    return figure


def figure_transition_differences(summary: pd.DataFrame, labels: Mapping[str, str], vmax: float) -> Figure:
    """Fig 11: mean ± std across seeds of the squared transition-matrix differences, one heat map per cell.

    Each family gets a block of rows (hidden sizes) and columns (input dimensions); colours share ``[0, vmax]``.
    """
    families = sorted(summary["hmm"].unique())
    if not families:
        figure, ax = plt.subplots(figsize=(4, 3))
        empty_panel(ax, "no converged model", fontsize=None)
        return figure
    shapes = {
        hmm: (
            summary.loc[summary["hmm"] == hmm, "hidden_size"].nunique(),
            summary.loc[summary["hmm"] == hmm, "input_dim"].nunique(),
        )
        for hmm in families
    }
    width = max(cols for _, cols in shapes.values())
    heights = [rows for rows, _ in shapes.values()]
    figure = plt.figure(figsize=(2.3 * width + 1, 2.3 * sum(heights) + 0.6 * len(families)))
    blocks = figure.subfigures(len(families), 1, height_ratios=heights, squeeze=False)[:, 0]
    for block, hmm in zip(blocks, families, strict=True):
        family = summary[summary["hmm"] == hmm]
        hidden_sizes, input_dims = sorted(family["hidden_size"].unique()), sorted(family["input_dim"].unique())
        axes = block.subplots(len(hidden_sizes), width, squeeze=False)
        block.suptitle(labels.get(hmm, hmm))
        for (r, c), ax in np.ndenumerate(axes):
            cell = (
                family[(family["hidden_size"] == hidden_sizes[r]) & (family["input_dim"] == input_dims[c])]
                if (c < len(input_dims))
                else family.iloc[:0]
            )
            if cell.empty:
                ax.axis("off")
                continue
            size = int(cell["i"].max()) + 1
            mean = np.zeros((size, size))
            std = np.zeros((size, size))
            mean[cell["i"], cell["j"]] = cell["mean"]
            std[cell["i"], cell["j"]] = cell["std"]
            ax.imshow(mean, cmap="Blues", vmin=0, vmax=vmax)
            for (i, j), value in np.ndenumerate(mean):
                ax.text(
                    j,
                    i,
                    f"{value:.2f}\n±{std[i, j]:.2f}",
                    ha="center",
                    va="center",
                    fontsize=6,
                    color="white" if value > 0.6 * vmax else "black",
                )
            ax.set_xticks(range(size))
            ax.set_yticks(range(size))
            ax.set_title(f"H={hidden_sizes[r]}, d={input_dims[c]}", fontsize=8)
        colours = plt.cm.ScalarMappable(norm=plt.Normalize(0, vmax), cmap="Blues")
        block.colorbar(colours, ax=axes, shrink=0.8, label="(T_HMM − T_RNN)²")
    return figure


def figure_loss_curves(histories: pd.DataFrame, floors: pd.DataFrame, labels: Mapping[str, str]) -> Figure:
    """Fig 16: training (solid) and validation (dashed) Sinkhorn loss per epoch, with each family's floor.

    ``histories`` has the model key columns plus ``epoch, train_loss, val_loss``; ``floors`` is the
    ``sinkhorn_floor`` table.
    """
    families = sorted(histories["hmm"].unique())
    columns = min(3, max(len(families), 1))
    rows = -(-max(len(families), 1) // columns)
    figure, axes = plt.subplots(rows, columns, figsize=(4 * columns, 3 * rows), squeeze=False)
    for ax, hmm in zip(axes.flat, families, strict=False):
        family = histories[histories["hmm"] == hmm]
        for (hidden_size, input_dim, seed), run in family.groupby(["hidden_size", "input_dim", "seed"]):
            label = f"H={hidden_size} d={input_dim} seed {seed}"
            (line,) = ax.plot(run["epoch"], run["train_loss"], lw=1, label=label)
            validated = run.dropna(subset=["val_loss"])
            ax.plot(validated["epoch"], validated["val_loss"], ls="--", lw=1, color=line.get_color())
        floor = floors.loc[floors["hmm"] == hmm, "sinkhorn_floor"]
        if len(floor):
            ax.axhline(float(floor.iloc[0]), color="black", ls=":", label="Sinkhorn floor (HMM vs HMM)")
        ax.set_title(labels.get(hmm, hmm))
        ax.set_xlabel("epoch")
        ax.set_ylabel("Sinkhorn divergence")
        ax.legend(fontsize=6)
    for ax in axes.flat[len(families) :]:
        ax.axis("off")
    figure.tight_layout()
    return figure
