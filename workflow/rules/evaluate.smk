# Evaluation of every trained network against its HMM (PAPER_SPEC §5): one metrics table per model.


rule evaluate_rnn:
    input:
        model=f"{MODEL_DIR}/final.pt",
        data="results/data/{hmm}/seed_{seed}.npz",
        code=script_code("evaluate_rnn"),
    output:
        metrics=f"results/metrics/{MODEL_PATH}.parquet",
    log:
        f"results/logs/evaluate_rnn/{MODEL_PATH}.log",
    benchmark:
        f"results/benchmarks/evaluate_rnn/{MODEL_PATH}.tsv"
    conda:
        "../../envs/hmmrnn.yaml"
    # one thread, like training: on few cores, jobs side by side beat one job with more threads
    threads: 1
    resources:
        gpu=get_train_gpu,
        mem_mb=get_torch_mem_mb,
        runtime=get_torch_runtime,
    params:
        settings=config_group("evaluation"),
        eval_seq_len=lookup(dpath="hmms/{hmm}/eval_seq_len", within=config),
        device=get_train_device,
    script:
        "../scripts/evaluate_rnn.py"
