"""The blockwise Sinkhorn divergence against geomloss's reference, by hand, with a target cache, on bad input."""

import numpy as np
import pytest
import torch
from geomloss import SamplesLoss
from geomloss._legacy.sinkhorn_divergence import epsilon_schedule as geomloss_schedule
from geomloss._legacy.sinkhorn_divergence import max_diameter

from hmmrnn.hmm import linear_chain, sample_hmm
from hmmrnn.sinkhorn import (
    SinkhornCache,
    bounding_diameter,
    cache_schedule,
    epsilon_schedule,
    make_sinkhorn_loss,
    sinkhorn_divergence,
)


def clouds(kind: str, n: int, num_timesteps: int, seed: int = 0, m: int | None = None):
    """Two ``(n, 3T)`` and ``(m, 3T)`` clouds: gaussian, uniformly random one-hot, or HMM-like one-hot rows."""
    m = n if m is None else m
    generator = torch.Generator().manual_seed(seed)
    if kind == "gauss":
        return torch.randn(n, 3 * num_timesteps, generator=generator), torch.randn(
            m, 3 * num_timesteps, generator=generator
        ) + 0.3
    if kind == "onehot":
        symbols = [torch.randint(0, 3, (size, num_timesteps), generator=generator) for size in (n, m)]
    else:  # sticky linear chains: M=2 for T=100 and M=3 for T=30, as in the study
        hmm = linear_chain(2 if num_timesteps >= 100 else 3, 0.05)
        rng = np.random.default_rng(seed)
        symbols = [torch.as_tensor(sample_hmm(hmm, size, num_timesteps, rng)[1].astype(np.int64)) for size in (n, m)]
    return tuple(torch.nn.functional.one_hot(s, 3).float().flatten(1) for s in symbols)


def value_and_grad(loss, x, y):
    x = x.clone().requires_grad_()
    value = loss(x, y)
    value.backward()
    return value.item(), x.grad


def geomloss_loss(blur):
    return SamplesLoss("sinkhorn", p=2, blur=blur, scaling=0.5)


def assert_agrees(x, y, blur, loss_rtol, grad_rtol):
    ref_value, ref_grad = value_and_grad(geomloss_loss(blur), x, y)
    value, grad = value_and_grad(lambda a, b: sinkhorn_divergence(a, b, blur=blur), x, y)
    assert abs(value - ref_value) <= loss_rtol * abs(ref_value), (value, ref_value)
    error = ((grad - ref_grad).abs().max() / ref_grad.abs().max()).item()
    assert error <= grad_rtol, error


# Every blur in float64: equal to geomloss up to float64 rounding, so the algorithm is geomloss's.
@pytest.mark.parametrize(
    ("n", "num_timesteps", "blur", "kind"),
    [
        (64, 30, 0.05, "gauss"),
        (64, 100, 0.1, "onehot"),
        (64, 30, 0.5, "hmm"),
        (64, 100, 2.0, "gauss"),
        (512, 30, 0.2, "gauss"),
        (512, 100, 0.05, "hmm"),
        (512, 100, 0.1, "onehot"),
        (512, 30, 1.0, "hmm"),
    ],
)
def test_equals_geomloss_in_float64(n, num_timesteps, blur, kind):
    x, y = clouds(kind, n, num_timesteps)
    assert_agrees(x.double(), y.double(), blur, loss_rtol=1e-10, grad_rtol=1e-8)


# float32, as in training: loss within 1e-5, gradient within 1e-4 (relative to its largest entry). Below blur 0.2,
# and for uniformly random one-hot rows of T = 100 at blur 0.2, geomloss's own float32 gradient is about 1e-4 or
# more away from the exact one (float64), so those cases are compared in float64 above and below.
@pytest.mark.parametrize(
    ("n", "num_timesteps", "blur", "kind"),
    [
        (64, 30, 0.2, "gauss"),
        (64, 100, 0.5, "onehot"),
        (512, 30, 0.2, "hmm"),
        (512, 100, 0.2, "hmm"),
        (512, 100, 0.5, "gauss"),
        (512, 30, 1.0, "onehot"),
        (4096, 100, 0.2, "hmm"),
        (4096, 30, 0.2, "hmm"),
    ],
)
def test_agrees_with_geomloss_in_float32(n, num_timesteps, blur, kind):
    x, y = clouds(kind, n, num_timesteps)
    assert_agrees(x, y, blur, loss_rtol=1e-5, grad_rtol=1e-4)


@pytest.mark.parametrize(("blur", "kind"), [(0.05, "hmm"), (0.1, "gauss")])
def test_float32_error_at_small_blur_is_rounding_like_geomloss(blur, kind):
    """Both float32 gradients miss the exact (float64) one by float32 rounding of the same size."""
    x, y = clouds(kind, 256, 100)
    _, exact = value_and_grad(geomloss_loss(blur), x.double(), y.double())
    errors = {}
    ours = lambda a, b: sinkhorn_divergence(a, b, blur=blur)  # noqa: E731
    for name, loss in [("geomloss", geomloss_loss(blur)), ("hmmrnn", ours)]:
        _, grad = value_and_grad(loss, x, y)
        errors[name] = ((grad.double() - exact).abs().max() / exact.abs().max()).item()
    assert errors["hmmrnn"] <= max(2 * errors["geomloss"], 1e-4), errors


def test_gradient_with_respect_to_the_target_and_unequal_sizes_equal_geomloss():
    x, y = (cloud.double() for cloud in clouds("gauss", 40, 4, m=30))
    grads = []
    for loss in (geomloss_loss(0.1), lambda a, b: sinkhorn_divergence(a, b, blur=0.1, block_rows=7)):
        a, b = x.clone().requires_grad_(), y.clone().requires_grad_()
        value = loss(a, b)
        value.backward()
        grads.append((value.item(), a.grad, b.grad))
    (ref, ref_x, ref_y), (value, grad_x, grad_y) = grads
    assert value == pytest.approx(ref, rel=1e-12)
    torch.testing.assert_close(grad_x, ref_x, rtol=0, atol=1e-12)
    torch.testing.assert_close(grad_y, ref_y, rtol=0, atol=1e-12)


def test_row_blocks_do_not_change_the_result():
    x, y = (cloud.double() for cloud in clouds("hmm", 100, 30))
    whole = value_and_grad(lambda a, b: sinkhorn_divergence(a, b), x, y)
    ragged = value_and_grad(lambda a, b: sinkhorn_divergence(a, b, block_rows=7), x, y)  # 15 blocks, the last of 2
    assert ragged[0] == pytest.approx(whole[0], rel=1e-12)
    torch.testing.assert_close(ragged[1], whole[1], rtol=0, atol=1e-12 * whole[1].abs().max().item())


def test_result_does_not_depend_on_the_number_of_threads():
    """Bitwise, so that a run resumed with another thread count trains the same network."""
    x, y = clouds("gauss", 700, 10)
    threads = torch.get_num_threads()
    results = []
    try:
        for count in (1, 2, 3):
            torch.set_num_threads(count)
            results.append(value_and_grad(lambda a, b: sinkhorn_divergence(a, b), x, y))
    finally:
        torch.set_num_threads(threads)
    for value, grad in results[1:]:
        assert value == results[0][0] and torch.equal(grad, results[0][1])


def test_schedule_is_geomloss_schedule():
    x, y = clouds("gauss", 50, 10)
    assert bounding_diameter(x, y) == pytest.approx(max_diameter(x, y), rel=1e-7)
    for diameter, blur, scaling in [(17.3, 0.2, 0.5), (3.0, 0.05, 0.9), (0.1, 0.2, 0.5), (0.2, 0.2, 0.5)]:
        expected = [float(eps) for eps in geomloss_schedule(2, diameter, blur, scaling)]
        assert list(epsilon_schedule(diameter, blur=blur, scaling=scaling)) == expected


# Cases solved by hand.
def test_identical_clouds_have_divergence_zero():
    x = clouds("gauss", 50, 7)[0].double()
    value, grad = value_and_grad(lambda a, b: sinkhorn_divergence(a, b), x, x.clone())
    assert abs(value) < 1e-12
    assert grad.abs().max().item() < 1e-12


def test_single_points_have_the_half_squared_distance():
    x, y = torch.tensor([[0.0, 0.0, 0.0]], dtype=torch.float64), torch.tensor([[1.0, 2.0, 0.0]], dtype=torch.float64)
    value, grad = value_and_grad(lambda a, b: sinkhorn_divergence(a, b, blur=0.2), x, y)
    assert value == pytest.approx(2.5, rel=1e-12)  # |x - y|^2 / 2, whatever the blur
    torch.testing.assert_close(grad, x - y)
    assert sinkhorn_divergence(x, y, blur=5.0).item() == pytest.approx(2.5, rel=1e-12)


def test_coincident_points_have_divergence_zero():
    x = torch.ones((3, 4), requires_grad=True)  # a diameter of 0, where geomloss fails
    value = sinkhorn_divergence(x, torch.ones((2, 4)))
    value.backward()
    assert value.item() == 0.0 and torch.equal(x.grad, torch.zeros_like(x))


# The target cache.
def test_cached_target_term_equals_a_fresh_computation():
    x, y = clouds("onehot", 256, 30)
    x_other = clouds("onehot", 256, 30, seed=1)[0]
    schedule = epsilon_schedule(bounding_diameter(x, y), blur=0.2, scaling=0.5)
    assert schedule == epsilon_schedule(bounding_diameter(x_other, y), blur=0.2, scaling=0.5), "precondition"
    cache = SinkhornCache()
    first = value_and_grad(lambda a, b: sinkhorn_divergence(a, b, cache=cache, target_key=("train", 0)), x, y)
    second = value_and_grad(lambda a, b: sinkhorn_divergence(a, b, cache=cache, target_key=("train", 0)), x_other, y)
    assert (cache.misses, cache.hits, len(cache)) == (1, 1, 1)
    # the cached term is the fresh term of the rounded schedule, whichever call computed it
    fresh_term = SinkhornCache().target_term("fresh", y.clone(), cache_schedule(schedule))
    assert cache.target_term(("train", 0), y, schedule) == fresh_term
    for (value, grad), sample in [(first, x), (second, x_other)]:
        fresh_value, fresh_grad = value_and_grad(lambda a, b: sinkhorn_divergence(a, b), sample, y)
        assert value == pytest.approx(fresh_value, rel=1e-6)
        assert torch.equal(grad, fresh_grad)  # the target term carries no gradient


def test_hard_gumbel_rounding_does_not_miss_the_cache():
    x, y = clouds("onehot", 64, 10)
    nudged = x * (1 + 2**-22)  # hot entries of a hard Gumbel-softmax sample round to 1 +- 1 ulp (1 - s + s)
    schedules = [epsilon_schedule(bounding_diameter(sample, y), blur=0.2, scaling=0.5) for sample in (x, nudged)]
    assert schedules[0] != schedules[1] and cache_schedule(schedules[0]) == cache_schedule(schedules[1])
    cache = SinkhornCache()
    for sample in (x, nudged):
        sinkhorn_divergence(sample, y, cache=cache, target_key=0)
    assert (cache.misses, cache.hits) == (1, 1)


def test_a_cache_key_reused_for_another_target_is_an_error():
    x, y = clouds("onehot", 32, 10)
    cache = SinkhornCache()
    sinkhorn_divergence(x, y, cache=cache, target_key="val")
    with pytest.raises(ValueError, match="another target"):
        sinkhorn_divergence(x, y.flip(0), cache=cache, target_key="val")


def test_cache_drops_its_oldest_entries():
    x, y = clouds("onehot", 16, 5)
    cache = SinkhornCache(max_entries=2)
    for key in range(3):
        sinkhorn_divergence(x, y, cache=cache, target_key=key)
    assert len(cache) == 2


def test_loss_factory_backends_agree():
    x, y = clouds("hmm", 128, 30)
    ours, reference = (
        make_sinkhorn_loss("hmmrnn", p=2, blur=0.2, scaling=0.5),
        make_sinkhorn_loss("geomloss", p=2, blur=0.2, scaling=0.5),
    )
    cached = ours(x, y, "batch 0")
    assert ours(x, y, "batch 0").item() == cached.item()  # from the cache
    assert cached.item() == pytest.approx(reference(x, y, "batch 0").item(), rel=1e-5)
    assert ours(x, y, None).item() == pytest.approx(cached.item(), rel=1e-6)
    assert make_sinkhorn_loss("geomloss", p=1, blur=0.2, scaling=0.5)(x, y, None).item() > 0


# Bad input: a clear error naming the argument.
GOOD = torch.zeros((4, 3))


@pytest.mark.parametrize(
    ("x", "y", "match"),
    [
        (GOOD, torch.zeros((4, 2)), "same width"),
        (torch.zeros((0, 3)), GOOD, "x must hold at least one point"),
        (GOOD, torch.zeros((0, 3)), "y must hold at least one point"),
        (torch.tensor([[0.0, float("nan"), 1.0]]), GOOD, "x contains NaN or infinite"),
        (GOOD, torch.tensor([[0.0, float("inf"), 1.0]]), "y contains NaN or infinite"),
        (torch.zeros(3), GOOD, r"x must be an \(N, D\) tensor"),
        (GOOD, torch.zeros((4, 3), dtype=torch.int64), "y must be a floating-point tensor"),
        (GOOD, GOOD.double(), "share dtype"),
        (np.zeros((4, 3)), GOOD, "x must be a torch.Tensor"),
    ],
)
def test_bad_clouds_are_named(x, y, match):
    with pytest.raises(ValueError, match=match):
        sinkhorn_divergence(x, y)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"p": 1}, "p must be 2"),
        ({"blur": 0.0}, "blur must be"),
        ({"blur": float("nan")}, "blur must be"),
        ({"scaling": 1.0}, "scaling must be in"),
        ({"cache": SinkhornCache()}, "cache and target_key"),
        ({"target_key": 0}, "cache and target_key"),
        ({"block_rows": 0}, "block_rows must be"),
    ],
)
def test_bad_settings_are_named(kwargs, match):
    with pytest.raises(ValueError, match=match):
        sinkhorn_divergence(GOOD, GOOD + 1, **kwargs)


def test_bad_backend_and_cached_target_gradients_are_errors():
    with pytest.raises(ValueError, match="backend must be one of"):
        make_sinkhorn_loss("pot", p=2, blur=0.2, scaling=0.5)
    with pytest.raises(ValueError, match="p must be 2"):
        make_sinkhorn_loss("hmmrnn", p=1, blur=0.2, scaling=0.5)
    with pytest.raises(ValueError, match="y must not require gradients"):
        sinkhorn_divergence(GOOD, (GOOD + 1).requires_grad_(), cache=SinkhornCache(), target_key=0)
