"""Deterministic seed derivation: one independent random stream per (purpose, keys) from a config seed."""

from __future__ import annotations

import hashlib

import numpy as np
import torch

__all__ = ["derive_seed", "numpy_rng", "torch_generator"]


def derive_seed(seed: int, *keys: object) -> int:
    """Return a 63-bit seed that depends only on ``seed`` and the string forms of ``keys``.

    Different purposes (``"data"``, ``"noise"``, ...) or model keys give statistically independent streams.
    """
    digest = hashlib.sha256(repr((int(seed), *map(str, keys))).encode()).digest()
    entropy = int.from_bytes(digest[:16], "little")
    return int(np.random.SeedSequence(entropy).generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))


def numpy_rng(seed: int, *keys: object) -> np.random.Generator:
    """NumPy generator for the stream ``(seed, *keys)``."""
    return np.random.default_rng(derive_seed(seed, *keys))


def torch_generator(seed: int, *keys: object, device: str | torch.device = "cpu") -> torch.Generator:
    """Torch generator on ``device`` for the stream ``(seed, *keys)``."""
    generator = torch.Generator(device=device)
    generator.manual_seed(derive_seed(seed, *keys))
    return generator
