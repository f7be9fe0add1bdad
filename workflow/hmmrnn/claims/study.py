"""Study-level claims 1 and 2 (PAPER_SPEC §10) from the training and metrics tables."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from ..evaluation.summaries import distance_summary
from ..study import ModelKey
from ..tables import CLAIMS_SCHEMA
from .checks import Check, claim_rows, spearman

__all__ = ["emission_claims", "grid_claims"]


def emission_claims(training: pd.DataFrame, thresholds: Mapping[str, float], *, min_fraction: float) -> pd.DataFrame:
    """Claim 1 per model from its convergence criteria, plus one grid-level row (§10 item 1).

    Per model: (a) aligned distance / HMM baseline ≤ ``max_distance_ratio``, (b) max squared transition
    difference ≤ ``max_transition_sq_diff``, (c) max frequency error ≤ ``max_frequency_error``, (d) relative
    switch error ≤ ``max_switch_rel_error`` (the ``convergence`` thresholds, one place for each fact). Grid: the
    fraction of models passing (a)-(c) ≥ ``min_fraction``, recorded with ``hmm = "all"`` and -1 for the rest.
    """
    checks = {
        "distance_ratio": ("distance_ratio", "max_distance_ratio"),
        "max_transition_sq_diff": ("max_transition_sq_diff", "max_transition_sq_diff"),
        "max_frequency_error": ("max_frequency_error", "max_frequency_error"),
        "switch_rel_error": ("switch_rel_error", "max_switch_rel_error"),
    }
    frames, passing = [], []
    for _, row in training.iterrows():  # one row per model
        rows = claim_rows(
            [Check(1, name, row[column], "<=", thresholds[limit]) for name, (column, limit) in checks.items()],
            **{name: row[name] for name in ModelKey._fields},
        )
        frames.append(rows)
        passing.append(bool(rows["is_passed"].iloc[:3].all()))
    fraction = float(np.mean(passing)) if passing else math.nan
    frames.append(
        claim_rows(
            [Check(1, "fraction_of_models_passing_abc", fraction, ">=", min_fraction)],
            hmm="all",
            hidden_size=-1,
            input_dim=-1,
            seed=-1,
        )
    )
    return pd.concat(frames, ignore_index=True)[CLAIMS_SCHEMA.names]


def grid_claims(
    metrics: pd.DataFrame, families: Sequence[str], *, hidden_sizes: tuple[int, int], max_gain: float
) -> pd.DataFrame:
    """Claim 2 per linear-chain family: the distance falls with the input dimension, the hidden size saturates.

    Scores are averaged over hidden sizes per input dimension: Spearman ρ(d, score) < 0 and
    score(smallest d) - score(largest d) > 0; and mean over d of score(H = hidden_sizes[0]) - score(H =
    hidden_sizes[1]) ≤ ``max_gain`` × the HMM baseline. Rows carry the family, ``hidden_size`` = -1,
    ``input_dim`` = -1 and ``seed`` = -1 (the whole grid). A check the family's grid cannot make is left out
    rather than failed: the input-dimension checks need two or more input dimensions, the hidden-size check
    models at both ``hidden_sizes``. A study with one cell per family (the quick study) so has no claim 2 rows,
    and the summary reads "not checked".
    """
    summary = distance_summary(metrics)
    rnn, hmm = summary[summary["source"] == "rnn"], summary[summary["source"] == "hmm"]
    frames = []
    for family in families:  # loop over the (few) families only
        cells = rnn[rnn["hmm"] == family]
        by_d = cells.groupby("input_dim")["mean"].mean().sort_index()
        small, large = hidden_sizes
        by_h = cells.pivot_table(index="input_dim", columns="hidden_size", values="mean")
        baseline = float(hmm.loc[hmm["hmm"] == family, "mean"].mean())
        checks = []
        if len(by_d) >= 2:
            checks += [
                Check(2, "spearman_input_dim_distance", spearman(by_d.index.to_numpy(), by_d.to_numpy()), "<", 0),
                Check(2, "distance_smallest_minus_largest_input_dim", float(by_d.iloc[0] - by_d.iloc[-1]), ">", 0),
            ]
        if {small, large} <= set(by_h.columns):
            gain = float((by_h[small] - by_h[large]).mean())
            statistic = gain / baseline if baseline > 0 else math.nan
            checks.append(Check(2, f"gain_hidden_{small}_to_{large}_over_baseline", statistic, "<=", max_gain))
        if not checks:
            continue
        frames.append(claim_rows(checks, hmm=family, hidden_size=-1, input_dim=-1, seed=-1))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=CLAIMS_SCHEMA.names)
