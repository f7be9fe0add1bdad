# Final outputs: the study tables (results/tables/, tabulate) and one rule per paper figure, Figs 1-25
# (results/figures/figNN.pdf/.png). Each figure rule only plots; its inputs, families, caption and report label
# come from FIGURE_TABLE in common.smk.


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
        **figure_inputs("fig01"),
        code=script_code("fig01"),
    output:
        pdf="results/figures/fig01.pdf",
        png=report(
            "results/figures/fig01.png",
            caption=figure_caption("fig01"),
            category="Figures",
            labels=figure_label("fig01"),
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
        **figure_inputs("fig02"),
        code=script_code("fig02"),
    output:
        pdf="results/figures/fig02.pdf",
        png=report(
            "results/figures/fig02.png",
            caption=figure_caption("fig02"),
            category="Figures",
            labels=figure_label("fig02"),
        ),
    log:
        "results/logs/figures/fig02.log",
    conda:
        "../../envs/hmmrnn.yaml"
    params:
        families=figure_families("fig02"),
        labels=get_family_labels,
    script:
        "../scripts/fig02.py"


rule fig03:
    input:
        **figure_inputs("fig03"),
        code=script_code("fig03"),
    output:
        pdf="results/figures/fig03.pdf",
        png=report(
            "results/figures/fig03.png",
            caption=figure_caption("fig03"),
            category="Figures",
            labels=figure_label("fig03"),
        ),
    log:
        "results/logs/figures/fig03.log",
    conda:
        "../../envs/hmmrnn.yaml"
    params:
        families=figure_families("fig03"),
        labels=get_family_labels,
    script:
        "../scripts/fig03.py"


rule fig04:
    input:
        **figure_inputs("fig04"),
        code=script_code("fig04"),
    output:
        pdf="results/figures/fig04.pdf",
        png=report(
            "results/figures/fig04.png",
            caption=figure_caption("fig04"),
            category="Figures",
            labels=figure_label("fig04"),
        ),
    log:
        "results/logs/figures/fig04.log",
    conda:
        "../../envs/hmmrnn.yaml"
    params:
        families=figure_families("fig04"),
        labels=get_family_labels,
        view=config["analysis"]["figures"]["view_evolution"],
    script:
        "../scripts/fig04.py"


rule fig05:
    input:
        **figure_inputs("fig05"),
        code=script_code("fig05"),
    output:
        pdf="results/figures/fig05.pdf",
        png=report(
            "results/figures/fig05.png",
            caption=figure_caption("fig05"),
            category="Figures",
            labels=figure_label("fig05"),
        ),
    log:
        "results/logs/figures/fig05.log",
    conda:
        "../../envs/hmmrnn.yaml"
    params:
        families=figure_families("fig05"),
        labels=get_family_labels,
    script:
        "../scripts/fig05.py"


rule fig06:
    input:
        **figure_inputs("fig06"),
        code=script_code("fig06"),
    output:
        pdf="results/figures/fig06.pdf",
        png=report(
            "results/figures/fig06.png",
            caption=figure_caption("fig06"),
            category="Figures",
            labels=figure_label("fig06"),
        ),
    log:
        "results/logs/figures/fig06.log",
    conda:
        "../../envs/hmmrnn.yaml"
    params:
        families=figure_families("fig06"),
        labels=get_family_labels,
    script:
        "../scripts/fig06.py"


rule fig07:
    input:
        **figure_inputs("fig07"),
        code=script_code("fig07"),
    output:
        pdf="results/figures/fig07.pdf",
        png=report(
            "results/figures/fig07.png",
            caption=figure_caption("fig07"),
            category="Figures",
            labels=figure_label("fig07"),
        ),
    log:
        "results/logs/figures/fig07.log",
    conda:
        "../../envs/hmmrnn.yaml"
    params:
        families=figure_families("fig07"),
        labels=get_family_labels,
    script:
        "../scripts/fig07.py"


rule fig08:
    input:
        **figure_inputs("fig08"),
        code=script_code("fig08"),
    output:
        pdf="results/figures/fig08.pdf",
        png=report(
            "results/figures/fig08.png",
            caption=figure_caption("fig08"),
            category="Figures",
            labels=figure_label("fig08"),
        ),
    log:
        "results/logs/figures/fig08.log",
    conda:
        "../../envs/hmmrnn.yaml"
    params:
        families=figure_families("fig08"),
        labels=get_family_labels,
    script:
        "../scripts/fig08.py"


rule fig09:
    input:
        **figure_inputs("fig09"),
        code=script_code("fig09"),
    output:
        pdf="results/figures/fig09.pdf",
        png=report(
            "results/figures/fig09.png",
            caption=figure_caption("fig09"),
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
        **figure_inputs("fig10"),
        code=script_code("fig10"),
    output:
        pdf="results/figures/fig10.pdf",
        png=report(
            "results/figures/fig10.png",
            caption=figure_caption("fig10"),
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
        **figure_inputs("fig11"),
        code=script_code("fig11"),
    output:
        pdf="results/figures/fig11.pdf",
        png=report(
            "results/figures/fig11.png",
            caption=figure_caption("fig11"),
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
        **figure_inputs("fig12"),
        code=script_code("fig12"),
    output:
        pdf="results/figures/fig12.pdf",
        png=report(
            "results/figures/fig12.png",
            caption=figure_caption("fig12"),
            category="Figures",
            labels=figure_label("fig12"),
        ),
    log:
        "results/logs/figures/fig12.log",
    conda:
        "../../envs/hmmrnn.yaml"
    params:
        families=figure_families("fig12"),
        labels=get_family_labels,
    script:
        "../scripts/fig12.py"


rule fig13:
    input:
        **figure_inputs("fig13"),
        code=script_code("fig13"),
    output:
        pdf="results/figures/fig13.pdf",
        png=report(
            "results/figures/fig13.png",
            caption=figure_caption("fig13"),
            category="Figures",
            labels=figure_label("fig13"),
        ),
    log:
        "results/logs/figures/fig13.log",
    conda:
        "../../envs/hmmrnn.yaml"
    params:
        families=figure_families("fig13"),
        labels=get_family_labels,
        view=config["analysis"]["figures"]["view_3d"],
    script:
        "../scripts/fig13.py"


rule fig14:
    input:
        **figure_inputs("fig14"),
        code=script_code("fig14"),
    output:
        pdf="results/figures/fig14.pdf",
        png=report(
            "results/figures/fig14.png",
            caption=figure_caption("fig14"),
            category="Figures",
            labels=figure_label("fig14"),
        ),
    log:
        "results/logs/figures/fig14.log",
    conda:
        "../../envs/hmmrnn.yaml"
    params:
        families=figure_families("fig14"),
        labels=get_family_labels,
        view=config["analysis"]["figures"]["view_evolution"],
    script:
        "../scripts/fig14.py"


rule fig15:
    input:
        **figure_inputs("fig15"),
        code=script_code("fig15"),
    output:
        pdf="results/figures/fig15.pdf",
        png=report(
            "results/figures/fig15.png",
            caption=figure_caption("fig15"),
            category="Figures",
            labels=figure_label("fig15"),
        ),
    log:
        "results/logs/figures/fig15.log",
    conda:
        "../../envs/hmmrnn.yaml"
    params:
        families=figure_families("fig15"),
        labels=get_family_labels,
    script:
        "../scripts/fig15.py"


rule fig16:
    input:
        **figure_inputs("fig16"),
        code=script_code("fig16"),
    output:
        pdf="results/figures/fig16.pdf",
        png=report(
            "results/figures/fig16.png",
            caption=figure_caption("fig16"),
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
        **figure_inputs("fig17"),
        code=script_code("fig17"),
    output:
        pdf="results/figures/fig17.pdf",
        png=report(
            "results/figures/fig17.png",
            caption=figure_caption("fig17"),
            category="Figures",
            labels=figure_label("fig17"),
        ),
    log:
        "results/logs/figures/fig17.log",
    conda:
        "../../envs/hmmrnn.yaml"
    params:
        families=figure_families("fig17"),
        labels=get_family_labels,
    script:
        "../scripts/fig17.py"


rule fig18:
    input:
        **figure_inputs("fig18"),
        code=script_code("fig18"),
    output:
        pdf="results/figures/fig18.pdf",
        png=report(
            "results/figures/fig18.png",
            caption=figure_caption("fig18"),
            category="Figures",
            labels=figure_label("fig18"),
        ),
    log:
        "results/logs/figures/fig18.log",
    conda:
        "../../envs/hmmrnn.yaml"
    params:
        families=figure_families("fig18"),
        labels=get_family_labels,
    script:
        "../scripts/fig18.py"


rule fig19:
    input:
        **figure_inputs("fig19"),
        code=script_code("fig19"),
    output:
        pdf="results/figures/fig19.pdf",
        png=report(
            "results/figures/fig19.png",
            caption=figure_caption("fig19"),
            category="Figures",
            labels=figure_label("fig19"),
        ),
    log:
        "results/logs/figures/fig19.log",
    conda:
        "../../envs/hmmrnn.yaml"
    params:
        families=figure_families("fig19"),
        labels=get_family_labels,
    script:
        "../scripts/fig19.py"


rule fig20:
    input:
        **figure_inputs("fig20"),
        code=script_code("fig20"),
    output:
        pdf="results/figures/fig20.pdf",
        png=report(
            "results/figures/fig20.png",
            caption=figure_caption("fig20"),
            category="Figures",
            labels=figure_label("fig20"),
        ),
    log:
        "results/logs/figures/fig20.log",
    conda:
        "../../envs/hmmrnn.yaml"
    params:
        families=figure_families("fig20"),
        labels=get_family_labels,
    script:
        "../scripts/fig20.py"


rule fig21:
    input:
        **figure_inputs("fig21"),
        code=script_code("fig21"),
    output:
        pdf="results/figures/fig21.pdf",
        png=report(
            "results/figures/fig21.png",
            caption=figure_caption("fig21"),
            category="Figures",
            labels=figure_label("fig21"),
        ),
    log:
        "results/logs/figures/fig21.log",
    conda:
        "../../envs/hmmrnn.yaml"
    params:
        families=figure_families("fig21"),
        labels=get_family_labels,
    script:
        "../scripts/fig21.py"


rule fig22:
    input:
        **figure_inputs("fig22"),
        code=script_code("fig22"),
    output:
        pdf="results/figures/fig22.pdf",
        png=report(
            "results/figures/fig22.png",
            caption=figure_caption("fig22"),
            category="Figures",
            labels=figure_label("fig22"),
        ),
    log:
        "results/logs/figures/fig22.log",
    conda:
        "../../envs/hmmrnn.yaml"
    params:
        families=figure_families("fig22"),
        labels=get_family_labels,
    script:
        "../scripts/fig22.py"


rule fig23:
    input:
        **figure_inputs("fig23"),
        code=script_code("fig23"),
    output:
        pdf="results/figures/fig23.pdf",
        png=report(
            "results/figures/fig23.png",
            caption=figure_caption("fig23"),
            category="Figures",
            labels=figure_label("fig23"),
        ),
    log:
        "results/logs/figures/fig23.log",
    conda:
        "../../envs/hmmrnn.yaml"
    params:
        families=figure_families("fig23"),
        labels=get_family_labels,
    script:
        "../scripts/fig23.py"


rule fig24:
    input:
        **figure_inputs("fig24"),
        code=script_code("fig24"),
    output:
        pdf="results/figures/fig24.pdf",
        png=report(
            "results/figures/fig24.png",
            caption=figure_caption("fig24"),
            category="Figures",
            labels=figure_label("fig24"),
        ),
    log:
        "results/logs/figures/fig24.log",
    conda:
        "../../envs/hmmrnn.yaml"
    params:
        families=figure_families("fig24"),
        labels=get_family_labels,
    script:
        "../scripts/fig24.py"


rule fig25:
    input:
        **figure_inputs("fig25"),
        code=script_code("fig25"),
    output:
        pdf="results/figures/fig25.pdf",
        png=report(
            "results/figures/fig25.png",
            caption=figure_caption("fig25"),
            category="Figures",
            labels=figure_label("fig25"),
        ),
    log:
        "results/logs/figures/fig25.log",
    conda:
        "../../envs/hmmrnn.yaml"
    params:
        families=figure_families("fig25"),
        labels=get_family_labels,
        converged_only=config["analysis"]["converged_only"],
    script:
        "../scripts/fig25.py"
