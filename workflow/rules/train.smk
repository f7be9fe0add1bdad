rule train_rnn:
    input:
        data="results/data/{hmm}/seed_{seed}.npz",
        floor="results/floors/{hmm}.parquet",
        code=package_code("rnn", "training", "convergence", "metrics", "seeds"),
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
    conda:
        "../../envs/hmmrnn.yaml"
    threads: 2
    resources:
        gpu=get_train_gpu,
        mem_mb=8000,
        runtime=get_torch_runtime,
    params:
        settings=get_train_settings,
        convergence=get_convergence_params,
        device=get_train_device,
        resume_dir=get_resume_dir,
    script:
        "../scripts/train_rnn.py"
