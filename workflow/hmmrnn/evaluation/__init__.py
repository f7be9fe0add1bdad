"""Evaluation of trained networks against their HMM (§5): generated sequences, alignment, sample statistics, losses."""
