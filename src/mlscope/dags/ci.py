"""`mlscope dags ci --provider github`: lint → integrity tests → deploy to dev on merge →
`dags test` of what dev runs → qa → approval (GitHub environment with required reviewers, plus
mlscope's signed approvals) → prod.

Same rules as the release workflow (mlscope.release.ci): mlscope is installed from the
repository, AWS credentials come from OIDC before any S3 access, the audit log travels in S3
under a lock (`mlscope release state pull/push`), the jobs sign their entries with the CI key,
and untrusted inputs reach scripts only through env vars.
"""

from __future__ import annotations

import re

from mlscope.errors import InputError

_SAFE_PATH = re.compile(r"[A-Za-z0-9._/-]{1,200}")

_SETUP = """\
      - uses: actions/checkout@v4
      - uses: actions/setup-python@v5
        with:
          python-version: "3.11"
      - name: install mlscope from this repository
        run: python -m pip install ".[all]"
"""

_SIGN = """\
      - name: CI signing key
        env:
          KEY: ${{ secrets.MLSCOPE_CI_SIGNING_KEY }}
        run: |
          umask 077
          printf '%s\\n' "$KEY" > "$RUNNER_TEMP/mlscope_ci_key"
          echo "MLSCOPE_SIGNING_KEY=$RUNNER_TEMP/mlscope_ci_key" >> "$GITHUB_ENV"
      - name: AWS credentials (OIDC, before any S3 access)
        uses: aws-actions/configure-aws-credentials@v4
        with:
          role-to-assume: ${{ vars.AWS_DEPLOY_ROLE_ARN }}
          aws-region: ${{ vars.AWS_REGION || 'us-east-1' }}
      - name: pull release state (takes the lock)
        run: mlscope release state pull --url "$MLSCOPE_STATE_S3"
"""

_PUSH = """\
      - name: push release state (releases the lock)
        if: always()
        run: mlscope release state push --url "$MLSCOPE_STATE_S3"
"""

_TEMPLATE = """\
# Written by `mlscope dags ci --provider github`. Regenerate rather than hand-edit.
name: mlscope dags

on:
  pull_request:
    paths: ["@DAGS@/**", "@SPEC@"]
  push:
    branches: [main]
    paths: ["@DAGS@/**", "@SPEC@"]

permissions:
  contents: read
  id-token: write  # OIDC federation to AWS for the deploy steps

concurrency:
  group: mlscope-dags
  cancel-in-progress: false

env:
  DAGS_DIR: "@DAGS@"
  MWAA_CONFIG: "@DAGS@/mwaa.yaml"
  MLSCOPE_SPEC: "@SPEC@"
  MLSCOPE_STATE_DIR: .mlscope
  MLSCOPE_STATE_S3: ${{ vars.MLSCOPE_STATE_S3 }}

jobs:
  lint:
    runs-on: ubuntu-latest
    steps:
@SETUP@      - name: lint the DAG files
        run: python -m ruff check "$DAGS_DIR"
      - name: the DAGs are what the spec generates
        run: |
          mlscope dags generate "$MLSCOPE_SPEC" -o "$RUNNER_TEMP/fresh"
          diff -r -x mwaa.yaml "$RUNNER_TEMP/fresh" "$DAGS_DIR"

  integrity:
    needs: lint
    runs-on: ubuntu-latest
    steps:
@SETUP@      - name: DagBag import, cycles, owners/retries/tags, parse time under 0.5 s
        run: mlscope dags test "$DAGS_DIR"

  deploy-dev:
    if: github.event_name == 'push'
    needs: integrity
    runs-on: ubuntu-latest
    environment: dev
    steps:
@SETUP@@SIGN@      - name: deploy to dev (diff first; a new audited bundle)
        run: |
          mlscope dags deploy "$DAGS_DIR" --env dev --dry-run --config "$MWAA_CONFIG"
          mlscope dags deploy "$DAGS_DIR" --env dev --commit "$GITHUB_SHA" --config "$MWAA_CONFIG"
      - name: test what dev now runs (the exact S3 object versions)
        run: mlscope dags test --env dev --config "$MWAA_CONFIG"
@PUSH@
  qa:
    needs: deploy-dev
    runs-on: ubuntu-latest
    environment: qa
    steps:
@SETUP@@SIGN@      - name: promote dev to qa
        run: |
          mlscope dags promote --from dev --to qa --dry-run --config "$MWAA_CONFIG"
          mlscope dags promote --from dev --to qa --reason "$GITHUB_SHA" --config "$MWAA_CONFIG"
      - name: test what qa now runs
        run: mlscope dags test --env qa --config "$MWAA_CONFIG"
@PUSH@
  prod:
    # Required reviewers on the `prod` environment hold this job until they approve in GitHub.
    # mlscope's gate also needs its own signed approvals from people other than the author:
    # `mlscope dags approve BUNDLE --env prod --reason ...` with their SSH keys.
    needs: qa
    runs-on: ubuntu-latest
    environment: prod
    steps:
@SETUP@@SIGN@      - name: promote qa to prod (refused without the approvals)
        run: |
          mlscope dags promote --from qa --to prod --dry-run --config "$MWAA_CONFIG"
          mlscope dags promote --from qa --to prod --reason "$GITHUB_SHA" --config "$MWAA_CONFIG"
      - name: status
        run: mlscope dags status --config "$MWAA_CONFIG"
@PUSH@"""


def github_workflow(dags_dir: str = "dags", spec_file: str = "mlscope.yaml") -> str:
    for value in (dags_dir, spec_file):
        if not _SAFE_PATH.fullmatch(value) or ".." in value.split("/"):
            raise InputError(f"path {value!r} is not a plain repository path",
                             "use a relative path such as dags or ml/mlscope.yaml")
    return (_TEMPLATE.replace("@SETUP@", _SETUP).replace("@SIGN@", _SIGN)
            .replace("@PUSH@", _PUSH).replace("@DAGS@", dags_dir.strip("/"))
            .replace("@SPEC@", spec_file))
