rule evaluate_rnn:
    input:
        model=f"{MODEL_DIR}/final.pt",
        data="results/data/{hmm}/seed_{seed}.npz",
        code=package_code("metrics", "seeds"),
    output:
        metrics=f"results/metrics/{MODEL_PATH}.parquet",
    log:
        f"results/logs/evaluate_rnn/{MODEL_PATH}.log",
    benchmark:
        f"results/benchmarks/evaluate_rnn/{MODEL_PATH}.tsv"
    conda:
        "../../envs/hmmrnn.yaml"
    threads: 2
    resources:
        gpu=get_train_gpu,
        mem_mb=8000,
        runtime=get_torch_runtime,
    params:
        settings=get_evaluation_params,
        device=get_train_device,
    script:
        "../scripts/evaluate_rnn.py"


rule tabulate:
    input:
        parts=get_table_parts,
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
