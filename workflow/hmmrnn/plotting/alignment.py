"""The readout alignment against the number of states (Fig 25)."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ..study import ModelKey
from ._style import empty_figure

__all__ = ["alignment_statistics", "figure_alignment", "load_alignment"]


def load_alignment(paths: Sequence[str | os.PathLike]) -> pd.DataFrame:
    """The per-family ``alignment.parquet`` tables (ALIGNMENT_SCHEMA) concatenated into one."""
    from ..io import read_parquet
    from ..tables import ALIGNMENT_SCHEMA

    frames = [read_parquet(path, ALIGNMENT_SCHEMA) for path in paths]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=ALIGNMENT_SCHEMA.names)


def alignment_statistics(alignment: pd.DataFrame, converged_only: bool) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per-model mean projections and their per-family mean ± std (numpy std, ddof = 0).

    Parameters
    ----------
    alignment : DataFrame
        Concatenated ALIGNMENT_SCHEMA rows (one per model and output).
    converged_only : bool
        Average over the converged seeds of a family if it has any (all seeds otherwise).

    Returns
    -------
    models : DataFrame
        One row per model: the key columns, ``num_states``, ``mean_projection``, ``is_converged``, ``is_used``.
    families : DataFrame
        One row per family, sorted by ``num_states``: ``hmm, num_states, mean, std, num_seeds, converged_only``.
    """
    models = alignment.drop_duplicates(list(ModelKey._fields))[
        [*ModelKey._fields, "num_states", "mean_projection", "is_converged"]
    ]
    models = models[np.isfinite(models["mean_projection"].astype(float))].reset_index(drop=True)
    any_converged = models.groupby("hmm")["is_converged"].transform("any").astype(bool)
    restrict = converged_only & any_converged
    models = models.assign(is_used=~restrict | models["is_converged"].astype(bool))
    used = models[models["is_used"]]
    families = (
        used.groupby("hmm")
        .agg(
            num_states=("num_states", "first"),
            mean=("mean_projection", "mean"),
            std=("mean_projection", lambda values: float(np.std(values))),
            num_seeds=("mean_projection", "size"),
        )
        .reset_index()
        .assign(converged_only=lambda frame: frame["hmm"].map(restrict.groupby(models["hmm"]).any()).astype(bool))
        .sort_values(["num_states", "hmm"], ignore_index=True)
    )
    return models, families


def figure_alignment(alignment: pd.DataFrame, converged_only: bool, labels: Mapping[str, str]) -> Figure:
    """Fig 25: readout projection on the PC1-PC2 plane vs the number of HMM states (mean ± std over seeds).

    Parameters
    ----------
    alignment : DataFrame
        Concatenated ALIGNMENT_SCHEMA rows of the shown families.
    converged_only : bool
        Average over converged seeds where a family has any (config ``analysis.converged_only``).
    labels : mapping of str to str
        Display label per family.

    Returns
    -------
    Figure
    """
    if alignment.empty:
        return empty_figure("no readout alignment (no linear-chain family)")
    models, families = alignment_statistics(alignment, converged_only)
    if families.empty:
        return empty_figure("no finite readout projection")
    figure, ax = plt.subplots(figsize=(6.5, 4.2), layout="constrained")
    rank = models.groupby("hmm").cumcount().to_numpy()
    size = models.groupby("hmm")["seed"].transform("size").to_numpy()
    x = models["num_states"].to_numpy(float) + 0.06 * (rank - (size - 1) / 2)
    used = models["is_used"].to_numpy()
    ax.scatter(x[used], models["mean_projection"][used], s=18, color="grey", zorder=2, label="seeds averaged")
    if (~used).any():
        ax.scatter(
            x[~used],
            models["mean_projection"][~used],
            s=18,
            facecolors="none",
            edgecolors="grey",
            zorder=2,
            label="seeds not converged (left out)",
        )
    seeds = "converged seeds" if converged_only else "all seeds"
    ax.errorbar(
        families["num_states"].to_numpy(float),
        families["mean"].to_numpy(float),
        yerr=families["std"].to_numpy(float),
        fmt="o-",
        color="black",
        ms=6,
        capsize=4,
        lw=1.2,
        zorder=3,
        label=f"mean ± std ({seeds})",
    )
    for row in families.itertuples():
        fallback = "" if row.converged_only or not converged_only else ", none converged: all seeds"
        ax.annotate(
            f"{labels.get(row.hmm, row.hmm)}\n{row.mean:.2f} ± {row.std:.2f} (n={row.num_seeds}{fallback})",
            (row.num_states, row.mean),
            textcoords="offset points",
            xytext=(8, 8),
            fontsize=6,
        )
    ax.set_xticks(sorted(families["num_states"].unique()))
    ax.margins(x=0.25, y=0.2)
    ax.set_xlabel("Number of HMM States", fontsize=8)
    ax.set_ylabel("Projections on Plane", fontsize=8)
    ax.tick_params(labelsize=7)
    ax.legend(fontsize=6, loc="best")
    ax.set_title("RNN Readouts Projections on PCA plane vs # States", fontsize=9)
    return figure
