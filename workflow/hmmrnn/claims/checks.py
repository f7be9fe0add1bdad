"""One check of a claim, ``statistic <operator> threshold``, and the claim rows it becomes."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import pandas as pd

from ..tables import CLAIMS_SCHEMA

__all__ = ["Check", "claim_rows", "spearman"]


_OPERATORS = {
    "<": np.less,
    "<=": np.less_equal,
    ">": np.greater,
    ">=": np.greater_equal,
    "==": np.equal,
}


class Check(NamedTuple):
    """One check of a claim: ``statistic <operator> threshold``."""

    claim: int
    check: str
    statistic: float
    operator: str
    threshold: float


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


def spearman(x: np.ndarray, y: np.ndarray) -> float:
    """Spearman rank correlation (NaN with fewer than two points or a constant input)."""
    if len(x) < 2:
        return math.nan
    rx, ry = pd.Series(x).rank().to_numpy(), pd.Series(y).rank().to_numpy()
    if rx.std() == 0 or ry.std() == 0:
        return math.nan
    return float(np.corrcoef(rx, ry)[0, 1])
