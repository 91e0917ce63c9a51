"""CI/CD: a GitHub Actions workflow that runs the release process with mlscope's commands.

test → train → register → deploy dev → gates → qa → manual approval (GitHub environment
protection on `prod`) → prod. Identity in CI is the GitHub actor (`MLSCOPE_USER`). mlscope
approvals are recorded by dispatching the same workflow with `approve_version` set, so each
approval is bound to the GitHub account that dispatched it. Release state (audit log, alias
history, SQLite registry) travels between jobs as a workflow artifact; across runs, point
MLSCOPE_TRACKING_URI at a shared MLflow server and set the MLSCOPE_STATE_S3 variable to keep
the state directory in S3.
"""

from __future__ import annotations

import re

from mlscope.errors import InputError
from mlscope.release.registry import validate_model_name

_SAFE_PATH = re.compile(r"[A-Za-z0-9._/-]{1,200}")

# Untrusted inputs reach scripts only through env vars (never ${{ }} inside `run:`), which
# closes GitHub Actions' script-injection hole.
_TEMPLATE = """\
# Written by `mlscope release ci --provider github`. Regenerate rather than hand-edit.
name: mlscope release

on:
  push:
    branches: [main]
  workflow_dispatch:
    inputs:
      approve_version:
        description: "Record your approval of this model version for prod (empty: run the pipeline)"
        required: false
        default: ""
      reason:
        description: "Why this version is safe to ship (required with approve_version)"
        required: false
        default: ""

permissions:
  contents: read
  id-token: write  # OIDC federation to AWS for the deploy steps

env:
  MODEL: "@MODEL@"
  MLSCOPE_SPEC: "@SPEC@"  # every mlscope command reads its gates from here
  MLSCOPE_STATE_DIR: .mlscope
  MLSCOPE_USER: ${{ github.actor }}
  MLSCOPE_TRACKING_URI: ${{ secrets.MLSCOPE_TRACKING_URI }}
  MLSCOPE_STATE_S3: ${{ vars.MLSCOPE_STATE_S3 }}
  PYTHON_VERSION: "3.11"
  # `mlscope deploy run --target aws` reads these (repository variables, not secrets).
  AWS_REGION: ${{ vars.AWS_REGION || 'us-east-1' }}
  MLSCOPE_AWS_BUCKET: ${{ vars.MLSCOPE_AWS_BUCKET }}
  MLSCOPE_AWS_ROLE_ARN: ${{ vars.MLSCOPE_AWS_ROLE_ARN }}
  MLSCOPE_AWS_IMAGE: ${{ vars.MLSCOPE_AWS_IMAGE }}

jobs:
  test:
    if: ${{ !inputs.approve_version }}
    runs-on: ubuntu-latest
    steps:
@SETUP@
      - name: validate the spec
        run: mlscope validate "$MLSCOPE_SPEC"
      - name: unit tests
        run: if [ -d tests ]; then pip install pytest && pytest -q; fi

  train:
    needs: test
    runs-on: ubuntu-latest
    outputs:
      version: ${{ steps.register.outputs.version }}
    steps:
@SETUP@
      - name: train and register
        id: register
        run: |
          mlscope release train --register "$MODEL" --json \\
            --reason "CI run $GITHUB_RUN_ID ($GITHUB_SHA)" > train.json
          echo "version=$(jq -r .registered.version train.json)" >> "$GITHUB_OUTPUT"
@SAVE@

  dev:
    needs: train
    runs-on: ubuntu-latest
    environment: dev
    env:
      VERSION: ${{ needs.train.outputs.version }}
    steps:
@SETUP@
      - name: promote to dev
        run: mlscope release promote "$MODEL" "$VERSION" --to dev --reason "CI run $GITHUB_RUN_ID"
@DEPLOY:dev@
@SAVE@

  qa:
    needs: [train, dev]
    runs-on: ubuntu-latest
    environment: qa
    env:
      VERSION: ${{ needs.train.outputs.version }}
    steps:
@SETUP@
      - name: gates (thresholds, beat the champion, QA simulation)
        run: mlscope release promote "$MODEL" "$VERSION" --to qa --dry-run
      - name: promote to qa
        run: |
          mlscope release promote "$MODEL" "$VERSION" --to qa \\
            --reason "gates passed in CI run $GITHUB_RUN_ID"
@DEPLOY:qa@
@SAVE@

  prod:
    needs: [train, qa]
    runs-on: ubuntu-latest
    # Manual approval: give the `prod` environment required reviewers in the repository's
    # settings. Reviewers also record their mlscope approval by dispatching this workflow
    # with approve_version set; the promotion checks those approvals (not the author's).
    environment: prod
    env:
      VERSION: ${{ needs.train.outputs.version }}
    steps:
@SETUP@
      - name: promote to prod (approvals gate)
        run: |
          mlscope release promote "$MODEL" "$VERSION" --to prod \\
            --reason "approved for CI run $GITHUB_RUN_ID"
@DEPLOY:prod@
      - name: verify the audit log
        run: mlscope audit verify
@SAVE@

  approve:
    if: ${{ inputs.approve_version }}
    runs-on: ubuntu-latest
    env:
      VERSION: ${{ inputs.approve_version }}
      REASON: ${{ inputs.reason }}
    steps:
@SETUP@
      - name: record the approval under the dispatching GitHub account
        run: mlscope release approve "$MODEL" "$VERSION" --env prod --reason "$REASON"
@SAVE@
"""

_SETUP = """\
      - uses: actions/checkout@v4
      - uses: actions/setup-python@v5
        with:
          python-version: ${{ env.PYTHON_VERSION }}
      - name: install
        run: |
          pip install 'mlscope[all]'
          pip install --no-deps recbole
      - name: restore release state (this run)
        uses: actions/download-artifact@v4
        continue-on-error: true
        with:
          name: mlscope-state
          path: .mlscope
      - name: restore release state (across runs)
        if: ${{ env.MLSCOPE_STATE_S3 != '' }}
        run: aws s3 sync "$MLSCOPE_STATE_S3" .mlscope"""

_SAVE = """\
      - name: keep release state (across runs)
        if: ${{ always() && env.MLSCOPE_STATE_S3 != '' }}
        run: aws s3 sync .mlscope "$MLSCOPE_STATE_S3"
      - name: keep release state (this run)
        if: always()
        uses: actions/upload-artifact@v4
        with:
          name: mlscope-state
          path: .mlscope
          include-hidden-files: true
          overwrite: true"""

_DEPLOY = """\
      - name: AWS credentials (OIDC, no stored keys)
        uses: aws-actions/configure-aws-credentials@v4
        with:
          role-to-assume: ${{ vars.AWS_DEPLOY_ROLE_ARN }}
          aws-region: ${{ env.AWS_REGION }}
      - name: deploy to @ENV@ (SageMaker endpoint)
        run: |
          mlscope deploy run "$MODEL" "$VERSION" --env @ENV@ --target aws \\
            --reason "CI run $GITHUB_RUN_ID"
"""


def github_workflow(model: str, spec_file: str = "mlscope.yaml") -> str:
    """The workflow YAML for `model`, reading gates from `spec_file` (a repository path)."""
    validate_model_name(model)
    if not _SAFE_PATH.fullmatch(spec_file) or ".." in spec_file.split("/"):
        raise InputError(f"spec path {spec_file!r} is not a plain repository path",
                         "use a relative path such as mlscope.yaml or ml/mlscope.yaml")
    text = _TEMPLATE.replace("@SETUP@", _SETUP).replace("@SAVE@", _SAVE)
    for env in ("dev", "qa", "prod"):
        text = text.replace(f"@DEPLOY:{env}@", _DEPLOY.rstrip("\n").replace("@ENV@", env))
    return text.replace("@MODEL@", model).replace("@SPEC@", spec_file)
