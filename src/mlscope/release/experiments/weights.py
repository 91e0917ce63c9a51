"""Traffic shares of an experiment, and keeping SageMaker production-variant weights in step.

On the local service the split happens per request (sticky hash or bandit); on a SageMaker
endpoint the traffic is split by the production variants' weights, so the same configuration is
turned into weights: a fixed split as configured; Thompson sampling as the posterior
probability that each arm is best (the share it would route: probability matching, estimated
from seeded Beta/normal draws); epsilon-greedy as 1 - epsilon to the best mean plus epsilon / k
to each; UCB1, which is deterministic per request, as its recent pull shares.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mlscope.errors import InputError
from mlscope.release.experiments.bandits import BanditState


def bandit_shares(state: BanditState, draws: int = 20_000, seed: int = 0) -> dict[str, float]:
    pulls = np.asarray(state.pulls, dtype=np.float64)
    sums = np.asarray(state.reward_sum, dtype=np.float64)
    k = len(state.arms)
    if state.policy in {"thompson", "thompson-gaussian"}:
        rng = np.random.default_rng(seed)
        if state.policy == "thompson":
            samples = rng.beta(1 + sums, 1 + pulls - sums, size=(draws, k))
        else:
            means = np.divide(sums, pulls, out=np.zeros_like(sums), where=pulls > 0)
            sq = np.asarray(state.reward_sq, dtype=np.float64)
            var = np.divide(sq - pulls * means**2, pulls - 1, out=np.ones_like(sums),
                            where=pulls > 1)
            sd = np.sqrt(np.maximum(var, 1e-12) / np.maximum(pulls, 1))
            sd[pulls == 0] = 1e6
            samples = rng.normal(means, sd, size=(draws, k))
        wins = np.bincount(samples.argmax(axis=1), minlength=k) / draws
        return dict(zip(state.arms, wins.tolist(), strict=True))
    if state.policy == "epsilon":
        means = np.divide(sums, pulls, out=np.zeros_like(sums), where=pulls > 0)
        shares = np.full(k, state.epsilon / k)
        shares[int(np.argmax(means))] += 1 - state.epsilon
        return dict(zip(state.arms, shares.tolist(), strict=True))
    total = pulls.sum()
    if total == 0:
        return {a: 1 / k for a in state.arms}
    return dict(zip(state.arms, (pulls / total).tolist(), strict=True))


def variant_weights(shares: dict[str, float], variants: dict[str, str]) -> dict[str, float]:
    """Experiment arm shares renamed to the endpoint's production-variant names."""
    missing = sorted(set(shares) - set(variants))
    if missing:
        raise InputError(f"no endpoint variant given for {', '.join(missing)}",
                         "map every arm, e.g. --variants champion=v1,challenger=v2")
    return {variants[arm]: round(share, 6) for arm, share in shares.items()}


def sync_endpoint(endpoint: str, shares: dict[str, float], variants: dict[str, str],
                  settings: Any, clients: Any = None, reason: str = "") -> dict[str, Any]:
    from mlscope.release.deploy.aws import shift_traffic

    weights = variant_weights(shares, variants)
    return shift_traffic(endpoint, weights, settings, clients=clients,
                         reason=reason or "experiment traffic shares")
