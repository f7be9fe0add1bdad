"""Output transition statistics across training epochs: the transition rate, the transition epoch, the epochs
shown and the heat-map threshold (§6.6-6.7, §8.6-8.8).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal, NamedTuple

import numpy as np
import pandas as pd

from ..dynamics.simulation import to_numpy

__all__ = [
    "TransitionRate",
    "evolution_epochs_to_show",
    "heatmap_threshold",
    "loss_rise_near",
    "refine_transition_epoch",
    "sampled_epochs",
    "transition_epoch",
    "transition_rate",
]


class TransitionRate(NamedTuple):
    """Output-switch statistics of one run (§6.7 item 5).

    Attributes
    ----------
    rate : float
        ``mean(1/Δ)`` over the intervals Δ between consecutive switches (0 in the fallback).
    residence : float
        ``mean(Δ)`` (the sequence length in the fallback).
    num_switches : int
        Number of t with ``o_{t+1} ≠ o_t``.
    """

    rate: float
    residence: float
    num_switches: int


def transition_rate(outputs, *, min_switches: int = 3, fallback_on: Literal["all", "binary"] = "all") -> TransitionRate:
    """Transition rate and mean residence from an output sequence.

    Switch times ``S = {t : o_{t+1} ≠ o_t}``, intervals ``Δ = diff(S)``, rate = ``mean(1/Δ)``,
    residence = ``mean(Δ)``. Fallback (rate 0, residence = sequence length) when the counted switches are fewer
    than ``min_switches``.

    Parameters
    ----------
    outputs : (num_timesteps,) int array-like
    min_switches : int
        3 in the reference code (at least 2 intervals).
    fallback_on : {"all", "binary"}
        ``"all"`` counts every output change. ``"binary"`` counts changes of ``[o_t > 0]`` only, as the
        reference code does; it ignores 1<->2 switches (§9.38).
    """
    o = np.asarray(outputs).ravel()
    switches = np.flatnonzero(o[1:] != o[:-1])
    if fallback_on == "binary":
        positive = o > 0
        counted = int((positive[1:] != positive[:-1]).sum())
    elif fallback_on == "all":
        counted = switches.size
    else:
        raise ValueError(f"fallback_on must be 'all' or 'binary'; found {fallback_on!r}")
    if counted < max(min_switches, 2):
        return TransitionRate(0.0, float(o.size), int(switches.size))
    intervals = np.diff(switches)
    return TransitionRate(float((1.0 / intervals).mean()), float(intervals.mean()), int(switches.size))


def transition_epoch(
    epochs: Sequence[int] | np.ndarray,
    critical_fraction: Sequence[float] | np.ndarray,
    jump: float,
    *,
    report: Literal["before", "after"] = "before",
) -> int | None:
    """First sampled epoch at which the critical-complex fraction rises by more than ``jump`` (§8.6).

    With k the first index where ``c̄[k+1] - c̄[k] > jump``, returns ``epochs[k]`` (``report="before"``, the
    reference code's bifurcation index, §9.29) or ``epochs[k+1]`` (``"after"``, the first epoch showing the
    raised fraction). Returns None when there is no such rise.

    Parameters
    ----------
    epochs : (num_sampled,) int array-like, strictly increasing
    critical_fraction : (num_sampled,) array-like
    jump : float
    report : {"before", "after"}
    """
    e, c = np.asarray(epochs), np.asarray(critical_fraction, dtype=float)
    if e.shape != c.shape or e.ndim != 1:
        raise ValueError(f"epochs and critical_fraction must be 1-D of equal length; found {e.shape}, {c.shape}")
    if np.any(np.diff(e) <= 0):
        raise ValueError("epochs must be strictly increasing")
    rises = np.flatnonzero(np.diff(c) > jump)
    if rises.size == 0:
        return None
    k = int(rises[0])
    return int(e[k] if report == "before" else e[k + 1])


def refine_transition_epoch(
    epochs: Sequence[int] | np.ndarray,
    critical_fraction: Sequence[float] | np.ndarray,
    *,
    reference_max: float,
    level: float,
) -> int | None:
    """First epoch of a dense window whose critical fraction exceeds ``level · reference_max`` (§8.6 refinement).

    Parameters
    ----------
    epochs : (num_epochs,) int array-like
        Every epoch in the ±r window around the coarse transition epoch.
    critical_fraction : (num_epochs,) array-like
    reference_max : float
        max c̄ (e.g. over all sampled epochs).
    level : float
        0.5 in §8.6.
    """
    e, c = np.asarray(epochs), np.asarray(critical_fraction, dtype=float)
    if e.shape != c.shape:
        raise ValueError(f"epochs and critical_fraction differ in shape: {e.shape} vs {c.shape}")
    order = np.argsort(e)
    above = np.flatnonzero(c[order] > level * reference_max)
    return int(e[order][above[0]]) if above.size else None


def evolution_epochs_to_show(transition_epoch: int | None, available_epochs: Sequence[int] | np.ndarray) -> list[int]:
    """Epochs of the PCA-evolution figure: {1, e*/5, e*/2, e*, min(2e*, E), E} (§8.7).

    Each target (rounded half up) is replaced by the nearest available snapshot (the earlier one on a tie);
    duplicates are dropped. Without a transition epoch only the first and last snapshots are shown.

    Parameters
    ----------
    transition_epoch : int or None
        e*.
    available_epochs : (num_snapshots,) int array-like
        Epochs with a checkpoint; E is the largest.
    """
    available = np.unique(np.asarray(available_epochs, dtype=np.int64))
    if available.size == 0:
        raise ValueError("no available epochs")
    last = int(available[-1])
    if transition_epoch is None:
        targets = [1, last]
    else:
        e = int(transition_epoch)
        targets = [1, math.floor(e / 5 + 0.5), math.floor(e / 2 + 0.5), e, min(2 * e, last), last]
    distance = np.abs(available[None, :] - np.asarray(targets)[:, None])
    chosen = available[distance.argmin(axis=1)]  # argmin takes the first, i.e. the earlier, on ties
    return sorted({int(epoch) for epoch in chosen})


def heatmap_threshold(second_order_after, percentile: float) -> float:
    """Masking threshold of the E[δh⁽²⁾] heat map: a percentile of ``√|E[δh⁽²⁾]|`` (§8.8).

    Parameters
    ----------
    second_order_after : (...) array-like
        Raw E[δh⁽²⁾] values of all units at the sampled epochs after the transition epoch.
    percentile : float
        In [0, 100] (95 in §8.8).
    """
    values = np.sqrt(np.abs(to_numpy(second_order_after))).ravel()
    if values.size == 0:
        raise ValueError("no E[δh2] values after the transition epoch to take a percentile of")
    return float(np.percentile(values, percentile))


def sampled_epochs(available: Sequence[int], stride: int, max_epoch: int | None = None) -> list[int]:
    """Epochs 1, 1 + r, 1 + 2r, ... up to ``max_epoch``, each replaced by the nearest snapshot (earlier on ties).

    Parameters
    ----------
    available : sequence of int
        Epochs with a snapshot.
    stride : int
        r.
    max_epoch : int or None
        Last epoch considered (None: the last snapshot).
    """
    epochs = np.unique(np.asarray(available, dtype=np.int64))
    if max_epoch is not None:
        epochs = epochs[epochs <= max_epoch]
    if epochs.size == 0:
        raise ValueError(f"no evolution snapshot at or before epoch {max_epoch}")
    targets = np.arange(1, int(epochs[-1]) + 1, stride)
    nearest = epochs[np.abs(epochs[None, :] - targets[:, None]).argmin(axis=1)]
    return sorted({int(epoch) for epoch in nearest})


def loss_rise_near(history: pd.DataFrame, epoch: int | None, *, window: int, smoothing: int) -> float:
    """Largest relative rise of the smoothed validation loss at a local maximum within ``±window`` of ``epoch``.

    The validation losses are smoothed by a centred moving average of ``smoothing`` points. For each local
    maximum j (not the first or last point) whose running minimum before it lies after the first point (the loss
    fell before rising), the rise is ``s[j] / min(s[:j]) - 1``. Returns 0 when there is no such maximum and nan
    when ``epoch`` is None (claim 16).

    Parameters
    ----------
    history : DataFrame with ``epoch`` and ``val_loss`` (nan on epochs without validation)
    epoch : int or None
        The transition epoch e*.
    window, smoothing : int
    """
    if epoch is None:
        return math.nan
    validated = history.dropna(subset=["val_loss"]).sort_values("epoch")
    smooth = validated["val_loss"].rolling(smoothing, center=True, min_periods=1).mean().to_numpy()
    epochs = validated["epoch"].to_numpy()
    best = 0.0
    for j in range(1, len(smooth) - 1):
        if not (smooth[j] >= smooth[j - 1] and smooth[j] >= smooth[j + 1] and abs(epochs[j] - epoch) <= window):
            continue
        low = int(np.argmin(smooth[:j]))
        if low > 0 and smooth[low] > 0:
            best = max(best, float(smooth[j] / smooth[low] - 1))
    return best
