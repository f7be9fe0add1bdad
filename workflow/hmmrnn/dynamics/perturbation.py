"""The second-order response of the dynamics to input noise, E[δh⁽²⁾] (§6.7)."""

from __future__ import annotations

from typing import Literal, NamedTuple

import torch

from .simulation import Weights

__all__ = ["SecondOrder", "second_order_perturbation"]


class SecondOrder(NamedTuple):
    """Trial means of the perturbation vectors.

    Attributes
    ----------
    delta_h2 : (hidden_size,) tensor
        E[δh⁽²⁾].
    delta_h1 : (hidden_size,) tensor
        E[δh⁽¹⁾] (first-order term of the first horizon step; ≈ 0 for unbiased noise).
    """

    delta_h2: torch.Tensor
    delta_h1: torch.Tensor


def second_order_perturbation(
    weights: Weights,
    h_bar: torch.Tensor,
    *,
    num_trials: int,
    horizon: int,
    warmup_steps: int,
    init_scale: float,
    noise_std: float,
    generator: torch.Generator,
    variant: Literal["final", "paper"] = "final",
) -> SecondOrder:
    """Expected second-order response of the noise-free trajectory to input noise, all trials at once.

    Per trial: ``h = h̄ + init_scale·(2n - 1)``, n ~ N(0, I); ``warmup_steps`` noisy steps (std ``noise_std``);
    noise-free trajectory ``y_0 = h``, ``y_u = ReLU(W y_{u-1})``, u < horizon; fresh noise ω_0..ω_{horizon-1}.

    ``variant="final"`` (published Fig. 4D code): ``D_u = diag(1[y_u > 0])``, ``δ1_0 = W_ih ω_0``,
    ``δ1_u = W D_{u-1} δ1_{u-1} + W_ih ω_u``; ``δ2 ← W D_u δ2 + ½ W((δ1_u)² ∘ 1[y_u > 0])`` for u = 0..horizon-1.

    ``variant="paper"`` (the text / earlier code): ``D̃_k = diag(1[W y_k > 0])``,
    ``δ1^(s) = D̃_{t-1} W ⋯ D̃_s W W_ih ω_s`` (noise at s carried to t = horizon),
    ``δ2 = Σ_u ½ (δ1^(u))² ∘ 1[W y_u < 0]``.

    Returned δ1 is δ1_0 (final) or δ1^(0) (paper), averaged over trials like δ2.

    Parameters
    ----------
    weights : Weights
    h_bar : (hidden_size,) tensor
    num_trials, horizon, warmup_steps : int
    init_scale : float
        h_eps.
    noise_std : float
        σ of the warm-up and perturbation noise.
    generator : torch.Generator
        On the weights' device. Draw order: n (K, H), warm-up noise (K, warmup_steps, d), ω (K, horizon, d).
    variant : {"final", "paper"}
    """
    W, W_ih = weights.W_hh, weights.W_ih
    dtype, device = W.dtype, W.device
    K, H, d = num_trials, weights.hidden_size, weights.input_dim

    def normal(*shape: int) -> torch.Tensor:
        return torch.randn(*shape, generator=generator, dtype=dtype, device=device)

    h = h_bar.to(dtype=dtype, device=device) + init_scale * (2 * normal(K, H) - 1)
    warmup = noise_std * normal(K, warmup_steps, d)
    omega_drive = (noise_std * normal(K, horizon, d)) @ W_ih.T  # W_ih ω_u for every trial and step
    for t in range(warmup_steps):
        h = torch.relu(h @ W.T + warmup[:, t] @ W_ih.T)

    y = [h]
    for _ in range(1, horizon):
        y.append(torch.relu(y[-1] @ W.T))

    if variant == "final":
        delta1 = omega_drive[:, 0]
        delta2 = torch.zeros_like(h)
        first = delta1
        for u in range(horizon):
            if u > 0:
                delta1 = (delta1 * (y[u - 1] > 0)) @ W.T + omega_drive[:, u]
            active = y[u] > 0
            delta2 = (delta2 * active) @ W.T + 0.5 * (delta1.square() * active) @ W.T
    elif variant == "paper":
        carried = torch.zeros(K, horizon, H, dtype=dtype, device=device)  # δ1^(s) being carried forward
        for k in range(horizon):
            carried[:, k] = omega_drive[:, k]
            carried[:, : k + 1] = (carried[:, : k + 1] @ W.T) * (y[k] @ W.T > 0).unsqueeze(1)
        negative = torch.stack([y_u @ W.T < 0 for y_u in y], dim=1)  # (K, horizon, H)
        delta2 = 0.5 * (carried.square() * negative).sum(dim=1)
        first = carried[:, 0]
    else:
        raise ValueError(f"variant must be 'final' or 'paper'; found {variant!r}")
    return SecondOrder(delta2.mean(dim=0), first.mean(dim=0))
