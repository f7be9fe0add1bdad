# Figures of the local dynamics and the single-neuron mechanism (PAPER_SPEC §6.8-6.15): Figs 5-8 and 17-25.
# Each rule only plots the per-family results of the local analysis (workflow/rules/local.smk, which defines
# LOCAL_FIGURE_FAMILIES and local_figure_label); the figure functions live in workflow/hmmrnn/plotting_local.py.


# Small plotting and table jobs run where Snakemake runs, also under the Slurm profile (no queueing for seconds of work).
localrules:
    fig05,
    fig06,
    fig07,
    fig08,
    fig17,
    fig18,
    fig19,
    fig20,
    fig21,
    fig22,
    fig23,
    fig24,
    fig25,


rule fig05:
    input:
        arrays=expand(f"{ANALYSIS_DIR}/local.npz", hmm=LOCAL_FIGURE_FAMILIES["fig05"]),
        code=script_code("fig05"),
    output:
        pdf="results/figures/fig05.pdf",
        png=report(
            "results/figures/fig05.png",
            caption="../report/fig05.rst",
            category="Figures",
            labels=local_figure_label("fig05"),
        ),
    log:
        "results/logs/figures/fig05.log",
    conda:
        "../../envs/hmmrnn.yaml"
    params:
        families=LOCAL_FIGURE_FAMILIES["fig05"],
        labels=get_family_labels,
    script:
        "../scripts/fig05.py"


rule fig06:
    input:
        arrays=expand(f"{ANALYSIS_DIR}/local.npz", hmm=LOCAL_FIGURE_FAMILIES["fig06"]),
        code=script_code("fig06"),
    output:
        pdf="results/figures/fig06.pdf",
        png=report(
            "results/figures/fig06.png",
            caption="../report/fig06.rst",
            category="Figures",
            labels=local_figure_label("fig06"),
        ),
    log:
        "results/logs/figures/fig06.log",
    conda:
        "../../envs/hmmrnn.yaml"
    params:
        families=LOCAL_FIGURE_FAMILIES["fig06"],
        labels=get_family_labels,
    script:
        "../scripts/fig06.py"


rule fig07:
    input:
        arrays=expand(f"{ANALYSIS_DIR}/local.npz", hmm=LOCAL_FIGURE_FAMILIES["fig07"]),
        interventions=expand(
            f"{ANALYSIS_DIR}/interventions.parquet", hmm=LOCAL_FIGURE_FAMILIES["fig07"]
        ),
        code=script_code("fig07"),
    output:
        pdf="results/figures/fig07.pdf",
        png=report(
            "results/figures/fig07.png",
            caption="../report/fig07.rst",
            category="Figures",
            labels=local_figure_label("fig07"),
        ),
    log:
        "results/logs/figures/fig07.log",
    conda:
        "../../envs/hmmrnn.yaml"
    params:
        families=LOCAL_FIGURE_FAMILIES["fig07"],
        labels=get_family_labels,
    script:
        "../scripts/fig07.py"


rule fig08:
    input:
        arrays=expand(f"{ANALYSIS_DIR}/local.npz", hmm=LOCAL_FIGURE_FAMILIES["fig08"]),
        code=script_code("fig08"),
    output:
        pdf="results/figures/fig08.pdf",
        png=report(
            "results/figures/fig08.png",
            caption="../report/fig08.rst",
            category="Figures",
            labels=local_figure_label("fig08"),
        ),
    log:
        "results/logs/figures/fig08.log",
    conda:
        "../../envs/hmmrnn.yaml"
    params:
        families=LOCAL_FIGURE_FAMILIES["fig08"],
        labels=get_family_labels,
    script:
        "../scripts/fig08.py"


rule fig17:
    input:
        arrays=expand(f"{ANALYSIS_DIR}/local.npz", hmm=LOCAL_FIGURE_FAMILIES["fig17"]),
        code=script_code("fig17"),
    output:
        pdf="results/figures/fig17.pdf",
        png=report(
            "results/figures/fig17.png",
            caption="../report/fig17.rst",
            category="Figures",
            labels=local_figure_label("fig17"),
        ),
    log:
        "results/logs/figures/fig17.log",
    conda:
        "../../envs/hmmrnn.yaml"
    params:
        families=LOCAL_FIGURE_FAMILIES["fig17"],
        labels=get_family_labels,
    script:
        "../scripts/fig17.py"


rule fig18:
    input:
        arrays=expand(f"{ANALYSIS_DIR}/local.npz", hmm=LOCAL_FIGURE_FAMILIES["fig18"]),
        code=script_code("fig18"),
    output:
        pdf="results/figures/fig18.pdf",
        png=report(
            "results/figures/fig18.png",
            caption="../report/fig18.rst",
            category="Figures",
            labels=local_figure_label("fig18"),
        ),
    log:
        "results/logs/figures/fig18.log",
    conda:
        "../../envs/hmmrnn.yaml"
    params:
        families=LOCAL_FIGURE_FAMILIES["fig18"],
        labels=get_family_labels,
    script:
        "../scripts/fig18.py"


rule fig19:
    input:
        arrays=expand(f"{ANALYSIS_DIR}/local.npz", hmm=LOCAL_FIGURE_FAMILIES["fig19"]),
        code=script_code("fig19"),
    output:
        pdf="results/figures/fig19.pdf",
        png=report(
            "results/figures/fig19.png",
            caption="../report/fig19.rst",
            category="Figures",
            labels=local_figure_label("fig19"),
        ),
    log:
        "results/logs/figures/fig19.log",
    conda:
        "../../envs/hmmrnn.yaml"
    params:
        families=LOCAL_FIGURE_FAMILIES["fig19"],
        labels=get_family_labels,
    script:
        "../scripts/fig19.py"


rule fig20:
    input:
        arrays=expand(f"{ANALYSIS_DIR}/local.npz", hmm=LOCAL_FIGURE_FAMILIES["fig20"]),
        code=script_code("fig20"),
    output:
        pdf="results/figures/fig20.pdf",
        png=report(
            "results/figures/fig20.png",
            caption="../report/fig20.rst",
            category="Figures",
            labels=local_figure_label("fig20"),
        ),
    log:
        "results/logs/figures/fig20.log",
    conda:
        "../../envs/hmmrnn.yaml"
    params:
        families=LOCAL_FIGURE_FAMILIES["fig20"],
        labels=get_family_labels,
    script:
        "../scripts/fig20.py"


rule fig21:
    input:
        arrays=expand(f"{ANALYSIS_DIR}/local.npz", hmm=LOCAL_FIGURE_FAMILIES["fig21"]),
        code=script_code("fig21"),
    output:
        pdf="results/figures/fig21.pdf",
        png=report(
            "results/figures/fig21.png",
            caption="../report/fig21.rst",
            category="Figures",
            labels=local_figure_label("fig21"),
        ),
    log:
        "results/logs/figures/fig21.log",
    conda:
        "../../envs/hmmrnn.yaml"
    params:
        families=LOCAL_FIGURE_FAMILIES["fig21"],
        labels=get_family_labels,
    script:
        "../scripts/fig21.py"


rule fig22:
    input:
        arrays=expand(f"{ANALYSIS_DIR}/local.npz", hmm=LOCAL_FIGURE_FAMILIES["fig22"]),
        kick_neurons=expand(
            f"{ANALYSIS_DIR}/kick_neurons.parquet", hmm=LOCAL_FIGURE_FAMILIES["fig22"]
        ),
        code=script_code("fig22"),
    output:
        pdf="results/figures/fig22.pdf",
        png=report(
            "results/figures/fig22.png",
            caption="../report/fig22.rst",
            category="Figures",
            labels=local_figure_label("fig22"),
        ),
    log:
        "results/logs/figures/fig22.log",
    conda:
        "../../envs/hmmrnn.yaml"
    params:
        families=LOCAL_FIGURE_FAMILIES["fig22"],
        labels=get_family_labels,
    script:
        "../scripts/fig22.py"


rule fig23:
    input:
        arrays=expand(f"{ANALYSIS_DIR}/local.npz", hmm=LOCAL_FIGURE_FAMILIES["fig23"]),
        code=script_code("fig23"),
    output:
        pdf="results/figures/fig23.pdf",
        png=report(
            "results/figures/fig23.png",
            caption="../report/fig23.rst",
            category="Figures",
            labels=local_figure_label("fig23"),
        ),
    log:
        "results/logs/figures/fig23.log",
    conda:
        "../../envs/hmmrnn.yaml"
    params:
        families=LOCAL_FIGURE_FAMILIES["fig23"],
        labels=get_family_labels,
    script:
        "../scripts/fig23.py"


rule fig24:
    input:
        arrays=expand(f"{ANALYSIS_DIR}/local.npz", hmm=LOCAL_FIGURE_FAMILIES["fig24"]),
        code=script_code("fig24"),
    output:
        pdf="results/figures/fig24.pdf",
        png=report(
            "results/figures/fig24.png",
            caption="../report/fig24.rst",
            category="Figures",
            labels=local_figure_label("fig24"),
        ),
    log:
        "results/logs/figures/fig24.log",
    conda:
        "../../envs/hmmrnn.yaml"
    params:
        families=LOCAL_FIGURE_FAMILIES["fig24"],
        labels=get_family_labels,
    script:
        "../scripts/fig24.py"


rule fig25:
    input:
        alignment=expand(
            f"{ANALYSIS_DIR}/alignment.parquet", hmm=LOCAL_FIGURE_FAMILIES["fig25"]
        ),
        code=script_code("fig25"),
    output:
        pdf="results/figures/fig25.pdf",
        png=report(
            "results/figures/fig25.png",
            caption="../report/fig25.rst",
            category="Figures",
            labels=local_figure_label("fig25"),
        ),
    log:
        "results/logs/figures/fig25.log",
    conda:
        "../../envs/hmmrnn.yaml"
    params:
        families=LOCAL_FIGURE_FAMILIES["fig25"],
        labels=get_family_labels,
        converged_only=config["analysis"]["converged_only"],
    script:
        "../scripts/fig25.py"
