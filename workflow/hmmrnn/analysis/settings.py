"""Frozen settings of the analyses, built from their config groups by ``from_params``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ..settings import FromParams

__all__ = [
    "ActivitySettings",
    "ContourSettings",
    "EigenSettings",
    "EvolutionSettings",
    "GlobalSettings",
    "InterventionSettings",
    "KickSettings",
    "LocalSettings",
    "LocateSettings",
    "NoiseSensitivitySettings",
    "PopulationSettings",
    "ResidencySettings",
    "SubspaceResidencySettings",
    "SubspaceSettings",
]


@dataclass(frozen=True)
class EigenSettings(FromParams):
    """Critical complex pairs ``|Re w| < eps_re``, ``Im w > eps_im``; Jacobian ``gating`` (§6.5, §9.20)."""

    eps_re: float
    eps_im: float
    gating: str


@dataclass(frozen=True)
class ContourSettings(FromParams):
    """Noise levels (standard deviations) and the kernel density contours of their runs (§6.2)."""

    noise_levels: tuple[float, ...]
    noise_steps: int
    bw_adjust: float
    max_points: int
    grid_size: int
    line_level: float
    fill_levels: tuple[float, float]

    @property
    def proportions(self) -> tuple[float, float, float]:
        """Iso-proportions of the contours: (lower fill, line, upper fill)."""
        return (self.fill_levels[0], self.line_level, self.fill_levels[1])


@dataclass(frozen=True)
class GlobalSettings(FromParams):
    """Config ``analysis.global_dynamics``: the runs and the fixed-point search of :func:`analyze_global`."""

    pca_steps: int
    pca_components: int
    no_input_trajectories: int
    no_input_steps: int
    input_trajectories: int
    input_steps: int
    jacobian_steps: int
    spectrum_samples: int
    fixed_point_initial_states: int
    fixed_point_steps: int
    fixed_point_refine_steps: int
    fixed_point_tolerance: float


@dataclass(frozen=True)
class SubspaceSettings(FromParams):
    """Config ``analysis.subspaces``: the output-pair subspaces of :func:`analyze_subspaces`."""

    steps: int
    global_components: int
    pair_components: int
    pairs: tuple[tuple[int, int], ...]
    shown_components: tuple[int, int]
    min_run_length: int
    max_trajectory_steps: int
    min_points: int


@dataclass(frozen=True)
class EvolutionSettings(FromParams):
    """Config ``analysis.evolution``: the per-epoch runs of :func:`analyze_evolution`.

    ``max_epochs`` maps a family to its last sampled epoch; a family not in it uses every snapshot.
    """

    epoch_stride: int
    max_epochs: Mapping[str, int]
    num_steps: int
    warmup_steps: int
    init_scale: float
    discard_steps: int
    transition_jump: float
    transition_report: str
    refine: bool
    refine_level: float
    converged_rate_epochs: int
    rate_fallback_on: str
    second_order_variant: str
    second_order_trials: int
    second_order_horizon: int
    second_order_warmup_steps: int
    second_order_init_scale: float
    heatmap_percentile: float
    pca_points: int
    pca_clip: float


@dataclass(frozen=True)
class ResidencySettings(FromParams):
    num_states: int
    warmup_steps: int
    num_rollouts: int
    max_steps: int
    transition_cut: float
    kick_cut: float
    cluster_prob: float


@dataclass(frozen=True)
class SubspaceResidencySettings(FromParams):
    """Config ``analysis.local.subspace_residency``: the run of the pair-subspace residency (Fig 19); the pairs and
    components are those of ``analysis.subspaces``."""

    steps: int
    max_states: int


@dataclass(frozen=True)
class LocateSettings(FromParams):
    num_steps: int
    warmup_steps: int
    init_scale: float
    skip_switches: int
    min_switch_time: int
    cluster_fraction: float
    max_back: int
    num_rollouts: int
    max_steps: int
    cluster_min_residency: float
    transition_max_time: float
    max_simulations: int


@dataclass(frozen=True)
class NoiseSensitivitySettings(FromParams):
    gammas: tuple[float, ...]
    num_trajectories: int
    num_steps: int
    noise_alignment: str
    num_display: int


@dataclass(frozen=True)
class KickSettings(FromParams):
    num_steps: int
    warmup_steps: int
    window: tuple[int, int]
    cluster_margin: int
    min_switches: int
    max_cluster_active_fraction: float
    num_kick: int
    silencing_trajectories: int
    silencing_steps: int
    silencing_scope: str
    map_steps: int


@dataclass(frozen=True)
class PopulationSettings(FromParams):
    num_per_population: int
    method: str


@dataclass(frozen=True)
class ActivitySettings(FromParams):
    num_steps: int
    shown_steps: int
    pre_switch_steps: int
    cluster_margin: int


@dataclass(frozen=True)
class InterventionSettings(FromParams):
    mu_max: float
    mu_step: float
    shown_mus: tuple[float, float, float]
    max_groups: int
    noise_presynaptic: int
    control_presynaptic: int
    num_trajectories: int
    num_steps: int
    gamma: float
    statistics_steps: int
    window: int
    eps_im: float
    min_switches: int
    num_display: int
    display_steps: int
    scope: str


@dataclass(frozen=True)
class LocalSettings(FromParams):
    """Config ``analysis.local``: the settings of :func:`analyze_local`; a family without pair subspaces gets
    ``subspace_residency`` None (:func:`hmmrnn.study.local_group`)."""

    noise_std: float
    residency: ResidencySettings
    subspace_residency: SubspaceResidencySettings | None
    locate: LocateSettings
    noise_sensitivity: NoiseSensitivitySettings
    kick_neurons: KickSettings
    populations: PopulationSettings
    mean_activities: ActivitySettings
    interventions: InterventionSettings
