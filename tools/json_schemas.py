"""Publish a JSON Schema for each command's `--json` output under docs/schemas/.

Contract schemas (the outputs that external checks rely on, marked `"x-mlscope-contract":
true`) are written by hand and never overwritten here. For every other command the schema is
inferred with genson from the command's real output on the bundled examples, so it states the
shape that exists today; `tests/test_json_schemas.py` runs the same commands and validates
their output against the published schemas, so a renamed or dropped key fails a test.

    python tools/json_schemas.py          # (re)write the inferred schemas
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "schemas"
EX = ROOT / "examples"
REC = str(EX / "recommender" / "mlscope.yaml")
LLM = str(EX / "llm-pretrain" / "mlscope.yaml")
EDGE = str(EX / "edge-assistant" / "mlscope.yaml")
BILL = EX / "recommender-actuals"

# Inferred schemas: name -> argv (without the leading `mlscope`); every one ends in --json.
# The contract schemas' cases are in tests/test_json_schemas.py, which makes their inputs.
CASES: dict[str, list[str]] = {
    "estimate-training": ["estimate", "training", "--model", "llama-2-7b", "--tokens", "2T",
                          "--accelerator", "A100-80GB", "--count", "64", "--json"],
    "estimate-spec": ["estimate", "spec", REC, "--json"],
    "catalog-list": ["catalog", "list", "--json"],
    "cost": ["cost", REC, "--json"],
    "check": ["check", REC, "--json"],
    "validate": ["validate", REC, "--json"],
    "plan": ["plan", REC, "--json"],
    "estimate-voice-loop": ["estimate", "spec", EDGE, "--json"],
    "cost-llm-pretrain": ["cost", LLM, "--json"],
    "billing-check": ["billing", "check", str(BILL / "mlscope.yaml"), "--json"],
}


def run_json(argv: list[str]) -> object:
    """Run `mlscope ARGV` in-process and parse its stdout."""
    from mlscope.cli.main import main

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        try:
            main(argv)
        except SystemExit as exc:
            if exc.code not in (0, 1, None):
                raise RuntimeError(f"mlscope {' '.join(argv)} exited {exc.code}") from None
    return json.loads(buf.getvalue())


def is_contract(name: str) -> bool:
    path = OUT / f"{name}.schema.json"
    return path.exists() and json.loads(path.read_text()).get("x-mlscope-contract", False)


def main() -> None:
    from genson import SchemaBuilder

    OUT.mkdir(parents=True, exist_ok=True)
    for name, argv in CASES.items():
        if is_contract(name):
            print(f"kept   {name} (contract, hand-written)")
            continue
        builder = SchemaBuilder()
        builder.add_schema({"$schema": "http://json-schema.org/draft-07/schema#",
                            "title": "mlscope " + " ".join(
                                a.replace(str(ROOT) + "/", "") for a in argv if a != "--json")})
        builder.add_object(run_json(argv))
        (OUT / f"{name}.schema.json").write_text(json.dumps(builder.to_schema(), indent=1) + "\n")
        print(f"wrote  {name}")
    sys.exit(0)


if __name__ == "__main__":
    main()
