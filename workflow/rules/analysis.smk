# The analyses of each family's representative (PAPER_SPEC §6): global dynamics, output-pair subspaces, training
# evolution, local dynamics, and the readout alignment of every candidate seed. Each writes tables and plotting
# arrays; the claims are judged apart (claims.smk).


rule analyze_global_dynamics:
    input:
        representatives=f"{ANALYSIS_DIR}/representative.parquet",
        models=get_candidate_models,
        code=script_code("analyze_global_dynamics"),
    output:
        summary=f"{ANALYSIS_DIR}/global.parquet",
        radius=f"{ANALYSIS_DIR}/radius.parquet",
        spectrum=f"{ANALYSIS_DIR}/spectrum.parquet",
        statistics=f"{ANALYSIS_DIR}/claim_statistics_global.parquet",
        arrays=f"{ANALYSIS_DIR}/global.npz",
    log:
        "results/logs/analyze_global_dynamics/{hmm}.log",
    benchmark:
        "results/benchmarks/analyze_global_dynamics/{hmm}.tsv"
    conda:
        "../../envs/hmmrnn.yaml"
    threads: 1
    resources:
        mem_mb=get_analysis_mem_mb,
        runtime=get_analysis_runtime,
    params:
        seeds=get_candidate_seeds,
        settings=config_group("analysis/global_dynamics"),
        contours=config_group("analysis/contours"),
        eigenvalues=config_group("analysis/eigenvalues"),
        max_state_norm=config["analysis"]["max_state_norm"],
        claims=get_claim_measurements,
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
        statistics=f"{ANALYSIS_DIR}/claim_statistics_subspaces.parquet",
        arrays=f"{ANALYSIS_DIR}/subspaces.npz",
    log:
        "results/logs/analyze_subspaces/{hmm}.log",
    benchmark:
        "results/benchmarks/analyze_subspaces/{hmm}.tsv"
    conda:
        "../../envs/hmmrnn.yaml"
    threads: 1
    resources:
        mem_mb=get_analysis_mem_mb,
        runtime=get_analysis_runtime,
    params:
        seeds=get_candidate_seeds,
        settings=config_group("analysis/subspaces"),
        contours=config_group("analysis/contours"),
        max_state_norm=config["analysis"]["max_state_norm"],
        claims=get_claim_measurements,
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
        statistics=f"{ANALYSIS_DIR}/claim_statistics_evolution.parquet",
        arrays=f"{ANALYSIS_DIR}/evolution.npz",
    log:
        "results/logs/analyze_evolution/{hmm}.log",
    benchmark:
        "results/benchmarks/analyze_evolution/{hmm}.tsv"
    conda:
        "../../envs/hmmrnn.yaml"
    threads: 1
    resources:
        mem_mb=get_analysis_mem_mb,
        runtime=get_analysis_runtime,
    params:
        seeds=get_candidate_seeds,
        settings=get_evolution_group,
        eigenvalues=config_group("analysis/eigenvalues"),
        max_state_norm=config["analysis"]["max_state_norm"],
        claims=get_claim_measurements,
        seed=config["analysis"]["seed"],
    script:
        "../scripts/analyze_evolution.py"


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
        statistics=f"{ANALYSIS_DIR}/claim_statistics_local.parquet",
        arrays=f"{ANALYSIS_DIR}/local.npz",
    log:
        "results/logs/analyze_local/{hmm}.log",
    benchmark:
        "results/benchmarks/analyze_local/{hmm}.tsv"
    conda:
        "../../envs/hmmrnn.yaml"
    threads: 1
    resources:
        mem_mb=get_analysis_mem_mb,
        runtime=get_analysis_runtime,
    params:
        seeds=get_candidate_seeds,
        settings=get_local_group,
        subspaces=get_local_subspaces,
        eigenvalues=config_group("analysis/eigenvalues"),
        max_state_norm=config["analysis"]["max_state_norm"],
        claims=get_claim_measurements,
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
    threads: 1
    params:
        seeds=get_candidate_seeds,
        matrices=get_hmm_matrices,
        settings=config_group("analysis/alignment"),
        noise_std=config["analysis"]["local"]["noise_std"],
        max_state_norm=config["analysis"]["max_state_norm"],
        seed=config["analysis"]["seed"],
    script:
        "../scripts/analyze_alignment.py"
