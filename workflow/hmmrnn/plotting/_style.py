"""What every figure shares: the output colours, empty panels and figures, axis labels, and saving."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

__all__ = [
    "HMM_COLOR",
    "OUTPUT_COLORS",
    "empty_figure",
    "empty_panel",
    "label_axes",
    "output_colors",
    "output_legend",
    "pc_label",
    "save_figure",
    "use_file_backend",
]


OUTPUT_COLORS = ("darkgreen", "royalblue", "darkred")  # outputs 0, 1, 2 as in the paper's figures

HMM_COLOR = "tab:green"


def use_file_backend() -> None:
    """Draw into files only (matplotlib's Agg backend, no display needed): a process-wide switch for scripts."""
    matplotlib.use("Agg")


def save_figure(figure: Figure, paths: Mapping[str, str]) -> None:
    """Save ``figure`` to every path (by format), atomically and without timestamps, then close it."""
    from ..io import atomic_path

    for fmt, path in paths.items():
        with atomic_path(path) as tmp:
            metadata = {"CreationDate": None} if fmt == "pdf" else {}
            figure.savefig(tmp, format=fmt, metadata=metadata, dpi=150, bbox_inches="tight")
    plt.close(figure)


def output_colors(outputs: np.ndarray) -> np.ndarray:
    """Colour per output symbol (the paper's three colours, then tab10; -1 = light grey)."""
    palette = list(OUTPUT_COLORS) + [plt.cm.tab10(i) for i in range(3, 10)]
    rgba = np.array([matplotlib.colors.to_rgba(color) for color in palette])
    outputs = np.asarray(outputs, dtype=np.int64)
    colors = rgba[np.clip(outputs, 0, len(rgba) - 1) % len(rgba)]
    colors[outputs < 0] = matplotlib.colors.to_rgba("lightgrey")
    return colors


def output_legend(ax, num_outputs: int = 3, **kwargs) -> None:
    handles = [Line2D([], [], color=output_colors([i])[0], lw=2, label=f"output {i}") for i in range(num_outputs)]
    ax.legend(handles=handles, fontsize=6, **kwargs)


def empty_panel(ax, message: str, fontsize: float | None = 8) -> None:
    """Say ``message`` in grey in the middle of ``ax``, without ticks (``fontsize=None``: matplotlib's default)."""
    ax.text(0.5, 0.5, message, ha="center", va="center", transform=ax.transAxes, color="grey", fontsize=fontsize)
    ax.set_xticks([])
    ax.set_yticks([])


def pc_label(ratios: np.ndarray, index: int, prefix: str = "PC") -> str:
    if index < len(ratios) and np.isfinite(ratios[index]):
        return f"{prefix}{index + 1} ({100 * ratios[index]:.1f}%)"
    return f"{prefix}{index + 1}"


def label_axes(ax, ratios: np.ndarray, dims: Sequence[int] = (0, 1), prefix: str = "PC") -> None:
    ax.set_xlabel(pc_label(ratios, dims[0], prefix), fontsize=7)
    ax.set_ylabel(pc_label(ratios, dims[1], prefix), fontsize=7)
    ax.tick_params(labelsize=6)


def empty_figure(message: str) -> Figure:
    figure, ax = plt.subplots(figsize=(4, 3))
    empty_panel(ax, message)
    return figure
