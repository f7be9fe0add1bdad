# All Snakemake-side Python: config validation, the model list, targets and input/params functions.
# The logic lives in the hmmrnn package (workflow/hmmrnn); this file only adapts it to wildcards.

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


wildcard_constraints:
    hmm="|".join(sorted(config["hmms"])),
    hidden_size=r"\d+",
    input_dim=r"\d+",
    seed=r"\d+",


def get_final_output():
    return ["results/tables/training.parquet"]


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
    return dict(config["data"])


def get_seq_len(wildcards):
    return config["hmms"][wildcards.hmm]["seq_len"]


def get_train_settings(wildcards):
    return study.train_settings(config, model_key(wildcards))


def get_train_device(wildcards):
    return study.resolve_device(config["training"]["device"])


def get_train_gpu(wildcards):
    return int(get_train_device(wildcards) == "cuda")


def get_resume_dir(wildcards):
    return f"{MODEL_DIR}/resume".format(**wildcards)


def get_model_files(name):
    """Paths of output ``name`` of train_rnn for every model of the study."""
    return [f"{MODEL_DIR}/{name}".format(**key._asdict()) for key in MODELS]
