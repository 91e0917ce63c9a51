"""Prometheus metrics of one app (its own registry, so several apps can share a process)."""

from __future__ import annotations

import contextlib

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

# Latency buckets in seconds: sub-millisecond model calls up to slow outliers.
LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


class ServingMetrics:
    def __init__(self, model_name: str) -> None:
        self.model_name = model_name
        self.registry = CollectorRegistry()
        self.requests = Counter("mlscope_requests_total", "HTTP requests by route and status.",
                                ["route", "method", "status"], registry=self.registry)
        self.latency = Histogram("mlscope_request_latency_seconds", "Request latency by route.",
                                 ["route"], buckets=LATENCY_BUCKETS, registry=self.registry)
        self.errors = Counter("mlscope_errors_total",
                              "Errors by kind (model, invalid_input, internal, reload).",
                              ["kind"], registry=self.registry)
        self.fallbacks = Counter("mlscope_fallbacks_total",
                                 "Answers served by the popularity baseline, by reason.",
                                 ["reason"], registry=self.registry)
        self.model_version = Gauge("mlscope_model_version_info",
                                   "1 for the model version being served.",
                                   ["model", "version"], registry=self.registry)
        self.swaps = Counter("mlscope_model_swaps_total", "Hot swaps to a new model version.",
                             registry=self.registry)

    def set_version(self, previous: str | None, version: str) -> None:
        if previous is not None and previous != version:
            with contextlib.suppress(KeyError):
                self.model_version.remove(self.model_name, previous)
        self.model_version.labels(self.model_name, version).set(1)
        if previous is not None:
            self.swaps.inc()
