rule train_rnn:
    input:
        data="results/data/{hmm}/seed_{seed}.npz",
        floor="results/floors/{hmm}.parquet",
        code=script_code("train_rnn"),
    output:
        final=f"{MODEL_DIR}/final.pt",
        best=f"{MODEL_DIR}/best.pt",
        history=f"{MODEL_DIR}/history.parquet",
        evolution=f"{MODEL_DIR}/evolution.pt",
        summary=f"{MODEL_DIR}/summary.parquet",
    log:
        f"results/logs/train_rnn/{MODEL_PATH}.log",
    benchmark:
        f"results/benchmarks/train_rnn/{MODEL_PATH}.tsv"
    # longest epoch budget first (a callable priority needs Snakemake 9.17)
    priority: get_train_priority
    conda:
        "../../envs/hmmrnn.yaml"
    # one thread: on 2 CPU cores two training jobs at once finish 1.5x sooner than one job with two threads
    # (README, "Timings"); on a GPU the CPU side needs no more
    threads: 1
    resources:
        gpu=get_train_gpu,
        mem_mb=get_torch_mem_mb,
        runtime=get_torch_runtime,
    params:
        settings=config_group("training", exclude=study.TRAINING_APART),
        epochs=lookup(dpath="hmms/{hmm}/epochs", within=config),
        grad_clip=lookup(dpath="hmms/{hmm}/grad_clip", within=config),
        evolution_every=get_evolution_every,
        convergence=config_group("convergence"),
        eval_seq_len=lookup(dpath="hmms/{hmm}/eval_seq_len", within=config),
        evaluation=config_group("evaluation", exclude=study.CHECK_EVALUATION_EXCLUDE),
        device=get_train_device,
        resume_dir=get_resume_dir,
    script:
        "../scripts/train_rnn.py"


# Networks trained elsewhere (config `pretrained`) get train_rnn's outputs without training. Their model folders
# are the only values of the `model` wildcard (common.smk), and the ruleorder picks this rule over train_rnn there.
ruleorder: import_pretrained > train_rnn


rule import_pretrained:
    input:
        unpack(get_pretrained_input),
        code=script_code("import_pretrained"),
    output:
        final="results/models/{model}/final.pt",
        best="results/models/{model}/best.pt",
        history="results/models/{model}/history.parquet",
        evolution="results/models/{model}/evolution.pt",
        summary="results/models/{model}/summary.parquet",
    log:
        "results/logs/import_pretrained/{model}.log",
    benchmark:
        "results/benchmarks/import_pretrained/{model}.tsv"
    conda:
        "../../envs/hmmrnn.yaml"
    threads: 2
    resources:
        mem_mb=get_analysis_mem_mb,
        runtime=get_analysis_runtime,
    params:
        key=get_pretrained_key,
        source=get_pretrained_source,
        settings=config_group("training", exclude=study.TRAINING_APART),
        convergence=config_group("convergence"),
        eval_seq_len=get_pretrained_eval_seq_len,
        evaluation=config_group("evaluation", exclude=study.CHECK_EVALUATION_EXCLUDE),
    script:
        "../scripts/import_pretrained.py"
