"""`mlscope init`: a starter mlscope.yaml for a use case at an MLOps level."""

from __future__ import annotations

import re
from pathlib import Path

from mlscope.architecture.blueprints import LEVELS, load_blueprint, use_cases
from mlscope.errors import ConflictError, InputError, UnknownNameError

SPEC_NAME = "mlscope.yaml"


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "my-ml-project"


def init_spec_text(use_case: str, level: int, name: str) -> str:
    if use_case not in use_cases():
        raise UnknownNameError("use case", use_case, use_cases())
    if level not in LEVELS:
        raise InputError(f"MLOps level {level} does not exist", "use 0, 1 or 2")
    bp = load_blueprint(use_case)
    graph = bp.at_level(level)
    listing = "\n".join(f"#   {c.id:<13} {c.kind:<20} {c.label}"
                        for _, members in graph.by_phase() for c in members)
    summary = " ".join(bp.summary.split())
    environments = "" if level == 0 else (
        "\n# Environments the readiness check expects from level 1 on"
        " (the cost engine prices them).\n"
        "environments:\n  - name: dev\n  - name: qa\n  - name: prod\n")
    return f"""# mlscope.yaml written by `mlscope init --use-case {use_case} --level {level}`.
# {bp.title}: {summary}
# Next: `mlscope check {SPEC_NAME}`, then
#   `mlscope diagram {SPEC_NAME} --format svg -o architecture.svg`.
version: 1
project:
  name: {name}
  description: ""
  use_case: {use_case}
  mlops_level: {level}   # 0 manual, 1 continuous training, 2 CI/CD + continuous training
  region: us-east-1

# The {use_case} blueprint at level {level} has these components (id, kind, label):
{listing or "#   (none: describe yours under `add`)"}
# Change it here: add, remove or rename components, add or relabel flows.
# `mlscope explain --list` shows every kind; `mlscope explain KIND` what one does and costs.
architecture:
  add: []            # - {{id: consent, kind: data_validation, label: "Consent check"}}
  remove: []         # - batch
  rename: {{}}         # api: "Recommendations API v2"
  flows: []          # - {{from: consent, to: lake, label: "consented events"}}
  remove_flows: []   # - {{from: app, to: api}}
{environments}"""


def write_spec(use_case: str, level: int, directory: str | Path, name: str | None = None,
               force: bool = False) -> Path:
    folder = Path(directory)
    target = folder / SPEC_NAME
    if target.exists() and not force:
        raise ConflictError(f"{target} already exists", "pass --force to overwrite it")
    if folder.exists() and not folder.is_dir():
        raise InputError(f"{folder} is not a directory", "pass --dir with a directory path")
    text = init_spec_text(use_case, level, _slug(name or folder.resolve().name))
    folder.mkdir(parents=True, exist_ok=True)
    target.write_text(text)
    return target
