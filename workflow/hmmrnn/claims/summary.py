"""The per-claim summary of every claim row (PAPER_SPEC §10)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..study import ModelKey

__all__ = ["CLAIM_TITLES", "claims_summary"]


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


def claims_summary(claims: pd.DataFrame) -> pd.DataFrame:
    """One row per claim: title, checks and models, fraction of checks passed and of models passing every check."""
    by_model = claims.groupby(["claim", *ModelKey._fields])["is_passed"].all().reset_index()
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
