rule sample_hmm:
    input:
        code=package_code("hmm", "seeds"),
    output:
        data="results/data/{hmm}/seed_{seed}.npz",
    log:
        "results/logs/sample_hmm/{hmm}/seed_{seed}.log",
    conda:
        "../../envs/hmmrnn.yaml"
    params:
        matrices=get_hmm_matrices,
        sizes=get_num_sequences,
        seq_len=get_seq_len,
    script:
        "../scripts/sample_hmm.py"
