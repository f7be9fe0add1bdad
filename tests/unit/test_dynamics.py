"""Closed-form checks of the global-dynamics analyses (hmmrnn.dynamics)."""

import math
import subprocess
import sys

import numpy as np
import pytest
import torch

from hmmrnn.analysis.transitions import (
    evolution_epochs_to_show,
    heatmap_threshold,
    refine_transition_epoch,
    transition_epoch,
    transition_rate,
)
from hmmrnn.dynamics.fixed_points import _solve_spd, find_fixed_points, input_free_convergence
from hmmrnn.dynamics.jacobians import jacobian_eigenvalues, jacobians
from hmmrnn.dynamics.orbit import orbit_radius, radius_regression, rotation_statistics
from hmmrnn.dynamics.pca import pca_basis, project
from hmmrnn.dynamics.perturbation import second_order_perturbation
from hmmrnn.dynamics.simulation import Weights, sample_states, simulate, weights_at_epoch
from hmmrnn.dynamics.spectra import eigen_fractions, mobius

F64 = torch.float64


def assert_close(actual, expected, rtol: float = 1e-7, atol: float = 1e-7) -> None:
    """Elementwise closeness via NumPy (torch.testing's first call imports torch.distributed: ~1-2 s)."""
    np.testing.assert_allclose(np.asarray(actual), np.asarray(expected), rtol=rtol, atol=atol)


def rotation(theta: float) -> torch.Tensor:
    c, s = math.cos(theta), math.sin(theta)
    return torch.tensor([[c, -s], [s, c]], dtype=F64)


def random_weights(hidden_size: int, input_dim: int, seed: int, recurrent_norm: float | None = None) -> Weights:
    g = torch.Generator().manual_seed(seed)
    W = torch.randn(hidden_size, hidden_size, generator=g, dtype=F64) / math.sqrt(hidden_size)
    if recurrent_norm is not None:
        W = W * (recurrent_norm / torch.linalg.matrix_norm(W, ord=2))
    W_ih = torch.randn(hidden_size, input_dim, generator=g, dtype=F64) / math.sqrt(input_dim)
    W_o = torch.randn(3, hidden_size, generator=g, dtype=F64)
    return Weights(W_ih=W_ih, W_hh=W, W_o=W_o)


def spiral_network(r: float, theta: float, centre: torch.Tensor) -> tuple[Weights, torch.Tensor]:
    """h' = ReLU(r R(θ) h + b) with b = (I - r R) c: fixed point c, Jacobian r R(θ) while all units are active."""
    W = r * rotation(theta)
    weights = Weights(W_ih=torch.eye(2, dtype=F64), W_hh=W, W_o=torch.eye(3, 2, dtype=F64))
    constant_input = (torch.eye(2, dtype=F64) - W) @ centre
    return weights, constant_input


# ---------------------------------------------------------------------------------------------------------------
# Fixed points
# ---------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("r, num_map_steps", [(0.8, 30), (1.25, 0)])
def test_fixed_point_and_spectrum_of_spiral(r, num_map_steps):
    theta, centre = 0.7, torch.tensor([3.0, 3.0], dtype=F64)
    weights, constant_input = spiral_network(r, theta, centre)
    g = torch.Generator().manual_seed(0)
    initial = centre + 0.5 * (torch.rand(20, 2, generator=g, dtype=F64) - 0.5)  # all units stay active here
    found = find_fixed_points(
        weights,
        initial,
        num_map_steps=num_map_steps,
        num_refine_steps=20,
        max_speed=1e-20,
        unique_tolerance=1e-6,
        constant_input=constant_input,
    )
    assert found.states.shape == (1, 2)
    assert_close(found.states[0], centre, rtol=0, atol=1e-10)
    assert int(found.num_candidates[0]) == 20
    expected = r * np.exp(1j * theta * np.array([1, -1]))
    np.testing.assert_allclose(np.sort_complex(found.eigenvalues[0].numpy()), np.sort_complex(expected), atol=1e-12)
    assert bool(found.is_stable[0]) == (r < 1)


def test_three_fixed_points_of_mutual_inhibition():
    # h1 = ReLU(1 - 2 h2), h2 = ReLU(1 - 2 h1): fixed points (1, 0), (0, 1) (stable) and the saddle (1/3, 1/3).
    weights = Weights(
        W_ih=torch.eye(2, dtype=F64),
        W_hh=torch.tensor([[0.0, -2.0], [-2.0, 0.0]], dtype=F64),
        W_o=torch.eye(3, 2, dtype=F64),
    )
    grid = torch.linspace(0.0, 1.5, 7, dtype=F64)
    initial = torch.cartesian_prod(grid, grid) + 0.01
    found = find_fixed_points(
        weights,
        initial,
        num_map_steps=0,
        num_refine_steps=20,
        max_speed=1e-20,
        unique_tolerance=1e-4,
        constant_input=torch.ones(2, dtype=F64),
    )
    points = {tuple(np.round(p, 8)) for p in found.states.numpy()}
    assert points == {(1.0, 0.0), (0.0, 1.0), (round(1 / 3, 8), round(1 / 3, 8))}
    for state, eigenvalues, stable in zip(found.states, found.eigenvalues, found.is_stable, strict=True):
        if torch.allclose(state, torch.full((2,), 1 / 3, dtype=F64)):
            np.testing.assert_allclose(np.sort(eigenvalues.real.numpy()), [-2.0, 2.0], atol=1e-12)
            assert not stable
        else:
            np.testing.assert_allclose(eigenvalues.abs().numpy(), 0.0, atol=1e-12)
            assert stable
    assert int(found.num_candidates.sum()) == initial.shape[0]  # every start reached one of the three roots


def test_fact_a_finder_returns_origin_for_contracting_bias_free_network():
    weights = random_weights(12, 4, seed=1, recurrent_norm=0.9)  # ‖W‖₂ < 1: every trajectory decays to 0
    g = torch.Generator().manual_seed(2)
    initial = 3 * torch.rand(30, 12, generator=g, dtype=F64)
    found = find_fixed_points(
        weights, initial, num_map_steps=50, num_refine_steps=10, max_speed=1e-20, unique_tolerance=1e-6
    )
    assert found.states.shape == (1, 12)
    assert float(found.states.norm()) < 1e-8
    assert float(found.speeds[0]) < 1e-20


def test_damped_normal_equations_solved_like_lu():
    g = torch.Generator().manual_seed(5)
    A = torch.randn(6, 9, 9, generator=g, dtype=F64)
    matrix = A.transpose(1, 2) @ A + 1e-3 * torch.eye(9, dtype=F64)
    matrix[2] = -torch.eye(9, dtype=F64)  # not positive definite: reported, not returned
    rhs = torch.randn(6, 9, 1, generator=g, dtype=F64)
    solution, solved = _solve_spd(matrix, rhs)
    assert solved.tolist() == [True, True, False, True, True, True]
    expected = torch.stack([torch.linalg.solve(m, r) for m, r in zip(matrix, rhs, strict=True)])
    assert_close(solution[solved], expected[solved], rtol=1e-10, atol=1e-12)
    assert bool((solution[2] == 0).all())


_TWO_THREAD_SEARCH = """
import torch
from hmmrnn.dynamics.fixed_points import find_fixed_points
from hmmrnn.dynamics.simulation import Weights
torch.set_num_threads(2)
g = torch.Generator().manual_seed(0)
H = 150  # a paper-sized network with an expanding recurrence, as trained ones have (spectral radius > 1)
weights = Weights(
    W_ih=torch.randn(H, 100, generator=g, dtype=torch.float64) / 10,
    W_hh=1.3 * torch.randn(H, H, generator=g, dtype=torch.float64) / H**0.5 - 0.02,
    W_o=torch.randn(3, H, generator=g, dtype=torch.float64),
)
found = find_fixed_points(
    weights, torch.rand(100, H, generator=g, dtype=torch.float64), num_map_steps=20, num_refine_steps=10,
    max_speed=1e-3, unique_tolerance=1e-3,
)
print("found", found.states.shape[0])
"""


def test_fixed_point_search_returns_with_two_threads():
    # Batched LU solves hang in this torch/MKL build with more than one thread; the search must not use them.
    # The timeout only guards against a hang (the search takes a few seconds).
    result = subprocess.run(
        [sys.executable, "-c", _TWO_THREAD_SEARCH], capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "MKL ERROR" not in result.stdout + result.stderr
    assert result.stdout.startswith("found ")


def test_convergence_statistics_collapse_and_non_collapse():
    weights = random_weights(12, 4, seed=3, recurrent_norm=0.8)
    g = torch.Generator().manual_seed(4)
    initial = torch.rand(15, 12, generator=g, dtype=F64)
    stats = input_free_convergence(weights, initial, num_steps=200, orbit_radius=2.0, num_jacobian_steps=3)
    assert stats.relative_max_distance < 1e-12 and stats.relative_residual < 1e-12 and stats.relative_norm < 1e-12
    assert stats.max_spectral_radius <= 0.8 + 1e-12  # ‖D W‖₂ ≤ ‖W‖₂ bounds the spectral radius

    identity = Weights(W_ih=weights.W_ih, W_hh=torch.eye(12, dtype=F64), W_o=weights.W_o)  # every h ≥ 0 is fixed
    stats = input_free_convergence(identity, initial, num_steps=10, orbit_radius=2.0, num_jacobian_steps=1)
    assert stats.max_pairwise_distance == pytest.approx(float(torch.cdist(initial, initial).max()))
    assert stats.residual == pytest.approx(0.0, abs=1e-15)
    assert stats.max_spectral_radius == pytest.approx(1.0)


# ---------------------------------------------------------------------------------------------------------------
# Jacobians and Möbius map
# ---------------------------------------------------------------------------------------------------------------


def test_jacobian_matches_finite_differences_and_autograd():
    weights = random_weights(7, 3, seed=5)
    g = torch.Generator().manual_seed(6)
    h, x = torch.rand(7, generator=g, dtype=F64), torch.randn(3, generator=g, dtype=F64)

    def step(state: torch.Tensor) -> torch.Tensor:
        return torch.relu(weights.W_hh @ state + weights.W_ih @ x)

    z = weights.W_hh @ h + weights.W_ih @ x
    assert bool((z > 0).any() and (z < 0).any())  # the gate matters at this point
    assert float(z.abs().min()) > 1e-4  # and the point is generic (no kink within the FD step)
    eps = 1e-6
    basis = torch.eye(7, dtype=F64)
    finite = torch.stack([(step(h + eps * e) - step(h - eps * e)) / (2 * eps) for e in basis], dim=1)
    closed = jacobians(weights, h, x)
    assert_close(closed, finite, rtol=0, atol=1e-8)
    assert_close(closed, torch.autograd.functional.jacobian(step, h), rtol=0, atol=1e-14)


def test_jacobian_gating_variants_and_batched_eigenvalues():
    weights = random_weights(6, 2, seed=7)
    g = torch.Generator().manual_seed(8)
    h, x = torch.rand(40, 6, generator=g, dtype=F64), torch.randn(40, 2, generator=g, dtype=F64)
    h_next = torch.relu(h @ weights.W_hh.T + x @ weights.W_ih.T)
    authors = jacobians(weights, h, x, gating="authors")
    expected = ((h_next @ weights.W_hh.T + x @ weights.W_ih.T) > 0).to(F64).unsqueeze(-1) * weights.W_hh
    assert_close(authors, expected, rtol=0, atol=0)
    for gating in ("pre_activation", "authors"):
        batched = jacobian_eigenvalues(weights, h, x, gating=gating, chunk_size=3).numpy()
        direct = torch.linalg.eigvals(jacobians(weights, h, x, gating=gating)).numpy()
        assert batched.shape == (40, 6)
        assert np.all(np.diff(np.abs(batched), axis=1) <= 1e-12)  # sorted by decreasing modulus
        gap = np.abs(batched[:, :, None] - direct[:, None, :])
        assert gap.min(axis=2).max() < 1e-10 and gap.min(axis=1).max() < 1e-10
    zero_input = jacobians(weights, h, None)
    assert_close(zero_input, (h @ weights.W_hh.T > 0).to(F64).unsqueeze(-1) * weights.W_hh)


def test_mobius_map():
    assert mobius(np.array(1.0 + 0j)) == 0
    phi = np.linspace(-3.0, 3.0, 13)
    on_circle = mobius(np.exp(1j * phi))
    np.testing.assert_allclose(on_circle.real, 0.0, atol=1e-13)
    np.testing.assert_allclose(on_circle.imag, np.tan(phi / 2), rtol=1e-12)  # (e^{iφ} - 1)/(e^{iφ} + 1) = i tan(φ/2)
    rng = np.random.default_rng(0)
    angles = rng.uniform(-np.pi, np.pi, 200)
    inside = rng.uniform(0.0, 0.99, 200) * np.exp(1j * angles)
    outside = rng.uniform(1.01, 5.0, 200) * np.exp(1j * angles)
    assert np.all(mobius(inside).real < 0) and np.all(mobius(outside).real > 0)
    np.testing.assert_allclose(mobius(np.conj(inside)), np.conj(mobius(inside)), rtol=1e-14)
    assert_close(mobius(torch.from_numpy(inside)), torch.from_numpy(mobius(inside)))


def test_eigen_fractions_on_known_spectra():
    eigenvalues = np.array(
        [
            [0.999 * np.exp(0.5j), 0.999 * np.exp(-0.5j), 0.1],  # critical pair just inside the unit circle
            [0.5, 0.2, -0.3],  # contracting, real
            [1.5, 0.2 + 0.1j, 0.2 - 0.1j],  # unstable, real: w = 0.2, not critical
            [1.2 * np.exp(1.0j), 1.2 * np.exp(-1.0j), 1.01 * np.exp(0.3j)],  # 3 unstable; only the |λ|=1.01 is critical
        ]
    )
    fractions = eigen_fractions(eigenvalues, eps_re=0.1, eps_im=0.05)
    np.testing.assert_array_equal(fractions.critical_counts, [1, 0, 0, 1])
    np.testing.assert_array_equal(fractions.unstable_counts, [0, 0, 1, 3])
    assert fractions.critical_fraction == 0.5 and fractions.unstable_fraction == 0.5
    strict = eigen_fractions(eigenvalues, eps_re=0.1, eps_im=0.5)  # Im w ≈ 0.255 and 0.15 < 0.5
    np.testing.assert_array_equal(strict.critical_counts, [0, 0, 0, 0])


def test_spiral_jacobian_spectrum_along_states():
    r, theta, centre = 0.9, 0.4, torch.tensor([3.0, 3.0], dtype=F64)
    weights, constant_input = spiral_network(r, theta, centre)
    h = centre + 0.3 * torch.randn(10, 2, generator=torch.Generator().manual_seed(9), dtype=F64)
    values = jacobian_eigenvalues(weights, h, constant_input.expand(10, 2))
    np.testing.assert_allclose(values.abs().numpy(), r, rtol=1e-12)
    np.testing.assert_allclose(np.sort(np.abs(np.angle(values.numpy())), axis=1), theta, rtol=1e-12)


# ---------------------------------------------------------------------------------------------------------------
# PCA, Fact A and orbits
# ---------------------------------------------------------------------------------------------------------------


def test_pca_recovers_known_axes_and_variances():
    q, _ = np.linalg.qr(np.random.default_rng(1).standard_normal((5, 5)))
    signs = np.array(np.meshgrid([-1, 1], [-1, 1], [-1, 1], indexing="ij")).reshape(3, -1).T  # 2³ design
    scores = signs * np.array([3.0, 2.0, 1.0])
    mean = np.arange(5.0)
    states = mean + scores @ q[:, :3].T
    basis = pca_basis(states, 3)
    np.testing.assert_allclose(basis.mean, mean, atol=1e-12)
    np.testing.assert_allclose(basis.explained_variance_ratio, np.array([9.0, 4.0, 1.0]) / 14, rtol=1e-12)
    np.testing.assert_allclose(np.abs(np.sum(basis.components * q[:, :3].T, axis=1)), 1.0, rtol=1e-12)
    coordinates = project(basis, states)
    np.testing.assert_allclose(np.abs(coordinates), np.abs(scores), atol=1e-12)
    assert_close(project(basis, torch.from_numpy(states)), torch.from_numpy(coordinates))


def test_fact_a_homogeneity_gives_exactly_linear_orbit_radius():
    weights = random_weights(10, 4, seed=11)
    g = torch.Generator().manual_seed(12)
    noise = torch.randn(1, 400, 4, generator=g, dtype=F64)
    h0 = torch.zeros(1, 10, dtype=F64)
    base = simulate(weights, h0, noise)[0]
    assert float(base.norm(dim=1).mean()) > 0.1  # a non-trivial trajectory
    levels = [0.1, 1.0, 2.0, 3.0, 4.0]
    runs = {s: simulate(weights, h0, s * noise)[0] for s in levels}
    for s in levels:
        assert_close(runs[s], s * base, rtol=1e-12, atol=1e-12)
    basis = pca_basis(base, 2)
    radii = [orbit_radius(project(basis, runs[s])) for s in levels]
    fit = radius_regression(levels, radii)
    assert fit.r_squared == pytest.approx(1.0, abs=1e-12)
    assert fit.intercept == pytest.approx(0.0, abs=1e-10)
    assert fit.slope == pytest.approx(radii[1], rel=1e-12)


def test_radius_regression_and_orbit_radius_closed_forms():
    line = radius_regression([0.0, 1.0, 2.0, 4.0], [1.0, 3.0, 5.0, 9.0])
    assert line == pytest.approx((2.0, 1.0, 1.0))
    tent = radius_regression([0.0, 1.0, 2.0], [0.0, 1.0, 0.0])
    assert tent == pytest.approx((0.0, 1 / 3, 0.0), abs=1e-12)
    angles = np.arange(12) * 2 * np.pi / 12
    circle = np.array([4.0, -1.0]) + 2.5 * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    assert orbit_radius(circle) == pytest.approx(2.5, rel=1e-12)


def test_rotation_statistics():
    angles = np.arange(151) * 2 * np.pi / 50  # three full turns
    circle = np.stack([np.cos(angles), np.sin(angles)], axis=1) + 7.0
    assert rotation_statistics(circle) == pytest.approx((3.0, 1.0))
    assert rotation_statistics(circle[::-1]) == pytest.approx((-3.0, 1.0))
    # two turns forward, then one turn back: every angle visited three times, so the centroid is the centre
    index = np.concatenate([np.arange(100), np.arange(98, 48, -1)])  # 99 forward steps, then 50 backward
    there_and_back = np.stack([np.cos(index * 2 * np.pi / 50), np.sin(index * 2 * np.pi / 50)], axis=1)
    stats = rotation_statistics(there_and_back)
    assert stats.dominant_fraction == pytest.approx(99 / 149)
    assert stats.winding_number == pytest.approx(49 / 50)


# ---------------------------------------------------------------------------------------------------------------
# Training-transition statistics
# ---------------------------------------------------------------------------------------------------------------


def test_transition_rate_intervals_and_fallbacks():
    outputs = [0] * 5 + [2] * 3 + [0] * 7 + [2] * 4  # switches after t = 4, 7, 14: intervals 3 and 7
    rate = transition_rate(outputs)
    assert rate.rate == pytest.approx((1 / 3 + 1 / 7) / 2)
    assert rate.residence == pytest.approx(5.0)
    assert rate.num_switches == 3
    two_switches = [0] * 5 + [2] * 3 + [0] * 7
    assert transition_rate(two_switches) == (0.0, 15.0, 2)
    only_one_two = [1, 1, 2, 2, 2, 1, 2, 2, 1, 1]  # switches after t = 1, 4, 5, 7: intervals 3, 1, 2
    assert transition_rate(only_one_two, fallback_on="all").rate == pytest.approx((1 / 3 + 1 + 1 / 2) / 3)
    assert transition_rate(only_one_two, fallback_on="binary") == (0.0, 10.0, 4)  # [o > 0] never changes (§9.38)
    assert transition_rate(outputs, fallback_on="binary").rate == pytest.approx((1 / 3 + 1 / 7) / 2)


def test_transition_epoch_detector():
    epochs = np.arange(1, 252, 10)
    step = np.where(epochs >= 61, 0.3, 0.0) + 0.005 * np.sin(epochs)  # step between 51 and 61, small wiggle
    assert transition_epoch(epochs, step, 0.02) == 51
    assert transition_epoch(epochs, step, 0.02, report="after") == 61
    assert transition_epoch(epochs, 0.005 * np.sin(epochs), 0.02) is None
    assert transition_epoch(epochs, np.full(epochs.shape, 0.4), 0.02) is None
    assert transition_epoch(epochs, step[::-1], 0.02) is None  # a drop is not a rise
    ramp = np.linspace(0.0, 0.5, 21)  # dense evaluation around the coarse epoch
    assert refine_transition_epoch(np.arange(41, 62), ramp, reference_max=0.52, level=0.5) == 52  # 0.275 > 0.26


def test_evolution_epochs_to_show():
    assert evolution_epochs_to_show(100, range(1, 301)) == [1, 20, 50, 100, 200, 300]
    assert evolution_epochs_to_show(200, range(1, 301)) == [1, 40, 100, 200, 300]
    sparse = [1, *range(10, 501, 10)]
    assert evolution_epochs_to_show(110, sparse) == [1, 20, 50, 110, 220, 500]  # 22 → 20; 55 → 50 (tie: earlier)
    assert evolution_epochs_to_show(None, sparse) == [1, 500]


def test_heatmap_threshold_is_percentile_of_sqrt_abs():
    values = -(np.arange(101.0) ** 2)  # √|v| = 0, 1, ..., 100
    assert heatmap_threshold(values, 95) == pytest.approx(95.0)
    assert heatmap_threshold(values.reshape(1, 101), 50) == pytest.approx(50.0)


def test_weights_at_epoch_and_sample_states():
    stack = {
        "epoch": torch.tensor([1, 5]),
        "rnn.weight_ih_l0": torch.arange(2 * 3 * 2.0).reshape(2, 3, 2),
        "rnn.weight_hh_l0": torch.arange(2 * 3 * 3.0).reshape(2, 3, 3),
        "readout.weight": torch.arange(2 * 3 * 3.0).reshape(2, 3, 3),
    }
    weights = weights_at_epoch(stack, 5)
    assert_close(weights.W_hh, stack["rnn.weight_hh_l0"][1].double())
    with pytest.raises(ValueError, match="epoch 2"):
        weights_at_epoch(stack, 2)
    states = np.arange(40.0).reshape(20, 2)
    drawn = sample_states(states, 7, np.random.default_rng(0))
    assert len({tuple(row) for row in drawn}) == 7 and np.isin(drawn, states).all()


# ---------------------------------------------------------------------------------------------------------------
# Second-order perturbation
# ---------------------------------------------------------------------------------------------------------------


def _second_order(weights, h_bar, noise_std, variant="final", warmup_steps=9, num_trials=64, seed=0):
    return second_order_perturbation(
        weights,
        h_bar,
        num_trials=num_trials,
        horizon=10,
        warmup_steps=warmup_steps,
        init_scale=0.05,
        noise_std=noise_std,
        generator=torch.Generator().manual_seed(seed),
        variant=variant,
    )


@pytest.mark.parametrize("variant", ["final", "paper"])
def test_second_order_vanishes_without_noise(variant):
    weights = random_weights(8, 3, seed=13)
    result = _second_order(weights, torch.rand(8, dtype=F64), 0.0, variant)
    assert torch.count_nonzero(result.delta_h2) == 0 and torch.count_nonzero(result.delta_h1) == 0


def test_second_order_scales_with_variance_when_all_units_active():
    g = torch.Generator().manual_seed(14)
    W = 0.5 + torch.rand(6, 6, generator=g, dtype=F64)
    W = W / W.sum(dim=1, keepdim=True)  # positive and row-stochastic: a constant state does not decay
    weights = Weights(W_ih=0.01 * torch.randn(6, 3, generator=g, dtype=F64), W_hh=W, W_o=torch.ones(3, 6, dtype=F64))
    h_bar = torch.full((6,), 10.0, dtype=F64)  # drive ≫ noise projection: every unit stays active
    small, large = _second_order(weights, h_bar, 0.5), _second_order(weights, h_bar, 1.0)
    assert float(small.delta_h2.abs().min()) > 0
    assert_close(large.delta_h2, 4 * small.delta_h2, rtol=1e-10, atol=0)
    assert_close(large.delta_h1, 2 * small.delta_h1, rtol=1e-10, atol=0)


@pytest.mark.parametrize("variant", ["final", "paper"])
def test_second_order_scales_with_variance_for_mixed_signs(variant):
    # Without warm-up the gates depend only on h̄ and the initial jitter, never on σ: the scaling is exact.
    weights = random_weights(8, 3, seed=15)
    h_bar = torch.rand(8, generator=torch.Generator().manual_seed(16), dtype=F64)
    small = _second_order(weights, h_bar, 1.0, variant, warmup_steps=0)
    large = _second_order(weights, h_bar, 2.0, variant, warmup_steps=0)
    assert float(small.delta_h2.abs().max()) > 0
    assert_close(large.delta_h2, 4 * small.delta_h2, rtol=1e-10, atol=1e-14)


def test_second_order_matches_scalar_closed_form():
    # H = d = 1, W = a > 0, W_ih = b, y > 0 throughout: δ2 = ½ Σ_u a^(t-u) δ1_u², E[δ1_u²] = b²σ² Σ_{k≤u} a^(2k).
    a, b, sigma, horizon = 0.7, 1.3, 0.8, 10
    weights = Weights(
        W_ih=torch.tensor([[b]], dtype=F64), W_hh=torch.tensor([[a]], dtype=F64), W_o=torch.ones(3, 1, dtype=F64)
    )
    expected = 0.5 * sum(
        a ** (horizon - u) * b**2 * sigma**2 * sum(a ** (2 * k) for k in range(u + 1)) for u in range(horizon)
    )
    trials = 16000  # relative standard error of the mean ≈ 0.9/√trials ≈ 0.7 %: the 3.5 % tolerance is 5 s.e.
    result = _second_order(weights, torch.tensor([50.0], dtype=F64), sigma, num_trials=trials, warmup_steps=0)
    assert float(result.delta_h2[0]) == pytest.approx(expected, rel=0.035)
    assert abs(float(result.delta_h1[0])) < 5 * b * sigma / math.sqrt(trials)
