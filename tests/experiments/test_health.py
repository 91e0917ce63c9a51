"""Health from Prometheus metrics: quantiles as Prometheus computes them, rates by hand."""

from __future__ import annotations

import pytest
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

from mlscope.errors import InputError
from mlscope.release.monitoring.health import Thresholds, breaches, histogram_quantile, parse_health


def test_histogram_quantile_matches_prometheus_interpolation() -> None:
    # 100 observations: 50 <= 0.01 s, 90 <= 0.05 s, 100 <= 0.1 s. p99 = rank 99, in the
    # (0.05, 0.1] bucket: 0.05 + 0.05 * (99 - 90) / (100 - 90) = 0.095 (Prometheus docs' rule)
    buckets = [(0.01, 50.0), (0.05, 90.0), (0.1, 100.0), (float("inf"), 100.0)]
    assert histogram_quantile(0.99, buckets) == pytest.approx(0.095)
    assert histogram_quantile(0.5, buckets) == pytest.approx(0.01)
    # a rank in the +Inf bucket gets the last finite bound
    assert histogram_quantile(0.99, [(0.1, 50.0), (float("inf"), 100.0)]) == pytest.approx(0.1)


def test_rates_from_a_real_registry() -> None:
    reg = CollectorRegistry()
    req = Counter("mlscope_requests_total", "", ["route", "method", "status"], registry=reg)
    lat = Histogram("mlscope_request_latency_seconds", "", ["route"], registry=reg,
                    buckets=(0.01, 0.05, 0.1))
    fb = Counter("mlscope_fallbacks_total", "", ["reason"], registry=reg)
    req.labels("/predict", "POST", "200").inc(970)
    req.labels("/predict", "POST", "500").inc(30)
    req.labels("/metrics", "GET", "200").inc(5000)  # not a prediction
    fb.labels("model_error").inc(60)
    for _ in range(900):
        lat.labels("/predict").observe(0.005)
    for _ in range(100):
        lat.labels("/predict").observe(0.07)
    health = parse_health(generate_latest(reg).decode())
    assert health.requests == 1000 and health.error_rate == pytest.approx(0.03)
    assert health.fallback_rate == pytest.approx(0.06)
    # rank 990 of 1000 in (0.05, 0.1]: 0.05 + 0.05 * (990 - 900) / 100 = 0.095
    assert health.p99_seconds == pytest.approx(0.095)
    found = breaches(health, Thresholds(max_error_rate=0.01, max_fallback_rate=0.05,
                                        max_p99_ms=50))
    assert [b.split()[0] for b in found] == ["error", "fallback", "p99"]
    assert breaches(health, Thresholds(min_requests=5000)) == []


def test_text_that_is_not_mlscope_metrics_is_refused() -> None:
    with pytest.raises(InputError, match="no mlscope_ series"):
        parse_health("# HELP other_total x\n# TYPE other_total counter\nother_total 1\n")


def _scrape(errors: int, fallbacks: int) -> str:
    reg = CollectorRegistry()
    req = Counter("mlscope_requests_total", "", ["route", "method", "status"], registry=reg)
    fb = Counter("mlscope_fallbacks_total", "", ["reason"], registry=reg)
    req.labels("/predict", "POST", "200").inc(1000 - errors)
    if errors:
        req.labels("/predict", "POST", "500").inc(errors)
    if fallbacks:
        fb.labels("model_error").inc(fallbacks)
    return generate_latest(reg).decode()


def test_monitor_check_exits_1_on_a_breach(run, tmp_path) -> None:  # type: ignore[no-untyped-def]
    good = tmp_path / "good.prom"
    good.write_text(_scrape(errors=2, fallbacks=10))
    bad = tmp_path / "bad.prom"
    bad.write_text(_scrape(errors=40, fallbacks=10))
    ok = run("monitor", "check", "--metrics-file", good, "--json")
    assert ok.code == 0 and ok.json()["ok"] is True
    alarm = run("monitor", "check", "--metrics-file", bad, "--json")
    assert alarm.code == 1 and alarm.json()["breaches"] == ["error rate 4.00% > 1.00%"]
    missing = run("monitor", "check", "--json")
    assert missing.code == 2 and "nothing to check" in missing.err


def test_performance_with_delayed_labels(run, tmp_path) -> None:  # type: ignore[no-untyped-def]
    # 4 predictions served, 3 labelled later. Scores 0.9, 0.8, 0.3 against labels 1, 0, 0:
    # pairs (pos, neg) = (0.9 > 0.8), (0.9 > 0.3): AUC = 2 / 2 = 1.0; accuracy at 0.5 = 2/3.
    (tmp_path / "p.csv").write_text("id,score\na,0.9\nb,0.8\nc,0.3\nd,0.6\n")
    (tmp_path / "l.csv").write_text("id,bought\na,1\nb,0\nc,0\n")
    out = run("monitor", "performance", tmp_path / "p.csv", tmp_path / "l.csv", "--key", "id",
              "--prediction", "score", "--label", "bought", "--task", "classification", "--json")
    res = out.json()
    assert (res["served"], res["labelled"], res["coverage"]) == (4, 3, 0.75)
    assert res["auc"] == pytest.approx(1.0) and res["accuracy"] == pytest.approx(2 / 3)
    reg = run("monitor", "performance", tmp_path / "p.csv", tmp_path / "l.csv", "--key", "id",
              "--prediction", "score", "--label", "bought", "--task", "regression", "--json")
    # errors -0.1, 0.8, 0.3: RMSE = sqrt((0.01 + 0.64 + 0.09) / 3), MAE = 1.2 / 3
    assert reg.json()["rmse"] == pytest.approx((0.74 / 3) ** 0.5)
    assert reg.json()["mae"] == pytest.approx(0.4)


def test_monitor_workflow_runs_commands_the_cli_accepts(run, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import shlex

    import yaml

    from mlscope.cli.main import cli

    out = tmp_path / "wf.yml"
    res = run("monitor", "ci", "--provider", "github", "--model", "cancer", "-o", out)
    assert res.code == 0, res.err
    workflow = yaml.safe_load(out.read_text())
    assert workflow["concurrency"]["group"] == "mlscope-release-cancer"
    assert workflow[True]["schedule"] == [{"cron": "*/15 * * * *"}]  # YAML reads `on` as True
    steps = workflow["jobs"]["check"]["steps"]
    names = [s.get("name", s.get("uses", "")) for s in steps]
    assert names.index("AWS credentials (OIDC, before any S3 access)") < names.index(
        "pull release state (takes the lock)")
    commands = [line.strip() for s in steps for line in s.get("run", "").splitlines()
                if line.strip().startswith("mlscope ")]
    commands += [" ".join(s["run"].split()) for s in steps
                 if s.get("run", "").strip().startswith("mlscope monitor")]
    assert any("--rollback" in c for c in commands)
    for command in commands:
        argv = shlex.split(command)[1:]
        ctx = cli.make_context("mlscope", list(argv))
        group = cli
        while hasattr(group, "resolve_command"):
            name, sub, rest = group.resolve_command(ctx, ctx.protected_args + ctx.args)
            assert sub is not None, command
            group = sub
            ctx = sub.make_context(name, rest, parent=ctx)
    bad = run("monitor", "ci", "--provider", "github", "--model", "cancer", "--schedule",
              "every hour", "-o", out)
    assert bad.code == 2 and "cron" in bad.err
