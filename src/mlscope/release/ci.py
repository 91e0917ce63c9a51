"""CI/CD: a GitHub Actions workflow that runs the release process with mlscope's commands.

check → train → register → dev → qa → prod, where:

* mlscope is installed from the repository itself (`pip install ".[all]"`), never by name from
  a package index (a squatted name would run code in a job that can mint AWS credentials);
* AWS credentials come from OIDC (aws-actions/configure-aws-credentials) before any S3 access;
* release state (audit log, registry) lives in S3 and each job pulls it under a lock and pushes
  it back (`mlscope release state pull/push`: a conditional write refuses a push that would drop
  entries another run wrote); a concurrency group serialises runs of the workflow as well;
* qa and prod run in GitHub environments: give `prod` required reviewers in the repository's
  settings. mlscope's own approvals are signed by the approvers' SSH keys (they run
  `mlscope release approve` against the same state); the job signs its entries with the CI
  key (secret MLSCOPE_CI_SIGNING_KEY, listed in the allowed-signers file as the CI principal);
* `mlscope check --strict` gates the architecture before anything is trained.

Untrusted inputs reach scripts only through env vars (never ${{ }} inside `run:`), which
closes GitHub Actions' script-injection hole.
"""

from __future__ import annotations

import re

from mlscope.errors import InputError
from mlscope.release.registry import validate_model_name

_SAFE_PATH = re.compile(r"[A-Za-z0-9._/-]{1,200}")
_SAFE_COMMAND = re.compile(r"[A-Za-z0-9._/=\- \"'$]{1,300}")
DEFAULT_TRAIN = 'mlscope release train --app tabular --out "$MODEL_DIR"'

_TEMPLATE = """\
# Written by `mlscope release ci --provider github`. Regenerate rather than hand-edit.
name: mlscope release

on:
  push:
    branches: [main]
  workflow_dispatch: {}

permissions:
  contents: read
  id-token: write  # OIDC federation to AWS: no stored AWS keys

# One release run at a time per model; the S3 state lock covers runs outside this workflow.
concurrency:
  group: mlscope-release-@MODEL@
  cancel-in-progress: false

env:
  MODEL: "@MODEL@"
  MLSCOPE_SPEC: "@SPEC@"  # the committed release policy
  MLSCOPE_STATE_DIR: .mlscope
  MLSCOPE_STATE_S3: ${{ vars.MLSCOPE_STATE_S3 }}
  MLSCOPE_TRACKING_URI: sqlite:///.mlscope/mlflow.db
  MLSCOPE_ARTIFACT_URI: ${{ vars.MLSCOPE_ARTIFACT_URI }}  # s3://...: jobs run on fresh machines
  MODEL_DIR: build/model
  PYTHON_VERSION: "3.11"
  AWS_REGION: ${{ vars.AWS_REGION }}
  MLSCOPE_AWS_BUCKET: ${{ vars.MLSCOPE_AWS_BUCKET }}
  MLSCOPE_AWS_ROLE_ARN: ${{ vars.MLSCOPE_AWS_ROLE_ARN }}
  MLSCOPE_AWS_IMAGE: ${{ vars.MLSCOPE_AWS_IMAGE }}

jobs:
  check:
    runs-on: ubuntu-latest
    steps:
@SETUP@
      - name: validate the spec
        run: mlscope validate "$MLSCOPE_SPEC"
      - name: architecture readiness (strict)
        run: mlscope check --strict "$MLSCOPE_SPEC"
      - name: unit tests
        run: if [ -d tests ]; then python -m pytest -q tests; fi

  train:
    needs: check
    runs-on: ubuntu-latest
    environment: dev
    outputs:
      version: ${{ steps.register.outputs.version }}
    steps:
@SETUP@
@AWS@
      - name: train (writes an MLflow Model to $MODEL_DIR)
        run: @TRAIN@
@PULL@
      - name: register
        id: register
        run: |
          mlscope release register "$MODEL" --model-dir "$MODEL_DIR" --json \\
            --reason "CI run $GITHUB_RUN_ID ($GITHUB_SHA)" > registered.json
          python - >> "$GITHUB_OUTPUT" <<'PY'
          import json
          print("version=%s" % json.load(open("registered.json"))["version"])
          PY
@PUSH@

  dev:
    needs: train
    runs-on: ubuntu-latest
    environment: dev
    env:
      VERSION: ${{ needs.train.outputs.version }}
    steps:
@SETUP@
@AWS@
@PULL@
      - name: promote to dev
        run: mlscope release promote "$MODEL" "$VERSION" --to dev --reason "CI run $GITHUB_RUN_ID"
      - name: deploy dev
        run: mlscope deploy run "$MODEL" --env dev --target aws --reason "CI run $GITHUB_RUN_ID"
@PUSH@

  qa:
    needs: [train, dev]
    runs-on: ubuntu-latest
    environment: qa
    env:
      VERSION: ${{ needs.train.outputs.version }}
    steps:
@SETUP@
@AWS@
@PULL@
      - name: promote to qa (thresholds, beat the champion, QA simulation)
        run: mlscope release promote "$MODEL" "$VERSION" --to qa --reason "CI run $GITHUB_RUN_ID"
      - name: deploy qa (what the qa alias holds)
        run: mlscope deploy run "$MODEL" --env qa --target aws --reason "CI run $GITHUB_RUN_ID"
@PUSH@

  prod:
    needs: [train, qa]
    runs-on: ubuntu-latest
    # Required reviewers on the `prod` environment hold this job until they approve in GitHub;
    # mlscope separately requires signed approvals of the artifact in the audit log.
    environment: prod
    env:
      VERSION: ${{ needs.train.outputs.version }}
    steps:
@SETUP@
@AWS@
@PULL@
      - name: promote to prod (signed approvals gate)
        run: mlscope release promote "$MODEL" "$VERSION" --to prod --reason "CI run $GITHUB_RUN_ID"
      - name: deploy prod (what the prod alias holds)
        run: mlscope deploy run "$MODEL" --env prod --target aws --reason "CI run $GITHUB_RUN_ID"
      - name: verify the audit trail
        run: mlscope audit verify
@PUSH@
"""

_SETUP = """\
      - uses: actions/checkout@v4
      - uses: actions/setup-python@v5
        with:
          python-version: ${{ env.PYTHON_VERSION }}
      - name: install mlscope from this repository
        run: |
          python -m pip install ".[all]"
          sudo apt-get install -y openssh-client
      - name: CI signing key
        env:
          KEY: ${{ secrets.MLSCOPE_CI_SIGNING_KEY }}
        run: |
          umask 077
          printf '%s\\n' "$KEY" > "$RUNNER_TEMP/mlscope_ci_key"
          echo "MLSCOPE_SIGNING_KEY=$RUNNER_TEMP/mlscope_ci_key" >> "$GITHUB_ENV\""""

_AWS = """\
      - name: AWS credentials (OIDC, before any S3 access)
        uses: aws-actions/configure-aws-credentials@v4
        with:
          role-to-assume: ${{ vars.AWS_DEPLOY_ROLE_ARN }}
          aws-region: ${{ env.AWS_REGION }}"""

_PULL = """\
      - name: pull release state (takes the lock)
        run: mlscope release state pull --url "$MLSCOPE_STATE_S3\""""

_PUSH = """\
      - name: push release state (releases the lock)
        if: always()
        run: mlscope release state push --url "$MLSCOPE_STATE_S3\""""


def github_workflow(model: str, spec_file: str = "mlscope.yaml",
                    train_command: str = DEFAULT_TRAIN) -> str:
    """The workflow YAML for `model`, reading the policy from `spec_file` (a repository path)."""
    validate_model_name(model)
    if not _SAFE_PATH.fullmatch(spec_file) or ".." in spec_file.split("/"):
        raise InputError(f"spec path {spec_file!r} is not a plain repository path",
                         "use a relative path such as mlscope.yaml or ml/mlscope.yaml")
    if not _SAFE_COMMAND.fullmatch(train_command) or "${{" in train_command:
        raise InputError("the train command has characters a workflow should not carry",
                         "use a plain command such as `python train.py --out \"$MODEL_DIR\"`")
    text = (_TEMPLATE.replace("@SETUP@", _SETUP).replace("@AWS@", _AWS)
            .replace("@PULL@", _PULL).replace("@PUSH@", _PUSH))
    return (text.replace("@MODEL@", model).replace("@SPEC@", spec_file)
            .replace("@TRAIN@", train_command))
