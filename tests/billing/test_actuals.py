"""Forecast, anomalies, schedule violations, plan vs actual and the check gate."""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from mlscope.costs.billing import synth
from mlscope.costs.billing.anomalies import Settings, detect
from mlscope.costs.billing.forecast import forecast_month, naive_forecast

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "recommender-actuals"
SPEC = EXAMPLE / "mlscope.yaml"
EXPORT = next((EXAMPLE / "billing").glob("GENERATED-*.parquet"))


def _series(start: dt.date, values: list[float]) -> dict[dt.date, float]:
    return {start + dt.timedelta(days=i): v for i, v in enumerate(values)}


def test_forecast_of_a_known_weekly_pattern() -> None:
    # $100 on weekdays, $40 at weekends, from 1 December; January known to the 15th.
    start = dt.date(2026, 12, 1)
    days = [start + dt.timedelta(days=i) for i in range(62)]
    truth = {d: (40.0 if d.weekday() >= 5 else 100.0) for d in days}
    jan = [d for d in days if d.month == 1]
    known = {d: v for d, v in truth.items() if d <= dt.date(2027, 1, 15)}
    to_date = sum(v for d, v in known.items() if d.month == 1)
    fc = forecast_month("2027-01", known, to_date)
    month_total = sum(truth[d] for d in jan)
    assert fc.p10 <= month_total <= fc.p90
    assert fc.p50 == pytest.approx(month_total, rel=0.02)
    assert fc.to_date == to_date and fc.through == "2027-01-15" and fc.days_left == 16
    feb = sum(40.0 if (dt.date(2027, 2, 1) + dt.timedelta(days=i)).weekday() >= 5 else 100.0
              for i in range(28))
    assert fc.next_month["p50"] == pytest.approx(feb, rel=0.03)


def test_forecast_follows_a_trend_better_than_the_run_rate() -> None:
    start = dt.date(2026, 12, 1)
    values = [50.0 + 2.0 * i for i in range(62)]
    truth = _series(start, values)
    known = {d: v for d, v in truth.items() if d <= dt.date(2027, 1, 10)}
    to_date = sum(v for d, v in known.items() if d.month == 1)
    total = sum(v for d, v in truth.items() if d.month == 1)
    fc = forecast_month("2027-01", known, to_date)
    naive = naive_forecast("2027-01", known, to_date)
    assert abs(fc.p50 - total) < abs(naive - total) / 2


def test_forecast_cli_contract(run) -> None:
    res = run("billing", "forecast", EXPORT, "--json")
    assert res.code == 0, res.err
    out = res.json()
    assert out["month"] == "2027-01" and set(out["forecast"]) == {"p10", "p50", "p90"}
    assert out["forecast"]["p10"] <= out["forecast"]["p50"] <= out["forecast"]["p90"]
    assert out["to_date"] <= out["forecast"]["p10"]
    items = synth.recommender_items(dt.date(2026, 12, 1), dt.date(2027, 1, 20))
    assert out["to_date"] == pytest.approx(sum(i.effective for i in items
                                               if i.start.month == 1))
    dec = run("billing", "forecast", EXPORT, "--month", "2026-12", "--json").json()
    # A month the export covers to its last day has nothing left to forecast.
    assert dec["forecast"]["p10"] == pytest.approx(dec["to_date"])
    assert dec["forecast"]["p90"] == pytest.approx(dec["to_date"])


def _rows(series: dict[str, list[float]], start: dt.date) -> list[tuple[dt.date, str, float]]:
    return [(start + dt.timedelta(days=i), k, v) for k, vs in series.items()
            for i, v in enumerate(vs)]


def test_anomalies_spike_shift_new_and_noise() -> None:
    rng = np.random.default_rng(1)
    start = dt.date(2027, 1, 1)
    n = 60
    ec2 = list(200 + rng.normal(0, 5, n))
    ec2[30] += 150  # one spike
    sagemaker = list(100 + rng.normal(0, 3, n))
    for i in range(35, n):
        sagemaker[i] += 80  # a level shift: one alert, not 25
    tiny = list(rng.poisson(2, n).astype(float))  # low-volume noise: never an anomaly
    newsvc = [0.0] * 45 + [60.0] * 15
    found = detect(_rows({"AmazonEC2": ec2, "AmazonSageMaker": sagemaker, "AWSLambda": tiny,
                          "AmazonBedrock": newsvc}, start), "service")
    kinds = {(a["key"], a["kind"], a["date"]) for a in found}
    assert kinds == {("AmazonEC2", "spike", "2027-01-31"), ("AmazonSageMaker", "spike",
                                                           "2027-02-05"),
                     ("AmazonBedrock", "new", "2027-02-15")}
    assert found[0]["key"] == "AmazonEC2"  # sorted by cost impact
    spike = found[0]
    assert spike["actual"] - spike["expected"] == pytest.approx(150, abs=20)


def test_anomaly_thresholds_are_respected() -> None:
    start = dt.date(2027, 1, 1)
    small = [100.0] * 20 + [120.0] + [100.0] * 5
    assert detect(_rows({"s": small}, start), "service") == []  # +20% is within the noise
    flat = [100.0] * 20 + [160.0] + [100.0] * 5
    assert len(detect(_rows({"s": flat}, start), "service")) == 1
    assert detect(_rows({"s": flat}, start), "service", Settings(min_impact_usd=70.0)) == []


def test_anomalies_cli_with_schedules(run) -> None:
    res = run("billing", "anomalies", EXPORT, "--by", "service", "--spec", SPEC, "--json")
    assert res.code == 0, res.err
    out = res.json()["anomalies"]
    assert all({"date", "dimension", "key", "actual", "expected", "kind"} <= set(a)
               for a in out)
    impacts = [a["actual"] - a["expected"] for a in out]
    assert impacts == sorted(impacts, reverse=True)
    gpu = [a for a in out if a["kind"] == "schedule" and a["key"] == "dev/gpu-notebook"]
    assert gpu and all(a["expected"] == 0 for a in gpu)


def _off_hours(items: list[synth.Item], component: str, holidays: set[dt.date]) -> int:
    """Independent count: hours the component ran outside M-F 7:00-19:00 New York time."""
    tz = ZoneInfo("America/New_York")
    n = 0
    for i in items:
        if i.tags.get("component") != component:
            continue
        local = i.start.replace(tzinfo=dt.UTC).astimezone(tz)
        on = local.weekday() < 5 and 7 <= local.hour < 19 and local.date() not in holidays
        n += not on
    return n


def test_schedule_violations_match_an_independent_count() -> None:
    from mlscope.costs.billing.dataset import BillingData
    from mlscope.costs.billing.schedules import violations
    from mlscope.spec import load_spec

    spec = load_spec(SPEC)
    holidays = set(spec.environments[0].holidays)
    items = synth.recommender_items(dt.date(2026, 12, 1), dt.date(2027, 1, 20))
    with BillingData([str(EXPORT)]) as data:
        found = violations(data, spec, "2027-01")
    assert found["checked"]
    hours: dict[str, int] = {}
    for a in found["anomalies"]:
        hours[a["key"]] = hours.get(a["key"], 0) + a["hours"]
    jan = [i for i in items if i.start.month == 1]
    assert hours["dev/gpu-notebook"] == _off_hours(jan, "gpu-notebook", holidays) > 0
    assert hours["dev/ds-notebooks"] == _off_hours(jan, "ds-notebooks", holidays)
    assert "qa/recs-endpoint-qa" not in hours  # it kept to its Instance Scheduler periods


def test_compare_contract(run) -> None:
    res = run("billing", "compare", SPEC, "--json")
    assert res.code == 0, res.err
    out = res.json()
    names = [e["name"] for e in out["environments"]]
    assert names == ["dev", "qa", "prod"]
    for env in out["environments"]:
        assert set(env["planned"]) == set(env["forecast"]) == {"p10", "p50", "p90"}
        assert env["status"] in ("within", "over", "under", "no-data")
        assert env["planned"]["p10"] <= env["planned"]["p50"] <= env["planned"]["p90"]
    dev = out["environments"][0]
    assert dev["status"] == "over"  # notebooks ran all office hours, not 3-7 h a day
    items = synth.recommender_items(dt.date(2026, 12, 1), dt.date(2027, 1, 20))
    assert dev["actual_to_date"] == pytest.approx(sum(
        i.effective for i in items if i.start.month == 1 and i.tags.get("env") == "dev"))
    cost = run("cost", SPEC, "--month", "2027-01", "--json").json()
    planned = {e["name"]: e["monthly"][0] for e in cost["environments"]}
    assert dev["planned"]["p50"] == pytest.approx(planned["dev"]["p50"])
    explicit = run("billing", "compare", SPEC, EXPORT, "--month", "2027-01", "--json")
    assert explicit.json()["environments"] == out["environments"]


class _Hook(BaseHTTPRequestHandler):
    received: list[dict[str, Any]] = []  # noqa: RUF012

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        _Hook.received.append({"type": self.headers["Content-Type"],
                               "body": json.loads(body)})
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def hook() -> Iterator[str]:
    server = HTTPServer(("127.0.0.1", 0), _Hook)
    _Hook.received = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook"
    server.shutdown()
    server.server_close()


def test_check_fails_and_posts_webhook(run, hook: str) -> None:
    res = run("billing", "check", SPEC, "--webhook", hook, "--json")
    assert res.code == 1, res.err
    out = res.json()
    assert not out["ok"] and any("outside its schedule" in r for r in out["reasons"])
    assert len(_Hook.received) == 1
    msg = _Hook.received[0]
    assert msg["type"] == "application/json"
    assert msg["body"]["text"].count("•") == len(out["reasons"])  # Slack reads `text`
    assert msg["body"]["mlscope"]["project"] == "retail-recs"
    assert hook not in res.out and hook not in res.err


def test_check_passes_within_plan(run, tmp_path: Path, hook: str) -> None:
    # Only prod's endpoint and lake, within plan, no scheduled resources running off hours.
    items = [i for i in synth.recommender_items(dt.date(2026, 12, 1), dt.date(2027, 1, 20))
             if i.tags.get("env") == "prod"]
    export = synth.write_parquet(synth.cur2_rows(items), tmp_path / "prod.parquet")
    res = run("billing", "check", SPEC, export, "--json")
    assert res.code == 0, res.out
    assert res.json()["ok"] and _Hook.received == []
    bad = run("billing", "check", SPEC, export, "--webhook", "ftp://example", "--always-post")
    assert bad.code == 2 and len(bad.err.strip().splitlines()) == 1
    down = run("billing", "check", SPEC, export, "--webhook", "http://127.0.0.1:9/x",
               "--always-post")
    assert down.code == 2 and "cannot reach" in down.err
