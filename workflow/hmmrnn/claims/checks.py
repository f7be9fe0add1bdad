"""One check of a claim, ``statistic <operator> threshold``, and the claim rows it becomes.

The analyses measure; the claim rules judge. An analysis states each check with its threshold either as a number
or as a dotted key into config ``analysis.claims`` (``"fixed_point.min_initial_states"``) and writes the unjudged
checks (:func:`statistic_rows`, ``CLAIM_STATISTICS_SCHEMA``); :func:`judge` reads them with the thresholds and
returns the claim rows (``CLAIMS_SCHEMA``). So a changed threshold reruns only the claim rules.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import NamedTuple

import numpy as np
import pandas as pd

from ..study import ModelKey
from ..tables import CLAIM_STATISTICS_SCHEMA, CLAIMS_SCHEMA

__all__ = ["Check", "claim_rows", "judge", "spearman", "statistic_rows", "threshold_value"]


_OPERATORS = {
    "<": np.less,
    "<=": np.less_equal,
    ">": np.greater,
    ">=": np.greater_equal,
    "==": np.equal,
}


class Check(NamedTuple):
    """One check of a claim: ``statistic <operator> threshold``.

    ``threshold`` is a number, or (for :func:`statistic_rows`) a dotted key into config ``analysis.claims``.
    """

    claim: int
    check: str
    statistic: float
    operator: str
    threshold: float | str


def claim_rows(checks: Sequence[Check], *, hmm: str, hidden_size: int, input_dim: int, seed: int) -> pd.DataFrame:
    """The rows of :data:`CLAIMS_SCHEMA` for one model's checks; a nan or infinite statistic fails."""
    rows = []
    for check in checks:
        if check.operator not in _OPERATORS:
            raise ValueError(f"unknown operator {check.operator!r} in {check}; use one of {sorted(_OPERATORS)}")
        statistic = float(check.statistic)
        passed = bool(np.isfinite(statistic) and _OPERATORS[check.operator](statistic, check.threshold))
        rows.append((int(check.claim), check.check, statistic, check.operator, float(check.threshold), passed))
    frame = pd.DataFrame(rows, columns=["claim", "check", "statistic", "operator", "threshold", "is_passed"])
    keys = {"hmm": hmm, "hidden_size": hidden_size, "input_dim": input_dim, "seed": seed}
    return frame.assign(**keys)[CLAIMS_SCHEMA.names]


def statistic_rows(checks: Sequence[Check], *, hmm: str, hidden_size: int, input_dim: int, seed: int) -> pd.DataFrame:
    """The rows of :data:`CLAIM_STATISTICS_SCHEMA` for one model's checks, unjudged (thresholds may be keys)."""
    rows = [
        (
            int(check.claim),
            check.check,
            float(check.statistic),
            check.operator,
            None if isinstance(check.threshold, str) else float(check.threshold),
            check.threshold if isinstance(check.threshold, str) else None,
        )
        for check in checks
    ]
    frame = pd.DataFrame(rows, columns=["claim", "check", "statistic", "operator", "threshold", "threshold_key"])
    keys = {"hmm": hmm, "hidden_size": hidden_size, "input_dim": input_dim, "seed": seed}
    return frame.assign(**keys)[CLAIM_STATISTICS_SCHEMA.names]


def threshold_value(thresholds: Mapping[str, object], key: str) -> float:
    """The number at dotted ``key`` (``"orbit.min_switch_rate"``) of ``thresholds`` (config ``analysis.claims``)."""
    value: object = thresholds
    for part in key.split("."):
        if not isinstance(value, Mapping) or part not in value:
            raise KeyError(f"claim threshold {key!r} is not in analysis.claims (no {part!r})")
        value = value[part]
    return float(value)


def judge(statistics: pd.DataFrame, thresholds: Mapping[str, object]) -> pd.DataFrame:
    """The claim rows (:data:`CLAIMS_SCHEMA`) of unjudged checks (:data:`CLAIM_STATISTICS_SCHEMA`).

    Parameters
    ----------
    statistics : DataFrame
        Rows of one or more models, in order; each model's rows stay together and in order.
    thresholds : mapping
        Config ``analysis.claims``; a row's ``threshold_key`` is looked up there, else its ``threshold`` is used.
    """
    frames = []
    for key, rows in statistics.groupby(list(ModelKey._fields), sort=False):
        checks = [
            Check(
                int(row.claim),
                row.check,
                row.statistic,
                row.operator,
                threshold_value(thresholds, row.threshold_key) if isinstance(row.threshold_key, str) else row.threshold,
            )
            for row in rows.itertuples(index=False)
        ]
        frames.append(claim_rows(checks, **dict(zip(list(ModelKey._fields), key, strict=True))))
    if not frames:
        return pd.DataFrame({name: [] for name in CLAIMS_SCHEMA.names})
    return frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)


def spearman(x: np.ndarray, y: np.ndarray) -> float:
    """Spearman rank correlation (NaN with fewer than two points or a constant input)."""
    if len(x) < 2:
        return math.nan
    rx, ry = pd.Series(x).rank().to_numpy(), pd.Series(y).rank().to_numpy()
    if rx.std() == 0 or ry.std() == 0:
        return math.nan
    return float(np.corrcoef(rx, ry)[0, 1])
