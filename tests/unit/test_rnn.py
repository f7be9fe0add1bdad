"""The noise-driven RNN and its hard Gumbel-softmax head (PAPER_SPEC §2)."""

import pytest
import torch

from hmmrnn.dynamics.simulation import Weights, argmax_outputs, simulate
from hmmrnn.rnn import NoiseRNN, gumbel_softmax_hard


def test_forward_is_the_bias_free_relu_recurrence_from_zero():
    torch.manual_seed(0)
    model = NoiseRNN(input_dim=3, hidden_size=5, num_outputs=3, generator=torch.Generator().manual_seed(1))
    assert [name for name, _ in model.named_parameters()] == ["rnn.weight_ih_l0", "rnn.weight_hh_l0", "readout.weight"]
    w = model.weights()
    x = torch.randn(4, 7, 3)
    h = torch.zeros(4, 5)
    expected = []
    for t in range(7):
        h = torch.relu(x[:, t] @ w["W_ih"].T + h @ w["W_hh"].T)
        expected.append(h)
    hidden, logits = model(x)
    torch.testing.assert_close(hidden, torch.stack(expected, dim=1))
    torch.testing.assert_close(logits, hidden @ w["W_o"].T)
    # the analysis simulator agrees with the training forward pass
    weights = Weights.from_state_dict(model.state_dict(), dtype=torch.float32)
    torch.testing.assert_close(simulate(weights, torch.zeros(4, 5), x), hidden)
    torch.testing.assert_close(argmax_outputs(weights, hidden), logits.argmax(-1))


def test_initial_weights_are_uniform_within_one_over_sqrt_hidden_and_seeded():
    model = NoiseRNN(100, 400, generator=torch.Generator().manual_seed(0))
    again = NoiseRNN(100, 400, generator=torch.Generator().manual_seed(0))
    bound = 400**-0.5
    for weight, twin in zip(model.weights().values(), again.weights().values(), strict=True):
        assert weight.abs().max() <= bound
        assert weight.abs().max() > 0.99 * bound  # fills the interval
        assert weight.std().item() == pytest.approx(2 * bound / 12**0.5, rel=0.05)
        torch.testing.assert_close(weight, twin)


def test_zero_input_keeps_the_state_at_zero():
    model = NoiseRNN(2, 6)
    hidden, logits = model(torch.zeros(1, 10, 2))
    assert torch.count_nonzero(hidden) == 0 and torch.count_nonzero(logits) == 0


def test_gumbel_hard_is_one_hot_forward_and_softmax_backward():
    logits = torch.tensor([[0.3, -1.0, 2.0]], requires_grad=True)
    generator = torch.Generator().manual_seed(0)
    sample = gumbel_softmax_hard(logits, generator=generator)
    assert torch.equal(sample.detach().sum(-1), torch.ones(1))
    assert set(sample.detach().unique().tolist()) <= {0.0, 1.0}
    # straight-through: the gradient is that of softmax((logits + g) / tau) with the same Gumbel noise
    weights = torch.tensor([1.0, 2.0, 3.0])
    (sample * weights).sum().backward()
    generator = torch.Generator().manual_seed(0)
    noise = -torch.empty_like(logits).exponential_(generator=generator).log()
    soft_logits = logits.detach().clone().requires_grad_(True)
    (torch.softmax(soft_logits + noise, -1) * weights).sum().backward()
    torch.testing.assert_close(logits.grad, soft_logits.grad)


def test_gumbel_samples_follow_the_softmax_distribution():
    logits = torch.tensor([1.0, 0.0, -1.0]).expand(200_000, 3)
    samples = gumbel_softmax_hard(logits, generator=torch.Generator().manual_seed(3))
    torch.testing.assert_close(samples.mean(0), torch.softmax(logits[0], -1), atol=5e-3, rtol=0)
    # a low temperature does not change which symbol is drawn (Gumbel-max is argmax-invariant to tau)
    cold = gumbel_softmax_hard(logits[:1000], tau=0.1, generator=torch.Generator().manual_seed(3))
    torch.testing.assert_close(cold, samples[:1000])
