"""Settings classes that mirror one config group: their fields are the group's schema properties, same names."""

import dataclasses
import inspect
import json
from pathlib import Path

import pytest

from hmmrnn import convergence, training
from hmmrnn.analysis import settings
from hmmrnn.evaluation.loss import sinkhorn_floor
from hmmrnn.evaluation.model import evaluate_model
from hmmrnn.study import CHECK_EVALUATION_EXCLUDE, FLOOR_TRAINING, TRAINING_APART

SCHEMA = json.loads((Path(__file__).resolve().parents[2] / "config" / "config.schema.json").read_text())

# settings class -> its config group
MIRRORS = {
    training.TrainSettings: ("training",),
    convergence.ConvergencePolicy: ("convergence",),
    settings.EigenSettings: ("analysis", "eigenvalues"),
    settings.GlobalSettings: ("analysis", "global_dynamics"),
    settings.SubspaceSettings: ("analysis", "subspaces"),
    settings.EvolutionSettings: ("analysis", "evolution"),
    settings.LocalSettings: ("analysis", "local"),
    settings.SubspaceResidencySettings: ("analysis", "local", "subspace_residency"),
    settings.ContourSettings: ("analysis", "contours"),
    settings.ResidencySettings: ("analysis", "local", "residency"),
    settings.LocateSettings: ("analysis", "local", "locate"),
    settings.NoiseSensitivitySettings: ("analysis", "local", "noise_sensitivity"),
    settings.KickSettings: ("analysis", "local", "kick_neurons"),
    settings.PopulationSettings: ("analysis", "local", "populations"),
    settings.ActivitySettings: ("analysis", "local", "mean_activities"),
    settings.InterventionSettings: ("analysis", "local", "interventions"),
}


# settings class -> the keys of its group that the rules pass apart (common.smk's config_group(..., exclude=...))
APART = {training.TrainSettings: TRAINING_APART}


def schema_properties(path: tuple[str, ...]) -> set[str]:
    node = SCHEMA
    for name in path:
        node = node["properties"][name]
    return set(node["properties"])


@pytest.mark.parametrize("cls", MIRRORS, ids=lambda cls: cls.__name__)
def test_settings_fields_are_the_schema_properties_of_their_group(cls):
    expected = schema_properties(MIRRORS[cls]) - set(APART.get(cls, ()))
    assert {field.name for field in dataclasses.fields(cls)} == expected


def test_the_keys_passed_on_under_config_names_are_the_callees_parameters():
    """The convergence check passes config evaluation (less CHECK_EVALUATION_EXCLUDE) on to evaluate_model, the floor
    rule config training's FLOOR_TRAINING keys on to sinkhorn_floor, both as keywords of the same names."""
    check_evaluation = schema_properties(("evaluation",)) - set(CHECK_EVALUATION_EXCLUDE)
    assert check_evaluation == {"emit_from_zero", "sinkhorn_epsilon", "sinkhorn_max_iters", "sinkhorn_tol"}
    assert check_evaluation <= set(inspect.signature(evaluate_model).parameters)
    assert set(FLOOR_TRAINING) <= schema_properties(("training",))
    assert set(FLOOR_TRAINING) <= set(inspect.signature(sinkhorn_floor).parameters)
