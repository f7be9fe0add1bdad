"""Overview figures: the training paradigm (Fig 1) and the HMM architectures (Fig 9, App. A).

Functions take arrays and return a Figure; :func:`hmmrnn.plotting._style.save_figure` writes it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import BoundaryNorm, ListedColormap
from matplotlib.figure import Figure
from matplotlib.patches import Circle, FancyArrowPatch
from matplotlib.ticker import MaxNLocator
from numpy.typing import ArrayLike

from ._style import output_colors, output_legend

__all__ = [
    "MIN_EDGE_PROBABILITY",
    "draw_emission_matrix",
    "draw_transition_graph",
    "figure_architectures",
    "figure_paradigm",
    "empirical_output_frequencies",
]


MIN_EDGE_PROBABILITY = 1e-3  # transitions below this are not drawn

_NODE_RADIUS = 0.22  # states sit on the unit circle

_LABEL_GAP = 0.2  # distance of a double-headed arrow's label from the arrow (bent arrows carry theirs on the arc)

_EDGE_BEND = 0.35  # arc3 curvature: the two directions of a pair bend to opposite sides

_BOX = {"boxstyle": "round,pad=0.4", "facecolor": "whitesmoke", "edgecolor": "grey"}


def empirical_output_frequencies(outputs: np.ndarray, num_outputs: int) -> np.ndarray:
    """Fraction of each output symbol among all entries of ``outputs``; ``(num_outputs,)`` ndarray."""
    return np.bincount(np.asarray(outputs, dtype=np.int64).ravel(), minlength=num_outputs) / np.size(outputs)


def _draw_edges(
    ax: plt.Axes,
    positions: np.ndarray,
    transition: np.ndarray,
    sources: np.ndarray,
    targets: np.ndarray,
    *,
    both_ways: bool,
    fontsize: float,
) -> None:
    """One arrow and probability label per (source, target) pair, node rim to node rim.

    ``both_ways``: straight double-headed arrows labelled on the side away from the centre (a pair of equal
    transitions); otherwise arcs bent to the right of their direction, so the two directions of a pair separate.
    """
    direction = positions[targets] - positions[sources]
    unit = direction / np.linalg.norm(direction, axis=1, keepdims=True)
    starts = positions[sources] + _NODE_RADIUS * unit
    ends = positions[targets] - _NODE_RADIUS * unit
    chord = ends - starts
    normal = np.stack([chord[:, 1], -chord[:, 0]], axis=1)  # the side arc3 bends to
    bend = 0.0 if both_ways else _EDGE_BEND
    if both_ways:
        outward = (normal * (starts + ends)).sum(axis=1)
        normal *= np.where((outward < -1e-9) | ((np.abs(outward) <= 1e-9) & (normal[:, 1] < 0)), -1, 1)[:, None]
    labels_at = (starts + ends) / 2 + 0.5 * bend * normal  # midpoint of arc3's Bezier curve: arcs carry their label
    if both_ways:
        labels_at += _LABEL_GAP * normal / np.linalg.norm(normal, axis=1, keepdims=True)
    background = None if both_ways else {"boxstyle": "round,pad=0.1", "facecolor": "white", "edgecolor": "none"}
    link = "-" if both_ways else "->"
    for i, j, start, end, at in zip(sources, targets, starts, ends, labels_at, strict=True):
        arrow = FancyArrowPatch(
            start,
            end,
            connectionstyle=f"arc3,rad={bend}",
            arrowstyle="<|-|>" if both_ways else "-|>",
            mutation_scale=9,
            lw=0.9,
        )
        arrow.set_gid(f"edge {i}{link}{j}")
        ax.add_patch(arrow)
        ax.text(
            *at,
            f"{transition[i, j]:.2g}",
            ha="center",
            va="center",
            fontsize=fontsize,
            bbox=background,
            gid=f"label {i}{link}{j}",
        )


def draw_transition_graph(
    ax: plt.Axes, transition_matrix: ArrayLike, min_probability: float = MIN_EDGE_PROBABILITY
) -> None:
    """Draw the states on a circle and an arrow, labelled with its probability, per transition >= ``min_probability``.

    Two states with equal transitions both ways share one double-headed arrow (gid ``edge i-j``, i < j, label
    ``label i-j``); any other transition gets its own bent arrow (gid ``edge i->j``, label ``label i->j``). The
    self-transition of state i is written outside its node as ``↻ p`` (gid ``self i``).

    Parameters
    ----------
    ax : Axes
    transition_matrix : (num_states, num_states) array_like
        ``transition_matrix[i, j] = P(s' = j | s = i)``.
    min_probability : float
        Transitions (and self-transitions) below this are hidden.
    """
    transition = np.asarray(transition_matrix, dtype=float)
    if transition.ndim != 2 or transition.shape[0] != transition.shape[1]:
        raise ValueError(f"transition_matrix must be (num_states, num_states), found shape {transition.shape}")
    num_states = transition.shape[0]
    angles = np.pi - 2 * np.pi * np.arange(num_states) / num_states  # state 0 on the left, then clockwise
    positions = np.stack([np.cos(angles), np.sin(angles)], axis=1)
    fontsize = 6.5 if num_states <= 3 else 6

    shown = (transition >= min_probability) & ~np.eye(num_states, dtype=bool)
    mutual = shown & shown.T & np.isclose(transition, transition.T)
    for (sources, targets), both_ways in ((np.nonzero(np.triu(mutual)), True), (np.nonzero(shown & ~mutual), False)):
        _draw_edges(ax, positions, transition, sources, targets, both_ways=both_ways, fontsize=fontsize)

    for state, (x, y) in enumerate(positions):
        ax.add_patch(Circle((x, y), _NODE_RADIUS, facecolor="white", edgecolor="black", lw=1.2, zorder=3))
        ax.text(x, y, f"s{state}", ha="center", va="center", fontsize=fontsize + 1.5, zorder=4)
    loops = np.flatnonzero(np.diag(transition) >= min_probability)
    outside = positions[loops]  # self-transitions sit just outside their node, away from the centre
    horizontal = np.array(["right", "center", "left"])[np.digitize(outside[:, 0], [-0.3, 0.3])]
    vertical = np.array(["top", "center", "bottom"])[np.digitize(outside[:, 1], [-0.3, 0.3])]
    for state, at, ha, va in zip(loops, outside * (1 + _NODE_RADIUS + 0.06), horizontal, vertical, strict=True):
        ax.text(*at, f"↻ {transition[state, state]:.2g}", ha=ha, va=va, fontsize=fontsize, gid=f"self {state}")
    ax.set_xlim(-2.1, 2.1)
    ax.set_ylim(-1.6, 1.6)
    ax.set_aspect("equal")
    ax.axis("off")


def draw_emission_matrix(ax: plt.Axes, emission_matrix: ArrayLike) -> None:
    """Annotated heat map of the emission probabilities (rows: states, columns: outputs, range [0, 1]).

    Parameters
    ----------
    ax : Axes
    emission_matrix : (num_states, num_outputs) array_like
        ``emission_matrix[i, k] = P(o = k | s = i)``.
    """
    emission = np.asarray(emission_matrix, dtype=float)
    if emission.ndim != 2:
        raise ValueError(f"emission_matrix must be (num_states, num_outputs), found shape {emission.shape}")
    num_states, num_outputs = emission.shape
    ax.imshow(emission, cmap="Greys", vmin=0, vmax=1.4)  # vmax > 1 keeps 1.0 legible
    text_colors = np.where(emission > 0.6, "white", "black")
    for (i, k), value in np.ndenumerate(emission):
        ax.text(k, i, f"{value:.2f}", ha="center", va="center", fontsize=7, color=text_colors[i, k])
    ax.set_xticks(range(num_outputs), labels=[str(k) for k in range(num_outputs)])
    for tick, color in zip(ax.get_xticklabels(), output_colors(np.arange(num_outputs)), strict=True):
        tick.set_color(color)
    ax.set_yticks(range(num_states), labels=[f"s{i}" for i in range(num_states)])
    ax.tick_params(labelsize=7, length=0)
    ax.set_xlabel("output", fontsize=7)


def _draw_raster(ax: plt.Axes, outputs: np.ndarray, num_outputs: int, title: str) -> None:
    """Emission raster: one row per sequence, one column per time step, coloured by output symbol."""
    colormap = ListedColormap(output_colors(np.arange(num_outputs)))
    norm = BoundaryNorm(np.arange(num_outputs + 1) - 0.5, num_outputs)
    ax.imshow(outputs, cmap=colormap, norm=norm, aspect="auto", interpolation="nearest")
    frequencies = "  ".join(f"{k}: {f:.2f}" for k, f in enumerate(empirical_output_frequencies(outputs, num_outputs)))
    ax.set_title(f"{title}\noutput frequencies  {frequencies}", fontsize=8)
    ax.set_xlabel("time step", fontsize=7)
    ax.set_ylabel("sequence", fontsize=7)
    ax.tick_params(labelsize=6)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))


def _draw_schematic(ax: plt.Axes) -> None:
    """Boxes and arrows: HMM and noise-driven RNN batches feed a Sinkhorn divergence."""
    renderer = ax.figure.canvas.get_renderer()

    def chain(texts: Sequence[str], y: float) -> list:
        boxes, x = [], 0.0
        for text in texts:
            box = ax.text(x, y, text, ha="left", va="center", fontsize=8, bbox=_BOX, transform=ax.transAxes)
            boxes.append(box)
            extent = box.get_window_extent(renderer).transformed(ax.transAxes.inverted())
            x = extent.x1 + 0.06
        for left, right in zip(boxes[:-1], boxes[1:], strict=False):
            ax.annotate(
                "", xy=(0, 0.5), xycoords=right, xytext=(1, 0.5), textcoords=left, arrowprops={"arrowstyle": "->"}
            )
        return boxes

    hmm = chain(["HMM", "one-hot sequences"], 0.8)
    rnn = chain(["noise x_t ~ N(0, I)", "ReLU RNN", "logits", "hard Gumbel-softmax"], 0.2)
    loss = ax.text(
        1.0,
        0.5,
        "Sinkhorn divergence\nbetween batches",
        ha="right",
        va="center",
        fontsize=8,
        bbox=_BOX,
        transform=ax.transAxes,
    )
    for source in (hmm[-1], rnn[-1]):
        ax.annotate("", xy=(0, 0.5), xycoords=loss, xytext=(1, 0.5), textcoords=source, arrowprops={"arrowstyle": "->"})
    ax.axis("off")


def figure_paradigm(
    hmm_outputs: np.ndarray,
    rnn_outputs: np.ndarray,
    transition_matrix: ArrayLike,
    label: str,
    model: str,
    *,
    num_outputs: int = 3,
    min_probability: float = MIN_EDGE_PROBABILITY,
) -> Figure:
    """Fig 1: the training paradigm, with emission rasters of the HMM's data and of its representative RNN.

    Parameters
    ----------
    hmm_outputs, rnn_outputs : (num_sequences, num_timesteps) int ndarray
        Output symbols of HMM training sequences and of sequences generated by the RNN (same shape).
    transition_matrix : (num_states, num_states) array_like
        The HMM's transitions, drawn as a small graph.
    label : str
        The family's display title.
    model : str
        Which network generated ``rnn_outputs`` (e.g. ``"H=150, d=100, seed 0"``).
    num_outputs : int
        Number of output symbols (colours).
    min_probability : float
        Transitions below this are not drawn.
    """
    hmm_outputs, rnn_outputs = np.asarray(hmm_outputs), np.asarray(rnn_outputs)
    if hmm_outputs.ndim != 2 or hmm_outputs.shape != rnn_outputs.shape:
        raise ValueError(
            f"need two (num_sequences, num_timesteps) arrays of one shape, found {hmm_outputs.shape} and "
            f"{rnn_outputs.shape}"
        )
    figure = plt.figure(figsize=(11, 6.2))
    grid = figure.add_gridspec(2, 4, height_ratios=[0.9, 1.6], hspace=0.3, wspace=0.35)
    graph = figure.add_subplot(grid[0, 0])
    draw_transition_graph(graph, transition_matrix, min_probability)
    graph.set_title(label, fontsize=8)
    _draw_schematic(figure.add_subplot(grid[0, 1:]))
    num_sequences, num_timesteps = hmm_outputs.shape
    size = f"{num_sequences} sequences × {num_timesteps} steps"
    hmm_ax = figure.add_subplot(grid[1, :2])
    _draw_raster(hmm_ax, hmm_outputs, num_outputs, f"HMM training data ({size})")
    rnn_ax = figure.add_subplot(grid[1, 2:], sharex=hmm_ax, sharey=hmm_ax)
    _draw_raster(rnn_ax, rnn_outputs, num_outputs, f"representative RNN, {model} ({size})")
    output_legend(rnn_ax, num_outputs, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return figure


def figure_architectures(
    matrices: Mapping[str, Mapping[str, ArrayLike]],
    labels: Mapping[str, str],
    *,
    min_probability: float = MIN_EDGE_PROBABILITY,
) -> Figure:
    """Fig 9: one column per HMM family, its transition graph above its emission heat map.

    Parameters
    ----------
    matrices : mapping of family name to {"transition_matrix": (M, M), "emission_matrix": (M, K), ...}
        As :func:`hmmrnn.study.hmm_matrices` returns them; columns follow the mapping's order.
    labels : mapping of family name to display title
    min_probability : float
        Transitions below this are not drawn.
    """
    families = list(matrices)
    if not families:
        raise ValueError("no HMM family to draw")
    heights = [np.shape(matrices[hmm]["emission_matrix"])[0] for hmm in families]
    figure, axes = plt.subplots(
        2,
        len(families),
        figsize=(2.6 * len(families), 4.8),
        squeeze=False,
        gridspec_kw={"height_ratios": [1.5, 0.2 * max(heights)], "hspace": 0.05},
    )
    for (graph, emission), hmm in zip(axes.T, families, strict=True):
        draw_transition_graph(graph, matrices[hmm]["transition_matrix"], min_probability)
        graph.set_title(labels.get(hmm, hmm), fontsize=9)
        draw_emission_matrix(emission, matrices[hmm]["emission_matrix"])
    axes[1, 0].set_ylabel("state", fontsize=7)
    return figure
