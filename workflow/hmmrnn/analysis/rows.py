"""Table rows of the analyses: the model key on every row, and ratios that are nan where undefined."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from ..study import ModelKey

__all__ = ["ratio", "with_key"]


def ratio(numerator: float, denominator: float) -> float:
    return float(numerator / denominator) if denominator and np.isfinite(denominator) else math.nan


def with_key(rows: pd.DataFrame | list[dict[str, Any]], key: Mapping[str, Any], schema) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=[name for name in schema.names if name not in ModelKey._fields])
    return frame.assign(**{name: key[name] for name in ModelKey._fields})[schema.names]
