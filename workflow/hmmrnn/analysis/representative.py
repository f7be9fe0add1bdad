"""The representative model of each family: selection among the candidate seeds and loading its weights."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
import torch

from ..dynamics.simulation import Weights
from ..study import ModelKey
from ..tables import REPRESENTATIVE_SCHEMA

__all__ = ["candidate_file", "load_representative_weights", "representative_key", "select_representatives"]

log = logging.getLogger(__name__)


def select_representatives(
    training: pd.DataFrame,
    metrics: pd.DataFrame,
    *,
    candidates: Mapping[str, Sequence[int]],
    hidden_size: int,
    input_dim: int,
    seeds: Mapping[str, int],
) -> pd.DataFrame:
    """One representative model per family: the converged candidate with the lowest Sinkhorn-aligned distance.

    Among the family's seeds ``candidates[hmm]`` at ``(hidden_size, input_dim)``, converged models are preferred;
    if none converged the best-scoring unconverged one is taken (and recorded as unconverged). Ties and missing
    distances go to the lower seed. ``seeds[hmm]`` names the seed instead.

    Parameters
    ----------
    training : DataFrame
        The training table (``TRAINING_SCHEMA``; uses ``is_converged``).
    metrics : DataFrame
        The metrics table (``METRICS_SCHEMA``; uses the ``rnn`` rows of ``distance_mean``).
    candidates : mapping of family -> seeds
    hidden_size, input_dim, seeds : int, int, mapping of family -> seed
        Config ``analysis.representative``.

    Returns
    -------
    DataFrame with the columns of ``REPRESENTATIVE_SCHEMA``, one row per family of ``candidates``
    """
    distance = metrics.loc[
        (metrics["source"] == "rnn") & (metrics["metric"] == "distance_mean"), [*ModelKey._fields, "value"]
    ]
    table = training[[*ModelKey._fields, "is_converged"]].merge(
        distance.rename(columns={"value": "distance_mean"}), on=list(ModelKey._fields), how="left"
    )
    rows = []
    for hmm, family_seeds in candidates.items():
        cell = table[
            (table["hmm"] == hmm)
            & (table["hidden_size"] == hidden_size)
            & (table["input_dim"] == input_dim)
            & table["seed"].isin(list(family_seeds))
        ]
        missing = sorted(set(family_seeds) - set(cell["seed"]))
        if missing:
            raise ValueError(
                f"{hmm}: seeds {missing} at hidden_size={hidden_size}, input_dim={input_dim} are missing from the "
                "training table; rebuild results/tables/training.parquet"
            )
        if hmm in seeds:
            chosen = cell[cell["seed"] == seeds[hmm]]
            if chosen.empty:
                raise ValueError(
                    f"{hmm}: override seed {seeds[hmm]} is not among the candidates {sorted(family_seeds)}"
                )
        else:
            pool = cell[cell["is_converged"]] if cell["is_converged"].any() else cell
            chosen = pool.sort_values(["distance_mean", "seed"], na_position="last")
            if not cell["is_converged"].any():
                log.warning("%s: no candidate converged; taking the best-scoring unconverged seed", hmm)
        row = chosen.iloc[0]
        rows.append(
            {
                "hmm": hmm,
                "hidden_size": hidden_size,
                "input_dim": input_dim,
                "seed": int(row["seed"]),
                "distance_mean": float(row["distance_mean"]),
                "is_converged": bool(row["is_converged"]),
                "is_override": hmm in seeds,
                "num_candidates": len(cell),
                "num_converged": int(cell["is_converged"].sum()),
            }
        )
    return pd.DataFrame(rows, columns=REPRESENTATIVE_SCHEMA.names)


def representative_key(representatives: pd.DataFrame, hmm: str) -> dict[str, Any]:
    """The model key (``hmm, hidden_size, input_dim, seed``) of family ``hmm``'s representative."""
    row = representatives[representatives["hmm"] == hmm]
    if len(row) != 1:
        raise ValueError(f"the representatives table has {len(row)} rows for {hmm!r}; rerun select_representatives")
    return {name: (str if name == "hmm" else int)(row.iloc[0][name]) for name in ModelKey._fields}


def candidate_file(paths: Sequence[str], seeds: Sequence[int], seed: int) -> str:
    """The file of ``seed`` among the candidates' files ``paths`` (listed in the order of ``seeds``)."""
    if len(paths) != len(seeds):
        raise ValueError(f"{len(paths)} candidate files for {len(seeds)} seeds")
    by_seed = dict(zip((int(s) for s in seeds), paths, strict=True))
    if seed not in by_seed:
        raise ValueError(f"the representative seed {seed} is not among the candidate seeds {sorted(by_seed)}")
    return by_seed[seed]


def load_representative_weights(
    representatives_path: str, hmm: str, model_paths: Sequence[str], seeds: Sequence[int]
) -> tuple[dict[str, Any], Weights]:
    """Key and float64 weights of family ``hmm``'s representative, picked among the candidates' ``final.pt``."""
    from ..io import load_checkpoint, read_parquet
    from ..tables import REPRESENTATIVE_SCHEMA

    key = representative_key(read_parquet(representatives_path, REPRESENTATIVE_SCHEMA), hmm)
    checkpoint = load_checkpoint(candidate_file(model_paths, seeds, key["seed"]), required=("state_dict",))
    return key, Weights.from_state_dict(checkpoint["state_dict"], torch.float64)
