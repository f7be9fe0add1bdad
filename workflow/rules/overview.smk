# Overview figures: the training paradigm drawn from real data (Fig 1, PAPER_SPEC §1-3) and the HMM architectures
# (Fig 9, App. A). Fig 1 shows analysis.figures.two_state and its representative network, so it is a default target
# only where that family has models at the representative cell, like the global-dynamics figures.

from types import SimpleNamespace

OVERVIEW_FIGURES = {"fig01": "training paradigm", "fig09": "HMM architectures"}
PARADIGM = SimpleNamespace(hmm=config["analysis"]["figures"]["two_state"])
PARADIGM_ANALYSED = PARADIGM.hmm in ANALYSIS_FAMILIES
FIGURES.update(
    {
        figure: label
        for figure, label in OVERVIEW_FIGURES.items()
        if figure != "fig01" or PARADIGM_ANALYSED
    }
)
PARADIGM_MODELS = get_candidate_models(PARADIGM) if PARADIGM_ANALYSED else []
PARADIGM_SEEDS = get_candidate_seeds(PARADIGM) if PARADIGM_ANALYSED else []
# every family of the config, in config order (the figure draws these matrices; it never rebuilds them)
ARCHITECTURES = {hmm: study.hmm_matrices(config, hmm) for hmm in config["hmms"]}


# Small plotting and table jobs run where Snakemake runs, also under the Slurm profile (no queueing for seconds of work).
localrules:
    fig01,
    fig09,


rule fig01:
    input:
        data=[f"results/data/{PARADIGM.hmm}/seed_{seed}.npz" for seed in PARADIGM_SEEDS],
        representatives=f"results/analysis/{PARADIGM.hmm}/representative.parquet",
        models=PARADIGM_MODELS,
        code=script_code("fig01"),
    output:
        pdf="results/figures/fig01.pdf",
        png=report(
            "results/figures/fig01.png",
            caption="../report/fig01.rst",
            category="Figures",
            labels={"figure": "Fig 1", "shows": OVERVIEW_FIGURES["fig01"]},
        ),
    log:
        "results/logs/figures/fig01.log",
    conda:
        "../../envs/hmmrnn.yaml"
    params:
        hmm=PARADIGM.hmm,
        seeds=PARADIGM_SEEDS,
        num_sequences=config["analysis"]["figures"]["paradigm"]["num_sequences"],
        num_steps=config["analysis"]["figures"]["paradigm"]["num_steps"],
        emit_from_zero=config["evaluation"]["emit_from_zero"],
        seed=config["analysis"]["seed"],
        labels=get_family_labels,
    script:
        "../scripts/fig01.py"


rule fig09:
    input:
        code=script_code("fig09"),
    output:
        pdf="results/figures/fig09.pdf",
        png=report(
            "results/figures/fig09.png",
            caption="../report/fig09.rst",
            category="Figures",
            labels=figure_label("fig09"),
        ),
    log:
        "results/logs/figures/fig09.log",
    conda:
        "../../envs/hmmrnn.yaml"
    params:
        matrices=ARCHITECTURES,
        labels=get_family_labels,
    script:
        "../scripts/fig09.py"
