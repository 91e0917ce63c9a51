"""Spec sections `release` and `serving` (owned by the release engine).

```yaml
release:
  model_name: retail-recs
  environments: [dev, qa, prod]
  allowed_signers: release/allowed_signers      # committed: who may sign approvals
  evaluation: {path: release/eval.jsonl, sha256: 9f2c..., task: ranking}
  approvers: {prod: [carol@example.com, dave@example.com]}
  gates:
    qa:
      metrics: {ndcg_at_10: {min: 0.10}, rmse: {max: 1.10}}
      beat_champion: {metric: ndcg_at_10, confidence: 0.95}
      simulation: {max_error_rate: 0.0, p99_latency_ms: 50}
    prod:
      requires: qa
      approvals: 2
```
"""

from __future__ import annotations

import re

from pydantic import Field, field_validator, model_validator

from mlscope.spec.base import SpecModel

_ENV = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,63}")


def _env_name(value: str) -> str:
    if not _ENV.fullmatch(value) or re.fullmatch(r"[vV][0-9]+", value):
        raise ValueError(f"'{value}' is not an environment name (use e.g. dev, qa, prod)")
    return value


class MetricThreshold(SpecModel):
    """Bounds on a metric the training run logged (`min` for higher-is-better metrics)."""

    min: float | None = Field(None, description="The metric must be at least this.")
    max: float | None = Field(None, description="The metric must be at most this.")

    @model_validator(mode="after")
    def _one_bound(self) -> MetricThreshold:
        if self.min is None and self.max is None:
            raise ValueError("give `min`, `max` or both")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError("`min` is larger than `max`")
        return self


PER_ROW_METRICS = {"ranking": ("ndcg_at_10", "precision_at_10"),
                   "classification": ("accuracy", "log_loss")}


class ChampionGate(SpecModel):
    """The candidate must beat the current holder by a paired bootstrap confidence interval,
    both scored on the policy's pinned evaluation set (never the candidate's own)."""

    metric: str = Field("ndcg_at_10", description="Per-row metric of the evaluation task: "
                        "ndcg_at_10, precision_at_10 (ranking), accuracy (classification).")
    min_improvement: float = Field(
        0.0, description="The CI's lower bound of (candidate - champion) must exceed this.")
    confidence: float = Field(0.95, gt=0.5, lt=1.0, description="Two-sided confidence level.")
    resamples: int = Field(2000, ge=200, le=100_000)
    seed: int = 0
    against: str | None = Field(
        None, description="Environment whose holder is the champion (default: the target).")

    @field_validator("metric")
    @classmethod
    def _known_metric(cls, value: str) -> str:
        known = sorted({m for ms in PER_ROW_METRICS.values() for m in ms} - {"log_loss"})
        if value not in known:
            raise ValueError(f"'{value}' is not a per-row metric ({', '.join(known)})")
        return value


class SimulationGate(SpecModel):
    """Replay the policy's evaluation set through the candidate's pyfunc interface: error
    rate, fallback rate and latency budget."""

    max_requests: int | None = Field(1000, ge=1, description="Replay at most this many.")
    k: int = Field(10, ge=1, le=1000)
    max_error_rate: float = Field(0.0, ge=0.0, le=1.0)
    max_fallback_rate: float = Field(
        0.05, ge=0.0, le=1.0,
        description="Share of requests the model cannot answer (unknown user).")
    p99_latency_ms: float = Field(50.0, gt=0)


class ExperimentGate(SpecModel):
    """The candidate must have won an online experiment: a signed `experiment decide` entry
    in the audit log with decision `ship`, naming this version's artifact digest."""

    name: str = Field(min_length=1, description="The experiment (`serve --experiment NAME`).")
    metric: str = Field(min_length=1, description="The metric the decision was taken on.")
    max_age_hours: float = Field(168.0, gt=0, description="A decision older than this is stale.")


class EnvironmentGates(SpecModel):
    requires: str | None = Field(
        None, description="The version must currently hold this environment (e.g. qa before prod).")
    metrics: dict[str, MetricThreshold] = Field(default_factory=dict)
    beat_champion: ChampionGate | None = None
    simulation: SimulationGate | None = None
    experiment: ExperimentGate | None = None
    approvals: int = Field(0, ge=0, le=20, description="Approvals needed from people other "
                                                       "than the version's author.")


class EvaluationSet(SpecModel):
    """The fixed evaluation set the champion gate and QA simulation use, pinned by digest."""

    path: str = Field(description="JSON lines, relative to the spec file.")
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$",
                        description="SHA-256 of the file; a different file is refused.")
    task: str = Field("ranking", pattern=r"^(ranking|classification)$",
                      description="ranking: {user_id, relevant, exclude} per line; "
                                  "classification: {inputs: {...}, label} per line.")


class S3Anchor(SpecModel):
    bucket: str
    prefix: str = "mlscope/audit-anchor"
    region: str = "us-east-1"
    endpoint_url: str | None = None
    retain_days: int = Field(365, ge=1, le=36500)


class AnchorConfig(SpecModel):
    """Where the audit log's head hash is anchored, outside the writer's reach."""

    git: str | None = Field(None, description="A git remote (URL or path) with a protected "
                            "branch `mlscope-audit` (no force pushes, no deletes).")
    s3: S3Anchor | None = Field(None, description="An S3 bucket with Object Lock "
                                "(compliance mode).")


class ReleaseSection(SpecModel):
    model_name: str | None = Field(None, description="Registered model name in the registry.")
    allowed_signers: str | None = Field(
        None, description="Allowed-signers file (ssh-keygen format, committed in the repository) "
                          "that says whose signatures count. Relative to the spec file.")
    evaluation: EvaluationSet | None = None
    approvers: dict[str, list[str]] = Field(
        default_factory=dict, description="Per environment, who may approve (default: anyone "
                                          "in the allowed-signers file but the author).")
    production: str = Field("prod", description="The environment the minimal policy "
                                                "(one signed approval, no overrides) protects.")
    approval_ttl_hours: float = Field(72.0, gt=0, le=24 * 90,
                                      description="An approval expires after this long.")
    anchor: AnchorConfig | None = None
    tracking_uri: str | None = Field(
        None, description="MLflow tracking URI; default: SQLite in the state dir (.mlscope/).")
    environments: list[str] = Field(default_factory=lambda: ["dev", "qa", "prod"])
    gates: dict[str, EnvironmentGates] = Field(default_factory=dict)

    @field_validator("environments")
    @classmethod
    def _envs(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("environments repeat a name")
        return [_env_name(v) for v in value]

    @model_validator(mode="after")
    def _gates_name_environments(self) -> ReleaseSection:
        for env, gate in self.gates.items():
            if env not in self.environments:
                raise ValueError(f"gates for unknown environment '{env}' "
                                 f"(environments: {', '.join(self.environments)})")
            if gate.requires == env:
                raise ValueError(f"gates.{env}.requires names {env} itself")
            if gate.requires is not None and gate.requires not in self.environments:
                raise ValueError(f"gates.{env}.requires names unknown environment "
                                 f"'{gate.requires}'")
            if (gate.beat_champion or gate.simulation) and self.evaluation is None:
                raise ValueError(f"gates.{env} compares or replays, so release.evaluation must "
                                 "pin the evaluation set (path and sha256)")
            if gate.beat_champion and self.evaluation is not None and \
                    gate.beat_champion.metric not in PER_ROW_METRICS[self.evaluation.task]:
                raise ValueError(f"gates.{env}.beat_champion.metric "
                                 f"{gate.beat_champion.metric} is not a {self.evaluation.task} "
                                 "metric")
        for env in self.approvers:
            if env not in self.environments:
                raise ValueError(f"approvers for unknown environment '{env}'")
        return self


class ServingSection(SpecModel):
    mode: str = "online"
    alias: str = Field("prod", description="The environment (alias) whose version is served.")
    host: str = "127.0.0.1"
    port: int = Field(8080, ge=1, le=65535)
    top_k: int = Field(10, ge=1, le=1000)
