"""Settings classes that mirror one config group: their fields are the group's schema properties, same names."""

import dataclasses
import json
from pathlib import Path

import pytest

from hmmrnn import training
from hmmrnn.analysis import settings
from hmmrnn.study import TRAINING_APART

SCHEMA = json.loads((Path(__file__).resolve().parents[2] / "config" / "config.schema.json").read_text())

# settings class -> its config group. Issue 12 item 4 (not done yet): convergence.ConvergencePolicy (convergence,
# evaluation, the family's eval_seq_len) still combines keys of several groups; study.convergence_params and
# floor_params build its settings and the floor's.
MIRRORS = {
    training.TrainSettings: ("training",),
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
