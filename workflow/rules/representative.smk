# The representative model of each family (PAPER_SPEC §8.13), chosen from the candidates' training summaries and
# metrics; every analysis takes the weights of every candidate seed and uses the chosen one, so the DAG is known
# before anything runs.


# Small plotting and table jobs run where Snakemake runs, also under the Slurm profile (no queueing for seconds of work).
localrules:
    select_representative,


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
        settings=get_representative_group,
        candidates=get_representative_candidates,
    script:
        "../scripts/select_representative.py"
