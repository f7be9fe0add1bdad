"""Kick neurons: discovery, their rank in the second-order response, and the effect of silencing them (§6.11, §8.3)."""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from typing import Literal, NamedTuple

import numpy as np
import torch

from ..dynamics.simulation import Weights, to_numpy
from .interventions import kick_mask, simulate_modified
from .runs import as_state, has_direction_switch, index_array, noisy_run, normal_like, switch_times

__all__ = ["KickNeurons", "SilencingEffect", "component_ranks", "discover_kick_neurons", "silencing_effect"]

log = logging.getLogger(__name__)


class KickNeurons(NamedTuple):
    """Automatically discovered kick neurons (§8.3 a-c).

    Attributes
    ----------
    directions : tuple of (int, int)
        Switch directions (source, target), in group order.
    groups : tuple of (num_kick,) int ndarray
        Kick neurons of each direction, by decreasing score (fewer when not enough candidates exist).
    scores : (num_directions, hidden_size) ndarray
        ``transition_mean - cluster_mean`` for candidates of that direction, NaN otherwise.
    transition_mean : (num_directions, hidden_size) ndarray
        Mean pre-activation over the switch windows of each direction.
    cluster_mean : (hidden_size,) ndarray
        Mean pre-activation over cluster states.
    cluster_active_fraction : (hidden_size,) ndarray
        Fraction of cluster states with ``z > 0``.
    num_switches : (num_directions,) int ndarray
        Switches of each direction whose window lies inside the run.
    num_cluster_states : int
    """

    directions: tuple[tuple[int, int], ...]
    groups: tuple[np.ndarray, ...]
    scores: np.ndarray
    transition_mean: np.ndarray
    cluster_mean: np.ndarray
    cluster_active_fraction: np.ndarray
    num_switches: np.ndarray
    num_cluster_states: int

    @property
    def indices(self) -> np.ndarray:
        """All kick neurons, group after group."""
        return np.concatenate(self.groups) if self.groups else np.zeros(0, dtype=np.int64)


def discover_kick_neurons(
    weights: Weights,
    initial_state: torch.Tensor,
    *,
    num_steps: int,
    warmup_steps: int,
    noise_std: float,
    window: tuple[int, int],
    cluster_margin: int,
    min_switches: int,
    max_cluster_active_fraction: float,
    num_kick: int,
    generator: torch.Generator,
    directions: Sequence[tuple[int, int]] | None = None,
) -> KickNeurons:
    """Kick neurons from pre-activation profiles around output switches (§8.3 a-c).

    a. One noisy run (``warmup_steps`` discarded, then ``num_steps`` recorded), outputs ``o_t = argmax W_o h_t``
       and pre-activations ``z_t = W h_{t-1} + W_n x_t``. Directions: ``directions`` if given, otherwise every
       ordered pair (a, b) with at least ``min_switches`` switches a→b, in lexicographic order (for linear chains
       (0, 2) then (2, 0), as §8.3 asks).
    b. For a switch at t, its window is ``z_{t+window[0]} .. z_{t+window[1]}`` (both ends included; switches whose
       window leaves the run are dropped); transition mean = mean over the windows of a direction. Cluster states
       = states more than ``cluster_margin`` steps from every switch; cluster mean and active fraction
       (``z > 0``) over them.
    c. Candidates: active fraction ``< max_cluster_active_fraction``, cluster mean < 0 and transition mean > 0;
       score = transition mean - cluster mean. Each candidate joins the direction where its transition mean
       peaks; each group keeps its top ``num_kick`` by score.

    Parameters
    ----------
    weights : Weights
    initial_state : (hidden_size,) tensor
    num_steps, warmup_steps : int
    noise_std : float
    window : (int, int)
        (-3, 1) in §8.3.
    cluster_margin : int
        10 in §8.3.
    min_switches : int
        20 in §8.3; with explicit ``directions`` a direction below it raises.
    max_cluster_active_fraction : float
        0.05.
    num_kick : int
        n_kick = 3.
    generator : torch.Generator
    directions : sequence of (int, int) or None
    """
    first, last = window
    if first > last:
        raise ValueError(f"window must be (start, end) with start ≤ end; got {window}")
    states, inputs = noisy_run(
        weights, initial_state, num_steps=num_steps, warmup_steps=warmup_steps, noise_std=noise_std, generator=generator
    )
    z = to_numpy(states[:-1] @ weights.W_hh.T + inputs @ weights.W_ih.T)  # z[i] produced states[i + 1]
    outputs = to_numpy((states[1:] @ weights.W_o.T).argmax(dim=-1))  # o[i] of states[i + 1]
    switches = switch_times(outputs)
    pairs = np.stack([outputs[switches - 1], outputs[switches]], axis=1) if switches.size else np.zeros((0, 2), int)
    inside = (switches + first >= 0) & (switches + last < outputs.size)

    if directions is None:
        observed, counts = np.unique(pairs[inside], axis=0, return_counts=True)
        chosen = [tuple(int(v) for v in pair) for pair, n in zip(observed, counts, strict=True) if n >= min_switches]
    else:
        chosen = [(int(a), int(b)) for a, b in directions]
    if not chosen:
        raise ValueError(f"no switch direction occurs ≥ {min_switches} times in {num_steps} steps")

    distance = np.full(outputs.size, np.inf)
    if switches.size:
        position = np.searchsorted(switches, np.arange(outputs.size))
        after = np.abs(switches[np.minimum(position, switches.size - 1)] - np.arange(outputs.size))
        before = np.abs(np.arange(outputs.size) - switches[np.maximum(position - 1, 0)])
        distance = np.minimum(after, before)
    cluster = distance > cluster_margin
    if not cluster.any():
        raise ValueError(f"no state lies more than {cluster_margin} steps from a switch")
    cluster_mean = z[cluster].mean(axis=0)
    active_fraction = (z[cluster] > 0).mean(axis=0)

    offsets = np.arange(first, last + 1)
    transition_mean = np.empty((len(chosen), weights.hidden_size))
    num_switches = np.empty(len(chosen), dtype=np.int64)
    for d, (a, b) in enumerate(chosen):  # loop over the (few) directions only
        times = switches[inside & (pairs[:, 0] == a) & (pairs[:, 1] == b)]
        num_switches[d] = times.size
        if times.size < max(min_switches, 1):
            raise ValueError(f"direction {a}->{b} has {times.size} usable switches; need ≥ {max(min_switches, 1)}")
        transition_mean[d] = z[times[:, None] + offsets[None, :]].mean(axis=(0, 1))

    candidate = (active_fraction < max_cluster_active_fraction) & (cluster_mean < 0) & (transition_mean > 0)
    scores = np.where(candidate, transition_mean - cluster_mean, np.nan)
    peak = np.argmax(transition_mean, axis=0)  # group assignment: the direction where a neuron peaks
    groups = []
    for d, (a, b) in enumerate(chosen):
        members = np.flatnonzero(candidate[d] & (peak == d))
        order = members[np.argsort(-scores[d, members], kind="stable")][:num_kick]
        if order.size < num_kick:
            log.warning("direction %d->%d: only %d kick-neuron candidates (wanted %d)", a, b, order.size, num_kick)
        groups.append(order.astype(np.int64))
    return KickNeurons(
        tuple(chosen),
        tuple(groups),
        scores,
        transition_mean,
        cluster_mean,
        active_fraction,
        num_switches,
        int(cluster.sum()),
    )


def component_ranks(values, indices) -> np.ndarray:
    """1-based rank of each index by decreasing ``|values|`` (§8.3 d: kick neurons' rank in ``|E[δh⁽²⁾]|``).

    Parameters
    ----------
    values : (hidden_size,) array-like
    indices : (n,) int array-like
    """
    magnitude = np.abs(to_numpy(values).ravel())
    rank = np.empty(magnitude.size, dtype=np.int64)
    rank[np.argsort(-magnitude, kind="stable")] = np.arange(1, magnitude.size + 1)
    return rank[index_array(indices, magnitude.size, "indices")]


class SilencingEffect(NamedTuple):
    """Switch rates of one direction with and without silencing a group (§8.3 d).

    Attributes
    ----------
    control_rate : float
        Fraction of unmodified trajectories with at least one source→target switch.
    silenced_rate : float
        The same with the group silenced (identical noise).
    """

    control_rate: float
    silenced_rate: float

    @property
    def relative_reduction(self) -> float:
        """``1 - silenced/control`` (NaN when the control never switches)."""
        return 1 - self.silenced_rate / self.control_rate if self.control_rate > 0 else math.nan


def silencing_effect(
    weights: Weights,
    group,
    initial_state: torch.Tensor,
    *,
    source_output: int,
    target_output: int,
    num_trajectories: int,
    num_steps: int,
    noise_std: float,
    generator: torch.Generator,
    scope: Literal["total", "recurrent"] = "total",
) -> SilencingEffect:
    """Causal cross-check of a kick group: does silencing it stop its direction's switches? (§8.3 d)

    ``num_trajectories`` noisy trajectories of ``num_steps`` steps start at ``initial_state`` (a state of the
    source cluster, e.g. ``track[tc]`` of :func:`locate_cluster_and_transition`), once unmodified and once with
    the group silenced, with the same noise. The output sequence includes the initial state's output.

    Parameters
    ----------
    weights : Weights
    group : (n,) int array-like
    initial_state : (hidden_size,) tensor
    source_output, target_output : int
    num_trajectories, num_steps : int
        100 and 50 in §8.3.
    noise_std : float
    generator : torch.Generator
    scope : {"total", "recurrent"}
        ``"total"`` (default, the brute-force script): the group's whole pre-activation × 0; ``"recurrent"``:
        only its recurrent drive (as the intervention code, §9.22).
    """
    mask = kick_mask(weights.hidden_size, group, scope=scope)
    W = weights.W_hh
    h0 = as_state(weights, initial_state, "initial_state").reshape(-1)
    noise = noise_std * normal_like(generator, W, num_trajectories, num_steps, weights.input_dim)
    ones = torch.ones(weights.hidden_size, dtype=W.dtype, device=W.device)
    recurrent = torch.stack([ones, torch.where(torch.as_tensor(mask.recurrent, device=W.device), 0.0, ones)])
    external = torch.stack([ones, torch.where(torch.as_tensor(mask.input, device=W.device), 0.0, ones)])
    batch = 2 * num_trajectories
    states = simulate_modified(
        weights,
        h0.expand(batch, -1),
        noise.repeat(2, 1, 1),
        recurrent.repeat_interleave(num_trajectories, dim=0),
        external.repeat_interleave(num_trajectories, dim=0),
    )
    outputs = torch.cat([h0.expand(batch, 1, -1), states], dim=1) @ weights.W_o.T
    hits = has_direction_switch(outputs.argmax(dim=-1), source_output, target_output).reshape(2, num_trajectories)
    rates = hits.to(W.dtype).mean(dim=1)
    return SilencingEffect(float(rates[0]), float(rates[1]))
