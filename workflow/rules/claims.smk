# The claims of PAPER_SPEC §10, judged apart from the analyses that measure them: each check_claims_* rule reads
# tables and the thresholds of `analysis.claims` and writes claim rows, so that a changed threshold reruns only these
# rules and the summary. check_claims_analysis judges the checks that an analysis measured
# (results/analysis/{hmm}/claim_statistics_{analysis}.parquet); check_claims_study (claims 1, 2) and
# check_claims_alignment (claim 15) judge study-level tables. Then the per-claim summary and the `claims` target.


# Small plotting and table jobs run where Snakemake runs, also under the Slurm profile (no queueing for seconds of work).
localrules:
    check_claims_analysis,
    check_claims_alignment,
    check_claims_study,
    summarize_claims,
    claims,


rule check_claims_analysis:
    input:
        statistics=f"{ANALYSIS_DIR}/claim_statistics_{{analysis}}.parquet",
        code=script_code("check_claims_analysis"),
    output:
        claims=f"{ANALYSIS_DIR}/claims_{{analysis}}.parquet",
    log:
        "results/logs/check_claims_analysis/{hmm}/{analysis}.log",
    conda:
        "../../envs/hmmrnn.yaml"
    params:
        thresholds=config_group("analysis/claims"),
    script:
        "../scripts/check_claims_analysis.py"


rule check_claims_alignment:
    input:
        tables=analysis_files(ALIGNMENT_FAMILIES, "alignment.parquet"),
        code=script_code("check_claims_alignment"),
    output:
        claims="results/analysis/claims_alignment.parquet",
    log:
        "results/logs/check_claims_alignment.log",
    conda:
        "../../envs/hmmrnn.yaml"
    params:
        families=ALIGNMENT_FAMILIES,
        converged_only=config["analysis"]["converged_only"],
        min_drop=config["analysis"]["claims"]["alignment"]["min_drop"],
    script:
        "../scripts/check_claims_alignment.py"


rule check_claims_study:
    input:
        training="results/tables/training.parquet",
        metrics="results/tables/metrics.parquet",
        code=script_code("check_claims_study"),
    output:
        claims="results/analysis/claims_study.parquet",
    log:
        "results/logs/check_claims_study.log",
    conda:
        "../../envs/hmmrnn.yaml"
    params:
        convergence=get_claim_convergence_thresholds,
        emission=config_group("analysis/claims/emission"),
        grid=config_group("analysis/claims/grid"),
        families=config["analysis"]["figures"]["linear_chains"],
    script:
        "../scripts/check_claims_study.py"


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
