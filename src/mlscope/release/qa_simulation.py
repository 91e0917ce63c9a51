"""QA simulation: replay the policy's evaluation set against a candidate, one request at a time,
through the pyfunc interface (what serving calls).

An error is an exception or an answer that breaks the contract: not one row per input,
non-finite numbers, and for rankers repeated items or items the user already has. A ranker's
`fallback` answer (an unknown user served the popularity baseline) counts as a fallback.
Latency is wall-clock per request, measured with perf_counter.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from mlscope.release.evaluation import EvalSet
from mlscope.release.pyfunc import all_finite, raw_records


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


def _contract_problem(task: str, row: dict[str, Any], answer: list[Any], k: int) -> str | None:
    if len(answer) != 1:
        return f"returned {len(answer)} rows for 1 input"
    if not all_finite(answer):
        return "non-finite output"
    if task != "ranking":
        return None
    pred = answer[0]
    items = [str(x) for x in pred.get("items") or []]
    if len(set(items)) != len(items):
        return "repeated items"
    if set(row.get("exclude", [])).intersection(items):
        return "recommended an item the user already has"
    if len(items) > k:
        return f"returned {len(items)} items for k={k}"
    return None


def simulate(model: Any, evalset: EvalSet, k: int = 10,
             max_requests: int | None = None) -> SimulationResult:
    """Replay rows (the first `max_requests`) and count errors, fallbacks and latency."""
    chosen = evalset.rows[:max_requests] if max_requests else evalset.rows
    latencies: list[float] = []
    errors = fallbacks = 0
    examples: list[str] = []
    for number, row in enumerate(chosen, start=1):
        frame = evalset.frame([row])
        start = time.perf_counter()
        problem: str | None
        try:
            answer = raw_records(model.predict(frame))
            problem = _contract_problem(evalset.task, row, answer, k)
            if problem is None and evalset.task == "ranking" and answer[0].get("fallback"):
                fallbacks += 1
        except Exception as exc:  # any failure is exactly what QA must catch
            problem = f"{type(exc).__name__}: {str(exc)[:120]}"
        latencies.append((time.perf_counter() - start) * 1000.0)
        if problem:
            errors += 1
            if len(examples) < 5:
                examples.append(f"row {number}: {problem}")
    lat = np.asarray(latencies) if latencies else np.zeros(1)
    return SimulationResult(len(chosen), errors, fallbacks, float(np.percentile(lat, 50)),
                            float(np.percentile(lat, 99)), examples)
