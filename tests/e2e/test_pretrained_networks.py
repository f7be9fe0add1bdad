"""Networks trained elsewhere: a checkpoint in the authors' format runs through the tiny study's analyses."""

import math
import re

import pandas as pd
import pytest
import torch
from conftest import run_snakemake
from torch import nn

pytestmark = pytest.mark.e2e

KEY = {"hmm": "linear2", "hidden_size": 8, "input_dim": 4, "seed": 0}
MODEL = "results/models/linear2/hidden_8/input_4/seed_0"
# the tiny study cut to the one imported network (so nothing is trained)
IMPORTED_ONLY = {
    "study": [{"hmms": ["linear2"], "hidden_sizes": [8], "input_dims": [4], "seeds": [0]}],
    "pretrained": [{**KEY, "path": "theirs/linear2.pth"}],
    "analysis": {"figures": {"two_state": "linear2", "linear_chains": ["linear2"], "multi_orbit": []}},
}
TABLES = ("training", "metrics", "representatives", "global_dynamics", "zones", "claims", "claims_summary")
FIGURES = ("fig02", "fig05", "fig10", "fig16")  # a few figures of each kind: the others read the same tables


def save_authors_checkpoint(path, hidden_size=8, input_dim=4, num_outputs=3) -> dict[str, torch.Tensor]:
    """``torch.save`` of the state dict of the authors' module (bias-free ``nn.RNN`` + ``nn.Linear``)."""

    class AuthorsRNN(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.rnn = nn.RNN(input_dim, hidden_size, 1, nonlinearity="relu", batch_first=True, bias=False)
            self.fc = nn.Linear(hidden_size, num_outputs, bias=False)

    generator = torch.Generator().manual_seed(7)
    module = AuthorsRNN()
    with torch.no_grad():
        for weight in module.parameters():
            weight.copy_(torch.empty_like(weight).uniform_(-0.3, 0.3, generator=generator))
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(module.state_dict(), path)
    return {key: value.clone() for key, value in module.state_dict().items()}


def test_an_imported_network_is_evaluated_analysed_and_plotted_without_training(workdir):
    known = save_authors_checkpoint(workdir / "theirs" / "linear2.pth")
    targets = [f"results/tables/{table}.parquet" for table in TABLES] + [f"results/figures/{f}.pdf" for f in FIGURES]
    result = run_snakemake(workdir, "--cores", "2", *targets, override=IMPORTED_ONLY)
    assert "train_rnn" not in result.stdout + result.stderr
    assert (workdir / "results/logs/import_pretrained/linear2/hidden_8/input_4/seed_0.log").exists()

    final = torch.load(workdir / MODEL / "final.pt", weights_only=True)
    assert torch.equal(final["state_dict"]["readout.weight"], known["fc.weight"])
    assert torch.equal(final["state_dict"]["rnn.weight_hh_l0"], known["rnn.weight_hh_l0"])
    assert (final["hidden_size"], final["input_dim"], final["num_outputs"]) == (8, 4, 3)
    assert pd.read_parquet(workdir / MODEL / "history.parquet").empty

    tables = workdir / "results" / "tables"
    training = pd.read_parquet(tables / "training.parquet")
    row = training.iloc[0]
    assert len(training) == 1 and row["source"] == "theirs/linear2.pth" and row["epochs_run"] == 0
    assert math.isfinite(row["final_val_loss"]) and row["loss_ratio"] == pytest.approx(
        row["final_val_loss"] / row["loss_floor"]
    )
    assert row["is_converged"] in (True, False)  # judged by the convergence policy of trained models
    metrics = pd.read_parquet(tables / "metrics.parquet")
    assert set(metrics["hmm"]) == {"linear2"} and len(metrics) > 0
    representative = pd.read_parquet(tables / "representatives.parquet")
    assert representative[["hmm", "seed"]].values.tolist() == [["linear2", 0]]
    for table in ("global_dynamics", "zones", "claims"):
        assert "linear2" in set(pd.read_parquet(tables / f"{table}.parquet")["hmm"]), table
    assert len(pd.read_parquet(tables / "claims_summary.parquet")) > 0
    for figure in FIGURES:
        assert (workdir / "results" / "figures" / f"{figure}.pdf").stat().st_size > 0, figure


@pytest.mark.parametrize(
    ("checkpoint", "message"),
    [
        ("wrong_shape", r"hidden_size=8, input_dim=4, seed=0: theirs/linear2.pth: rnn.weight_ih_l0 has shape \(8, 5\)"),
        ("missing", r"hidden_size=8, input_dim=4, seed=0: theirs/linear2.pth: checkpoint not found"),
        ("unknown", r"theirs/linear2.pth: unknown checkpoint format: found keys \['encoder.weight'\]"),
    ],
)
def test_a_bad_checkpoint_stops_the_run_before_any_job(workdir, checkpoint, message):
    path = workdir / "theirs" / "linear2.pth"
    if checkpoint == "wrong_shape":
        save_authors_checkpoint(path, input_dim=5)
    elif checkpoint == "unknown":
        path.parent.mkdir()
        torch.save({"encoder.weight": torch.zeros(2, 2)}, path)
    result = run_snakemake(workdir, "--cores", "2", check=False, override=IMPORTED_ONLY)
    assert result.returncode != 0
    assert re.search(message, result.stderr), result.stderr
    assert not (workdir / "results").exists()
