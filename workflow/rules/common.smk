# All Snakemake-side Python: config validation, the model list, targets and input/params functions.
# The logic lives in the hmmrnn package (workflow/hmmrnn); this file only adapts it to wildcards.

import os
from pathlib import Path

from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

from hmmrnn.errors import ConfigError
from hmmrnn import study


def schema_error_message(error):
    """One line naming the offending config key, from the jsonschema error behind a WorkflowError."""
    cause = error.__context__
    if hasattr(cause, "json_path"):
        key = cause.json_path.removeprefix("$").lstrip(".") or "<top level>"
        return f"{key}: {cause.message} (see config/config.schema.json)"
    return str(error)


try:
    validate(config, schema="../../config/config.schema.json")
    study.check_config(config)
except WorkflowError as error:
    raise WorkflowError(
        f"Invalid configuration: {schema_error_message(error)}"
    ) from None
except ConfigError as error:
    raise WorkflowError(f"Invalid configuration: {error}") from None

MODELS = study.model_keys(config)
PACKAGE = Path(workflow.basedir) / "workflow" / "hmmrnn"
MODEL_PATH = "{hmm}/hidden_{hidden_size}/input_{input_dim}/seed_{seed}"
MODEL_DIR = f"results/models/{MODEL_PATH}"


HMMS = sorted({key.hmm for key in MODELS})


# figure target -> report label (what the figure shows)
FIGURES = {
    "fig10": "aligned distances",
    "fig11": "transition-matrix differences",
    "fig16": "loss curves",
}


def get_final_output():
    tables = [f"results/tables/{table}.parquet" for table in TABLES]
    return tables + [
        f"results/figures/{figure}.{fmt}"
        for figure in FIGURES
        for fmt in ("pdf", "png")
    ]


def figure_label(figure):
    return {
        "figure": f"Fig {int(figure.removeprefix('fig'))}",
        "shows": FIGURES[figure],
    }


def get_family_labels(wildcards):
    return study.family_labels(config)


def get_loss_curve_histories(wildcards):
    return [
        f"{MODEL_DIR}/history.parquet".format(**key._asdict())
        for key in study.loss_curve_models(config)
    ]


def get_loss_curve_keys(wildcards):
    return [key._asdict() for key in study.loss_curve_models(config)]


def package_code(*modules):
    """Package modules a rule's results depend on (listed as inputs so that edits rerun the rule)."""
    return [str(PACKAGE / f"{module}.py") for module in modules]


def model_key(wildcards):
    return study.ModelKey(
        wildcards.hmm,
        int(wildcards.hidden_size),
        int(wildcards.input_dim),
        int(wildcards.seed),
    )


def get_hmm_matrices(wildcards):
    return study.hmm_matrices(config, wildcards.hmm)


def get_num_sequences(wildcards):
    return study.data_sizes(config)


def get_seq_len(wildcards):
    return config["hmms"][wildcards.hmm]["seq_len"]


def get_train_settings(wildcards):
    return study.train_settings(config, model_key(wildcards))


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


def get_torch_runtime(wildcards, attempt):
    """Time limit of a training or evaluation job in minutes (cluster executors); each retry gets more."""
    return 8 * 60 * attempt


def get_resume_dir(wildcards):
    return f"{MODEL_DIR}/resume".format(**wildcards)


def get_convergence_params(wildcards):
    return study.convergence_params(config, wildcards.hmm)


def get_floor_params(wildcards):
    return study.floor_params(config, wildcards.hmm)


def get_evaluation_params(wildcards):
    return study.evaluation_params(config, wildcards.hmm)


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


wildcard_constraints:
    hmm="|".join(sorted(config["hmms"])),
    hidden_size=r"\d+",
    input_dim=r"\d+",
    seed=r"\d+",
    table="|".join(TABLES),
