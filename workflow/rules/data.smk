# Data: sequences sampled from each HMM family and the family's Sinkhorn loss floor.


rule sample_hmm:
    input:
        code=script_code("sample_hmm"),
    output:
        data="results/data/{hmm}/seed_{seed}.npz",
    log:
        "results/logs/sample_hmm/{hmm}/seed_{seed}.log",
    conda:
        "../../envs/hmmrnn.yaml"
    params:
        matrices=get_hmm_matrices,
        sizes=get_num_sequences,
        seq_len=lookup(dpath="hmms/{hmm}/seq_len", within=config),
    script:
        "../scripts/sample_hmm.py"


rule compute_sinkhorn_floor:
    input:
        code=script_code("compute_sinkhorn_floor"),
    output:
        floor="results/floors/{hmm}.parquet",
    log:
        "results/logs/compute_sinkhorn_floor/{hmm}.log",
    conda:
        "../../envs/hmmrnn.yaml"
    params:
        matrices=get_hmm_matrices,
        # batched like the validation pass (data.num_val sequences of the family's seq_len), with the training loss
        num_val=lookup(dpath="data/num_val", within=config),
        seq_len=lookup(dpath="hmms/{hmm}/seq_len", within=config),
        training=config_group("training", only=study.FLOOR_TRAINING),
        floor_draws=lookup(dpath="convergence/floor_draws", within=config),
        seed=config["seed"],
    script:
        "../scripts/compute_sinkhorn_floor.py"
