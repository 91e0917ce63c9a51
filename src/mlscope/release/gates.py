"""Promotion gates: metric thresholds, beat-the-champion, QA simulation, approvals, order.

Each gate returns a GateResult with a reason a person can act on; promotion runs them all (so
one refusal lists every problem) and proceeds only when every one passed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlscope.errors import InputError
from mlscope.release.artifact import RecommenderArtifact
from mlscope.release.audit import AuditLog
from mlscope.release.evaluation import EvalRequest, evaluate, read_requests
from mlscope.release.registry import Registry, VersionInfo
from mlscope.spec.release import (
    ChampionGate,
    EnvironmentGates,
    MetricThreshold,
    SimulationGate,
)

REQUESTS_FILE = "holdout_requests.jsonl"  # saved beside the model by the reference app


class RefusedError(InputError):
    """A policy said no (a gate, a self-approval). Exit code 1: the input itself was fine."""

    exit_code = 1


@dataclass
class GateResult:
    gate: str
    passed: bool
    detail: str
    data: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"gate": self.gate, "passed": self.passed, "detail": self.detail,
                "data": self.data}


@dataclass
class GateContext:
    registry: Registry
    log: AuditLog
    candidate: VersionInfo
    env: str
    spec_dir: Path | None = None
    requests_path: Path | None = None  # overrides every gate's request set
    _artifacts: dict[int, RecommenderArtifact] = field(default_factory=dict)

    @property
    def model(self) -> str:
        return self.candidate.model

    def artifact(self, version: int) -> RecommenderArtifact:
        if version not in self._artifacts:
            self._artifacts[version] = RecommenderArtifact.load(
                self.registry.artifact_dir(self.model, version))
        return self._artifacts[version]

    def requests(self, configured: str | None) -> list[EvalRequest]:
        if self.requests_path is not None:
            return read_requests(self.requests_path)
        if configured:
            path = Path(configured)
            if not path.is_absolute() and self.spec_dir is not None:
                path = self.spec_dir / path
            return read_requests(path)
        return read_requests(self.registry.artifact_dir(self.model, self.candidate.version)
                             / REQUESTS_FILE)


def check_requires(ctx: GateContext, required_env: str) -> GateResult:
    holder = ctx.registry.alias_version(ctx.model, required_env)
    ok = holder == ctx.candidate.version
    detail = (f"v{ctx.candidate.version} holds {required_env}" if ok else
              f"v{ctx.candidate.version} must hold {required_env} first "
              f"({required_env} holds {f'v{holder}' if holder else 'nothing'})")
    return GateResult(f"requires:{required_env}", ok, detail, {"holder": holder})


def check_metrics(metrics: dict[str, float],
                  thresholds: dict[str, MetricThreshold]) -> list[GateResult]:
    out = []
    for name, bound in thresholds.items():
        value = metrics.get(name)
        if value is None:
            out.append(GateResult(f"metric:{name}", False,
                                  f"{name} was not logged for this version",
                                  {"known": sorted(metrics)}))
            continue
        problems = []
        if bound.min is not None and value < bound.min:
            problems.append(f"{name} {value:.4g} < min {bound.min:.4g}")
        if bound.max is not None and value > bound.max:
            problems.append(f"{name} {value:.4g} > max {bound.max:.4g}")
        limits = " and ".join(f"{k} {v:.4g}" for k, v in (("min", bound.min), ("max", bound.max))
                              if v is not None)
        out.append(GateResult(f"metric:{name}", not problems,
                              "; ".join(problems) or f"{name} {value:.4g} within {limits}",
                              {"value": value, "min": bound.min, "max": bound.max}))
    return out


def check_champion(ctx: GateContext, cfg: ChampionGate) -> GateResult:
    from mlscope.release.stats import paired_bootstrap

    against = cfg.against or ctx.env
    champion = ctx.registry.alias_version(ctx.model, against)
    if champion is None:
        return GateResult("beat_champion", True, f"no champion in {against}: nothing to beat")
    if champion == ctx.candidate.version:
        return GateResult("beat_champion", True, f"v{champion} already holds {against}")
    requests = ctx.requests(None)
    cand = evaluate(ctx.artifact(ctx.candidate.version), requests).values[cfg.metric]
    champ = evaluate(ctx.artifact(champion), requests).values[cfg.metric]
    ci = paired_bootstrap(cand, champ, cfg.confidence, cfg.resamples, cfg.seed)
    ok = ci.low > cfg.min_improvement
    level = f"{cfg.confidence:.0%}"
    interval = f"[{ci.low:+.4f}, {ci.high:+.4f}]"
    detail = (f"{cfg.metric} beats champion v{champion} by {ci.mean_difference:+.4f} "
              f"({level} CI {interval} over {ci.n} requests)" if ok else
              f"{cfg.metric} does not beat champion v{champion}: difference "
              f"{ci.mean_difference:+.4f}, {level} CI {interval} over {ci.n} requests; the "
              f"lower bound must exceed {cfg.min_improvement:+.4f}")
    return GateResult("beat_champion", ok, detail,
                      {"champion": champion, "metric": cfg.metric, **ci.as_dict()})


def check_simulation(ctx: GateContext, cfg: SimulationGate) -> GateResult:
    from mlscope.release.qa_simulation import simulate

    requests = ctx.requests(cfg.requests_file)
    res = simulate(ctx.artifact(ctx.candidate.version), requests, cfg.k, cfg.max_requests)
    problems = []
    if res.error_rate > cfg.max_error_rate:
        problems.append(f"error rate {res.error_rate:.2%} > {cfg.max_error_rate:.2%} "
                        f"({'; '.join(res.error_examples[:2])})")
    if res.fallback_rate > cfg.max_fallback_rate:
        problems.append(f"fallback rate {res.fallback_rate:.2%} > {cfg.max_fallback_rate:.2%} "
                        "(users the model does not know)")
    if res.p99_ms > cfg.p99_latency_ms:
        problems.append(f"p99 latency {res.p99_ms:.2f} ms > budget {cfg.p99_latency_ms:g} ms")
    summary = (f"{res.requests} requests replayed: error rate {res.error_rate:.2%}, fallback "
               f"rate {res.fallback_rate:.2%}, p50 {res.p50_ms:.2f} ms, p99 {res.p99_ms:.2f} ms")
    return GateResult("simulation", not problems,
                      "; ".join(problems) if problems else summary, res.as_dict())


def check_approvals(ctx: GateContext, needed: int) -> GateResult:
    from mlscope.release.approvals import approvals_for, author_of

    verdict = ctx.log.verify()
    if not verdict.ok:
        return GateResult("approvals", False, f"the audit log is not intact ({verdict.message}); "
                          "approvals recorded in it cannot be trusted", verdict.as_dict())
    author = author_of(ctx.log, ctx.model, ctx.candidate.version, ctx.candidate.author)
    if author is None:
        return GateResult("approvals", False,
                          f"the author of v{ctx.candidate.version} is unknown, so independent "
                          "approval cannot be checked (register versions with mlscope)")
    found = approvals_for(ctx.log, ctx.model, ctx.candidate.version, ctx.env)
    valid = [a.actor for a in found if a.actor != author]
    ok = len(valid) >= needed
    detail = (f"{len(valid)} of {needed} approvals for {ctx.env} from people other than the "
              f"author {author}" + (f": {', '.join(valid)}" if valid else ""))
    return GateResult("approvals", ok, detail, {"needed": needed, "approvers": valid,
                                                "author": author})


def _guarded(name: str, check: Callable[[], GateResult]) -> GateResult:
    # A gate that cannot run (no request set, unreadable file) fails with its reason.
    try:
        return check()
    except InputError as exc:
        return GateResult(name, False, exc.one_line())


def run_gates(ctx: GateContext, gates: EnvironmentGates | None) -> list[GateResult]:
    """Every configured gate for the target environment; an empty list when none is set."""
    if gates is None:
        return []
    results: list[GateResult] = []
    if gates.requires:
        results.append(check_requires(ctx, gates.requires))
    results.extend(check_metrics(ctx.candidate.metrics, gates.metrics))
    champion_cfg, simulation_cfg = gates.beat_champion, gates.simulation
    if champion_cfg is not None:
        results.append(_guarded("beat_champion", lambda: check_champion(ctx, champion_cfg)))
    if simulation_cfg is not None:
        results.append(_guarded("simulation", lambda: check_simulation(ctx, simulation_cfg)))
    if gates.approvals:
        results.append(check_approvals(ctx, gates.approvals))
    return results
