"""Global latent dynamics of a trained network: PCA, fixed points, Jacobian spectra, orbits and training transitions.

Formulas follow PAPER_SPEC §6.1-6.7 and §8.6-8.8. The network is the bias-free ReLU RNN
``h_t = ReLU(W_hh h_{t-1} + W_ih x_t)``; by Fact A the origin is always a fixed point of the input-free map
``F(h) = ReLU(W_hh h)``, and hidden trajectories from ``h_0 = 0`` scale exactly with the input scale.

Heavy functions take :class:`hmmrnn.simulate.Weights` and work in torch on the weights' device and dtype;
summary statistics take array-likes and return NumPy values or floats. Randomness enters only through an
explicit ``torch.Generator`` (on the weights' device) or ``numpy.random.Generator``.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from typing import Literal, NamedTuple

import numpy as np
import torch
from sklearn.decomposition import PCA

from .simulate import Weights, to_numpy

__all__ = [
    "ConvergenceStatistics",
    "EigenFractions",
    "FixedPoints",
    "PCABasis",
    "RadiusRegression",
    "RotationStatistics",
    "SecondOrder",
    "TransitionRate",
    "eigen_fractions",
    "evolution_epochs_to_show",
    "find_fixed_points",
    "heatmap_threshold",
    "input_free_convergence",
    "jacobian_eigenvalues",
    "jacobians",
    "mobius",
    "orbit_radius",
    "pca_basis",
    "project",
    "radius_regression",
    "refine_transition_epoch",
    "rotation_statistics",
    "sample_states",
    "second_order_perturbation",
    "transition_epoch",
    "transition_rate",
    "weights_at_epoch",
]

log = logging.getLogger(__name__)

Gating = Literal["pre_activation", "authors"]


# --------------------------------------------------------------------------------------------------------------
# Inputs
# --------------------------------------------------------------------------------------------------------------


def weights_at_epoch(evolution: Mapping[str, torch.Tensor], epoch: int, dtype: torch.dtype = torch.float64) -> Weights:
    """The weights of one evolution snapshot.

    Parameters
    ----------
    evolution : mapping
        ``"epoch"`` (num_snapshots,) plus stacked state-dict tensors ``"rnn.weight_ih_l0"`` (E, H, d),
        ``"rnn.weight_hh_l0"`` (E, H, H) and ``"readout.weight"`` (E, K, H), as written by training.
    epoch : int
        A training epoch present in ``evolution["epoch"]``.
    dtype : torch.dtype
    """
    epochs = [int(e) for e in evolution["epoch"]]
    if epoch not in epochs:
        raise ValueError(f"epoch {epoch} has no evolution snapshot; available: {epochs}")
    index = epochs.index(epoch)
    return Weights.from_state_dict({key: value[index] for key, value in evolution.items() if key != "epoch"}, dtype)


def sample_states(
    states: np.ndarray | torch.Tensor, num_states: int, rng: np.random.Generator
) -> np.ndarray | torch.Tensor:
    """Rows drawn uniformly without replacement (§6.1: initial states from a noisy run).

    Parameters
    ----------
    states : (num_timesteps, hidden_size) ndarray or tensor
    num_states : int
    rng : numpy.random.Generator

    Returns
    -------
    (num_states, hidden_size) array of the same type as ``states``
    """
    if num_states > states.shape[0]:
        raise ValueError(f"cannot draw {num_states} distinct states from {states.shape[0]}")
    index = np.sort(rng.choice(states.shape[0], size=num_states, replace=False))
    return states[torch.as_tensor(index)] if isinstance(states, torch.Tensor) else states[index]


# --------------------------------------------------------------------------------------------------------------
# PCA
# --------------------------------------------------------------------------------------------------------------


class PCABasis(NamedTuple):
    """A mean-centred PCA basis.

    Attributes
    ----------
    mean : (hidden_size,) ndarray
    components : (num_components, hidden_size) ndarray, orthonormal rows (sklearn's sign convention)
    explained_variance_ratio : (num_components,) ndarray
    """

    mean: np.ndarray
    components: np.ndarray
    explained_variance_ratio: np.ndarray


def pca_basis(states: np.ndarray | torch.Tensor, num_components: int) -> PCABasis:
    """Ordinary (mean-centred) PCA of hidden states (deterministic: eigh of the covariance, or full SVD).

    Parameters
    ----------
    states : (num_samples, hidden_size) ndarray or tensor
    num_components : int
    """
    array = to_numpy(states).reshape(-1, states.shape[-1])
    solver = "covariance_eigh" if array.shape[0] >= array.shape[1] else "full"
    if not 1 <= num_components <= min(array.shape):
        raise ValueError(f"num_components must be in [1, {min(array.shape)}] for states of shape {array.shape}")
    pca = PCA(n_components=num_components, svd_solver=solver).fit(array)
    return PCABasis(pca.mean_.copy(), pca.components_.copy(), pca.explained_variance_ratio_.copy())


def project(basis: PCABasis, states: np.ndarray | torch.Tensor) -> np.ndarray | torch.Tensor:
    """Coordinates ``(h - mean) @ components.T`` of states of any leading shape.

    Parameters
    ----------
    basis : PCABasis
    states : (..., hidden_size) ndarray or tensor

    Returns
    -------
    (..., num_components) array of the same type (tensors keep their device and dtype)
    """
    if isinstance(states, torch.Tensor):
        mean = torch.as_tensor(basis.mean, dtype=states.dtype, device=states.device)
        components = torch.as_tensor(basis.components, dtype=states.dtype, device=states.device)
        return (states - mean) @ components.T
    return (np.asarray(states) - basis.mean) @ basis.components.T


# --------------------------------------------------------------------------------------------------------------
# Jacobians and their spectra
# --------------------------------------------------------------------------------------------------------------


def jacobians(
    weights: Weights,
    hidden_prev: torch.Tensor,
    inputs: torch.Tensor | None = None,
    *,
    gating: Gating = "pre_activation",
) -> torch.Tensor:
    """Closed-form one-step Jacobians ``J = diag(D) W_hh`` (§6.5, §9.20).

    Parameters
    ----------
    weights : Weights
    hidden_prev : (..., hidden_size) tensor
        States h_t.
    inputs : (..., input_dim) tensor or None
        The inputs x_{t+1} that drive the step h_t -> h_{t+1}; None means zero input.
    gating : {"pre_activation", "authors"}
        ``"pre_activation"`` (default): ``D = 1[z_{t+1} > 0]`` with ``z_{t+1} = W_hh h_t + W_ih x_{t+1}``, i.e.
        ``J = dh_{t+1}/dh_t``. ``"authors"``: the reference code's gate ``1[W_hh h_{t+1} + W_ih x_{t+1} > 0]``,
        which reuses the input that produced h_{t+1}.

    Returns
    -------
    (..., hidden_size, hidden_size) tensor
    """
    gate = _gates(weights, hidden_prev, inputs, gating)
    return gate.to(weights.W_hh.dtype).unsqueeze(-1) * weights.W_hh


def jacobian_eigenvalues(
    weights: Weights,
    hidden_prev: torch.Tensor,
    inputs: torch.Tensor | None = None,
    *,
    gating: Gating = "pre_activation",
    chunk_size: int = 512,
) -> torch.Tensor:
    """Eigenvalues of the one-step Jacobians of :func:`jacobians`, sorted by decreasing modulus.

    Each distinct activation pattern S is decomposed once, ``chunk_size`` patterns at a time, so memory stays
    bounded on long runs and repeated patterns (input-free runs) cost nothing. Since ``diag(1_S) W_hh`` is
    block-triangular after reordering, its spectrum is that of the principal submatrix ``W_hh[S, S]`` plus
    ``H - |S|`` zeros; only the (zero-padded) submatrices are decomposed, which is several times cheaper.

    Parameters
    ----------
    weights : Weights
    hidden_prev : (..., hidden_size) tensor
    inputs : (..., input_dim) tensor or None
    gating : {"pre_activation", "authors"}
    chunk_size : int

    Returns
    -------
    (..., hidden_size) complex tensor
    """
    gate = _gates(weights, hidden_prev, inputs, gating)
    patterns, inverse = torch.unique(gate.reshape(-1, weights.hidden_size), dim=0, return_inverse=True)
    return _gated_eigenvalues(patterns, weights.W_hh, chunk_size)[inverse].reshape(*gate.shape)


def mobius(eigenvalues: np.ndarray | torch.Tensor, denominator_eps: float = 0.0) -> np.ndarray | torch.Tensor:
    """Möbius map ``w = (λ - 1) / (λ + 1 + eps)`` sending the unit circle to the imaginary axis (§6.5).

    ``Re w < 0`` iff ``|λ| < 1`` (for eps = 0). The reference code uses eps = 1e-8.

    Parameters
    ----------
    eigenvalues : (...) complex ndarray or tensor
    denominator_eps : float
    """
    return (eigenvalues - 1) / (eigenvalues + 1 + denominator_eps)


class EigenFractions(NamedTuple):
    """Per-step eigenvalue counts along a run (§6.7 item 4).

    Attributes
    ----------
    critical_counts : (num_steps,) int ndarray
        Number of Möbius images with ``|Re w| < eps_re`` and ``Im w > eps_im`` (one per conjugate pair).
    unstable_counts : (num_steps,) int ndarray
        Number of eigenvalues with ``|λ| > 1``.
    """

    critical_counts: np.ndarray
    unstable_counts: np.ndarray

    @property
    def is_critical(self) -> np.ndarray:
        """(num_steps,) bool: at least one critical complex pair."""
        return self.critical_counts > 0

    @property
    def is_unstable(self) -> np.ndarray:
        """(num_steps,) bool: at least one unstable eigenvalue."""
        return self.unstable_counts > 0

    @property
    def critical_fraction(self) -> float:
        return float(self.is_critical.mean())

    @property
    def unstable_fraction(self) -> float:
        return float(self.is_unstable.mean())


def eigen_fractions(eigenvalues, *, eps_re: float, eps_im: float, denominator_eps: float = 0.0) -> EigenFractions:
    """Critical-complex and unstable eigenvalue counts per step.

    Parameters
    ----------
    eigenvalues : (num_steps, hidden_size) complex ndarray or tensor
    eps_re, eps_im : float
        Thresholds of the critical-complex test ``|Re w| < eps_re`` and ``Im w > eps_im``.
    denominator_eps : float
        Passed to :func:`mobius`.
    """
    values = to_numpy(eigenvalues)
    if values.ndim != 2:
        raise ValueError(f"eigenvalues must be (num_steps, hidden_size); found shape {values.shape}")
    w = mobius(values, denominator_eps)
    critical = (np.abs(w.real) < eps_re) & (w.imag > eps_im)
    return EigenFractions(critical.sum(axis=1), (np.abs(values) > 1).sum(axis=1))


# --------------------------------------------------------------------------------------------------------------
# Fixed points of the input-free map
# --------------------------------------------------------------------------------------------------------------


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
    eigenvalues = _gated_eigenvalues(states @ W.T + bias > 0, W, chunk_size=len(states) or 1)
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


def _gated_eigenvalues(patterns: torch.Tensor, W: torch.Tensor, chunk_size: int) -> torch.Tensor:
    """Spectra of ``diag(patterns[i]) W`` (num_patterns, H), sorted by decreasing modulus, via active submatrices."""
    num_patterns, H = patterns.shape
    dtype = torch.complex128 if W.dtype == torch.float64 else torch.complex64
    values = torch.zeros((num_patterns, H), dtype=dtype, device=W.device)
    counts = patterns.sum(dim=1)
    by_size = counts.argsort()
    for chunk in by_size.split(chunk_size):  # similar sizes share a chunk, so little padding is decomposed
        size = int(counts[chunk].max())
        if size == 0:
            continue
        active = patterns[chunk].to(torch.int8).argsort(dim=1, descending=True, stable=True)[:, :size]
        valid = torch.arange(size, device=W.device) < counts[chunk, None]  # (c, size); False = padding
        sub_cxmxm = W[active[:, :, None], active[:, None, :]] * (valid[:, :, None] & valid[:, None, :])
        values[chunk, :size] = torch.linalg.eigvals(sub_cxmxm)
    return values.gather(-1, values.abs().argsort(dim=-1, descending=True))


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


# --------------------------------------------------------------------------------------------------------------
# Orbits
# --------------------------------------------------------------------------------------------------------------


def orbit_radius(projected_states) -> float:
    """Mean Euclidean distance of (projected) states to their centroid (§6.2).

    Parameters
    ----------
    projected_states : (num_timesteps, num_components) ndarray or tensor
    """
    points = to_numpy(projected_states)
    return float(np.linalg.norm(points - points.mean(axis=0), axis=1).mean())


class RadiusRegression(NamedTuple):
    """Least-squares line ``radius = slope · noise_std + intercept`` and its R² (nan if the radii are constant)."""

    slope: float
    intercept: float
    r_squared: float


def radius_regression(
    noise_levels: Sequence[float] | np.ndarray, radii: Sequence[float] | np.ndarray
) -> RadiusRegression:
    """Linear regression of orbit radius on the input noise standard deviation (§6.2, §9.18, claim 6).

    Parameters
    ----------
    noise_levels : (num_levels,) array-like
    radii : (num_levels,) array-like
    """
    x, y = np.asarray(noise_levels, dtype=float), np.asarray(radii, dtype=float)
    if x.shape != y.shape or x.ndim != 1 or x.size < 2:
        raise ValueError(f"need two 1-D arrays of equal length ≥ 2; found shapes {x.shape} and {y.shape}")
    slope, intercept = np.polyfit(x, y, 1)
    total = float(((y - y.mean()) ** 2).sum())
    residual = float(((y - (slope * x + intercept)) ** 2).sum())
    return RadiusRegression(float(slope), float(intercept), 1.0 - residual / total if total > 0 else math.nan)


class RotationStatistics(NamedTuple):
    """Rotation of a planar trajectory around its centroid (claim 4).

    Attributes
    ----------
    winding_number : float
        ``Σ Δθ / 2π`` with each ``Δθ`` wrapped to (-π, π]; the sign gives the direction (+ = counter-clockwise).
    dominant_fraction : float
        Fraction of steps whose ``Δθ`` has the more common sign (steps with ``Δθ = 0`` count against it).
    """

    winding_number: float
    dominant_fraction: float


def rotation_statistics(projected) -> RotationStatistics:
    """Net winding number and rotation consistency of a trajectory in a plane (e.g. PC1-PC2).

    Parameters
    ----------
    projected : (num_timesteps, 2) ndarray or tensor; further columns are ignored
    """
    points = to_numpy(projected)[:, :2]
    centred = points - points.mean(axis=0)
    angle = np.arctan2(centred[:, 1], centred[:, 0])
    step = np.angle(np.exp(1j * np.diff(angle)))  # wrapped to (-π, π]
    if step.size == 0:
        raise ValueError("need at least two states")
    dominant = max(int((step > 0).sum()), int((step < 0).sum()))
    return RotationStatistics(float(step.sum() / (2 * np.pi)), dominant / step.size)


# --------------------------------------------------------------------------------------------------------------
# Training-transition statistics (§6.6-6.7, §8.6-8.8)
# --------------------------------------------------------------------------------------------------------------


class TransitionRate(NamedTuple):
    """Output-switch statistics of one run (§6.7 item 5).

    Attributes
    ----------
    rate : float
        ``mean(1/Δ)`` over the intervals Δ between consecutive switches (0 in the fallback).
    residence : float
        ``mean(Δ)`` (the sequence length in the fallback).
    num_switches : int
        Number of t with ``o_{t+1} ≠ o_t``.
    """

    rate: float
    residence: float
    num_switches: int


def transition_rate(outputs, *, min_switches: int = 3, fallback_on: Literal["all", "binary"] = "all") -> TransitionRate:
    """Transition rate and mean residence from an output sequence.

    Switch times ``S = {t : o_{t+1} ≠ o_t}``, intervals ``Δ = diff(S)``, rate = ``mean(1/Δ)``,
    residence = ``mean(Δ)``. Fallback (rate 0, residence = sequence length) when the counted switches are fewer
    than ``min_switches``.

    Parameters
    ----------
    outputs : (num_timesteps,) int array-like
    min_switches : int
        3 in the reference code (at least 2 intervals).
    fallback_on : {"all", "binary"}
        ``"all"`` counts every output change. ``"binary"`` counts changes of ``[o_t > 0]`` only, as the
        reference code does; it ignores 1<->2 switches (§9.38).
    """
    o = np.asarray(outputs).ravel()
    switches = np.flatnonzero(o[1:] != o[:-1])
    if fallback_on == "binary":
        positive = o > 0
        counted = int((positive[1:] != positive[:-1]).sum())
    elif fallback_on == "all":
        counted = switches.size
    else:
        raise ValueError(f"fallback_on must be 'all' or 'binary'; found {fallback_on!r}")
    if counted < max(min_switches, 2):
        return TransitionRate(0.0, float(o.size), int(switches.size))
    intervals = np.diff(switches)
    return TransitionRate(float((1.0 / intervals).mean()), float(intervals.mean()), int(switches.size))


def transition_epoch(
    epochs: Sequence[int] | np.ndarray,
    critical_fraction: Sequence[float] | np.ndarray,
    jump: float,
    *,
    report: Literal["before", "after"] = "before",
) -> int | None:
    """First sampled epoch at which the critical-complex fraction rises by more than ``jump`` (§8.6).

    With k the first index where ``c̄[k+1] - c̄[k] > jump``, returns ``epochs[k]`` (``report="before"``, the
    reference code's bifurcation index, §9.29) or ``epochs[k+1]`` (``"after"``, the first epoch showing the
    raised fraction). Returns None when there is no such rise.

    Parameters
    ----------
    epochs : (num_sampled,) int array-like, strictly increasing
    critical_fraction : (num_sampled,) array-like
    jump : float
    report : {"before", "after"}
    """
    e, c = np.asarray(epochs), np.asarray(critical_fraction, dtype=float)
    if e.shape != c.shape or e.ndim != 1:
        raise ValueError(f"epochs and critical_fraction must be 1-D of equal length; found {e.shape}, {c.shape}")
    if np.any(np.diff(e) <= 0):
        raise ValueError("epochs must be strictly increasing")
    rises = np.flatnonzero(np.diff(c) > jump)
    if rises.size == 0:
        return None
    k = int(rises[0])
    return int(e[k] if report == "before" else e[k + 1])


def refine_transition_epoch(
    epochs: Sequence[int] | np.ndarray,
    critical_fraction: Sequence[float] | np.ndarray,
    *,
    reference_max: float,
    level: float,
) -> int | None:
    """First epoch of a dense window whose critical fraction exceeds ``level · reference_max`` (§8.6 refinement).

    Parameters
    ----------
    epochs : (num_epochs,) int array-like
        Every epoch in the ±r window around the coarse transition epoch.
    critical_fraction : (num_epochs,) array-like
    reference_max : float
        max c̄ (e.g. over all sampled epochs).
    level : float
        0.5 in §8.6.
    """
    e, c = np.asarray(epochs), np.asarray(critical_fraction, dtype=float)
    if e.shape != c.shape:
        raise ValueError(f"epochs and critical_fraction differ in shape: {e.shape} vs {c.shape}")
    order = np.argsort(e)
    above = np.flatnonzero(c[order] > level * reference_max)
    return int(e[order][above[0]]) if above.size else None


def evolution_epochs_to_show(transition_epoch: int | None, available_epochs: Sequence[int] | np.ndarray) -> list[int]:
    """Epochs of the PCA-evolution figure: {1, e*/5, e*/2, e*, min(2e*, E), E} (§8.7).

    Each target (rounded half up) is replaced by the nearest available snapshot (the earlier one on a tie);
    duplicates are dropped. Without a transition epoch only the first and last snapshots are shown.

    Parameters
    ----------
    transition_epoch : int or None
        e*.
    available_epochs : (num_snapshots,) int array-like
        Epochs with a checkpoint; E is the largest.
    """
    available = np.unique(np.asarray(available_epochs, dtype=np.int64))
    if available.size == 0:
        raise ValueError("no available epochs")
    last = int(available[-1])
    if transition_epoch is None:
        targets = [1, last]
    else:
        e = int(transition_epoch)
        targets = [1, math.floor(e / 5 + 0.5), math.floor(e / 2 + 0.5), e, min(2 * e, last), last]
    distance = np.abs(available[None, :] - np.asarray(targets)[:, None])
    chosen = available[distance.argmin(axis=1)]  # argmin takes the first, i.e. the earlier, on ties
    return sorted({int(epoch) for epoch in chosen})


def heatmap_threshold(second_order_after, percentile: float) -> float:
    """Masking threshold of the E[δh⁽²⁾] heat map: a percentile of ``√|E[δh⁽²⁾]|`` (§8.8).

    Parameters
    ----------
    second_order_after : (...) array-like
        Raw E[δh⁽²⁾] values of all units at the sampled epochs after the transition epoch.
    percentile : float
        In [0, 100] (95 in §8.8).
    """
    values = np.sqrt(np.abs(to_numpy(second_order_after))).ravel()
    if values.size == 0:
        raise ValueError("no E[δh2] values after the transition epoch to take a percentile of")
    return float(np.percentile(values, percentile))


# --------------------------------------------------------------------------------------------------------------
# Second-order perturbation (§6.7 item 3)
# --------------------------------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------------------------


def _gates(weights: Weights, hidden_prev: torch.Tensor, inputs: torch.Tensor | None, gating: Gating) -> torch.Tensor:
    W = weights.W_hh
    h = hidden_prev.to(dtype=W.dtype, device=W.device)
    if h.shape[-1] != weights.hidden_size:
        raise ValueError(f"hidden_prev must end in hidden_size={weights.hidden_size}; found shape {tuple(h.shape)}")
    drive = 0.0
    if inputs is not None:
        x = inputs.to(dtype=W.dtype, device=W.device)
        if x.shape[:-1] != h.shape[:-1] or x.shape[-1] != weights.input_dim:
            raise ValueError(
                f"inputs must have shape {(*h.shape[:-1], weights.input_dim)} to match hidden_prev; "
                f"found {tuple(x.shape)}"
            )
        drive = x @ weights.W_ih.T
    z = h @ W.T + drive
    if gating == "pre_activation":
        return z > 0
    if gating == "authors":
        return torch.relu(z) @ W.T + drive > 0
    raise ValueError(f"gating must be 'pre_activation' or 'authors'; found {gating!r}")
