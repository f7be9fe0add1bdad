"""Declared pyarrow schemas of the workflow's Parquet tables and the functions that build their rows."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, get_type_hints

import numpy as np
import pandas as pd
import pyarrow as pa

from .study import ModelKey

if TYPE_CHECKING:
    from .evaluation.model import ModelEvaluation

__all__ = [
    "ALIGNMENT_SCHEMA",
    "CLAIMS_SCHEMA",
    "CLAIM_STATISTICS_SCHEMA",
    "CLAIMS_SUMMARY_SCHEMA",
    "CONVERGENCE_FIELDS",
    "EVOLUTION_SCHEMA",
    "FLOOR_SCHEMA",
    "GLOBAL_SCHEMA",
    "HISTORY_SCHEMA",
    "INITIAL_CONDITIONS",
    "INTERVENTIONS",
    "INTERVENTION_SCHEMA",
    "KICK_SCHEMA",
    "METRICS_SCHEMA",
    "MODEL_KEY_FIELDS",
    "NOISE_SENSITIVITY_SCHEMA",
    "POPULATION_SCHEMA",
    "RADIUS_SCHEMA",
    "REPRESENTATIVE_SCHEMA",
    "SECOND_ORDER_SCHEMA",
    "SPECTRUM_SCHEMA",
    "SUBSPACE_SCHEMA",
    "TRAINING_SCHEMA",
    "TRANSITION_SCHEMA",
    "ZONES",
    "ZONES_SCHEMA",
    "metrics_rows",
    "pretrained_summary",
    "training_summary",
]


_ARROW_TYPES = {str: pa.string(), int: pa.int64()}
MODEL_KEY_FIELDS = [
    pa.field(name, _ARROW_TYPES[get_type_hints(ModelKey)[name]], nullable=False) for name in ModelKey._fields
]

CONVERGENCE_FIELDS = [
    pa.field("loss_ratio", pa.float64()),
    pa.field("is_loss_ok", pa.bool_(), nullable=False),
    pa.field("distance_ratio", pa.float64()),
    pa.field("is_distance_ok", pa.bool_(), nullable=False),
    pa.field("max_transition_sq_diff", pa.float64()),
    pa.field("is_transitions_ok", pa.bool_(), nullable=False),
    pa.field("switch_rel_error", pa.float64()),
    pa.field("is_switches_ok", pa.bool_(), nullable=False),
    pa.field("max_frequency_error", pa.float64()),
    pa.field("is_frequencies_ok", pa.bool_(), nullable=False),
    pa.field("norm_growth", pa.float64()),
    pa.field("decay_ratio", pa.float64()),
    pa.field("is_dynamics_ok", pa.bool_(), nullable=False),
    pa.field("is_converged", pa.bool_(), nullable=False),
]

HISTORY_SCHEMA = pa.schema(
    [
        pa.field("epoch", pa.int64(), nullable=False),
        pa.field("train_loss", pa.float64(), nullable=False),
        pa.field("val_loss", pa.float64()),  # NaN on epochs without validation
        pa.field("seconds", pa.float64(), nullable=False),
    ]
)

# ``source``: "trained" for a model trained by this workflow, else the checkpoint path it was imported from
TRAINING_SCHEMA = pa.schema(
    [
        *MODEL_KEY_FIELDS,
        pa.field("source", pa.string(), nullable=False),
        pa.field("num_states", pa.int64(), nullable=False),
        pa.field("seq_len", pa.int64(), nullable=False),
        pa.field("epochs_run", pa.int64(), nullable=False),
        pa.field("final_train_loss", pa.float64(), nullable=False),
        pa.field("final_val_loss", pa.float64(), nullable=False),
        pa.field("best_val_loss", pa.float64(), nullable=False),
        pa.field("best_epoch", pa.int64(), nullable=False),
        pa.field("best_train_loss", pa.float64(), nullable=False),
        pa.field("seconds", pa.float64(), nullable=False),
        pa.field("device", pa.string(), nullable=False),
        pa.field("attempts", pa.int64(), nullable=False),
        pa.field("seed_used", pa.int64(), nullable=False),
        pa.field("loss_floor", pa.float64(), nullable=False),
        *CONVERGENCE_FIELDS,
    ]
)

FLOOR_SCHEMA = pa.schema(
    [
        pa.field("hmm", pa.string(), nullable=False),
        pa.field("sinkhorn_floor", pa.float64(), nullable=False),
        pa.field("sinkhorn_floor_std", pa.float64(), nullable=False),
        pa.field("num_draws", pa.int64(), nullable=False),
        pa.field("num_sequences", pa.int64(), nullable=False),
        pa.field("batch_size", pa.int64(), nullable=False),
        pa.field("seq_len", pa.int64(), nullable=False),
    ]
)

# Long format: one row per model, source (rnn or hmm) and metric; i, j index outputs where a metric has them
# (frequencies: i; transition matrices: i -> j) and are null otherwise.
METRICS_SCHEMA = pa.schema(
    [
        *MODEL_KEY_FIELDS,
        pa.field("source", pa.string(), nullable=False),
        pa.field("metric", pa.string(), nullable=False),
        pa.field("i", pa.int64()),
        pa.field("j", pa.int64()),
        pa.field("value", pa.float64(), nullable=False),
    ]
)


def training_summary(
    history: pd.DataFrame,
    convergence: Mapping[str, Any],
    *,
    hmm: str,
    hidden_size: int,
    input_dim: int,
    seed: int,
    num_states: int,
    seq_len: int,
    device: str,
    attempts: int,
    seed_used: int,
    loss_floor: float,
    source: str = "trained",
) -> pd.DataFrame:
    """One-row summary of a training run, with the columns of :data:`TRAINING_SCHEMA`.

    ``convergence`` is :meth:`hmmrnn.convergence.ConvergenceRecord.as_dict` of the kept run.
    """
    validated = history.dropna(subset=["val_loss"])
    best = validated.loc[validated["val_loss"].idxmin()]
    last = history.iloc[-1]
    row = {
        "hmm": hmm,
        "hidden_size": hidden_size,
        "input_dim": input_dim,
        "seed": seed,
        "source": source,
        "num_states": num_states,
        "seq_len": seq_len,
        "epochs_run": int(last["epoch"]),
        "final_train_loss": float(last["train_loss"]),
        "final_val_loss": float(last["val_loss"]),
        "best_val_loss": float(best["val_loss"]),
        "best_epoch": int(best["epoch"]),
        "best_train_loss": float(best["train_loss"]),
        "seconds": float(history["seconds"].sum()),
        "device": device,
        "attempts": attempts,
        "seed_used": seed_used,
        "loss_floor": loss_floor,
        **{field.name: convergence[field.name] for field in CONVERGENCE_FIELDS},
    }
    return pd.DataFrame([row], columns=TRAINING_SCHEMA.names)


def pretrained_summary(
    convergence: Mapping[str, Any],
    *,
    hmm: str,
    hidden_size: int,
    input_dim: int,
    seed: int,
    source: str,
    num_states: int,
    seq_len: int,
    device: str,
    train_loss: float,
    val_loss: float,
    loss_floor: float,
) -> pd.DataFrame:
    """The :data:`TRAINING_SCHEMA` row of a network imported from ``source`` (config ``pretrained``).

    No epoch ran here: ``epochs_run``, ``best_epoch``, ``attempts`` and ``seconds`` are 0, the losses are those of
    the imported weights on this workflow's train and validation splits, and ``convergence`` is their
    :meth:`hmmrnn.convergence.ConvergenceRecord.as_dict`.
    """
    history = pd.DataFrame([{"epoch": 0, "train_loss": train_loss, "val_loss": val_loss, "seconds": 0.0}])
    return training_summary(
        history,
        convergence,
        hmm=hmm,
        hidden_size=hidden_size,
        input_dim=input_dim,
        seed=seed,
        num_states=num_states,
        seq_len=seq_len,
        device=device,
        attempts=0,
        seed_used=seed,
        loss_floor=loss_floor,
        source=source,
    )


def metrics_rows(evaluation: ModelEvaluation, *, hmm: str, hidden_size: int, input_dim: int, seed: int) -> pd.DataFrame:
    """The long-format rows of :data:`METRICS_SCHEMA` for one model's :class:`hmmrnn.evaluation.model.ModelEvaluation`.

    ``source = "rnn"`` rows describe the network's sequences (distance to HMM set S1); ``source = "hmm"``
    rows describe S1, and its distance rows are the HMM-vs-HMM baseline (S2 against S3).
    """
    rows: list[tuple[str, str, int | None, int | None, float]] = []
    for source, stats, alignment in (
        ("rnn", evaluation.rnn, evaluation.alignment),
        ("hmm", evaluation.hmm, evaluation.baseline),
    ):
        rows += [
            (source, "distance_mean", None, None, alignment.mean),
            (source, "distance_std", None, None, alignment.std),
        ]
        rows += [
            (source, "changes_mean", None, None, stats.mean_changes),
            (source, "changes_std", None, None, stats.std_changes),
        ]
        rows += [
            (source, "change_proportion_mean", None, None, stats.mean_proportion),
            (source, "change_proportion_std", None, None, stats.std_proportion),
        ]
        rows += [(source, "frequency_mean", i, None, float(v)) for i, v in enumerate(stats.frequency_mean)]
        rows += [(source, "frequency_std", i, None, float(v)) for i, v in enumerate(stats.frequency_std)]
        rows += [(source, "transition_prob", i, j, float(v)) for (i, j), v in np.ndenumerate(stats.transition_matrix)]
    rows += [
        ("rnn", "transition_sq_diff", i, j, float(v)) for (i, j), v in np.ndenumerate(evaluation.transition_sq_diff)
    ]
    frame = pd.DataFrame(rows, columns=["source", "metric", "i", "j", "value"])
    frame[["i", "j"]] = frame[["i", "j"]].astype("Int64")
    keys = {"hmm": hmm, "hidden_size": hidden_size, "input_dim": input_dim, "seed": seed}
    return frame.assign(**keys)[METRICS_SCHEMA.names]


# One row per family: the representative model (§8.13) and how it was chosen.
REPRESENTATIVE_SCHEMA = pa.schema(
    [
        *MODEL_KEY_FIELDS,
        pa.field("distance_mean", pa.float64()),  # Sinkhorn-aligned distance of the RNN's sequences (§5.1)
        pa.field("is_converged", pa.bool_(), nullable=False),
        pa.field("is_override", pa.bool_(), nullable=False),  # named by analysis.representative.seeds
        pa.field("num_candidates", pa.int64(), nullable=False),
        pa.field("num_converged", pa.int64(), nullable=False),
    ]
)

# One row per representative model: PCA, orbit, fixed point and spectra (§6.1-6.5).
GLOBAL_SCHEMA = pa.schema(
    [
        *MODEL_KEY_FIELDS,
        pa.field("num_steps", pa.int64(), nullable=False),  # bounded steps of the σ = 1 PCA run
        pa.field("is_bounded", pa.bool_(), nullable=False),
        pa.field("pc1_variance_ratio", pa.float64()),
        pa.field("pc2_variance_ratio", pa.float64()),
        pa.field("pc3_variance_ratio", pa.float64()),
        pa.field("orbit_radius", pa.float64()),  # R: mean distance to the centroid, full state space, σ = 1
        pa.field("orbit_radius_pc", pa.float64()),  # the same in the PC1-PC2 plane
        pa.field("num_switches", pa.int64(), nullable=False),
        pa.field("switch_rate", pa.float64()),  # argmax-output switches per step
        pa.field("winding_number", pa.float64()),  # net turns around the PC1-PC2 centroid (+ = counter-clockwise)
        pa.field("dominant_fraction", pa.float64()),
        pa.field("mean_norm_ratio", pa.float64()),  # mean ‖h_t‖ / R over analysis.claims.orbit.norm_window
        pa.field("critical_fraction", pa.float64()),  # steps with a critical complex pair (§6.5)
        pa.field("unstable_fraction", pa.float64()),  # steps with an eigenvalue |λ| > 1
        pa.field("mean_unstable_count", pa.float64()),
        pa.field("num_initial_states", pa.int64(), nullable=False),
        pa.field("num_fixed_points", pa.int64(), nullable=False),
        pa.field("fixed_point_norm", pa.float64()),  # of the slowest fixed point found
        pa.field("fixed_point_speed", pa.float64()),
        pa.field("fixed_point_spectral_radius", pa.float64()),
        pa.field("endpoint_spread", pa.float64()),  # max_i ‖h_L - mean h_L‖ of the input-free runs
        pa.field("endpoint_residual", pa.float64()),  # ‖F(mean h_L) - mean h_L‖
        pa.field("endpoint_norm", pa.float64()),  # ‖mean h_L‖
        pa.field("endpoint_spectral_radius", pa.float64()),  # largest |λ| of the Jacobians at the h_L
        pa.field("radius_slope", pa.float64()),  # orbit radius (PC1-PC2) = slope · noise std + intercept
        pa.field("radius_intercept", pa.float64()),
        pa.field("radius_r_squared", pa.float64()),
    ]
)

# One row per model and noise level (§6.2).
RADIUS_SCHEMA = pa.schema(
    [
        *MODEL_KEY_FIELDS,
        pa.field("noise_std", pa.float64(), nullable=False),
        pa.field("num_steps", pa.int64(), nullable=False),  # bounded steps of the run
        pa.field("radius_pc", pa.float64()),  # mean distance to the centroid in the PC1-PC2 plane
        pa.field("radius", pa.float64()),  # the same in the full state space
    ]
)

# Eigenvalues of Jacobians of the input-free map: at each fixed point found (source fixed_point) and at the
# distinct ReLU patterns of the input-free runs' end points (source endpoint; count = runs sharing the pattern).
SPECTRUM_SCHEMA = pa.schema(
    [
        *MODEL_KEY_FIELDS,
        pa.field("source", pa.string(), nullable=False),
        pa.field("index", pa.int64(), nullable=False),
        pa.field("count", pa.int64(), nullable=False),
        pa.field("rank", pa.int64(), nullable=False),  # by decreasing modulus
        pa.field("real", pa.float64(), nullable=False),
        pa.field("imag", pa.float64(), nullable=False),
        pa.field("modulus", pa.float64(), nullable=False),
        pa.field("mobius_real", pa.float64()),  # w = (λ - 1) / (λ + 1)
        pa.field("mobius_imag", pa.float64()),
    ]
)

# One row per model and output pair (§6.4).
SUBSPACE_SCHEMA = pa.schema(
    [
        *MODEL_KEY_FIELDS,
        pa.field("output_a", pa.int64(), nullable=False),
        pa.field("output_b", pa.int64(), nullable=False),
        pa.field("occupancy", pa.float64()),  # share of all output switches that go between a and b
        pa.field("num_points", pa.int64(), nullable=False),  # steps whose output is a or b
        pa.field("longest_run", pa.int64(), nullable=False),  # longest contiguous run of such steps
        pa.field("num_long_runs", pa.int64(), nullable=False),  # runs longer than subspaces.min_run_length
        pa.field("pc1_variance_ratio", pa.float64()),  # of the pair PCA
        pa.field("pc2_variance_ratio", pa.float64()),
        pa.field("pc3_variance_ratio", pa.float64()),
    ]
)

# One row per model and analysed epoch (§6.7): sampled epochs and those only used to refine e*.
EVOLUTION_SCHEMA = pa.schema(
    [
        *MODEL_KEY_FIELDS,
        pa.field("epoch", pa.int64(), nullable=False),
        pa.field("is_sampled", pa.bool_(), nullable=False),
        pa.field("num_steps", pa.int64(), nullable=False),
        pa.field("critical_fraction", pa.float64()),
        pa.field("critical_fraction_std", pa.float64()),
        pa.field("unstable_fraction", pa.float64()),
        pa.field("unstable_fraction_std", pa.float64()),
        pa.field("mean_critical_count", pa.float64()),
        pa.field("mean_unstable_count", pa.float64()),
        pa.field("transition_rate", pa.float64()),
        pa.field("residence_steps", pa.float64()),
        pa.field("num_switches", pa.int64(), nullable=False),
        pa.field("delta_h2_norm", pa.float64()),  # ‖E[δh⁽²⁾]‖ (sampled epochs only)
        pa.field("delta_h1_norm", pa.float64()),
    ]
)

# E[δh⁽²⁾] and E[δh⁽¹⁾] per model, sampled epoch and hidden unit (§6.7 item 3).
SECOND_ORDER_SCHEMA = pa.schema(
    [
        *MODEL_KEY_FIELDS,
        pa.field("epoch", pa.int64(), nullable=False),
        pa.field("unit", pa.int64(), nullable=False),
        pa.field("delta_h2", pa.float64()),
        pa.field("delta_h1", pa.float64()),
    ]
)

# One row per model: the transition epoch e* and what it decides (§8.6-8.8).
TRANSITION_SCHEMA = pa.schema(
    [
        *MODEL_KEY_FIELDS,
        pa.field("num_snapshots", pa.int64(), nullable=False),
        pa.field("max_epoch", pa.int64(), nullable=False),  # last epoch considered
        pa.field("coarse_transition_epoch", pa.int64()),  # null: no rise of the critical fraction
        pa.field("transition_epoch", pa.int64()),  # after refinement
        pa.field("converged_rate", pa.float64()),
        pa.field("rate_cv", pa.float64()),
        pa.field("heatmap_threshold", pa.float64()),
        pa.field("epochs_shown", pa.list_(pa.int64()), nullable=False),
    ]
)

ZONES: tuple[str, ...] = ("cluster", "kick_zone", "transition", "none")

INITIAL_CONDITIONS: tuple[str, ...] = ("cluster", "transition")

INTERVENTIONS: tuple[str, ...] = ("kick", "noise_projection", "control")

# Local dynamics (§6.8-6.15): one row per model, state space ("all" or the pair subspace "a-b") and residency zone.
ZONES_SCHEMA = pa.schema(
    [
        *MODEL_KEY_FIELDS,
        pa.field("space", pa.string(), nullable=False),
        pa.field("zone", pa.string(), nullable=False),  # cluster, kick_zone, transition or none
        pa.field("count", pa.int64(), nullable=False),
        pa.field("mean_residency_time", pa.float64()),  # RT, steps
        pa.field("mean_sign_changes", pa.float64()),  # SC
        pa.field("mean_unstable_directions", pa.float64()),  # U
        pa.field("mean_step_size", pa.float64()),  # ‖h_{t+1} - h_t‖ along the recorded run ("all" only)
    ]
)

# Dispersion of the trajectories from the cluster and the transition point, per γ and step (§6.10).
NOISE_SENSITIVITY_SCHEMA = pa.schema(
    [
        *MODEL_KEY_FIELDS,
        pa.field("initial_condition", pa.string(), nullable=False),  # cluster or transition
        pa.field("gamma", pa.float64(), nullable=False),
        pa.field("step", pa.int64(), nullable=False),
        pa.field("trace_covariance", pa.float64()),
        pa.field("mean_distance", pa.float64()),
    ]
)

# One row per kick neuron (§8.3): its discovery statistics, its mean pre-activation per residency zone and the
# silencing check of its group (the same for every neuron of a group).
KICK_SCHEMA = pa.schema(
    [
        *MODEL_KEY_FIELDS,
        pa.field("group", pa.int64(), nullable=False),
        pa.field("source_output", pa.int64(), nullable=False),
        pa.field("target_output", pa.int64(), nullable=False),
        pa.field("neuron", pa.int64(), nullable=False),
        pa.field("score", pa.float64()),  # transition minus cluster mean pre-activation
        pa.field("transition_preactivation", pa.float64()),  # mean over its direction's switch windows
        pa.field("cluster_preactivation", pa.float64()),  # mean over states far from every switch
        pa.field("cluster_active_fraction", pa.float64()),
        pa.field("zone_cluster_preactivation", pa.float64()),  # means over the residency run's zones
        pa.field("zone_kick_preactivation", pa.float64()),
        pa.field("zone_transition_preactivation", pa.float64()),
        pa.field("preactivation_std", pa.float64()),
        pa.field("second_order_rank", pa.int64()),  # rank in |E[δh⁽²⁾]| at the last epoch (null: no evolution)
        pa.field("control_switch_rate", pa.float64()),  # its direction's switch rate from the source cluster
        pa.field("silenced_switch_rate", pa.float64()),  # the same with the group silenced
    ]
)

# Noise-integrating populations of each pair of kick groups (§8.4): one row per member neuron.
POPULATION_SCHEMA = pa.schema(
    [
        *MODEL_KEY_FIELDS,
        pa.field("group_a", pa.int64(), nullable=False),
        pa.field("group_b", pa.int64(), nullable=False),
        pa.field("population", pa.int64(), nullable=False),  # 1: inhibits group a, excites b; 2: the reverse
        pa.field("neuron", pa.int64(), nullable=False),
        pa.field("g_a", pa.float64(), nullable=False),  # mean weight onto group a
        pa.field("g_b", pa.float64(), nullable=False),
    ]
)

# One row per model, kick group, intervention (kick, noise_projection, control) and modulation factor μ (§6.14).
INTERVENTION_SCHEMA = pa.schema(
    [
        *MODEL_KEY_FIELDS,
        pa.field("group", pa.int64(), nullable=False),
        pa.field("source_output", pa.int64(), nullable=False),
        pa.field("target_output", pa.int64(), nullable=False),
        pa.field("intervention", pa.string(), nullable=False),
        pa.field("mu", pa.float64(), nullable=False),
        pa.field("switch_rate", pa.float64()),  # trajectories from the cluster point with a source→target switch
        pa.field("max_excursion", pa.float64()),  # mean largest PC1-PC2 distance from the centre
        pa.field("critical_mean", pa.float64()),  # critical pairs per switch window
        pa.field("critical_std", pa.float64()),
        pa.field("num_windows", pa.int64(), nullable=False),
        pa.field("num_switches", pa.int64(), nullable=False),
        pa.field("used_fallback", pa.bool_(), nullable=False),  # windows at the unmodified run's switches
    ]
)

# Readout-axis alignment (§6.15): one row per model (every seed of the representative cell) and output.
ALIGNMENT_SCHEMA = pa.schema(
    [
        *MODEL_KEY_FIELDS,
        pa.field("num_states", pa.int64(), nullable=False),  # M of the HMM
        pa.field("output", pa.int64(), nullable=False),
        pa.field("frequency", pa.float64(), nullable=False),  # stationary HMM output frequency
        pa.field("projection", pa.float64()),  # ‖P ŵ‖ onto the PC1-PC2 plane
        pa.field("angle_degrees", pa.float64()),
        pa.field("is_included", pa.bool_(), nullable=False),  # averaged into mean_projection
        pa.field("mean_projection", pa.float64()),
        pa.field("is_converged", pa.bool_(), nullable=False),
    ]
)

# One row per model and check of a claim of PAPER_SPEC §10: is_passed = statistic <operator> threshold (a missing
# statistic fails).
CLAIMS_SCHEMA = pa.schema(
    [
        *MODEL_KEY_FIELDS,
        pa.field("claim", pa.int64(), nullable=False),
        pa.field("check", pa.string(), nullable=False),
        pa.field("statistic", pa.float64()),
        pa.field("operator", pa.string(), nullable=False),
        pa.field("threshold", pa.float64(), nullable=False),
        pa.field("is_passed", pa.bool_(), nullable=False),
    ]
)

# One row per model and check of a claim as an analysis measured it, not yet judged (hmmrnn.claims.checks): the
# threshold is either a number (``threshold``) or a dotted key into config ``analysis.claims`` (``threshold_key``),
# which the check_claims_analysis rule resolves. Changing a threshold therefore reruns only the claim rules.
CLAIM_STATISTICS_SCHEMA = pa.schema(
    [
        *MODEL_KEY_FIELDS,
        pa.field("claim", pa.int64(), nullable=False),
        pa.field("check", pa.string(), nullable=False),
        pa.field("statistic", pa.float64()),
        pa.field("operator", pa.string(), nullable=False),
        pa.field("threshold", pa.float64()),
        pa.field("threshold_key", pa.string()),
    ]
)

# One row per claim of PAPER_SPEC §10 (hmmrnn.claims.summary.claims_summary): fraction of models passing every check.
CLAIMS_SUMMARY_SCHEMA = pa.schema(
    [
        pa.field("claim", pa.int64(), nullable=False),
        pa.field("title", pa.string(), nullable=False),
        pa.field("status", pa.string(), nullable=False),  # reproduced, partly, not reproduced or not checked
        pa.field("num_models", pa.float64()),  # models (or grid rows) checked
        pa.field("fraction_models_passing", pa.float64()),
        pa.field("num_checks", pa.float64()),
        pa.field("fraction_checks_passed", pa.float64()),
    ]
)
