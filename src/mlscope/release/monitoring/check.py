"""One monitoring check of an environment: service health and data drift against thresholds."""

from __future__ import annotations

import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlscope.errors import InputError
from mlscope.release.monitoring.health import Thresholds, breaches, parse_health
from mlscope.release.monitoring.report import drift_report


def read_metrics(url: str | None = None, file: str | Path | None = None,
                 timeout: float = 10.0) -> str:
    """The Prometheus text of a running service (URL) or a saved scrape (file)."""
    if file is not None:
        p = Path(file)
        if not p.is_file():
            raise InputError(f"no metrics file at {p}", "give a saved /metrics scrape")
        return p.read_text(encoding="utf-8", errors="replace")
    if url is None:
        raise InputError("no metrics source", "give --metrics-url URL or --metrics-file FILE")
    if not url.startswith(("http://", "https://")):
        raise InputError(f"metrics URL must be http(s): {url}",
                         "e.g. --metrics-url http://127.0.0.1:8080/metrics")
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return resp.read().decode("utf-8", errors="replace")
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise InputError(f"cannot read metrics from {url}: {exc}",
                         "is the service running? check the URL and port") from exc


@dataclass
class CheckResult:
    env: str
    health: dict[str, Any] | None
    drift: dict[str, Any] | None
    breaches: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.breaches

    def as_dict(self) -> dict[str, Any]:
        return {"env": self.env, "ok": self.ok, "breaches": self.breaches,
                "health": self.health, "drift": self.drift}


def run_check(env: str, limits: Thresholds, metrics_text: str | None = None,
              reference: str | None = None, current: str | None = None,
              columns: list[str] | None = None) -> CheckResult:
    if metrics_text is None and not (reference and current):
        raise InputError("nothing to check",
                         "give --metrics-url/--metrics-file, or --reference and --current")
    if bool(reference) != bool(current):
        raise InputError("drift needs both windows", "give --reference and --current together")
    result = CheckResult(env, None, None)
    if metrics_text is not None:
        health = parse_health(metrics_text)
        result.health = health.as_dict()
        result.breaches += breaches(health, limits)
    if reference and current:
        drift = drift_report(reference, current, columns)
        result.drift = drift
        drifted = [f["name"] for f in drift["features"] if f["drift"]]
        if drifted:
            result.breaches.append(f"data drift in {', '.join(drifted)}")
    return result
