"""Study-level summaries of the metrics table: distances and transition differences per family and size."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..study import ModelKey

__all__ = ["CELL", "distance_summary", "load_study_metrics", "select_models", "transition_difference_summary"]


CELL = ["hmm", "hidden_size", "input_dim"]


def select_models(metrics: pd.DataFrame, training: pd.DataFrame, converged_only: bool) -> pd.DataFrame:
    """Rows of ``metrics`` whose model is in ``training`` (and converged there, if ``converged_only``)."""
    kept = (
        training.loc[training["is_converged"], list(ModelKey._fields)]
        if converged_only
        else training[list(ModelKey._fields)]
    )
    return metrics.merge(kept, on=list(ModelKey._fields), how="inner")


def load_study_metrics(metrics_path: str, training_path: str, converged_only: bool) -> pd.DataFrame:
    """The metrics table restricted by :func:`select_models` to the models the figures use."""
    from ..io import read_parquet
    from ..tables import METRICS_SCHEMA, TRAINING_SCHEMA

    metrics = read_parquet(metrics_path, METRICS_SCHEMA)
    return select_models(metrics, read_parquet(training_path, TRAINING_SCHEMA), converged_only)


def distance_summary(metrics: pd.DataFrame) -> pd.DataFrame:
    """Sinkhorn-aligned distance per (hmm, hidden_size, input_dim) cell and source (§5.1 aggregation).

    Returns one row per cell and source (``rnn`` or ``hmm`` = the HMM-vs-HMM baseline) with ``mean`` and
    ``std`` across seeds of the per-seed mean distances, ``mean_within`` (mean across seeds of the per-seed
    standard deviations) and ``num_seeds``.
    """
    means = metrics[metrics["metric"] == "distance_mean"]
    stds = metrics[metrics["metric"] == "distance_std"]
    per_seed = means.merge(stds, on=[*ModelKey._fields, "source"], suffixes=("", "_std"))
    grouped = per_seed.groupby([*CELL, "source"], sort=True)
    return grouped.agg(
        mean=("value", "mean"),
        std=("value", lambda v: float(np.std(v, ddof=0))),
        mean_within=("value_std", "mean"),
        num_seeds=("seed", "nunique"),
    ).reset_index()


def transition_difference_summary(metrics: pd.DataFrame) -> pd.DataFrame:
    """Mean and std across seeds of each squared transition-matrix difference ``(i, j)`` per cell (§5.2)."""
    rows = metrics[metrics["metric"] == "transition_sq_diff"].astype({"i": "int64", "j": "int64"})
    return (
        rows.groupby([*CELL, "i", "j"], sort=True)["value"]
        .agg(mean="mean", std=lambda v: float(np.std(v, ddof=0)), num_seeds="count")
        .reset_index()
    )
