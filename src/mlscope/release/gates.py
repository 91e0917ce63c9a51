"""Promotion gates: order, metric thresholds, beat-the-champion, QA simulation, approvals.

Each gate returns a GateResult with a reason a person can act on; promotion runs them all (so
one refusal lists every problem) and proceeds only when every one passed. The gates come from
the policy (never from the caller); the champion and the candidate are both scored on the
policy's pinned evaluation set; anything that cannot be read fails the gate closed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlscope.errors import InputError
from mlscope.release.approvals import Registration, check_approvals
from mlscope.release.audit import AuditLog
from mlscope.release.base import GateResult
from mlscope.release.evaluation import EvalSet, evaluate, read_set
from mlscope.release.policy import Policy
from mlscope.release.registry import Registry, RegistryUnavailableError, VersionInfo
from mlscope.spec.release import (
    ChampionGate,
    EnvironmentGates,
    ExperimentGate,
    MetricThreshold,
    SimulationGate,
)


@dataclass
class GateContext:
    registry: Registry
    log: AuditLog
    policy: Policy
    candidate: VersionInfo
    registration: Registration
    entries: list[dict[str, Any]]
    env: str
    requests_override: Path | None = None  # recorded; refused for production
    _models: dict[int, Any] = field(default_factory=dict)
    _evalset: EvalSet | None = None
    approval_hashes: list[str] = field(default_factory=list)

    @property
    def model(self) -> str:
        return self.candidate.model

    def pyfunc(self, version: int, digest: str) -> Any:
        """The version's pyfunc model, loaded only after its digest matched registration."""
        from mlscope.release.pyfunc import load_pyfunc

        if version not in self._models:
            directory = self.registry.verified_artifact_dir(self.model, version, digest)
            self._models[version] = load_pyfunc(directory)
        return self._models[version]

    def evalset(self) -> EvalSet:
        if self._evalset is None:
            spec = self.policy.evaluation
            if spec is None:
                raise InputError("the policy pins no evaluation set (release.evaluation)")
            path = self.requests_override or self.policy.evaluation_path
            assert path is not None
            self._evalset = read_set(path, spec.task)
        return self._evalset


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
    from mlscope.release.approvals import registration
    from mlscope.release.stats import paired_bootstrap

    against = cfg.against or ctx.env
    try:
        champion = ctx.registry.alias_version(ctx.model, against)
    except RegistryUnavailableError as exc:
        return GateResult("beat_champion", False, f"cannot determine the champion: "
                          f"{exc.problem}", {"against": against})
    if champion is None:
        return GateResult("beat_champion", True, f"no champion in {against}: nothing to beat")
    if champion == ctx.candidate.version:
        return GateResult("beat_champion", True, f"v{champion} already holds {against}")
    champ_reg = registration(ctx.entries, ctx.model, champion)
    if champ_reg is None:
        return GateResult("beat_champion", False, f"cannot determine the champion: v{champion} "
                          "has no registration in the audit log")
    evalset = ctx.evalset()
    cand = evaluate(ctx.pyfunc(ctx.candidate.version, ctx.registration.artifact_digest),
                    evalset).values[cfg.metric]
    champ = evaluate(ctx.pyfunc(champion, champ_reg.artifact_digest), evalset).values[cfg.metric]
    ci = paired_bootstrap(cand, champ, cfg.confidence, cfg.resamples, cfg.seed)
    ok = ci.low > cfg.min_improvement
    level = f"{cfg.confidence:.0%}"
    interval = f"[{ci.low:+.4f}, {ci.high:+.4f}]"
    detail = (f"{cfg.metric} beats champion v{champion} by {ci.mean_difference:+.4f} "
              f"({level} CI {interval} over {ci.n} rows)" if ok else
              f"{cfg.metric} does not beat champion v{champion}: difference "
              f"{ci.mean_difference:+.4f}, {level} CI {interval} over {ci.n} rows; the "
              f"lower bound must exceed {cfg.min_improvement:+.4f}")
    return GateResult("beat_champion", ok, detail,
                      {"champion": champion, "metric": cfg.metric, **ci.as_dict()})


def check_simulation(ctx: GateContext, cfg: SimulationGate) -> GateResult:
    from mlscope.release.qa_simulation import simulate

    res = simulate(ctx.pyfunc(ctx.candidate.version, ctx.registration.artifact_digest),
                   ctx.evalset(), cfg.k, cfg.max_requests)
    problems = []
    if res.error_rate > cfg.max_error_rate:
        problems.append(f"error rate {res.error_rate:.2%} > {cfg.max_error_rate:.2%} "
                        f"({'; '.join(res.error_examples[:2])})")
    if res.fallback_rate > cfg.max_fallback_rate:
        problems.append(f"fallback rate {res.fallback_rate:.2%} > {cfg.max_fallback_rate:.2%}")
    if res.p99_ms > cfg.p99_latency_ms:
        problems.append(f"p99 latency {res.p99_ms:.2f} ms > budget {cfg.p99_latency_ms:g} ms")
    summary = (f"{res.requests} requests replayed: error rate {res.error_rate:.2%}, fallback "
               f"rate {res.fallback_rate:.2%}, p50 {res.p50_ms:.2f} ms, p99 {res.p99_ms:.2f} ms")
    return GateResult("simulation", not problems,
                      "; ".join(problems) if problems else summary, res.as_dict())


def check_approvals_gate(ctx: GateContext, needed: int) -> GateResult:
    production = ctx.env == ctx.policy.production
    found = check_approvals(ctx.log, ctx.entries, ctx.registration, ctx.env,
                            ctx.policy.signers, ctx.policy.approvers(ctx.env),
                            require_signed=production)
    ctx.approval_hashes = [a.entry_hash for a in found.valid]
    names = [a.actor for a in found.valid]
    data = {"needed": needed, "approvers": names, "author": ctx.registration.author,
            "ignored": found.ignored, "rejected_by": [r.actor for r in found.rejections]}
    if found.rejections:
        return GateResult("approvals", False, "rejected by "
                          + ", ".join(f"{r.actor} ({r.reason})" for r in found.rejections), data)
    ok = len(names) >= needed
    kind = "signed approvals" if production else "approvals"
    detail = (f"{len(names)} of {needed} {kind} for {ctx.env} from people other than the "
              f"author {ctx.registration.author}" + (f": {', '.join(names)}" if names else ""))
    if found.ignored and not ok:
        detail += f"; not counted: {'; '.join(found.ignored[:3])}"
    return GateResult("approvals", ok, detail, data)


def measured_metrics(ctx: GateContext, gates: EnvironmentGates) -> dict[str, float]:
    """Metrics the thresholds compare: those the evaluation task defines are measured on the
    pinned evaluation set (a training run's own numbers are the caller's claim); others
    (e.g. rmse) come from the training run."""
    from mlscope.spec.release import PER_ROW_METRICS

    values = dict(ctx.candidate.metrics)
    task = ctx.policy.evaluation.task if ctx.policy.evaluation else None
    wanted = [m for m in gates.metrics if task and m in PER_ROW_METRICS[task]]
    if wanted:
        ev = evaluate(ctx.pyfunc(ctx.candidate.version, ctx.registration.artifact_digest),
                      ctx.evalset())
        values.update({m: ev.mean(m) for m in wanted if m in ev.values})
    return values


def _guarded_many(check: Callable[[], list[GateResult]]) -> list[GateResult]:
    try:
        return check()
    except InputError as exc:
        return [GateResult("metrics", False, exc.one_line())]


def _guarded(name: str, check: Callable[[], GateResult]) -> GateResult:
    # A gate that cannot run (unreadable set, registry, model) fails with its reason.
    try:
        return check()
    except RegistryUnavailableError as exc:
        return GateResult(name, False, f"cannot determine the champion: {exc.problem}")
    except InputError as exc:
        return GateResult(name, False, exc.one_line())


def run_gates(ctx: GateContext, gates: EnvironmentGates) -> list[GateResult]:
    """Every gate the policy sets for the target environment."""
    results: list[GateResult] = []
    if gates.requires:
        req = gates.requires
        results.append(_guarded(f"requires:{req}", lambda: check_requires(ctx, req)))
    results.extend(_guarded_many(lambda: check_metrics(measured_metrics(ctx, gates),
                                                       gates.metrics)))
    champion_cfg, simulation_cfg = gates.beat_champion, gates.simulation
    if champion_cfg is not None:
        results.append(_guarded("beat_champion", lambda: check_champion(ctx, champion_cfg)))
    if simulation_cfg is not None:
        results.append(_guarded("simulation", lambda: check_simulation(ctx, simulation_cfg)))
    experiment_cfg = gates.experiment
    if experiment_cfg is not None:
        results.append(_guarded("experiment", lambda: check_experiment(ctx, experiment_cfg)))
    if gates.approvals:
        results.append(check_approvals_gate(ctx, gates.approvals))
    return results


def check_experiment(ctx: GateContext, cfg: ExperimentGate) -> GateResult:
    from mlscope.release.experiments.record import latest_decision

    production = ctx.env == ctx.policy.production
    found, ignored = latest_decision(ctx.log, ctx.entries, ctx.policy.signers, ctx.registration,
                                     cfg.name, cfg.metric, cfg.max_age_hours,
                                     require_signed=production)
    data = {"experiment": cfg.name, "metric": cfg.metric, "ignored": ignored,
            "decision": found}
    if found is None:
        why = f"; not counted: {'; '.join(ignored[:3])}" if ignored else ""
        return GateResult("experiment", False, f"no decision of experiment '{cfg.name}' on "
                          f"{cfg.metric} names this version's artifact{why}", data)
    ok = found["decision"] == "ship"
    return GateResult("experiment", ok, f"experiment '{cfg.name}' decided "
                      f"{found['decision']} (entry {found['seq']}, {found['ts']})", data)
