"""Every command's --json output validates against its schema published in docs/schemas/.

Contract schemas are written by hand (the keys external checks rely on); the others are the
inferred shape of today's output (`python tools/json_schemas.py` regenerates them). Either way
a dropped or renamed key, or a changed type, fails here.
"""

from __future__ import annotations

import csv
import importlib.util
import json
import sys
from pathlib import Path

import jsonschema
import pytest

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("json_schemas", ROOT / "tools/json_schemas.py")
assert _spec and _spec.loader
tool = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(tool)
EXPORT = ROOT / "examples" / "recommender-actuals" / "billing"
BILL_SPEC = ROOT / "examples" / "recommender-actuals" / "mlscope.yaml"


def _ab(tmp: Path) -> Path:
    path = tmp / "ab.csv"
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["variant", "converted"])
        w.writerows([["A", int(i % 10 == 0)] for i in range(500)]
                    + [["B", int(i % 8 == 0)] for i in range(500)])
    return path


def _windows(tmp: Path) -> tuple[Path, Path]:
    for name, shift in (("ref", 0), ("cur", 3)):
        with open(tmp / f"{name}.csv", "w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["x", "plan"])
            w.writerows([[i % 17 + shift, "free" if i % 3 else "pro"] for i in range(200)])
    return tmp / "ref.csv", tmp / "cur.csv"


def contract_cases(tmp: Path) -> dict[str, list[str]]:
    ref, cur = _windows(tmp)
    return {
        "estimate-training": ["estimate", "training", "--model", "llama-2-7b", "--tokens", "2T",
                              "--accelerator", "A100-80GB", "--count", "64", "--json"],
        "estimate-inference": ["estimate", "inference", "--model", "llama-2-7b", "--quant",
                               "q4_0", "--device", "raspberry-pi-5", "--json"],
        "estimate-speech": ["estimate", "speech", "--model", "whisper-base", "--device",
                            "raspberry-pi-5", "--json"],
        "cost-schedule": ["cost", "schedule", "--expr", "off=(M-F,19);on=(M-F,7);tz=utc",
                          "--instance", "m5.xlarge", "--month", "2026-03", "--json"],
        "calibrate": ["calibrate", "--fractions", "0.05,0.1,0.2", "--repeats", "1", "--json",
                      "--", sys.executable, "-c", "import sys; sum(range(int(float(sys.argv[1])"
                      " * 2e6)))", "{fraction}"],
        "billing-summary": ["billing", "summary", str(EXPORT), "--by", "service", "--json"],
        "billing-anomalies": ["billing", "anomalies", str(EXPORT), "--json"],
        "billing-forecast": ["billing", "forecast", str(EXPORT), "--json"],
        "billing-compare": ["billing", "compare", str(BILL_SPEC), str(EXPORT), "--json"],
        "experiment-analyze": ["experiment", "analyze", str(_ab(tmp)), "--metric", "converted",
                               "--json"],
        "experiment-simulate": ["experiment", "simulate", "--arms", "0.05,0.06", "--horizon",
                                "300", "--policy", "ucb1", "--json"],
        "monitor-drift": ["monitor", "drift", str(ref), str(cur), "--json"],
    }


def _schema(name: str) -> dict:
    return json.loads((ROOT / "docs" / "schemas" / f"{name}.schema.json").read_text())


def test_contract_outputs_match_their_schemas(tmp_path: Path) -> None:
    for name, argv in contract_cases(tmp_path).items():
        schema = _schema(name)
        assert schema.get("x-mlscope-contract") is True, name
        jsonschema.validate(tool.run_json(argv), schema)


@pytest.mark.parametrize("name", sorted(tool.CASES))
def test_other_outputs_match_their_published_shape(name: str) -> None:
    jsonschema.validate(tool.run_json(tool.CASES[name]), _schema(name))


def test_every_schema_is_checked(tmp_path: Path) -> None:
    published = {p.name.removesuffix(".schema.json")
                 for p in (ROOT / "docs" / "schemas").glob("*.schema.json")}
    assert published == set(tool.CASES) | set(contract_cases(tmp_path))
