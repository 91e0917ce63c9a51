"""Classic-model serving cost (issue 19 item 5, second half): hand-computed sizing, Erlang C,
the load test of the real service, the CLI contract and the `mlscope cost` hook."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from mlscope.core.units import HOURS_PER_MONTH
from mlscope.errors import InputError
from mlscope.estimate.inference.classic import (
    erlang_c,
    instances_for,
    p99_seconds,
    size_serving,
    sizing_counts,
)

# A measurement as `mlscope.serving.loadtest.measure` returns it, on a machine taken as the
# catalog's "skylake" row (2.5-3.5 GHz, IPC 1.0): the figures below follow by hand.
MEASURED: dict[str, Any] = {
    "route": "/recommend", "requests": 300, "warmup": 20, "concurrency": 1,
    "cpu_s_per_request": 0.002, "p50_ms": 2.5, "p99_ms": 5.0, "wall_s": 1.0,
    "max_rss_mb": 200.0,
    "machine": {"cpu_model": "test", "vendor": "GenuineIntel", "cpus": 2,
                "cpu_family": "skylake", "load_average_1m": 1.0, "load_average_5m": 1.0},
}


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mlscope", *args], capture_output=True,
                          text=True, timeout=300)


def test_instances_formula_by_hand() -> None:
    # ceil(rps x cpu / (vCPUs x utilization))
    assert instances_for(1000, 0.004, 8, 0.5) == 1  # exactly 1.0: no spurious second instance
    assert instances_for(1001, 0.004, 8, 0.5) == 2
    assert instances_for(0.001, 0.004, 8, 0.5) == 1  # never zero


def test_erlang_c_and_p99_by_hand() -> None:
    assert erlang_c(1, 0.5) == pytest.approx(0.5)  # M/M/1: P(wait) = rho
    # M/M/2, a = 1: (a^2/2! / (1 - 1/2)) / (1 + a + a^2/2! / (1 - 1/2)) = 1/3
    assert erlang_c(2, 1.0) == pytest.approx(1 / 3)
    # M/M/1, lambda 0.5, mu 1: P(W > t) = 0.5 exp(-0.5 t) = 0.01 at t = ln(50) / 0.5
    assert p99_seconds(0.5, 1.0, 1, 2.0) == pytest.approx(2.0 + math.log(50) / 0.5)
    assert p99_seconds(1.0, 1.0, 1, 1.0) == math.inf  # saturated


def test_c5_2xlarge_sizing_by_hand() -> None:
    r = size_serving(MEASURED, 5000, region="us-east-1", utilization=0.6, peak_to_average=3,
                     min_instances=1, instance_types=["c5.2xlarge"])
    o = r["options"][0]
    # speed = clock x IPC x SMT share of c5 / clock x IPC of the machine (medians of the
    # catalog's ranges: c5 3.4-3.6 GHz, skylake machine 2.5-3.5 GHz, SMT 0.55-0.65)
    speed = math.sqrt(3.4 * 3.6) * math.sqrt(0.55 * 0.65) / math.sqrt(2.5 * 3.5)
    assert o["speed_vs_here"]["p50"] == pytest.approx(speed, rel=1e-9)
    cpu = 0.002 / speed
    assert o["cpu_ms_per_request"]["p50"] == pytest.approx(cpu * 1000, rel=1e-9)
    n = math.ceil(5000 * cpu / (8 * 0.6))
    assert n == 3 and o["instances"]["p50"] == n
    assert o["autoscaling"] == {"min": math.ceil(5000 / 3 * cpu / 4.8), "typical": 3,
                                "max": math.ceil(15000 * cpu / 4.8)}
    # monthly = instances x on-demand price (c5.2xlarge us-east-1: $0.34/h) x 730
    assert o["monthly_usd"]["on-demand"]["p50"] == pytest.approx(3 * 0.34 * HOURS_PER_MONTH)
    assert HOURS_PER_MONTH == 730
    assert o["monthly_usd_at_max_on_demand"] == pytest.approx(
        o["autoscaling"]["max"] * 0.34 * 730)
    sp = o["monthly_usd"]["savings-3y"]["p50"]
    assert sp < o["monthly_usd"]["on-demand"]["p50"]
    assert r["choice"]["instance_type"] == "c5.2xlarge"


def test_newer_core_is_faster_and_burstable_is_capped() -> None:
    r = size_serving(MEASURED, 2000, min_instances=0,
                     instance_types=["m5.2xlarge", "m6i.2xlarge", "t3.large"])
    by = {o["instance_type"]: o for o in r["options"]}
    # Same vCPUs and price; Ice Lake's clock and IPC are higher than Skylake's
    assert by["m6i.2xlarge"]["speed_vs_here"]["p50"] > by["m5.2xlarge"]["speed_vs_here"]["p50"]
    # t3.large is sized to its 30 % baseline, not the 60 % target
    assert by["t3.large"]["utilization"] == pytest.approx(0.3)
    assert by["m5.2xlarge"]["utilization"] == pytest.approx(0.6)


def test_p99_target_adds_instances_or_rules_a_type_out() -> None:
    loose = size_serving(MEASURED, 5000, p99_ms=1000, min_instances=1,
                         instance_types=["c5.xlarge"])["options"][0]
    assert loose["meets_p99"]
    # Service time alone (~2.8 ms x tail 2) exceeds 3 ms: no fleet size meets it
    tight = size_serving(MEASURED, 5000, p99_ms=3, min_instances=1,
                         instance_types=["c5.xlarge"])
    assert not tight["options"][0]["meets_p99"] and tight["choice"] is None
    # Between the two: the queueing wait is what the extra instances buy down
    mid = size_serving(MEASURED, 5000, p99_ms=6.5, min_instances=1,
                       instance_types=["c5.xlarge"])["options"][0]
    assert mid["meets_p99"] and mid["p99_ms"] <= 6.5
    assert mid["instances"]["p50"] >= loose["instances"]["p50"]


@pytest.mark.parametrize("kwargs,needle", [
    ({"rps": math.nan}, "--rps"), ({"rps": 0.0}, "--rps"), ({"rps": math.inf}, "--rps"),
    ({"rps": 10.0, "p99_ms": math.nan}, "--p99-ms"),
    ({"rps": 10.0, "utilization": 1.5}, "--target-utilization"),
    ({"rps": 10.0, "peak_to_average": 0.5}, "--peak-to-average"),
])
def test_bad_targets_raise(kwargs: dict[str, Any], needle: str) -> None:
    rps = kwargs.pop("rps")
    with pytest.raises(InputError, match=needle):
        size_serving(MEASURED, rps, **kwargs)


def test_load_test_measures_the_real_service(tmp_path: Path) -> None:
    from mlscope.serving.loadtest import measure
    from mlscope.serving.synthetic import write_random_artifact

    art = write_random_artifact(tmp_path / "rec", "1", seed=3)
    m = measure(art, requests=150, warmup=10)
    # No timing assertions: only that CPU time was counted and the figures are coherent.
    assert m.route == "/recommend" and m.requests == 150
    assert math.isfinite(m.cpu_s_per_request) and m.cpu_s_per_request > 0
    assert 0 < m.p50_ms <= m.p99_ms
    assert m.machine["cpus"] and m.machine["cpu_family"]
    r = size_serving(m.to_dict(), 100, instance_types=["c6i.xlarge"])
    o = r["options"][0]
    cpu = o["cpu_ms_per_request"]["p50"] / 1000
    assert o["instances"]["p50"] == max(2, math.ceil(100 * cpu / (4 * 0.6)))


def test_any_pyfunc_is_driven_through_invocations(tmp_path: Path) -> None:
    import mlflow.sklearn
    import pandas as pd
    from sklearn.linear_model import LogisticRegression

    from mlscope.serving.loadtest import measure

    x = pd.DataFrame({"a": [0.0, 1.0, 2.0, 3.0], "b": [1.0, 0.0, 1.0, 0.0]})
    model = LogisticRegression().fit(x, [0, 0, 1, 1])
    mlflow.sklearn.save_model(model, str(tmp_path / "sk"), input_example=x.head(2),
                              pip_requirements=["scikit-learn"])  # no inference: slow
    m = measure(tmp_path / "sk", requests=30, warmup=5)
    assert m.route == "/invocations" and m.cpu_s_per_request > 0


@pytest.mark.parametrize("args,needle", [
    (["--rps", "nan"], "rps"), (["--rps", "0"], "rps"), (["--p99-ms", "nan"], "p99"),
    (["--rps", "10", "--region", "us-east-9"], "did you mean"),
])
def test_cli_bad_input_is_one_line_exit_2(tmp_path: Path, args: list[str], needle: str) -> None:
    from mlscope.serving.synthetic import write_random_artifact

    art = write_random_artifact(tmp_path / "rec", "1", seed=1)
    extra = [] if "--rps" in args else ["--rps", "10"]
    r = run("estimate", "serving", "--artifact", str(art), *extra, *args, "--json")
    assert r.returncode == 2, r.stdout
    assert needle in r.stderr.lower() and len(r.stderr.strip().splitlines()) == 1, r.stderr


def test_cli_missing_artifact_is_one_line_exit_2(tmp_path: Path) -> None:
    r = run("estimate", "serving", "--artifact", str(tmp_path / "nope"), "--rps", "10")
    assert r.returncode == 2
    assert "does not exist" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    (tmp_path / "empty").mkdir()
    r = run("estimate", "serving", "--artifact", str(tmp_path / "empty"), "--rps", "10")
    assert r.returncode == 2 and "MLmodel" in r.stderr
    r = run("estimate", "serving", "--artifact", str(tmp_path / "empty"))
    assert r.returncode == 2 and "--rps" in r.stderr


def test_cli_json_and_the_cost_hook(tmp_path: Path) -> None:
    from mlscope.costs.runrate import estimate_costs
    from mlscope.serving.synthetic import write_random_artifact
    from mlscope.spec.loader import load_spec

    art = write_random_artifact(tmp_path / "rec", "1", seed=2)
    r = run("estimate", "serving", "--artifact", str(art), "--rps", "300", "--p99-ms", "200",
            "--requests", "60", "--service", "sagemaker", "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["kind"] == "classic" and out["choice"] is not None
    assert out["measurement"]["requests"] == 60
    assert all(o["instance_type"].startswith("ml.") for o in out["options"])
    (tmp_path / "sizing.json").write_text(r.stdout)
    opt = next(o for o in out["options"] if o["instance_type"] == "ml.c5.2xlarge")
    want = opt["autoscaling"]
    assert sizing_counts(tmp_path / "sizing.json", "ml.c5.2xlarge") == (
        want["min"], want["typical"], want["max"])

    (tmp_path / "mlscope.yaml").write_text(
        "version: 1\nproject: {name: recs, region: us-east-1}\nenvironments:\n"
        "  - name: prod\n    resources:\n"
        "      - {kind: endpoint, name: api, instance: ml.c5.2xlarge, sizing: sizing.json}\n")
    spec = load_spec(tmp_path / "mlscope.yaml")  # relative to the spec, not the cwd
    line = estimate_costs(spec, start=(2027, 1), draws=200)["environments"][0]["resources"][0]
    assert line["instances"] == [want["min"], want["typical"], want["max"]]
    price = 0.425  # ml.c5.2xlarge us-east-1 (catalog), $/h; January has 744 hours
    assert line["monthly"][0]["point_usd"] == pytest.approx(want["typical"] * price * 744,
                                                            rel=1e-3)

    # Counts in the spec beside a sizing contradict it; a sizing without the type is refused
    (tmp_path / "bad.yaml").write_text(
        "version: 1\nproject: {name: recs, region: us-east-1}\nenvironments:\n"
        "  - name: prod\n    resources:\n"
        "      - {kind: endpoint, name: api, instance: ml.c5.2xlarge, sizing: sizing.json,"
        " max_instances: 4}\n")
    r = run("cost", str(tmp_path / "bad.yaml"))
    assert r.returncode == 2 and "sizing" in r.stderr
    with pytest.raises(InputError, match="no option for"):
        sizing_counts(tmp_path / "sizing.json", "ml.g5.xlarge")
