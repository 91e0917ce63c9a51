"""The `mlscope` entry point: a lazily loaded command group.

Each top-level command lives in its own module under `mlscope.cli` and is imported only when
used, so `mlscope --help` stays fast and a missing optional extra breaks only its own command
(with one line naming the extra: every optional import goes through `mlscope.errors.require`).
To add a command, add one line to COMMANDS; `tests/test_cli_reference.py` imports every one.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import click

from mlscope.errors import MlscopeError

# command name -> "module:attribute" (a click.Command or click.Group), plus one-line help.
COMMANDS: dict[str, tuple[str, str]] = {
    "estimate": (
        "mlscope.cli.estimate_cmd:estimate",
        "Estimate training FLOPs, memory, hours and cost.",
    ),
    "catalog": (
        "mlscope.cli.catalog_cmd:catalog",
        "List, show and import accelerators and AWS prices.",
    ),
    "schema": ("mlscope.cli.spec_cmd:schema", "Print the JSON Schema of mlscope.yaml."),
    "validate": (
        "mlscope.cli.spec_cmd:validate",
        "Validate an mlscope.yaml and list every problem.",
    ),
    "dataset": ("mlscope.cli.dataset_cmd:dataset", "Profile, sample and count tokens of datasets."),
    "calibrate": (
        "mlscope.cli.calibrate_cmd:calibrate",
        "Time your training command on data fractions and extrapolate.",
    ),
    "init": (
        "mlscope.cli.architecture_cmd:init",
        "Write an mlscope.yaml for a use case and MLOps level.",
    ),
    "diagram": (
        "mlscope.cli.architecture_cmd:diagram",
        "Draw the architecture (svg, png, mermaid, d2, dot, structurizr).",
    ),
    "check": (
        "mlscope.cli.architecture_cmd:check",
        "Readiness check: what the MLOps level needs but the spec lacks.",
    ),
    "explain": (
        "mlscope.cli.architecture_cmd:explain",
        "Explain a component: what it does, AWS and open-source options.",
    ),
    "cost": ("mlscope.cli.cost_cmd:cost", "Monthly run-rate, schedules, savings and budget risk."),
    "export": (
        "mlscope.cli.cost_cmd:export",
        "Export schedules as Terraform, Cloud Custodian or Instance Scheduler.",
    ),
    "release": (
        "mlscope.cli.release_cmd:release",
        "Registry, gated promotion, approvals, rollback and CI/CD.",
    ),
    "audit": ("mlscope.cli.release_cmd:audit", "Verify the tamper-evident audit log."),
    "serve": ("mlscope.cli.serving_cmd:serve", "Serve the model held by an alias (FastAPI)."),
    "deploy": ("mlscope.cli.deploy_cmd:deploy", "Deploy a model version locally or to AWS."),
    "plan": ("mlscope.cli.report_cmd:plan", "Print the time-boxed plan and flag problems."),
    "report": ("mlscope.cli.report_cmd:report", "Write the HTML report for sponsors."),
    "billing": (
        "mlscope.cli.billing_cmd:billing",
        "Actual AWS cost from billing exports (CUR 2.0, legacy CUR, FOCUS) vs the plan.",
    ),
    "experiment": (
        "mlscope.cli.experiment_cmd:experiment",
        "A/B test analysis, decisions and bandit simulation.",
    ),
    "monitor": (
        "mlscope.cli.monitor_cmd:monitor",
        "Drift and health monitoring, rollback on alarms.",
    ),
    "dags": ("mlscope.cli.dags_cmd:dags", "Airflow DAGs: generate, test, promote, roll back."),
}


HELP_OPTIONS = ["-h", "--help"]


def _help_everywhere(command: click.Command) -> click.Command:
    # Every command says `-h, --help` however its context is made (click caches the help
    # option on the command the first time it renders, from that context's settings).
    command.context_settings.setdefault("help_option_names", HELP_OPTIONS)
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            _help_everywhere(sub)
    return command


def _load_command(name: str) -> click.Command:
    module_name, attr = COMMANDS[name][0].split(":")
    command: click.Command = getattr(importlib.import_module(module_name), attr)
    return _help_everywhere(command)


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        return _load_command(cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # Help text from COMMANDS, so `mlscope --help` imports no command module.
        rows = [(n, COMMANDS[n][1]) for n in self.list_commands(ctx)]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": HELP_OPTIONS})
@click.version_option(package_name="mlscope")
def cli() -> None:
    """mlscope: what an ML system on AWS looks like, what it costs, and how to ship it safely."""


def main(argv: list[str] | None = None) -> Any:
    """Run the CLI; domain errors become one line on stderr and exit code 2."""
    try:
        return cli.main(args=argv, prog_name="mlscope", standalone_mode=False)
    except MlscopeError as exc:
        click.echo(f"Error: {exc.one_line()}", err=True)
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        # Usage errors (bad flag, missing argument): one line, exit 2, like domain errors.
        msg = exc.format_message()
        if isinstance(exc, click.UsageError) and exc.ctx is not None:
            msg = f"{msg} (see `{exc.ctx.command_path} --help`)"
        click.echo(f"Error: {msg}", err=True)
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except Exception as exc:
        line = aws_environment_problem(exc)
        if line is None:
            raise
        click.echo(f"Error: {line}", err=True)
        sys.exit(2)


# AWS answers that mean "your credentials or permissions", not a bug in mlscope.
_AWS_AUTH_CODES = frozenset({"AccessDenied", "AccessDeniedException", "ExpiredToken",
                             "ExpiredTokenException", "InvalidClientTokenId",
                             "UnrecognizedClientException", "InvalidAccessKeyId",
                             "SignatureDoesNotMatch"})


def aws_environment_problem(exc: BaseException) -> str | None:
    """One line naming the problem and the fix when `exc` is AWS's environment, else None.

    botocore is imported only here, after something failed, and only if it is installed (an
    exception cannot be botocore's otherwise): start-up stays light.
    """
    if not type(exc).__module__.startswith("botocore"):
        return None
    from botocore import exceptions as bx

    fix_creds = ("configure AWS credentials (AWS_PROFILE, `aws configure`, or OIDC in CI) "
                 "or point the command at a local endpoint")
    if isinstance(exc, bx.NoCredentialsError | bx.PartialCredentialsError):
        return f"no AWS credentials found ({exc}); {fix_creds}"
    if isinstance(exc, bx.ProfileNotFound):
        return f"{exc}; set AWS_PROFILE to a profile in ~/.aws/config"
    if isinstance(exc, bx.NoRegionError):
        return "no AWS region configured; pass --region or set AWS_DEFAULT_REGION"
    if isinstance(exc, bx.EndpointConnectionError):
        return f"{exc}; check the network or the endpoint URL"
    if isinstance(exc, bx.ClientError):
        code = exc.response.get("Error", {}).get("Code", "")
        if code in _AWS_AUTH_CODES:
            return (f"AWS refused the request ({code}: "
                    f"{exc.response.get('Error', {}).get('Message', '')}); check the "
                    "credentials and their IAM permissions")
    return None
