# hmmrnn: reproduction of "Mechanistic Interpretability of RNNs emulating Hidden Markov Models".
# Usage: snakemake --cores all [--resources gpu=1] [--configfile config/quick.yaml] [target]

from snakemake.utils import min_version

min_version("9.0")


configfile: "config/config.yaml"


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/hmm.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/evaluate.smk"
include: "workflow/rules/figures.smk"
include: "workflow/rules/global.smk"
include: "workflow/rules/overview.smk"
include: "workflow/rules/local.smk"
include: "workflow/rules/local_figures.smk"


rule all:
    default_target: True
    input:
        get_final_output(),
