"""Bandit routing policies and a seeded simulator of their regret.

Policies keep their state as plain counts (persisted by the service as JSON) and are updated
from posted outcomes. Thompson sampling draws from Beta(1 + successes, 1 + failures) for 0/1
rewards, or from a normal posterior of the mean for numeric rewards; UCB1 follows Auer et al.
(2002): mean + sqrt(2 ln t / n); epsilon-greedy explores with probability epsilon.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mlscope.errors import InputError

POLICIES = ("thompson", "thompson-gaussian", "ucb1", "epsilon")


@dataclass
class BanditState:
    arms: list[str]
    policy: str
    epsilon: float = 0.1
    pulls: list[int] = field(default_factory=list)
    reward_sum: list[float] = field(default_factory=list)
    reward_sq: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.policy not in POLICIES:
            raise InputError(f"unknown policy '{self.policy}'", f"use one of {', '.join(POLICIES)}")
        if len(self.arms) < 2:
            raise InputError("a bandit needs at least two arms")
        if not (0 <= self.epsilon <= 1):
            raise InputError(f"epsilon must be in [0, 1], got {self.epsilon}")
        k = len(self.arms)
        self.pulls = self.pulls or [0] * k
        self.reward_sum = self.reward_sum or [0.0] * k
        self.reward_sq = self.reward_sq or [0.0] * k

    def choose(self, rng: np.random.Generator) -> int:
        pulls = np.asarray(self.pulls, dtype=np.float64)
        sums = np.asarray(self.reward_sum, dtype=np.float64)
        if self.policy == "thompson":
            return int(np.argmax(rng.beta(1 + sums, 1 + pulls - sums)))
        if self.policy == "thompson-gaussian":
            means = np.divide(sums, pulls, out=np.zeros_like(sums), where=pulls > 0)
            var = np.divide(np.asarray(self.reward_sq) - pulls * means**2, pulls - 1,
                            out=np.ones_like(sums), where=pulls > 1)
            sd = np.sqrt(np.maximum(var, 1e-12) / np.maximum(pulls, 1))
            sd[pulls == 0] = 1e6  # an arm never tried is worth a try
            return int(np.argmax(rng.normal(means, sd)))
        untried = np.flatnonzero(pulls == 0)
        if len(untried):
            return int(untried[0])
        means = sums / pulls
        if self.policy == "ucb1":
            return int(np.argmax(means + np.sqrt(2 * math.log(pulls.sum()) / pulls)))
        if rng.random() < self.epsilon:
            return int(rng.integers(len(self.arms)))
        return int(np.argmax(means))

    def update(self, arm: int, reward: float) -> None:
        if not math.isfinite(reward):
            raise InputError(f"reward must be a finite number, got {reward}")
        if self.policy == "thompson" and reward not in (0.0, 1.0):
            raise InputError(f"Beta Thompson sampling needs 0/1 rewards, got {reward}",
                             "use policy thompson-gaussian for numeric rewards")
        self.pulls[arm] += 1
        self.reward_sum[arm] += reward
        self.reward_sq[arm] += reward * reward

    def as_dict(self) -> dict[str, Any]:
        return {"arms": self.arms, "policy": self.policy, "epsilon": self.epsilon,
                "pulls": self.pulls, "reward_sum": self.reward_sum, "reward_sq": self.reward_sq}


def parse_arms(text: str) -> list[float]:
    try:
        rates = [float(x) for x in text.split(",")]
    except ValueError:
        raise InputError(f"bad arm rates '{text}'", "write rates as 0.05,0.06,0.07") from None
    if len(rates) < 2 or not all(math.isfinite(r) and 0 <= r <= 1 for r in rates):
        raise InputError(f"arm rates must be at least two probabilities in [0, 1], got '{text}'",
                         "write rates as 0.05,0.06,0.07")
    return rates


def simulate(rates: list[float], horizon: int, policy: str, seed: int = 0,
             epsilon: float = 0.1) -> dict[str, Any]:
    """Bernoulli arms; cumulative expected regret = sum over t of (best rate - chosen rate)."""
    if horizon < 1:
        raise InputError(f"horizon must be at least 1, got {horizon}")
    rng = np.random.default_rng(seed)
    state = BanditState([f"arm{i}" for i in range(len(rates))], policy, epsilon)
    best = max(rates)
    regret = 0.0
    checkpoints: dict[int, float] = {}
    marks = {int(horizon * f) for f in (0.1, 0.25, 0.5, 1.0)} - {0}
    for t in range(1, horizon + 1):
        arm = state.choose(rng)
        state.update(arm, float(rng.random() < rates[arm]))
        regret += best - rates[arm]
        if t in marks:
            checkpoints[t] = regret
    return {"policy": policy, "arms": rates, "horizon": horizon, "seed": seed,
            "regret": regret, "regret_at": {str(k): v for k, v in sorted(checkpoints.items())},
            "pulls": state.pulls, "best_arm_share": state.pulls[rates.index(best)] / horizon}
