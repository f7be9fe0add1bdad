# Global latent dynamics (PAPER_SPEC §6.1-6.7): one representative model per family, its analyses and Figs 2-4, 12-15.
# The representative is chosen by a rule from the candidates' training summaries and metrics; each analysis takes the weights of
# every candidate seed and uses the chosen one, so the DAG is known before anything runs.


# Small plotting and table jobs run where Snakemake runs, also under the Slurm profile (no queueing for seconds of work).
localrules:
    select_representative,
    fig02,
    fig03,
    fig04,
    fig12,
    fig13,
    fig14,
    fig15,


rule select_representative:
    input:
        summaries=get_candidate_summaries,
        metrics=get_candidate_metrics,
        code=script_code("select_representative"),
    output:
        table=f"{ANALYSIS_DIR}/representative.parquet",
    log:
        "results/logs/select_representative/{hmm}.log",
    conda:
        "../../envs/hmmrnn.yaml"
    params:
        settings=get_representative_params,
    script:
        "../scripts/select_representative.py"


rule analyze_global_dynamics:
    input:
        representatives=f"{ANALYSIS_DIR}/representative.parquet",
        models=get_candidate_models,
        code=script_code("analyze_global_dynamics"),
    output:
        summary=f"{ANALYSIS_DIR}/global.parquet",
        radius=f"{ANALYSIS_DIR}/radius.parquet",
        spectrum=f"{ANALYSIS_DIR}/spectrum.parquet",
        claims=f"{ANALYSIS_DIR}/claims_global.parquet",
        arrays=f"{ANALYSIS_DIR}/global.npz",
    log:
        "results/logs/analyze_global_dynamics/{hmm}.log",
    benchmark:
        "results/benchmarks/analyze_global_dynamics/{hmm}.tsv"
    conda:
        "../../envs/hmmrnn.yaml"
    threads: 2
    resources:
        mem_mb=get_analysis_mem_mb,
        runtime=get_analysis_runtime,
    params:
        seeds=get_candidate_seeds,
        settings=get_global_dynamics_params,
        claims=get_claim_params,
        seed=config["analysis"]["seed"],
    script:
        "../scripts/analyze_global_dynamics.py"


rule analyze_subspaces:
    input:
        representatives=f"{ANALYSIS_DIR}/representative.parquet",
        models=get_candidate_models,
        code=script_code("analyze_subspaces"),
    output:
        table=f"{ANALYSIS_DIR}/subspaces.parquet",
        claims=f"{ANALYSIS_DIR}/claims_subspaces.parquet",
        arrays=f"{ANALYSIS_DIR}/subspaces.npz",
    log:
        "results/logs/analyze_subspaces/{hmm}.log",
    benchmark:
        "results/benchmarks/analyze_subspaces/{hmm}.tsv"
    conda:
        "../../envs/hmmrnn.yaml"
    threads: 2
    resources:
        mem_mb=get_analysis_mem_mb,
        runtime=get_analysis_runtime,
    params:
        seeds=get_candidate_seeds,
        settings=get_subspace_params,
        claims=get_claim_params,
        seed=config["analysis"]["seed"],
    script:
        "../scripts/analyze_subspaces.py"


rule analyze_evolution:
    input:
        representatives=f"{ANALYSIS_DIR}/representative.parquet",
        evolutions=get_candidate_evolutions,
        histories=get_candidate_histories,
        code=script_code("analyze_evolution"),
    output:
        epochs=f"{ANALYSIS_DIR}/evolution.parquet",
        second_order=f"{ANALYSIS_DIR}/second_order.parquet",
        transition=f"{ANALYSIS_DIR}/transition.parquet",
        claims=f"{ANALYSIS_DIR}/claims_evolution.parquet",
        arrays=f"{ANALYSIS_DIR}/evolution.npz",
    log:
        "results/logs/analyze_evolution/{hmm}.log",
    benchmark:
        "results/benchmarks/analyze_evolution/{hmm}.tsv"
    conda:
        "../../envs/hmmrnn.yaml"
    threads: 2
    resources:
        mem_mb=get_analysis_mem_mb,
        runtime=get_analysis_runtime,
    params:
        seeds=get_candidate_seeds,
        settings=get_evolution_params,
        claims=get_claim_params,
        seed=config["analysis"]["seed"],
    script:
        "../scripts/analyze_evolution.py"


rule fig02:
    input:
        arrays=expand(f"{ANALYSIS_DIR}/global.npz", hmm=GLOBAL_FIGURE_FAMILIES["fig02"]),
        summary=expand(
            f"{ANALYSIS_DIR}/global.parquet", hmm=GLOBAL_FIGURE_FAMILIES["fig02"]
        ),
        radius=expand(
            f"{ANALYSIS_DIR}/radius.parquet", hmm=GLOBAL_FIGURE_FAMILIES["fig02"]
        ),
        code=script_code("fig02"),
    output:
        pdf="results/figures/fig02.pdf",
        png=report(
            "results/figures/fig02.png",
            caption="../report/fig02.rst",
            category="Figures",
            labels=global_figure_label("fig02"),
        ),
    log:
        "results/logs/figures/fig02.log",
    conda:
        "../../envs/hmmrnn.yaml"
    params:
        families=GLOBAL_FIGURE_FAMILIES["fig02"],
        labels=get_family_labels,
    script:
        "../scripts/fig02.py"


rule fig03:
    input:
        arrays=expand(f"{ANALYSIS_DIR}/global.npz", hmm=GLOBAL_FIGURE_FAMILIES["fig03"]),
        summary=expand(
            f"{ANALYSIS_DIR}/global.parquet", hmm=GLOBAL_FIGURE_FAMILIES["fig03"]
        ),
        radius=expand(
            f"{ANALYSIS_DIR}/radius.parquet", hmm=GLOBAL_FIGURE_FAMILIES["fig03"]
        ),
        spectrum=expand(
            f"{ANALYSIS_DIR}/spectrum.parquet", hmm=GLOBAL_FIGURE_FAMILIES["fig03"]
        ),
        code=script_code("fig03"),
    output:
        pdf="results/figures/fig03.pdf",
        png=report(
            "results/figures/fig03.png",
            caption="../report/fig03.rst",
            category="Figures",
            labels=global_figure_label("fig03"),
        ),
    log:
        "results/logs/figures/fig03.log",
    conda:
        "../../envs/hmmrnn.yaml"
    params:
        families=GLOBAL_FIGURE_FAMILIES["fig03"],
        labels=get_family_labels,
    script:
        "../scripts/fig03.py"


rule fig04:
    input:
        arrays=expand(
            f"{ANALYSIS_DIR}/evolution.npz", hmm=GLOBAL_FIGURE_FAMILIES["fig04"]
        ),
        epochs=expand(
            f"{ANALYSIS_DIR}/evolution.parquet", hmm=GLOBAL_FIGURE_FAMILIES["fig04"]
        ),
        second_order=expand(
            f"{ANALYSIS_DIR}/second_order.parquet", hmm=GLOBAL_FIGURE_FAMILIES["fig04"]
        ),
        transition=expand(
            f"{ANALYSIS_DIR}/transition.parquet", hmm=GLOBAL_FIGURE_FAMILIES["fig04"]
        ),
        code=script_code("fig04"),
    output:
        pdf="results/figures/fig04.pdf",
        png=report(
            "results/figures/fig04.png",
            caption="../report/fig04.rst",
            category="Figures",
            labels=global_figure_label("fig04"),
        ),
    log:
        "results/logs/figures/fig04.log",
    conda:
        "../../envs/hmmrnn.yaml"
    params:
        families=GLOBAL_FIGURE_FAMILIES["fig04"],
        labels=get_family_labels,
        view=config["analysis"]["figures"]["view_evolution"],
    script:
        "../scripts/fig04.py"


rule fig12:
    input:
        arrays=expand(f"{ANALYSIS_DIR}/global.npz", hmm=GLOBAL_FIGURE_FAMILIES["fig12"]),
        summary=expand(
            f"{ANALYSIS_DIR}/global.parquet", hmm=GLOBAL_FIGURE_FAMILIES["fig12"]
        ),
        radius=expand(
            f"{ANALYSIS_DIR}/radius.parquet", hmm=GLOBAL_FIGURE_FAMILIES["fig12"]
        ),
        code=script_code("fig12"),
    output:
        pdf="results/figures/fig12.pdf",
        png=report(
            "results/figures/fig12.png",
            caption="../report/fig12.rst",
            category="Figures",
            labels=global_figure_label("fig12"),
        ),
    log:
        "results/logs/figures/fig12.log",
    conda:
        "../../envs/hmmrnn.yaml"
    params:
        families=GLOBAL_FIGURE_FAMILIES["fig12"],
        labels=get_family_labels,
    script:
        "../scripts/fig12.py"


rule fig13:
    input:
        arrays=expand(f"{ANALYSIS_DIR}/global.npz", hmm=GLOBAL_FIGURE_FAMILIES["fig13"]),
        summary=expand(
            f"{ANALYSIS_DIR}/global.parquet", hmm=GLOBAL_FIGURE_FAMILIES["fig13"]
        ),
        subspace_arrays=expand(
            f"{ANALYSIS_DIR}/subspaces.npz", hmm=GLOBAL_FIGURE_FAMILIES["fig13"]
        ),
        subspaces=expand(
            f"{ANALYSIS_DIR}/subspaces.parquet", hmm=GLOBAL_FIGURE_FAMILIES["fig13"]
        ),
        code=script_code("fig13"),
    output:
        pdf="results/figures/fig13.pdf",
        png=report(
            "results/figures/fig13.png",
            caption="../report/fig13.rst",
            category="Figures",
            labels=global_figure_label("fig13"),
        ),
    log:
        "results/logs/figures/fig13.log",
    conda:
        "../../envs/hmmrnn.yaml"
    params:
        families=GLOBAL_FIGURE_FAMILIES["fig13"],
        labels=get_family_labels,
        view=config["analysis"]["figures"]["view_3d"],
    script:
        "../scripts/fig13.py"


rule fig14:
    input:
        arrays=expand(
            f"{ANALYSIS_DIR}/evolution.npz", hmm=GLOBAL_FIGURE_FAMILIES["fig14"]
        ),
        transition=expand(
            f"{ANALYSIS_DIR}/transition.parquet", hmm=GLOBAL_FIGURE_FAMILIES["fig14"]
        ),
        code=script_code("fig14"),
    output:
        pdf="results/figures/fig14.pdf",
        png=report(
            "results/figures/fig14.png",
            caption="../report/fig14.rst",
            category="Figures",
            labels=global_figure_label("fig14"),
        ),
    log:
        "results/logs/figures/fig14.log",
    conda:
        "../../envs/hmmrnn.yaml"
    params:
        families=GLOBAL_FIGURE_FAMILIES["fig14"],
        labels=get_family_labels,
        view=config["analysis"]["figures"]["view_evolution"],
    script:
        "../scripts/fig14.py"


rule fig15:
    input:
        epochs=expand(
            f"{ANALYSIS_DIR}/evolution.parquet", hmm=GLOBAL_FIGURE_FAMILIES["fig15"]
        ),
        second_order=expand(
            f"{ANALYSIS_DIR}/second_order.parquet", hmm=GLOBAL_FIGURE_FAMILIES["fig15"]
        ),
        transition=expand(
            f"{ANALYSIS_DIR}/transition.parquet", hmm=GLOBAL_FIGURE_FAMILIES["fig15"]
        ),
        code=script_code("fig15"),
    output:
        pdf="results/figures/fig15.pdf",
        png=report(
            "results/figures/fig15.png",
            caption="../report/fig15.rst",
            category="Figures",
            labels=global_figure_label("fig15"),
        ),
    log:
        "results/logs/figures/fig15.log",
    conda:
        "../../envs/hmmrnn.yaml"
    params:
        families=GLOBAL_FIGURE_FAMILIES["fig15"],
        labels=get_family_labels,
    script:
        "../scripts/fig15.py"
