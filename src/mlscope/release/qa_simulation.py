"""QA simulation: replay a held-out request set against a candidate, in process.

An error is an exception other than "unknown user" or an answer that breaks the contract
(wrong length, repeated items, non-finite scores, items the user already has). An unknown user
is a fallback: serving would answer with the popular-items baseline. Latency is wall-clock per
request, measured with perf_counter.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from mlscope.release.evaluation import EvalRequest, Ranker


@dataclass
class SimulationResult:
    requests: int
    errors: int
    fallbacks: int
    p50_ms: float
    p99_ms: float
    error_examples: list[str] = field(default_factory=list)

    @property
    def error_rate(self) -> float:
        return self.errors / self.requests if self.requests else 0.0

    @property
    def fallback_rate(self) -> float:
        return self.fallbacks / self.requests if self.requests else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "error_rate": self.error_rate, "fallback_rate": self.fallback_rate}


def _contract_problem(answer: list[tuple[str, float]], k: int, exclude: set[str],
                      n_items: int | None) -> str | None:
    expected = k if n_items is None else min(k, max(n_items - len(exclude), 0))
    if len(answer) != expected:
        return f"returned {len(answer)} items, expected {expected}"
    items = [item for item, _ in answer]
    if len(set(items)) != len(items):
        return "repeated items"
    if any(not math.isfinite(score) for _, score in answer):
        return "non-finite score"
    if exclude.intersection(items):
        return "recommended an item the user already has"
    return None


def simulate(model: Ranker, requests: list[EvalRequest], k: int = 10,
             max_requests: int | None = None) -> SimulationResult:
    """Replay requests (the first `max_requests`) and count errors, fallbacks and latency."""
    chosen = requests[:max_requests] if max_requests else requests
    n_items = len(getattr(model, "item_ids", [])) or None
    latencies: list[float] = []
    errors = fallbacks = 0
    examples: list[str] = []
    for req in chosen:
        exclude = set(req.exclude)
        start = time.perf_counter()
        problem: str | None
        try:
            answer = model.recommend(req.user_id, k, exclude)
            problem = _contract_problem(answer, k, exclude, n_items)
        except KeyError:
            fallbacks += 1
            problem = None
        except Exception as exc:  # any other failure is exactly what QA must catch
            problem = f"{type(exc).__name__}: {exc}"
        latencies.append((time.perf_counter() - start) * 1000.0)
        if problem:
            errors += 1
            if len(examples) < 5:
                examples.append(f"user {req.user_id}: {problem}")
    lat = np.asarray(latencies) if latencies else np.zeros(1)
    return SimulationResult(len(chosen), errors, fallbacks, float(np.percentile(lat, 50)),
                            float(np.percentile(lat, 99)), examples)
