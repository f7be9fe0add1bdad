# The claims of PAPER_SPEC §10: each check_claims rule reads analysis tables and the thresholds of
# `analysis.claims`, and writes claim rows; the per-claim summary and the `claims` target.


# Small plotting and table jobs run where Snakemake runs, also under the Slurm profile (no queueing for seconds of work).
localrules:
    alignment_claims,
    study_claims,
    summarize_claims,
    claims,


rule alignment_claims:
    input:
        tables=analysis_files(ALIGNMENT_FAMILIES, "alignment.parquet"),
        code=script_code("alignment_claims"),
    output:
        claims="results/analysis/claims_alignment.parquet",
    log:
        "results/logs/alignment_claims.log",
    conda:
        "../../envs/hmmrnn.yaml"
    params:
        families=ALIGNMENT_FAMILIES,
        converged_only=config["analysis"]["converged_only"],
        min_drop=config["analysis"]["claims"]["alignment"]["min_drop"],
    script:
        "../scripts/alignment_claims.py"


rule study_claims:
    input:
        training="results/tables/training.parquet",
        metrics="results/tables/metrics.parquet",
        code=script_code("study_claims"),
    output:
        claims="results/analysis/claims_study.parquet",
    log:
        "results/logs/study_claims.log",
    conda:
        "../../envs/hmmrnn.yaml"
    params:
        convergence=get_claim_convergence_thresholds,
        emission=config["analysis"]["claims"]["emission"],
        grid=config["analysis"]["claims"]["grid"],
        families=config["analysis"]["figures"]["linear_chains"],
    script:
        "../scripts/study_claims.py"


rule summarize_claims:
    input:
        claims="results/tables/claims.parquet",
        code=script_code("summarize_claims"),
    output:
        summary="results/tables/claims_summary.parquet",
        summary_tsv=report(
            "results/reports/claims_summary.tsv",
            caption="../report/claims_summary.rst",
            category="Claims",
        ),
        claims_tsv=report(
            "results/reports/claims.tsv",
            caption="../report/claims.rst",
            category="Claims",
        ),
    log:
        "results/logs/summarize_claims.log",
    conda:
        "../../envs/hmmrnn.yaml"
    script:
        "../scripts/summarize_claims.py"


rule claims:
    input:
        "results/tables/claims.parquet",
        "results/tables/claims_summary.parquet",
