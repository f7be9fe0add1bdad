# hmmrnn: reproduction of "Mechanistic Interpretability of RNNs emulating Hidden Markov Models".
# Usage: snakemake --cores all [--resources gpu=1] [--configfile config/quick.yaml] [target]

from snakemake.utils import min_version

min_version("9.17")


# makes the workflow's own package `hmmrnn` importable, wherever the workflow runs (README, "Deploy as a module")
include: "workflow/rules/package.smk"


from hmmrnn.validation import checked_yaml_file


# a YAML syntax error here is reported with the file and line (Snakemake's own message names neither)
configfile: checked_yaml_file("config/config.yaml")


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/evaluate.smk"
include: "workflow/rules/representative.smk"
include: "workflow/rules/analysis.smk"
include: "workflow/rules/claims.smk"
include: "workflow/rules/figures.smk"


rule all:
    default_target: True
    input:
        get_final_output(),
