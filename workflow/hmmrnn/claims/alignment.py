"""Claim 15 across the linear chains, from the readout-alignment tables."""

from __future__ import annotations

import math
from collections.abc import Sequence

import pandas as pd

from ..study import ModelKey
from .checks import Check, claim_rows, spearman

__all__ = ["alignment_claims"]


def alignment_claims(
    table: pd.DataFrame, families: Sequence[str], *, converged_only: bool, min_drop: float
) -> pd.DataFrame:
    """Claim 15 across families: the mean projection p̄ decreases with the number of HMM states M.

    Per family, p̄ is averaged over its models (converged ones when ``converged_only`` and any converged). The
    checks are Spearman ρ(M, p̄) < 0 and p̄(smallest M) - p̄(largest M) ≥ ``min_drop``. The claim rows carry
    ``hmm`` = the families joined by "+", the hidden size and input dimension of the models, and ``seed`` = -1
    (all seeds).
    """
    models = table.drop_duplicates([*ModelKey._fields])
    means = []
    for hmm in families:  # loop over the (few) families only
        family = models[models["hmm"] == hmm]
        if converged_only and family["is_converged"].any():
            family = family[family["is_converged"]]
        if not family.empty:
            means.append((int(family["num_states"].iloc[0]), float(family["mean_projection"].mean())))
    by_m = pd.DataFrame(means, columns=["num_states", "mean_projection"]).sort_values("num_states")
    rho = spearman(by_m["num_states"].to_numpy(), by_m["mean_projection"].to_numpy())
    drop = float(by_m["mean_projection"].iloc[0] - by_m["mean_projection"].iloc[-1]) if len(by_m) >= 2 else math.nan
    checks = [Check(15, "spearman_states_projection", rho, "<", 0), Check(15, "projection_drop", drop, ">=", min_drop)]
    return claim_rows(
        checks,
        hmm="+".join(families),
        hidden_size=int(models["hidden_size"].iloc[0]) if len(models) else -1,
        input_dim=int(models["input_dim"].iloc[0]) if len(models) else -1,
        seed=-1,
    )
