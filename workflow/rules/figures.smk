# Small plotting and table jobs run where Snakemake runs, also under the Slurm profile (no queueing for seconds of work).
localrules:
    fig10,
    fig11,
    fig16,


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
