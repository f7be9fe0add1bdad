# Final outputs: the study tables (results/tables/, tabulate) and one rule per paper figure, Figs 1-25
# (results/figures/figNN.pdf/.png). Each figure rule only plots; its inputs, families and report label come from
# FIGURES in common.smk.


# Small plotting and table jobs run where Snakemake runs, also under the Slurm profile (no queueing for seconds of work).
localrules:
    tabulate,
    fig01,
    fig02,
    fig03,
    fig04,
    fig05,
    fig06,
    fig07,
    fig08,
    fig09,
    fig10,
    fig11,
    fig12,
    fig13,
    fig14,
    fig15,
    fig16,
    fig17,
    fig18,
    fig19,
    fig20,
    fig21,
    fig22,
    fig23,
    fig24,
    fig25,


rule tabulate:
    input:
        parts=get_table_parts,
        code=script_code("tabulate"),
    output:
        table="results/tables/{table}.parquet",
    log:
        "results/logs/tabulate/{table}.log",
    conda:
        "../../envs/hmmrnn.yaml"
    params:
        schema=get_table_schema,
    script:
        "../scripts/tabulate.py"


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


rule fig10:
    input:
        metrics="results/tables/metrics.parquet",
        training="results/tables/training.parquet",
        code=script_code("fig10"),
    output:
        pdf="results/figures/fig10.pdf",
        png=report(
            "results/figures/fig10.png",
            caption="../report/fig10.rst",
            category="Figures",
            labels=figure_label("fig10"),
        ),
    log:
        "results/logs/figures/fig10.log",
    conda:
        "../../envs/hmmrnn.yaml"
    params:
        converged_only=config["analysis"]["converged_only"],
        labels=get_family_labels,
    script:
        "../scripts/fig10.py"


rule fig11:
    input:
        metrics="results/tables/metrics.parquet",
        training="results/tables/training.parquet",
        code=script_code("fig11"),
    output:
        pdf="results/figures/fig11.pdf",
        png=report(
            "results/figures/fig11.png",
            caption="../report/fig11.rst",
            category="Figures",
            labels=figure_label("fig11"),
        ),
    log:
        "results/logs/figures/fig11.log",
    conda:
        "../../envs/hmmrnn.yaml"
    params:
        converged_only=config["analysis"]["converged_only"],
        labels=get_family_labels,
        vmax=config["convergence"]["max_transition_sq_diff"],
    script:
        "../scripts/fig11.py"


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


rule fig16:
    input:
        histories=get_loss_curve_histories,
        floors="results/tables/sinkhorn_floor.parquet",
        code=script_code("fig16"),
    output:
        pdf="results/figures/fig16.pdf",
        png=report(
            "results/figures/fig16.png",
            caption="../report/fig16.rst",
            category="Figures",
            labels=figure_label("fig16"),
        ),
    log:
        "results/logs/figures/fig16.log",
    conda:
        "../../envs/hmmrnn.yaml"
    params:
        models=get_loss_curve_keys,
        labels=get_family_labels,
    script:
        "../scripts/fig16.py"


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
