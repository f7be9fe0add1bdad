"""Fixed points of the input-free dynamics (joint Levenberg-Marquardt search) and the collapse of input-free runs."""

from __future__ import annotations

import logging
import math
from typing import NamedTuple

import torch

from .jacobians import gated_eigenvalues, jacobian_eigenvalues
from .simulation import Weights

__all__ = ["ConvergenceStatistics", "FixedPoints", "find_fixed_points", "input_free_convergence"]

log = logging.getLogger(__name__)


class FixedPoints(NamedTuple):
    """Distinct fixed points of ``F(h) = ReLU(W_hh h + b)``, ordered by increasing speed.

    Attributes
    ----------
    states : (num_fixed_points, hidden_size) tensor
    speeds : (num_fixed_points,) tensor of ``q(h) = ½‖F(h) - h‖²``
    eigenvalues : (num_fixed_points, hidden_size) complex tensor
        Spectrum of ``J = diag(1[W_hh h + b > 0]) W_hh``, by decreasing modulus.
    num_candidates : (num_fixed_points,) int64 tensor
        How many refined candidates merged into each point.
    """

    states: torch.Tensor
    speeds: torch.Tensor
    eigenvalues: torch.Tensor
    num_candidates: torch.Tensor

    @property
    def is_stable(self) -> torch.Tensor:
        """(num_fixed_points,) bool: spectral radius below 1."""
        return self.eigenvalues.abs().amax(dim=-1) < 1


def find_fixed_points(
    weights: Weights,
    initial_states: torch.Tensor,
    *,
    num_map_steps: int,
    num_refine_steps: int,
    max_speed: float,
    unique_tolerance: float,
    damping: float = 1e-3,
    constant_input: torch.Tensor | None = None,
) -> FixedPoints:
    """Numerical fixed-point search (§6.1, §9.19) on ``F(h) = ReLU(W_hh h + W_ih x̄)`` (x̄ = 0 by default).

    1. Iterate ``F`` ``num_map_steps`` times from every initial state.
    2. Minimise the speed ``q(h) = ½‖F(h) - h‖²`` for all candidates jointly by damped Gauss-Newton
       (Levenberg-Marquardt) steps with the closed-form Jacobian ``diag(1[W_hh h + b > 0]) W_hh``; a step is
       kept per candidate only if it lowers q (damping ÷10), otherwise the damping grows ×10.
    3. Keep candidates with ``q <= max_speed`` and merge those closer than ``unique_tolerance`` (the slowest
       candidate represents its group; representatives are mutually at least ``unique_tolerance`` apart).

    Nothing here assumes the answer is the origin; for bias-free networks the origin is always a solution
    (Fact A), and any non-zero fixed point comes with a whole ray of them.

    Parameters
    ----------
    weights : Weights
    initial_states : (num_initial, hidden_size) tensor
    num_map_steps, num_refine_steps : int
    max_speed : float
    unique_tolerance : float
        Euclidean distance.
    damping : float
        Initial Levenberg-Marquardt damping.
    constant_input : (input_dim,) tensor or None
        Constant input x̄ (for fixed points under a fixed input); None = the input-free map.
    """
    W = weights.W_hh
    h = initial_states.to(dtype=W.dtype, device=W.device)
    if h.ndim != 2 or h.shape[1] != weights.hidden_size:
        raise ValueError(f"initial_states must be (num_initial, {weights.hidden_size}); found {tuple(h.shape)}")
    bias = torch.zeros(weights.hidden_size, dtype=W.dtype, device=W.device)
    if constant_input is not None:
        bias = weights.W_ih @ constant_input.to(dtype=W.dtype, device=W.device)
    for _ in range(num_map_steps):
        h = torch.relu(h @ W.T + bias)
    finite = torch.isfinite(h).all(dim=1)
    if not bool(finite.all()):
        log.warning("dropping %d of %d candidates that diverged", int((~finite).sum()), h.shape[0])
        h = h[finite]

    h, speed = _levenberg_marquardt(W, bias, h, num_refine_steps, damping)

    keep = speed <= max_speed
    h, speed = h[keep], speed[keep]
    order = speed.argsort()
    h, speed = h[order], speed[order]
    groups = _group_within(h, unique_tolerance)
    representatives = _first_of_each_group(groups)
    counts = torch.bincount(groups, minlength=len(representatives)) if len(groups) else groups
    by_speed = speed[representatives].argsort()
    representatives, counts = representatives[by_speed], counts[by_speed]
    states = h[representatives]
    eigenvalues = gated_eigenvalues(states @ W.T + bias > 0, W, chunk_size=len(states) or 1)
    return FixedPoints(states, speed[representatives], eigenvalues, counts)


def _levenberg_marquardt(
    W: torch.Tensor, bias: torch.Tensor, h: torch.Tensor, num_steps: int, damping: float
) -> tuple[torch.Tensor, torch.Tensor]:
    eye = torch.eye(W.shape[0], dtype=W.dtype, device=W.device)
    mu = torch.full((h.shape[0], 1, 1), damping, dtype=W.dtype, device=W.device)

    def speed_of(state: torch.Tensor) -> torch.Tensor:
        return 0.5 * (torch.relu(state @ W.T + bias) - state).square().sum(dim=1)

    speed = speed_of(h)
    for _ in range(num_steps):
        z = h @ W.T + bias
        residual = torch.relu(z) - h
        A_nxhxh = (z > 0).to(W.dtype).unsqueeze(-1) * W - eye  # d(residual)/dh
        At = A_nxhxh.transpose(1, 2)
        step, solved = _solve_spd(At @ A_nxhxh + mu * eye, At @ residual.unsqueeze(-1))
        trial = h - step.squeeze(-1)
        trial_speed = speed_of(trial)
        better = solved & torch.isfinite(trial_speed) & (trial_speed < speed)
        h = torch.where(better[:, None], trial, h)
        speed = torch.where(better, trial_speed, speed)
        mu = torch.where(better[:, None, None], mu / 10, mu * 10).clamp(1e-12, 1e12)
    return h, speed


def _solve_spd(matrix_nxhxh: torch.Tensor, rhs_nxhxk: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Solve the symmetric positive-definite systems ``AᵀA + μI`` of a Levenberg-Marquardt step by Cholesky.

    Not ``torch.linalg.solve``: its batched LU path (getrf + laswp) in the MKL build of torch 2.13.0+cpu
    prints "Parameter 6 was incorrect on entry to DLASWP" and never returns when torch runs more than one
    thread (batched ``solve``, ``inv``, ``det`` and ``lu_factor`` all do; Cholesky, ``eigvals``, ``eigvalsh``,
    ``svd``, ``qr`` and ``lstsq`` do not). Cholesky is also the right factorisation for these systems.

    Parameters
    ----------
    matrix_nxhxh : (n, h, h) tensor
        Symmetric positive-definite matrices.
    rhs_nxhxk : (n, h, k) tensor

    Returns
    -------
    solution : (n, h, k) tensor
        Zero where the factorisation failed.
    solved : (n,) bool tensor
        False where a matrix was not numerically positive definite.
    """
    factor, info = torch.linalg.cholesky_ex(matrix_nxhxh)
    solved = info == 0
    solution = torch.cholesky_solve(rhs_nxhxk, factor)
    return torch.where(solved[:, None, None], solution, torch.zeros_like(solution)), solved


def _group_within(points: torch.Tensor, tolerance: float) -> torch.Tensor:
    """Group index per point; group representatives are the earliest members and lie ≥ tolerance apart."""
    n = points.shape[0]
    groups = torch.full((n,), -1, dtype=torch.int64, device=points.device)
    if n == 0:
        return groups
    close = torch.cdist(points, points) < tolerance
    remaining = torch.arange(n, device=points.device)
    num_groups = 0
    while remaining.numel():  # rounds of greedy clustering; each round settles at least one point
        sub = close[remaining][:, remaining]
        leaders = remaining[~sub.tril(diagonal=-1).any(dim=1)]
        near = close[remaining][:, leaders]
        settled = near.any(dim=1)
        groups[remaining[settled]] = num_groups + near[settled].to(torch.int8).argmax(dim=1)
        num_groups += leaders.numel()
        remaining = remaining[~settled]
    return groups


def _first_of_each_group(groups: torch.Tensor) -> torch.Tensor:
    if groups.numel() == 0:
        return groups
    num_groups = int(groups.max()) + 1
    index = torch.arange(groups.numel(), device=groups.device)
    first = torch.full((num_groups,), groups.numel(), dtype=torch.int64, device=groups.device)
    return first.scatter_reduce(0, groups, index, reduce="amin")


class ConvergenceStatistics(NamedTuple):
    """Claim 3 (§10): do input-free runs from many states collapse onto one fixed point?

    Attributes
    ----------
    max_distance : float
        ``max_i ‖h_L^(i) - h̄_L‖`` with ``h̄_L`` the mean end point.
    max_pairwise_distance : float
        ``max_{i,j} ‖h_L^(i) - h_L^(j)‖``.
    residual : float
        ``‖F(h̄_L) - h̄_L‖``.
    norm : float
        ``‖h̄_L‖`` (Fact A predicts 0).
    max_spectral_radius : float
        Largest ``|λ|`` of ``diag(1[W_hh h > 0]) W_hh`` over the last recorded steps of all runs.
    orbit_radius : float
        The reference radius R (e.g. :func:`orbit_radius` of the σ = 1 run in the full state space).
    """

    max_distance: float
    max_pairwise_distance: float
    residual: float
    norm: float
    max_spectral_radius: float
    orbit_radius: float

    @property
    def relative_max_distance(self) -> float:
        return self.max_distance / self.orbit_radius

    @property
    def relative_residual(self) -> float:
        return self.residual / self.orbit_radius

    @property
    def relative_norm(self) -> float:
        return self.norm / self.orbit_radius


def input_free_convergence(
    weights: Weights,
    initial_states: torch.Tensor,
    *,
    num_steps: int,
    orbit_radius: float,
    num_jacobian_steps: int,
) -> ConvergenceStatistics:
    """Run the input-free map ``num_steps`` times from every initial state and measure the collapse (claim 3).

    Parameters
    ----------
    weights : Weights
    initial_states : (num_initial, hidden_size) tensor
    num_steps : int
        L (≥ 1).
    orbit_radius : float
        R, the scale the distances are compared with.
    num_jacobian_steps : int
        The Jacobians at the last ``num_jacobian_steps`` states of every run (including h_L) enter
        ``max_spectral_radius``; 0 skips them (reported as nan).
    """
    if num_steps < 1 or not 0 <= num_jacobian_steps <= num_steps + 1:
        raise ValueError(
            f"need num_steps ≥ 1 and 0 ≤ num_jacobian_steps ≤ num_steps + 1; got {num_steps}, {num_jacobian_steps}"
        )
    W = weights.W_hh
    h = initial_states.to(dtype=W.dtype, device=W.device)
    recent = []
    for step in range(num_steps):
        if step >= num_steps + 1 - num_jacobian_steps:
            recent.append(h)
        h = torch.relu(h @ W.T)
    if num_jacobian_steps:
        recent.append(h)
        radius = float(jacobian_eigenvalues(weights, torch.stack(recent)).abs().amax())
    else:
        radius = math.nan
    mean = h.mean(dim=0)
    return ConvergenceStatistics(
        max_distance=float((h - mean).norm(dim=1).max()),
        max_pairwise_distance=float(torch.cdist(h, h).max()),
        residual=float((torch.relu(W @ mean) - mean).norm()),
        norm=float(mean.norm()),
        max_spectral_radius=radius,
        orbit_radius=float(orbit_radius),
    )
