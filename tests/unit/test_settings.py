"""Settings classes that mirror one config group: their fields are the group's schema properties, same names."""

import dataclasses
import json
from pathlib import Path

import pytest

from hmmrnn.analysis import settings

SCHEMA = json.loads((Path(__file__).resolve().parents[2] / "config" / "config.schema.json").read_text())

# settings class -> its config group. Issue 12 item 4 (not done yet): training.TrainSettings (training, the family's
# epochs and grad_clip, a derived evolution_every) and convergence.ConvergencePolicy (convergence, evaluation, the
# family's eval_seq_len) still combine keys of several groups; study.train_settings, convergence_params and
# floor_params build them.
MIRRORS = {
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


def schema_properties(path: tuple[str, ...]) -> set[str]:
    node = SCHEMA
    for name in path:
        node = node["properties"][name]
    return set(node["properties"])


@pytest.mark.parametrize("cls", MIRRORS, ids=lambda cls: cls.__name__)
def test_settings_fields_are_the_schema_properties_of_their_group(cls):
    assert {field.name for field in dataclasses.fields(cls)} == schema_properties(MIRRORS[cls])
