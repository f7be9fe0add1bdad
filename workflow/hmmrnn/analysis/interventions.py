"""Causal interventions on kick neurons, noise projections and controls (§6.14)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, NamedTuple

import numpy as np
import torch

from ..dynamics.jacobians import Gating, gates, jacobian_eigenvalues, jacobians
from ..dynamics.pca import PCABasis, project
from ..dynamics.simulation import Weights, to_numpy
from ..dynamics.spectra import mobius
from .noise_sensitivity import NoiseAlignment, mixed_inputs
from .runs import as_state, has_direction_switch, index_array, normal_like, random_initial_state, switch_times

__all__ = [
    "Intervention",
    "InterventionMask",
    "control_mask",
    "critical_pair_counts",
    "intervene",
    "kick_mask",
    "modified_jacobians",
    "modified_weights",
    "noise_projection_mask",
    "simulate_modified",
    "top_presynaptic",
]


class InterventionMask(NamedTuple):
    """Which neurons an intervention scales by μ.

    Attributes
    ----------
    recurrent : (hidden_size,) bool ndarray
        ``c_rec[i] = μ`` (recurrent drive ``(W h)_i`` scaled).
    input : (hidden_size,) bool ndarray
        ``c_in[i] = μ`` (input drive ``(W_n x)_i`` scaled).
    """

    recurrent: np.ndarray
    input: np.ndarray

    def scales(self, mu: float) -> tuple[np.ndarray, np.ndarray]:
        """``(c_rec, c_in)``: μ on the masked neurons, 1 elsewhere."""
        return np.where(self.recurrent, mu, 1.0), np.where(self.input, mu, 1.0)


def kick_mask(hidden_size: int, group, *, scope: Literal["recurrent", "total"] = "recurrent") -> InterventionMask:
    """Kick-neuron intervention: scale the group's recurrent drive (§6.14; default as the reference code).

    ``scope="total"`` also scales the group's input drive, i.e. its whole pre-activation (§9.22).
    """
    index = index_array(group, hidden_size, "group")
    recurrent = np.zeros(hidden_size, dtype=bool)
    recurrent[index] = True
    if scope == "recurrent":
        return InterventionMask(recurrent, np.zeros(hidden_size, dtype=bool))
    if scope == "total":
        return InterventionMask(recurrent, recurrent.copy())
    raise ValueError(f"scope must be 'recurrent' or 'total'; found {scope!r}")


def top_presynaptic(W_hh, targets, num_presynaptic: int) -> np.ndarray:
    """Union over targets k of the ``num_presynaptic`` sources j with the largest positive ``W[k, j]``.

    Parameters
    ----------
    W_hh : (hidden_size, hidden_size) tensor or ndarray
    targets : (n,) int array-like
    num_presynaptic : int
        60 (noise projection) / 35 (control) in §6.14.

    Returns
    -------
    (m,) int ndarray, sorted
    """
    W = to_numpy(W_hh).astype(float)
    rows = W[index_array(targets, W.shape[0], "targets")]  # (n, H)
    order = np.argsort(-rows, axis=1, kind="stable")[:, :num_presynaptic]
    positive = np.take_along_axis(rows, order, axis=1) > 0
    return np.unique(order[positive]).astype(np.int64)


def noise_projection_mask(W_hh, group, all_kick, *, num_presynaptic: int) -> InterventionMask:
    """Noise-projection intervention: scale the input drive of the group's top presynaptic partners (§6.14).

    ``c_in[j] = μ`` for j in :func:`top_presynaptic` (group, ``num_presynaptic``) minus all kick neurons.
    """
    W = to_numpy(W_hh)
    H = W.shape[0]
    chosen = np.zeros(H, dtype=bool)
    chosen[top_presynaptic(W, group, num_presynaptic)] = True
    chosen[index_array(all_kick, H, "all_kick")] = False
    return InterventionMask(np.zeros(H, dtype=bool), chosen)


def control_mask(W_hh, all_kick, *, num_presynaptic: int) -> InterventionMask:
    """Control intervention: scale the input drive of neurons outside every kick neuron's top partners (§6.14).

    ``c_in[j] = μ`` for j not in :func:`top_presynaptic` (all kick neurons, ``num_presynaptic``) and not a kick
    neuron.
    """
    W = to_numpy(W_hh)
    H = W.shape[0]
    chosen = np.ones(H, dtype=bool)
    chosen[top_presynaptic(W, all_kick, num_presynaptic)] = False
    chosen[index_array(all_kick, H, "all_kick")] = False
    return InterventionMask(np.zeros(H, dtype=bool), chosen)


def modified_weights(weights: Weights, recurrent_scale, input_scale) -> Weights:
    """The modified network as an ordinary one: ``W_hh' = diag(c_rec) W_hh``, ``W_ih' = diag(c_in) W_ih``.

    ``ReLU((W h)∘c_rec + (W_n x)∘c_in) = ReLU(W_hh' h + W_ih' x)``, so every analysis of
    :mod:`hmmrnn.dynamics.jacobians` applies unchanged; in particular its Jacobian ``diag(1[z > 0]) W_hh'`` is the
    correct row-scaled ``D diag(c_rec) W`` (§9.21).

    Parameters
    ----------
    weights : Weights
    recurrent_scale, input_scale : (hidden_size,) array-like
    """
    W = weights.W_hh
    c_rec = torch.as_tensor(np.asarray(recurrent_scale, dtype=float), dtype=W.dtype, device=W.device)
    c_in = torch.as_tensor(np.asarray(input_scale, dtype=float), dtype=W.dtype, device=W.device)
    if c_rec.shape != (weights.hidden_size,) or c_in.shape != (weights.hidden_size,):
        raise ValueError(
            f"scales must have shape ({weights.hidden_size},); found {tuple(c_rec.shape)}, {tuple(c_in.shape)}"
        )
    return Weights(W_ih=c_in[:, None] * weights.W_ih, W_hh=c_rec[:, None] * W, W_o=weights.W_o)


def simulate_modified(
    weights: Weights,
    h0: torch.Tensor,
    inputs: torch.Tensor,
    recurrent_scale: torch.Tensor,
    input_scale: torch.Tensor,
) -> torch.Tensor:
    """Iterate ``h_t = ReLU((W h_{t-1})∘c_rec + (W_n x_t)∘c_in)`` with per-trajectory scales (§6.14).

    Parameters
    ----------
    weights : Weights
    h0 : (batch, hidden_size) tensor
    inputs : (batch, num_timesteps, input_dim) tensor
    recurrent_scale, input_scale : (batch, hidden_size) or (hidden_size,) tensor
        c_rec and c_in; different rows let one call run a whole μ grid.

    Returns
    -------
    (batch, num_timesteps, hidden_size) tensor of h_1..h_T
    """
    W = weights.W_hh
    c_rec = torch.as_tensor(recurrent_scale).to(dtype=W.dtype, device=W.device)
    c_in = torch.as_tensor(input_scale).to(dtype=W.dtype, device=W.device)
    drive_bxtxh = (inputs.to(dtype=W.dtype, device=W.device) @ weights.W_ih.T) * c_in.unsqueeze(-2)
    states = torch.empty(drive_bxtxh.shape, dtype=W.dtype, device=W.device)
    h = h0.to(dtype=W.dtype, device=W.device)
    for t in range(drive_bxtxh.shape[1]):
        h = torch.relu((h @ W.T) * c_rec + drive_bxtxh[:, t])
        states[:, t] = h
    return states


def modified_jacobians(
    weights: Weights,
    recurrent_scale,
    input_scale,
    hidden_prev: torch.Tensor,
    inputs: torch.Tensor | None = None,
    *,
    scaling: Literal["row", "column"] = "row",
    gating: Gating = "pre_activation",
) -> torch.Tensor:
    """One-step Jacobians of the modified dynamics (§6.14 step 1, §9.20-9.21).

    ``scaling="row"`` (default, correct): ``J = D diag(c_rec) W`` with ``D = diag(1[z > 0])``,
    ``z = (W h)∘c_rec + (W_n x)∘c_in``. ``scaling="column"`` (reference code): ``J = D W diag(c_rec)``. The two
    matrices differ but share their spectrum (``eig(XY) = eig(YX)`` with ``X = D W``, ``Y = diag(c_rec)``, and
    diagonal matrices commute), so eigenvalue statistics do not depend on this choice.

    Parameters
    ----------
    weights : Weights
    recurrent_scale, input_scale : (hidden_size,) array-like
    hidden_prev : (..., hidden_size) tensor
    inputs : (..., input_dim) tensor or None
    scaling : {"row", "column"}
    gating : {"pre_activation", "authors"}
        As :func:`hmmrnn.dynamics.jacobians.jacobians`, on the modified network.

    Returns
    -------
    (..., hidden_size, hidden_size) tensor
    """
    modified = modified_weights(weights, recurrent_scale, input_scale)
    if scaling == "row":
        return jacobians(modified, hidden_prev, inputs, gating=gating)
    if scaling == "column":
        gate = gates(modified, hidden_prev, inputs, gating).to(modified.W_hh.dtype)
        c_rec = modified.W_hh.new_tensor(np.asarray(recurrent_scale, dtype=float))
        return gate.unsqueeze(-1) * (weights.W_hh * c_rec)
    raise ValueError(f"scaling must be 'row' or 'column'; found {scaling!r}")


def critical_pair_counts(eigenvalues, switch_times, *, window: int, eps_re: float, eps_im: float) -> np.ndarray:
    """Critical complex pairs pooled over a window of Jacobians around each switch (§6.14 step 3, §9.25).

    For a switch at index a, the Jacobians ``a - window .. a + window - 1`` are pooled and their Möbius images
    with ``|Re w| < eps_re`` and ``Im w > eps_im`` are counted (one per conjugate pair). Switches whose window
    leaves ``[0, num_steps)`` are skipped.

    Parameters
    ----------
    eigenvalues : (num_steps, hidden_size) complex ndarray or tensor
        Spectrum of the Jacobian at each step (index i ↔ the step producing state i + 1).
    switch_times : (num_switches,) int array-like
        Indices a into the same axis.
    window : int
        15.
    eps_re, eps_im : float
        0.1 and 0.06.

    Returns
    -------
    (num_windows,) int ndarray
    """
    values = to_numpy(eigenvalues)
    if values.ndim != 2:
        raise ValueError(f"eigenvalues must be (num_steps, hidden_size); found shape {values.shape}")
    w = mobius(values)
    per_step = ((np.abs(w.real) < eps_re) & (w.imag > eps_im)).sum(axis=1)
    times = np.asarray(switch_times, dtype=np.int64).ravel()
    times = times[(times - window >= 0) & (times + window <= values.shape[0])]
    cumulative = np.concatenate([[0], np.cumsum(per_step)])
    return (cumulative[times + window] - cumulative[times - window]).astype(np.int64)


class Intervention(NamedTuple):
    """Effect of one intervention over a modulation grid.

    Attributes
    ----------
    mus : (num_mus,) ndarray
    switch_rate : (num_mus,) ndarray
        Fraction of trajectories from the initial condition with at least one source→target switch.
    max_excursion : (num_mus,) ndarray
        Mean over trajectories of the largest distance from the PCA centre (in the basis' plane when one is
        given, in the full space otherwise).
    display : (num_mus, num_display, num_steps + 1, hidden_size) tensor
        The first trajectories of each μ (index 0 = the initial condition).
    num_switches : (num_mus,) int ndarray
        Output switches of the statistics run.
    used_fallback : (num_mus,) bool ndarray
        Whether the windows were centred on the unmodified run's switches (fewer than ``min_switches``).
    critical_counts : tuple of (num_windows,) int ndarray
        Critical pairs per switch window, one array per μ.
    """

    mus: np.ndarray
    switch_rate: np.ndarray
    max_excursion: np.ndarray
    display: torch.Tensor
    num_switches: np.ndarray
    used_fallback: np.ndarray
    critical_counts: tuple[np.ndarray, ...]

    @property
    def critical_mean(self) -> np.ndarray:
        """(num_mus,) mean critical pairs per window (NaN without windows)."""
        return np.array([c.mean() if c.size else np.nan for c in self.critical_counts])

    @property
    def critical_std(self) -> np.ndarray:
        """(num_mus,) std of critical pairs per window (NaN without windows)."""
        return np.array([c.std() if c.size else np.nan for c in self.critical_counts])


def intervene(
    weights: Weights,
    mask: InterventionMask,
    mus: Sequence[float],
    *,
    initial_state: torch.Tensor,
    nominal_noise: torch.Tensor,
    source_output: int,
    target_output: int,
    num_trajectories: int,
    num_steps: int,
    gamma: float,
    num_statistics_steps: int,
    init_scale: float,
    window: int,
    eps_re: float,
    eps_im: float,
    min_switches: int,
    noise_std: float,
    num_display: int,
    generator: torch.Generator,
    gating: Gating = "pre_activation",
    noise_alignment: NoiseAlignment = "continuation",
    fallback_to_unmodified: bool = True,
    basis: PCABasis | None = None,
) -> Intervention:
    """Scale a set of neurons' recurrent and/or input drive by μ and measure switching and criticality (§6.14).

    Random numbers are shared across μ (drawn once, in this order): the statistics run's start ξ (hidden_size),
    its noise (num_statistics_steps, input_dim), and the fresh part ξ of the trajectories' input
    (num_trajectories, num_steps, input_dim). All μ (plus one unmodified run) are simulated in one batch.

    1. Trajectories: ``num_trajectories`` × ``num_steps`` from ``initial_state`` with input
       ``(1-γ)·nominal + γ·ξ`` (alignment as in :func:`noise_sensitivity`); switch rate = fraction with at least
       one ``source_output -> target_output`` step (the initial state's output included).
    2. Statistics run: from ξ, ``num_statistics_steps`` noisy steps; Jacobian of every step of the modified
       network (row scaling; the reference code's column scaling has the same spectrum, see
       :func:`modified_jacobians`), gated as ``gating``; switch times a; :func:`critical_pair_counts` per window.
       With fewer than ``min_switches`` switches and ``fallback_to_unmodified``, the unmodified run's switch times
       are used (the reference code's fallback to μ = 1); without fallback such a μ has no windows.

    Parameters
    ----------
    weights : Weights
    mask : InterventionMask
        :func:`kick_mask`, :func:`noise_projection_mask` or :func:`control_mask`.
    mus : sequence of float
        0, 0.1, …, 2.
    initial_state : (hidden_size,) tensor
        e.g. ``track[tc]`` of :func:`locate_cluster_and_transition`.
    nominal_noise : (≥ num_steps + 1, input_dim) tensor
        As in :func:`noise_sensitivity` (:func:`noise_window`).
    source_output, target_output : int
        The direction whose switches count.
    num_trajectories, num_steps : int
        100 × 100.
    gamma : float
        0.5.
    num_statistics_steps : int
        T = 1000.
    init_scale : float
        Scale of the statistics run's ξ.
    window, eps_re, eps_im : see :func:`critical_pair_counts`
    min_switches : int
        2.
    noise_std : float
    num_display : int
        Trajectories kept per μ for plotting.
    generator : torch.Generator
    gating : {"pre_activation", "authors"}
    noise_alignment : {"continuation", "authors"}
    fallback_to_unmodified : bool
    basis : PCABasis or None
        Plane for ``max_excursion``.
    """
    W = weights.W_hh
    H, d = weights.hidden_size, weights.input_dim
    mu = np.asarray(mus, dtype=float).ravel()
    M, K, T = mu.size, num_trajectories, num_steps
    recurrent = np.stack([mask.scales(m)[0] for m in mu] + [np.ones(H)])  # (M + 1, H); last row = unmodified
    external = np.stack([mask.scales(m)[1] for m in mu] + [np.ones(H)])
    c_rec = torch.as_tensor(recurrent, dtype=W.dtype, device=W.device)
    c_in = torch.as_tensor(external, dtype=W.dtype, device=W.device)

    xi = random_initial_state(weights, init_scale, generator)
    statistics_noise = noise_std * normal_like(generator, W, num_statistics_steps, d)
    fresh = noise_std * normal_like(generator, W, K, T, d)

    # 1. trajectories from the initial condition, all μ at once
    h0 = as_state(weights, initial_state, "initial_state").reshape(-1)
    gamma_tensor = torch.tensor([gamma], dtype=W.dtype, device=W.device)
    inputs = mixed_inputs(nominal_noise.to(dtype=W.dtype, device=W.device), fresh, gamma_tensor, T, noise_alignment)[0]
    states = simulate_modified(
        weights,
        h0.expand(M * K, -1),
        inputs.repeat(M, 1, 1),
        c_rec[:M].repeat_interleave(K, dim=0),
        c_in[:M].repeat_interleave(K, dim=0),
    )
    trajectories = torch.cat([h0.expand(M * K, 1, -1), states], dim=1).reshape(M, K, T + 1, H)
    outputs = (trajectories @ weights.W_o.T).argmax(dim=-1)
    switch_rate = has_direction_switch(outputs.reshape(M * K, T + 1), source_output, target_output)
    switch_rate = switch_rate.reshape(M, K).to(W.dtype).mean(dim=1)
    if basis is not None:
        excursion = project(basis, trajectories).norm(dim=-1)
    else:
        excursion = trajectories.norm(dim=-1)
    max_excursion = excursion.amax(dim=-1).mean(dim=-1)

    # 2. statistics runs (M modified + 1 unmodified) and critical pairs per switch window
    run = simulate_modified(
        weights, xi.expand(M + 1, -1), statistics_noise.expand(M + 1, -1, -1), c_rec, c_in
    )  # (M + 1, T_s, H): states 1..T_s
    previous = torch.cat([xi.expand(M + 1, 1, -1), run[:, :-1]], dim=1)
    run_outputs = to_numpy((run @ weights.W_o.T).argmax(dim=-1))
    nominal_switches = switch_times(run_outputs[M])
    counts, num_switches, fallback = [], np.zeros(M, dtype=np.int64), np.zeros(M, dtype=bool)
    for m in range(M):  # eigen-decompositions per μ (each μ is a different matrix)
        switches = switch_times(run_outputs[m])
        num_switches[m] = switches.size
        if switches.size < min_switches and fallback_to_unmodified:
            switches, fallback[m] = nominal_switches, True
        modified = modified_weights(weights, recurrent[m], external[m])
        eigenvalues = jacobian_eigenvalues(modified, previous[m], statistics_noise, gating=gating)
        # Jacobian index i is the step producing state i + 1; a switch at state i + 1 = index i of run_outputs
        counts.append(critical_pair_counts(eigenvalues, switches, window=window, eps_re=eps_re, eps_im=eps_im))
    return Intervention(
        mus=mu,
        switch_rate=to_numpy(switch_rate),
        max_excursion=to_numpy(max_excursion),
        display=trajectories[:, :num_display].clone(),
        num_switches=num_switches,
        used_fallback=fallback,
        critical_counts=tuple(counts),
    )
