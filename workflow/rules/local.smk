# Local dynamics and the single-neuron mechanism (PAPER_SPEC §6.8-6.15): one analysis per family's representative,
# the readout alignment of every candidate seed, and claim 15 across the linear chains. Figures: local_figures.smk.


# Small plotting and table jobs run where Snakemake runs, also under the Slurm profile (no queueing for seconds of work).
localrules:
    alignment_claims,
    study_claims,
    summarize_claims,
    claims,


rule analyze_local:
    input:
        representatives=f"{ANALYSIS_DIR}/representative.parquet",
        models=get_candidate_models,
        second_order=get_second_order,
        code=script_code("analyze_local"),
    output:
        zones=f"{ANALYSIS_DIR}/zones.parquet",
        noise_sensitivity=f"{ANALYSIS_DIR}/noise_sensitivity.parquet",
        kick_neurons=f"{ANALYSIS_DIR}/kick_neurons.parquet",
        populations=f"{ANALYSIS_DIR}/populations.parquet",
        interventions=f"{ANALYSIS_DIR}/interventions.parquet",
        claims=f"{ANALYSIS_DIR}/claims_local.parquet",
        arrays=f"{ANALYSIS_DIR}/local.npz",
    log:
        "results/logs/analyze_local/{hmm}.log",
    benchmark:
        "results/benchmarks/analyze_local/{hmm}.tsv"
    conda:
        "../../envs/hmmrnn.yaml"
    threads: 2
    resources:
        mem_mb=get_analysis_mem_mb,
        runtime=get_analysis_runtime,
    params:
        seeds=get_candidate_seeds,
        settings=get_local_params,
        claims=get_claim_params,
        seed=config["analysis"]["seed"],
    script:
        "../scripts/analyze_local.py"


rule analyze_alignment:
    input:
        models=get_candidate_models,
        summaries=get_candidate_summaries,
        code=script_code("analyze_alignment"),
    output:
        table=f"{ANALYSIS_DIR}/alignment.parquet",
    log:
        "results/logs/analyze_alignment/{hmm}.log",
    conda:
        "../../envs/hmmrnn.yaml"
    threads: 2
    params:
        seeds=get_candidate_seeds,
        matrices=get_hmm_matrices,
        settings=get_alignment_params,
        seed=config["analysis"]["seed"],
    script:
        "../scripts/analyze_alignment.py"


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


# ---- The claims of PAPER_SPEC §10: study-level claims 1 and 2, the per-claim summary and the `claims` target ----


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
