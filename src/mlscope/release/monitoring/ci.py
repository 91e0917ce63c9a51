"""A scheduled GitHub Actions job that runs `mlscope monitor check --rollback` on production.

It shares the release workflow's set-up (install from the repository, OIDC credentials before
any S3 access, the release state pulled from S3 under its lock and pushed back) and its
concurrency group, so a rollback never races a promotion. The check exits 1 on an alarm, which
fails the run and notifies the team; the state is pushed back either way.
"""

from __future__ import annotations

import re

from mlscope.errors import InputError
from mlscope.release.ci import _AWS, _PULL, _PUSH, _SETUP
from mlscope.release.registry import validate_model_name

_CRON = re.compile(r"^[0-9*/,\-]+( [0-9*/,\-A-Za-z]+){4}$")
_ENV = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")

_TEMPLATE = """\
# Written by `mlscope monitor ci --provider github`. Regenerate rather than hand-edit.
name: mlscope monitor @ENV@

on:
  schedule:
    - cron: "@CRON@"
  workflow_dispatch: {}

permissions:
  contents: read
  id-token: write  # OIDC federation to AWS: no stored AWS keys

# The release workflow's group: a rollback never runs while a promotion does.
concurrency:
  group: mlscope-release-@MODEL@
  cancel-in-progress: false

env:
  MODEL: "@MODEL@"
  MLSCOPE_SPEC: "@SPEC@"
  MLSCOPE_STATE_DIR: .mlscope
  MLSCOPE_STATE_S3: ${{ vars.MLSCOPE_STATE_S3 }}
  MLSCOPE_TRACKING_URI: sqlite:///.mlscope/mlflow.db
  METRICS_URL: ${{ vars.@METRICS_VAR@ }}
  PYTHON_VERSION: "3.11"
  AWS_REGION: ${{ vars.AWS_REGION }}

jobs:
  check:
    runs-on: ubuntu-latest
    timeout-minutes: 20
    steps:
@SETUP@
@AWS@
@PULL@
      - name: health and drift; roll back on an alarm
        run: >-
          mlscope monitor check --env @ENV@ --model "$MODEL"
          --metrics-url "$METRICS_URL" --rollback --json
@PUSH@
"""


def monitor_workflow(model: str, env: str = "prod", schedule: str = "*/15 * * * *",
                     spec_file: str = "mlscope.yaml",
                     metrics_var: str = "PROD_METRICS_URL") -> str:
    validate_model_name(model)
    if not _ENV.fullmatch(env):
        raise InputError(f"environment name {env!r} is not valid", "e.g. prod")
    if not _CRON.fullmatch(schedule):
        raise InputError(f"schedule {schedule!r} is not a 5-field cron expression",
                         "e.g. '*/15 * * * *' (every 15 minutes, UTC)")
    if not re.fullmatch(r"[A-Z][A-Z0-9_]{0,63}", metrics_var):
        raise InputError(f"{metrics_var!r} is not a GitHub variable name", "e.g. PROD_METRICS_URL")
    if not re.fullmatch(r"[A-Za-z0-9._/-]{1,200}", spec_file) or ".." in spec_file.split("/"):
        raise InputError(f"spec path {spec_file!r} is not a plain repository path")
    text = (_TEMPLATE.replace("@SETUP@", _SETUP).replace("@AWS@", _AWS)
            .replace("@PULL@", _PULL).replace("@PUSH@", _PUSH))
    return (text.replace("@MODEL@", model).replace("@ENV@", env).replace("@CRON@", schedule)
            .replace("@SPEC@", spec_file).replace("@METRICS_VAR@", metrics_var))
