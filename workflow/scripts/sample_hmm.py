"""Sample one (hmm, seed) data set of HMM output sequences, split in order into train/val/test."""

from typing import TYPE_CHECKING

import numpy as np

from hmmrnn.hmm import HMM, check_hmm, sample_hmm
from hmmrnn.io import log_to_file, save_sequences
from hmmrnn.seeds import numpy_rng

if TYPE_CHECKING:
    from snakemake.script import snakemake

log_to_file(snakemake.log[0])
matrices = snakemake.params.matrices
hmm = check_hmm(
    HMM(*(np.asarray(matrices[key], dtype=float) for key in HMM.__dataclass_fields__)),
    snakemake.wildcards.hmm,
)
sizes = snakemake.params.sizes
counts = [sizes["num_train"], sizes["num_val"], sizes["num_test"]]
seed = int(snakemake.wildcards.seed)
states, outputs = sample_hmm(
    hmm, sum(counts), snakemake.params.seq_len, numpy_rng(seed, "data", snakemake.wildcards.hmm)
)
train, val, test = np.split(outputs, np.cumsum(counts)[:2])
save_sequences(snakemake.output.data, {"train": train, "val": val, "test": test}, states, hmm)
