"""Every optional extra, when missing, is one line naming it, exit 2 — never a traceback.

Each case runs the real CLI in a subprocess where the extra's packages cannot be imported (a
`sitecustomize` meta-path hook refuses them, as an interpreter without them would), so the
test needs no second virtualenv per extra and still goes through every import the command
makes, lazy or not.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RECOMMENDER = ROOT / "examples" / "recommender" / "mlscope.yaml"

BLOCKER = '''
import importlib.util, os, sys
_blocked = set(filter(None, os.environ.get("MLSCOPE_TEST_BLOCK", "").split(",")))
class _Missing:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in _blocked:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None
sys.meta_path.insert(0, _Missing())
_find_spec = importlib.util.find_spec
def _absent(name, package=None):  # what find_spec answers for a package that is not there
    return None if name.split(".")[0] in _blocked else _find_spec(name, package)
importlib.util.find_spec = _absent
'''


def _run(tmp_path: Path, blocked: list[str], *args: str) -> subprocess.CompletedProcess[str]:
    site = tmp_path / "site"
    site.mkdir(exist_ok=True)
    (site / "sitecustomize.py").write_text(BLOCKER)
    env = {**os.environ, "MLSCOPE_TEST_BLOCK": ",".join(blocked),
           "PYTHONPATH": os.pathsep.join([str(site), str(ROOT / "src")]),
           "MLSCOPE_HOME": str(tmp_path / "home")}
    return subprocess.run([sys.executable, "-m", "mlscope", *args], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=240)


def _inputs(tmp: Path) -> None:
    """Real inputs, made here with the packages the blocked subprocess will not see."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"text": ["a b c", "d e"]}), tmp / "data.parquet")
    (tmp / "ab.csv").write_text("variant,converted\nA,1\nA,0\nB,1\nB,0\n")
    (tmp / "tokenizer.json").write_text("{}")


CASES = [
    ("calibrate", ["psutil"], ["calibrate", "--fractions", "0.1,0.2", "--", "true", "{fraction}"]),
    ("report", ["jinja2"], ["report", str(RECOMMENDER), "-o", "out"]),
    ("billing", ["duckdb"], ["billing", "summary", str(ROOT / "README.md"), "--json"]),
    ("experiments", ["pyarrow"], ["experiment", "analyze", str(ROOT / "README.md"),
                                  "--metric", "x"]),
    ("experiments", ["scipy"], ["experiment", "analyze", "@ab.csv", "--metric", "converted"]),
    ("serving", ["fastapi"], ["serve", "--artifact", str(ROOT)]),
    ("serving", ["httpx"], ["deploy", "status"]),
    ("mlflow", ["mlflow"], ["release", "status", "cancer"]),
    ("aws", ["boto3", "botocore"], ["deploy", "status", "--target", "aws", "--endpoint-name",
                                    "x"]),
    ("datasets", ["pyarrow"], ["dataset", "profile", "@data.parquet"]),
    ("airflow", ["airflow"], ["dags", "test", str(ROOT / "examples" / "recommender" / "dags")]),
    ("tokens", ["tokenizers"], ["dataset", "tokens", str(ROOT / "README.md"), "--tokenizer",
                                "@tokenizer.json"]),
]


@pytest.mark.parametrize(("extra", "blocked", "args"), CASES,
                         ids=[f"{c[0]}-{'+'.join(c[1])}" for c in CASES])
def test_missing_extra_is_one_line(tmp_path: Path, extra: str, blocked: list[str],
                                   args: list[str]) -> None:
    _inputs(tmp_path)
    res = _run(tmp_path, blocked, *(str(tmp_path / a[1:]) if a.startswith("@") else a
                                    for a in args))
    assert "Traceback" not in res.stderr, res.stderr[-2000:]
    assert res.returncode == 2, (res.returncode, res.stderr[-2000:])
    assert f"pip install 'mlscope[{extra}]'" in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1
