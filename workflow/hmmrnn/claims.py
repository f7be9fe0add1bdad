"""Study-level claims (PAPER_SPEC §10, claims 1 and 2) and the per-claim summary of the claims table."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from .summaries import distance_summary
from .tables import CLAIMS_SCHEMA, Check, claim_rows

__all__ = ["CLAIM_TITLES", "claims_summary", "emission_claims", "grid_claims", "spearman"]

CLAIM_TITLES: dict[int, str] = {
    1: "Emission statistics reproduced",
    2: "Input dimension helps, hidden size saturates",
    3: "Single fixed point without input",
    4: "Noise-sustained orbit",
    5: "Slow clusters, fast transitions",
    6: "Orbit radius linear in noise std",
    7: "Training transition (fixed point to orbit)",
    8: "Second-order vector E[δh⁽²⁾] after the transition",
    9: "Residency zones: clusters, kick-zones, transitions",
    10: "Cluster points more noise sensitive than transition points",
    11: "Kick-neuron pre-activation profile",
    12: "Kick circuit: excitation within, inhibition across",
    13: "Causal interventions trap or release the trajectory",
    14: "Oscillation: anti-phase populations, kick bursts",
    15: "Readout alignment decreases with M",
    16: "Double descent of the validation loss",
    17: "Compositional orbits (fully-connected, cyclic)",
}
"""Short title of every claim of PAPER_SPEC §10."""

_KEYS = ["hmm", "hidden_size", "input_dim", "seed"]


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
            **{name: row[name] for name in _KEYS},
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


def spearman(x: np.ndarray, y: np.ndarray) -> float:
    """Spearman rank correlation (NaN with fewer than two points or a constant input)."""
    if len(x) < 2:
        return math.nan
    rx, ry = pd.Series(x).rank().to_numpy(), pd.Series(y).rank().to_numpy()
    if rx.std() == 0 or ry.std() == 0:
        return math.nan
    return float(np.corrcoef(rx, ry)[0, 1])


def grid_claims(
    metrics: pd.DataFrame, families: Sequence[str], *, hidden_sizes: tuple[int, int], max_gain: float
) -> pd.DataFrame:
    """Claim 2 per linear-chain family: the distance falls with the input dimension, the hidden size saturates.

    Scores are averaged over hidden sizes per input dimension: Spearman ρ(d, score) < 0 and
    score(smallest d) - score(largest d) > 0; and mean over d of score(H = hidden_sizes[0]) - score(H =
    hidden_sizes[1]) ≤ ``max_gain`` × the HMM baseline. Rows carry the family, ``hidden_size`` = -1,
    ``input_dim`` = -1 and ``seed`` = -1 (the whole grid).
    """
    summary = distance_summary(metrics)
    rnn, hmm = summary[summary["source"] == "rnn"], summary[summary["source"] == "hmm"]
    frames = []
    for family in families:  # loop over the (few) families only
        cells = rnn[rnn["hmm"] == family]
        by_d = cells.groupby("input_dim")["mean"].mean().sort_index()
        small, large = hidden_sizes
        by_h = cells.pivot_table(index="input_dim", columns="hidden_size", values="mean")
        gain = float((by_h[small] - by_h[large]).mean()) if {small, large} <= set(by_h.columns) else math.nan
        baseline = float(hmm.loc[hmm["hmm"] == family, "mean"].mean())
        checks = [
            Check(2, "spearman_input_dim_distance", spearman(by_d.index.to_numpy(), by_d.to_numpy()), "<", 0),
            Check(
                2,
                "distance_smallest_minus_largest_input_dim",
                float(by_d.iloc[0] - by_d.iloc[-1]) if len(by_d) >= 2 else math.nan,
                ">",
                0,
            ),
            Check(
                2,
                f"gain_hidden_{small}_to_{large}_over_baseline",
                gain / baseline if baseline > 0 else math.nan,
                "<=",
                max_gain,
            ),
        ]
        frames.append(claim_rows(checks, hmm=family, hidden_size=-1, input_dim=-1, seed=-1))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=CLAIMS_SCHEMA.names)


def claims_summary(claims: pd.DataFrame) -> pd.DataFrame:
    """One row per claim: title, checks and models, fraction of checks passed and of models passing every check."""
    by_model = claims.groupby(["claim", *_KEYS])["is_passed"].all().reset_index()
    summary = claims.groupby("claim").agg(
        num_checks=("is_passed", "size"), fraction_checks_passed=("is_passed", "mean")
    )
    models = by_model.groupby("claim").agg(
        num_models=("is_passed", "size"), fraction_models_passing=("is_passed", "mean")
    )
    table = summary.join(models).reset_index()
    table["title"] = table["claim"].map(CLAIM_TITLES).fillna("")
    table["status"] = np.where(
        table["fraction_models_passing"] == 1,
        "reproduced",
        np.where(table["fraction_models_passing"] > 0, "partly", "not reproduced"),
    )
    missing = sorted(set(CLAIM_TITLES) - set(table["claim"]))
    if missing:
        table = pd.concat(
            [
                table,
                pd.DataFrame({"claim": missing, "title": [CLAIM_TITLES[c] for c in missing], "status": "not checked"}),
            ],
            ignore_index=True,
        )
    columns = [
        "claim",
        "title",
        "status",
        "num_models",
        "fraction_models_passing",
        "num_checks",
        "fraction_checks_passed",
    ]
    return table.sort_values("claim")[columns].reset_index(drop=True)
