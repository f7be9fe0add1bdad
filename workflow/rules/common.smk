# All Snakemake-side Python: config validation, the model list, targets and input/params functions.
# The logic lives in the hmmrnn package (workflow/hmmrnn); this file only adapts it to wildcards.

import json
import os
import re
from pathlib import Path
from types import SimpleNamespace

from snakemake.exceptions import WorkflowError

# `hmmrnn` is importable here: the Snakefile includes package.smk first
from hmmrnn.errors import CONFIGFILES_ENV, ConfigError, InputFileError
from hmmrnn import study, validation
from hmmrnn.pretrained import check_pretrained_files


def load_config_schema():
    path = workflow.source_path("../../config/config.schema.json")
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


# Every schema problem at once (integers as integers, finite numbers), then the semantic checks.
try:
    # config/config.yaml was checked by the Snakefile
    for path in workflow.overwrite_configfiles:
        validation.checked_yaml_file(path)
    if not workflow.modifier.skip_validation:
        validation.check_config_schema(config, load_config_schema())
    study.check_config(config)
except ConfigError as error:
    raise WorkflowError(f"Invalid configuration: {error}") from None

# A job's message about a bad file gives the command that rebuilds it, with the run's --configfile.
os.environ.setdefault(
    CONFIGFILES_ENV, os.pathsep.join(map(str, workflow.overwrite_configfiles))
)

MODELS = study.model_keys(config)
MODEL_PATH = "{hmm}/hidden_{hidden_size}/input_{input_dim}/seed_{seed}"
MODEL_DIR = f"results/models/{MODEL_PATH}"


HMMS = sorted({key.hmm for key in MODELS})


# ---- Networks trained elsewhere (config `pretrained`; rule import_pretrained in train.smk) ----
# Each file is read here, so that a missing file, an unknown format or a wrong shape stops the run before any job.
PRETRAINED = study.pretrained_models(config)  # model key -> checkpoint path
try:
    study.check_pretrained(config)
    check_pretrained_files(PRETRAINED, study.output_counts(config))
except (ConfigError, InputFileError) as error:
    raise WorkflowError(f"Invalid configuration: {error}") from None

# the import_pretrained rule's `model` wildcard (a model folder) -> model key
PRETRAINED_MODELS = {MODEL_PATH.format(**key._asdict()): key for key in PRETRAINED}


def pretrained_key(wildcards):
    return PRETRAINED_MODELS[wildcards.model]


def get_pretrained_input(wildcards):
    key = pretrained_key(wildcards)
    return {
        "checkpoint": PRETRAINED[key],
        "data": f"results/data/{key.hmm}/seed_{key.seed}.npz",
        "floor": f"results/floors/{key.hmm}.parquet",
    }


def get_pretrained_key(wildcards):
    return pretrained_key(wildcards)._asdict()


def get_pretrained_source(wildcards):
    return PRETRAINED[pretrained_key(wildcards)]


def get_pretrained_eval_seq_len(wildcards):
    return config["hmms"][pretrained_key(wildcards).hmm]["eval_seq_len"]


def get_final_output():
    tables = [f"results/tables/{table}.parquet" for table in TABLES]
    tables.append("results/tables/claims_summary.parquet")
    return tables + [
        f"results/figures/{figure}.{fmt}"
        for figure in FIGURES
        for fmt in ("pdf", "png")
    ]


def config_group(dpath, exclude=(), only=None):
    """The config subtree at ``dpath`` (e.g. ``analysis/contours``) as a rule's params, keys sorted, less the keys
    in ``exclude`` (those the rule passes apart) or, given ``only``, just the keys in ``only`` (those the rule reads).
    """
    group = study.without(lookup(dpath=dpath, within=config), exclude)
    return study.key_sorted(group if only is None else study.only(group, only))


def get_family_labels(wildcards):
    return study.family_labels(config)


def get_loss_curve_histories(wildcards):
    return [
        f"{MODEL_DIR}/history.parquet".format(**key._asdict())
        for key in study.loss_curve_models(config)
    ]


def get_loss_curve_keys(wildcards):
    return [key._asdict() for key in study.loss_curve_models(config)]


def model_key(wildcards):
    return study.ModelKey.from_wildcards(wildcards)


def get_hmm_matrices(wildcards):
    return study.hmm_matrices(config, wildcards.hmm)


def get_num_sequences(wildcards):
    return study.data_sizes(config)


def get_evolution_every(wildcards):
    return study.evolution_every(config, model_key(wildcards))


def resolve_training_device():
    """cpu or cuda. `auto` is resolved once, by the Snakemake process that plans the run, and handed to its
    jobs through the environment: a cluster job re-reads this file on its node and must not decide anew.
    """
    requested = config["training"]["device"]
    if requested != "auto":
        return requested
    return os.environ.setdefault("HMMRNN_AUTO_DEVICE", study.resolve_device("auto"))


TRAINING_DEVICE = resolve_training_device()


def get_train_device(wildcards):
    return TRAINING_DEVICE


def get_train_gpu(wildcards):
    return int(get_train_device(wildcards) == "cuda")


def get_train_priority(wildcards):
    """The family's epoch budget: Snakemake starts the longest training jobs first, so none runs alone at the end."""
    return config["hmms"][wildcards.hmm]["epochs"]


def get_torch_runtime(wildcards, attempt):
    """Time limit of a training or evaluation job in minutes (cluster executors); each retry gets more."""
    return 8 * 60 * attempt


def get_torch_mem_mb(wildcards, attempt):
    """Memory of a training or evaluation job in MB; a retry (e.g. after OUT_OF_MEMORY) gets more."""
    return 8000 * attempt


def get_resume_dir(wildcards):
    return f"{MODEL_DIR}/resume".format(**wildcards)


def model_files(pattern):
    """``pattern`` (with model wildcards) filled in for every model of the study."""
    return [pattern.format(**key._asdict()) for key in MODELS]


# table name -> (schema name in hmmrnn.tables, the per-model or per-family files it concatenates)
TABLES = {
    "sinkhorn_floor": (
        "FLOOR_SCHEMA",
        [f"results/floors/{hmm}.parquet" for hmm in HMMS],
    ),
    "training": ("TRAINING_SCHEMA", model_files(f"{MODEL_DIR}/summary.parquet")),
    "metrics": ("METRICS_SCHEMA", model_files(f"results/metrics/{MODEL_PATH}.parquet")),
}


def get_table_parts(wildcards):
    return TABLES[wildcards.table][1]


def get_table_schema(wildcards):
    return TABLES[wildcards.table][0]


# ---- Global latent dynamics (workflow/rules/representative.smk, analysis.smk, figures.smk; PAPER_SPEC §6.1-6.7, §8.6-8.8, §8.13, §10) ----

try:
    study.check_analysis_config(config)
except ConfigError as error:
    raise WorkflowError(f"Invalid configuration: {error}") from None

REPRESENTATIVE_CANDIDATES = study.representative_candidates(config)
ANALYSIS_FAMILIES = list(REPRESENTATIVE_CANDIDATES)
EVOLUTION_FAMILIES = study.evolution_families(config)
SUBSPACE_FAMILIES = study.subspace_families(config)
GLOBAL_FIGURE_FAMILIES = study.global_figure_families(config)
ANALYSIS_DIR = "results/analysis/{hmm}"


def analysis_files(families, name):
    return [f"{ANALYSIS_DIR}/{name}".format(hmm=hmm) for hmm in families]


GLOBAL_TABLES = {
    "representatives": (
        "REPRESENTATIVE_SCHEMA",
        analysis_files(ANALYSIS_FAMILIES, "representative.parquet"),
    ),
    "global_dynamics": (
        "GLOBAL_SCHEMA",
        analysis_files(ANALYSIS_FAMILIES, "global.parquet"),
    ),
    "orbit_radius": (
        "RADIUS_SCHEMA",
        analysis_files(ANALYSIS_FAMILIES, "radius.parquet"),
    ),
    "subspaces": (
        "SUBSPACE_SCHEMA",
        analysis_files(SUBSPACE_FAMILIES, "subspaces.parquet"),
    ),
    "evolution": (
        "EVOLUTION_SCHEMA",
        analysis_files(EVOLUTION_FAMILIES, "evolution.parquet"),
    ),
    "transition_epochs": (
        "TRANSITION_SCHEMA",
        analysis_files(EVOLUTION_FAMILIES, "transition.parquet"),
    ),
    "claims": (
        "CLAIMS_SCHEMA",
        analysis_files(ANALYSIS_FAMILIES, "claims_global.parquet")
        + analysis_files(SUBSPACE_FAMILIES, "claims_subspaces.parquet")
        + analysis_files(EVOLUTION_FAMILIES, "claims_evolution.parquet"),
    ),
}
TABLES.update({name: table for name, table in GLOBAL_TABLES.items() if table[1]})


def candidate_files(wildcards, name):
    """``name`` in the model folder of every candidate seed of the family's representative cell."""
    cell = config["analysis"]["representative"]
    return [
        f"{MODEL_DIR}/{name}".format(
            hmm=wildcards.hmm,
            hidden_size=cell["hidden_size"],
            input_dim=cell["input_dim"],
            seed=seed,
        )
        for seed in REPRESENTATIVE_CANDIDATES[wildcards.hmm]
    ]


def get_candidate_models(wildcards):
    return candidate_files(wildcards, "final.pt")


def get_candidate_evolutions(wildcards):
    return candidate_files(wildcards, "evolution.pt")


def get_candidate_histories(wildcards):
    return candidate_files(wildcards, "history.parquet")


def get_candidate_seeds(wildcards):
    return REPRESENTATIVE_CANDIDATES[wildcards.hmm]


def get_candidate_summaries(wildcards):
    return candidate_files(wildcards, "summary.parquet")


def get_candidate_metrics(wildcards):
    cell = config["analysis"]["representative"]
    return [
        f"results/metrics/{MODEL_PATH}.parquet".format(
            hmm=wildcards.hmm,
            hidden_size=cell["hidden_size"],
            input_dim=cell["input_dim"],
            seed=seed,
        )
        for seed in REPRESENTATIVE_CANDIDATES[wildcards.hmm]
    ]


def get_representative_group(wildcards):
    """Selection settings for this family alone, so that other families' models never rerun it."""
    return study.representative_group(config, wildcards.hmm)


def get_representative_candidates(wildcards):
    return {wildcards.hmm: REPRESENTATIVE_CANDIDATES[wildcards.hmm]}


def get_evolution_group(wildcards):
    return study.evolution_group(config, wildcards.hmm)


def get_claim_measurements(wildcards):
    """What the analyses read from analysis.claims: measurement settings only, so a threshold never reruns them."""
    return study.claim_measurements(config)


def get_analysis_runtime(wildcards, attempt):
    """Time limit of an analysis job in minutes (cluster executors); each retry gets more."""
    return 60 * attempt


def get_analysis_mem_mb(wildcards, attempt):
    """Memory of an analysis job in MB; a retry (e.g. after OUT_OF_MEMORY) gets more."""
    return 4000 * attempt


# ---- Local dynamics (workflow/rules/analysis.smk, claims.smk, figures.smk; PAPER_SPEC §6.8-6.15, §8.3-8.5, §8.9-8.11, §10) ----
LOCAL_FIGURE_FAMILIES = study.local_figure_families(config)
ALIGNMENT_FAMILIES = LOCAL_FIGURE_FAMILIES["fig25"]
LOCAL_TABLES = {
    "zones": ("ZONES_SCHEMA", analysis_files(ANALYSIS_FAMILIES, "zones.parquet")),
    "noise_sensitivity": (
        "NOISE_SENSITIVITY_SCHEMA",
        analysis_files(ANALYSIS_FAMILIES, "noise_sensitivity.parquet"),
    ),
    "kick_neurons": (
        "KICK_SCHEMA",
        analysis_files(ANALYSIS_FAMILIES, "kick_neurons.parquet"),
    ),
    "populations": (
        "POPULATION_SCHEMA",
        analysis_files(ANALYSIS_FAMILIES, "populations.parquet"),
    ),
    "interventions": (
        "INTERVENTION_SCHEMA",
        analysis_files(ANALYSIS_FAMILIES, "interventions.parquet"),
    ),
    "alignment": (
        "ALIGNMENT_SCHEMA",
        analysis_files(ANALYSIS_FAMILIES, "alignment.parquet"),
    ),
}
TABLES.update({name: table for name, table in LOCAL_TABLES.items() if table[1]})
TABLES["claims"] = (
    "CLAIMS_SCHEMA",
    ["results/analysis/claims_study.parquet"]
    + TABLES.get("claims", ("", []))[1]
    + analysis_files(ANALYSIS_FAMILIES, "claims_local.parquet")
    + (["results/analysis/claims_alignment.parquet"] if ALIGNMENT_FAMILIES else []),
)


def get_claim_convergence_thresholds(wildcards):
    """Claim 1 uses the convergence thresholds (one place for each fact)."""
    names = (
        "max_distance_ratio",
        "max_transition_sq_diff",
        "max_frequency_error",
        "max_switch_rel_error",
    )
    return {name: config["convergence"][name] for name in names}


def get_local_group(wildcards):
    return study.local_group(config, wildcards.hmm)


def get_local_subspaces(wildcards):
    return study.local_subspaces(config, wildcards.hmm)


def get_second_order(wildcards):
    """The evolution analysis of the representative (claim 8's kick part), where the family has one."""
    if wildcards.hmm in EVOLUTION_FAMILIES:
        return f"{ANALYSIS_DIR}/second_order.parquet".format(hmm=wildcards.hmm)
    return []


# ---- The figure table (figures.smk): one row per paper figure ----
# Fig 1 shows analysis.figures.two_state and its representative network, so, like the analysis figures, it is a
# default target only where that family has models at the representative cell. GLOBAL_FIGURE_FAMILIES and
# LOCAL_FIGURE_FAMILIES (above, from hmmrnn.study) give the families each analysis figure draws.
PARADIGM = SimpleNamespace(hmm=config["analysis"]["figures"]["two_state"])
PARADIGM_ANALYSED = PARADIGM.hmm in ANALYSIS_FAMILIES
PARADIGM_MODELS = get_candidate_models(PARADIGM) if PARADIGM_ANALYSED else []
PARADIGM_SEEDS = get_candidate_seeds(PARADIGM) if PARADIGM_ANALYSED else []
# every family of the config, in config order (the figure draws these matrices; it never rebuilds them)
ARCHITECTURES = {hmm: study.hmm_matrices(config, hmm) for hmm in config["hmms"]}


def study_figure(shows, **inputs):
    """A row of the figure table for a figure of the whole study: its report label and named inputs."""
    return {"shows": shows, "families": None, "inputs": inputs}


def family_figure(shows, families, **files):
    """A row for a figure of per-family analysis files: ``name=file`` in results/analysis/{hmm}/, per family."""
    inputs = {name: analysis_files(families, file) for name, file in files.items()}
    return {"shows": shows, "families": families, "inputs": inputs}


G, L = GLOBAL_FIGURE_FAMILIES, LOCAL_FIGURE_FAMILIES
GLOBAL_ARRAYS = {
    "arrays": "global.npz",
    "summary": "global.parquet",
    "radius": "radius.parquet",
}
EVOLUTION = {"epochs": "evolution.parquet", "second_order": "second_order.parquet"}
STUDY_TABLES = {
    "metrics": "results/tables/metrics.parquet",
    "training": "results/tables/training.parquet",
}
# figure -> what it shows (its report label), the families it draws (None: the whole study) and its named inputs;
# a figure whose families are all missing from the study is not a default target. Captions: workflow/report/<figure>.rst
FIGURE_TABLE = {
    "fig01": {
        "shows": "training paradigm",
        "families": [PARADIGM.hmm] if PARADIGM_ANALYSED else [],
        "inputs": {
            "data": [
                f"results/data/{PARADIGM.hmm}/seed_{seed}.npz"
                for seed in PARADIGM_SEEDS
            ],
            "representatives": f"results/analysis/{PARADIGM.hmm}/representative.parquet",
            "models": PARADIGM_MODELS,
        },
    },
    "fig02": family_figure("dynamical motifs (2-state)", G["fig02"], **GLOBAL_ARRAYS),
    "fig03": family_figure(
        "global latent dynamics (2-state)",
        G["fig03"],
        **GLOBAL_ARRAYS,
        spectrum="spectrum.parquet",
    ),
    "fig04": family_figure(
        "emergence of the orbit during training (2-state)",
        G["fig04"],
        arrays="evolution.npz",
        **EVOLUTION,
        transition="transition.parquet",
    ),
    "fig05": family_figure(
        "residency zones and noise sensitivity (2-state)",
        L["fig05"],
        arrays="local.npz",
    ),
    "fig06": family_figure(
        "recurrent weight structure (2-state)", L["fig06"], arrays="local.npz"
    ),
    "fig07": family_figure(
        "causal interventions (2-state)",
        L["fig07"],
        arrays="local.npz",
        interventions="interventions.parquet",
    ),
    "fig08": family_figure(
        "mean activities of kick groups and populations (2-state)",
        L["fig08"],
        arrays="local.npz",
    ),
    "fig09": study_figure("HMM architectures"),
    "fig10": study_figure("aligned distances", **STUDY_TABLES),
    "fig11": study_figure("transition-matrix differences", **STUDY_TABLES),
    "fig12": family_figure("linear-chain latent dynamics", G["fig12"], **GLOBAL_ARRAYS),
    "fig13": family_figure(
        "fully-connected and cyclic latent dynamics",
        G["fig13"],
        arrays="global.npz",
        summary="global.parquet",
        subspace_arrays="subspaces.npz",
        subspaces="subspaces.parquet",
    ),
    "fig14": family_figure(
        "PCA of the latent dynamics across epochs",
        G["fig14"],
        arrays="evolution.npz",
        transition="transition.parquet",
    ),
    "fig15": family_figure(
        "transition statistics across epochs",
        G["fig15"],
        **EVOLUTION,
        transition="transition.parquet",
    ),
    "fig16": study_figure(
        "loss curves",
        histories=get_loss_curve_histories(None),
        floors="results/tables/sinkhorn_floor.parquet",
    ),
    "fig17": family_figure(
        "residency zones, other linear chains", L["fig17"], arrays="local.npz"
    ),
    "fig18": family_figure(
        "residency zones, fully-connected and cyclic", L["fig18"], arrays="local.npz"
    ),
    "fig19": family_figure(
        "residency zones in output-pair subspaces", L["fig19"], arrays="local.npz"
    ),
    "fig20": family_figure(
        "noise sensitivity, other linear chains", L["fig20"], arrays="local.npz"
    ),
    "fig21": family_figure("noise-sensitivity metrics", L["fig21"], arrays="local.npz"),
    "fig22": family_figure(
        "kick-neuron pre-activation maps",
        L["fig22"],
        arrays="local.npz",
        kick_neurons="kick_neurons.parquet",
    ),
    "fig23": family_figure(
        "kick circuits, other linear chains", L["fig23"], arrays="local.npz"
    ),
    "fig24": family_figure(
        "kick circuits, fully-connected and cyclic", L["fig24"], arrays="local.npz"
    ),
    "fig25": family_figure(
        "readout alignment vs number of states",
        L["fig25"],
        alignment="alignment.parquet",
    ),
}
# the default figure targets
FIGURES = [
    figure
    for figure, row in FIGURE_TABLE.items()
    if row["families"] is None or row["families"]
]


def figure_inputs(figure):
    """The named inputs of ``figure``'s rule (besides its code)."""
    return FIGURE_TABLE[figure]["inputs"]


def figure_families(figure):
    return FIGURE_TABLE[figure]["families"]


def figure_caption(figure):
    """The report caption of ``figure``, relative to workflow/rules/figures.smk."""
    return f"../report/{figure}.rst"


def figure_label(figure):
    """The report label of ``figure``: its number and what it shows."""
    return {
        "figure": f"Fig {int(figure.removeprefix('fig'))}",
        "shows": FIGURE_TABLE[figure]["shows"],
    }


wildcard_constraints:
    hmm="|".join(sorted(config["hmms"])),
    hidden_size=r"\d+",
    input_dim=r"\d+",
    seed=r"\d+",
    table="|".join(TABLES),
    analysis="global|subspaces|evolution|local",
    model="|".join(re.escape(path) for path in sorted(PRETRAINED_MODELS)) or "(?!)",
