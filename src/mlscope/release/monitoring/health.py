"""Service health from the prediction service's own Prometheus metrics.

The text exposition is parsed with prometheus_client's parser; latency quantiles are estimated
from the histogram buckets the way Prometheus's `histogram_quantile` does (linear within the
bucket that holds the rank; a rank in the +Inf bucket gets the last finite bound). Rates count
prediction requests only: health, metrics and admin routes are left out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from mlscope.errors import InputError, require

NOT_PREDICTIONS = ("/metrics", "/healthz", "/health", "/ping", "/admin", "/outcome", "/docs",
                   "/openapi.json")


@dataclass(frozen=True)
class Health:
    requests: float
    errors: float
    fallbacks: float
    p99_seconds: float | None

    @property
    def error_rate(self) -> float:
        return self.errors / self.requests if self.requests else 0.0

    @property
    def fallback_rate(self) -> float:
        return self.fallbacks / self.requests if self.requests else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {"requests": self.requests, "error_rate": self.error_rate,
                "fallback_rate": self.fallback_rate,
                "p99_ms": None if self.p99_seconds is None else self.p99_seconds * 1000}


def _is_prediction(route: str) -> bool:
    return not any(route == p or route.startswith(p + "/") for p in NOT_PREDICTIONS)


def histogram_quantile(q: float, buckets: list[tuple[float, float]]) -> float | None:
    """Quantile from cumulative (upper bound, count) pairs, as Prometheus estimates it."""
    buckets = sorted(buckets)
    if not buckets or buckets[-1][1] <= 0:
        return None
    rank = q * buckets[-1][1]
    prev_bound, prev_count = 0.0, 0.0
    for bound, count in buckets:
        if count >= rank:
            if math.isinf(bound):
                return prev_bound
            if count == prev_count:
                return bound
            return prev_bound + (bound - prev_bound) * (rank - prev_count) / (count - prev_count)
        prev_bound, prev_count = bound, count
    return prev_bound


def parse_health(text: str) -> Health:
    parser = require("prometheus_client.parser", "serving", "prometheus-client")
    requests = errors = fallbacks = 0.0
    buckets: dict[float, float] = {}
    try:
        families = list(parser.text_string_to_metric_families(text))
    except Exception as exc:  # the parser raises ValueError and others on bad text
        raise InputError(f"not Prometheus metrics: {exc}",
                         "point --metrics-url at the service's /metrics") from exc
    for family in families:
        for s in family.samples:
            route = s.labels.get("route", "")
            if s.name == "mlscope_requests_total" and _is_prediction(route):
                requests += s.value
                if s.labels.get("status", "").startswith("5"):
                    errors += s.value
            elif s.name == "mlscope_fallbacks_total":
                fallbacks += s.value
            elif s.name == "mlscope_request_latency_seconds_bucket" and _is_prediction(route):
                bound = float(s.labels["le"])
                buckets[bound] = buckets.get(bound, 0.0) + s.value
    if not families or not any(f.name.startswith("mlscope_") for f in families):
        raise InputError("the metrics have no mlscope_ series",
                         "point --metrics-url at an mlscope prediction service's /metrics")
    return Health(requests, errors, fallbacks, histogram_quantile(0.99, list(buckets.items())))


@dataclass(frozen=True)
class Thresholds:
    max_error_rate: float = 0.01
    max_fallback_rate: float = 0.05
    max_p99_ms: float | None = None
    min_requests: float = 100  # below this, rates are too noisy to act on


def breaches(health: Health, limits: Thresholds) -> list[str]:
    out: list[str] = []
    if health.requests < limits.min_requests:
        return out
    if health.error_rate > limits.max_error_rate:
        out.append(f"error rate {health.error_rate:.2%} > {limits.max_error_rate:.2%}")
    if health.fallback_rate > limits.max_fallback_rate:
        out.append(f"fallback rate {health.fallback_rate:.2%} > {limits.max_fallback_rate:.2%}")
    if (limits.max_p99_ms is not None and health.p99_seconds is not None
            and health.p99_seconds * 1000 > limits.max_p99_ms):
        out.append(f"p99 latency {health.p99_seconds * 1000:.0f} ms > {limits.max_p99_ms:g} ms")
    return out
