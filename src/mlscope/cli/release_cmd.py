"""`mlscope release ...` (registry, gated promotion, signed approvals, rollback, history, CI)
and `mlscope audit ...` (verify, show and repair the tamper-evident audit log).

The release policy always comes from the committed spec (`--spec`, $MLSCOPE_SPEC or
./mlscope.yaml); promotion refuses a policy other than the one recorded at registration.

Exit codes: 0 done; 1 refused by policy (a gate failed, a self-approval, a broken or drifting
audit trail); 2 bad input.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from mlscope.cli.output import console, json_option, print_json

if TYPE_CHECKING:
    from mlscope.release.promotion import Release


# -- shared options -------------------------------------------------------------------------
def _tracking_option(func: Any) -> Any:
    return click.option("--tracking-uri", default=None, metavar="URI",
                        help="MLflow tracking URI (default: the spec's release.tracking_uri, "
                             "$MLSCOPE_TRACKING_URI, or SQLite in the state dir).")(func)


def _spec_option(func: Any) -> Any:
    return click.option("--spec", "spec_path", default=None, metavar="FILE",
                        type=click.Path(dir_okay=True), envvar="MLSCOPE_SPEC",
                        help="The committed mlscope.yaml holding the release policy (default: "
                             "$MLSCOPE_SPEC, else ./mlscope.yaml).")(func)


@dataclass
class _Ctx:
    release: Release

    def model(self, given: str | None) -> str:
        from mlscope.errors import InputError

        policy = self.release.policy
        name = given or (policy.section.model_name if policy else None)
        if not name:
            raise InputError("no model name given",
                             "pass MODEL or set release.model_name in mlscope.yaml")
        return name


def _open(spec_path: str | None, tracking_uri: str | None) -> _Ctx:
    from mlscope.release.promotion import Release

    return _Ctx(Release.open(spec_path, tracking_uri))


VERSION = click.argument("version", type=click.IntRange(min=1))


# -- release --------------------------------------------------------------------------------
@click.group()
def release() -> None:
    """Registry, gated promotion dev → qa → prod, signed approvals, rollback, history, CI/CD."""


@release.command()
@click.option("--app", type=click.Choice(["recommender", "tabular"]), default="recommender",
              show_default=True, help="recommender: ALS on MovieLens-100k (from the recbole "
              "wheel); tabular: logistic regression on scikit-learn's breast-cancer data.")
@click.option("--factors", default=32, show_default=True, type=click.IntRange(1, 1024))
@click.option("--iterations", default=10, show_default=True, type=click.IntRange(1, 200))
@click.option("--regularization", default=0.05, show_default=True, type=click.FloatRange(0))
@click.option("--alpha", default=1.0, show_default=True, type=click.FloatRange(0, min_open=True),
              help="Confidence per rating star: 1 + alpha * rating.")
@click.option("--c", "c_value", default=1.0, show_default=True,
              type=click.FloatRange(0, min_open=True), help="tabular: inverse regularization.")
@click.option("--seed", default=0, show_default=True, type=int)
@click.option("--out", "out_dir", default=None, type=click.Path(file_okay=False),
              help="Where to write the model directory (default: under the state dir).")
@click.option("--register", "register_as", default=None, metavar="MODEL",
              help="Also register the run as a new version of MODEL.")
@click.option("--reason", default="", help="Why (recorded in the audit log when registering).")
@_tracking_option
@_spec_option
@json_option
def train(app: str, factors: int, iterations: int, regularization: float, alpha: float,
          c_value: float, seed: int, out_dir: str | None, register_as: str | None, reason: str,
          tracking_uri: str | None, spec_path: str | None, as_json: bool) -> None:
    """Train an example model, save it as an MLflow Model and log it to MLflow."""
    import time
    import uuid

    from mlscope.release.state import state_dir

    ctx = _open(spec_path, tracking_uri)
    out = Path(out_dir) if out_dir else state_dir() / "trained" / uuid.uuid4().hex[:12]
    uri = ctx.release.registry.tracking_uri
    started = time.perf_counter()
    payload: dict[str, Any]
    if app == "recommender":
        from mlscope.release.reference_app import TrainConfig, train_and_log

        cfg = TrainConfig(factors=factors, iterations=iterations,
                          regularization=regularization, alpha=alpha, seed=seed)
        run_id, result = train_and_log(cfg, out, uri)
        payload = {"run_id": run_id, "artifact_dir": str(out), "metrics": result.metrics,
                   "params": result.params, "data_version": result.data_version}
    else:
        from mlscope.release.tabular_app import TabularConfig, data_version
        from mlscope.release.tabular_app import train_and_log as train_tabular

        run_id, metrics, params = train_tabular(TabularConfig(c=c_value, seed=seed), out, uri)
        payload = {"run_id": run_id, "artifact_dir": str(out), "metrics": metrics,
                   "params": params, "data_version": data_version()}
    payload["seconds"] = round(time.perf_counter() - started, 3)
    if register_as:
        info = ctx.release.register(register_as, run_id, ctx.release.actor(), reason)
        payload["registered"] = {"model": info.model, "version": info.version,
                                 "artifact_digest": info.artifact_digest}
    if as_json:
        print_json(payload)
        return
    out_console = console()
    out_console.print(f"run {run_id}: trained in {payload['seconds']:.1f} s → {out}")
    for name, value in payload["metrics"].items():
        out_console.print(f"  {name:18s} {value:.4f}")
    if register_as:
        out_console.print(f"registered {register_as} v{payload['registered']['version']}")


@release.command("eval-set")
@click.option("--app", type=click.Choice(["recommender", "tabular"]), required=True)
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False))
@json_option
def eval_set(app: str, output: str, as_json: bool) -> None:
    """Write an example's fixed evaluation set and print the sha256 to pin in the policy."""
    from mlscope.release.digest import file_digest

    path = Path(output)
    path.parent.mkdir(parents=True, exist_ok=True)
    if app == "recommender":
        from mlscope.release import reference_app

        reference_app.write_evaluation_set(path)
    else:
        from mlscope.release import tabular_app

        tabular_app.write_evaluation_set(path)
    digest = file_digest(path)
    if as_json:
        print_json({"path": str(path), "sha256": digest, "task": "ranking" if app ==
                    "recommender" else "classification"})
    else:
        click.echo(f"wrote {path}; pin it: evaluation: {{path: {path.name}, sha256: {digest}}}")


@release.command()
@click.argument("model")
@click.option("--run", "run_id", default=None, help="MLflow run id (from `release train`).")
@click.option("--model-dir", "model_dir", default=None, type=click.Path(file_okay=False),
              help="An MLflow Model directory (MLmodel file) saved elsewhere.")
@click.option("--reason", default="", help="Why (recorded in the audit log).")
@_tracking_option
@_spec_option
@json_option
def register(model: str, run_id: str | None, model_dir: str | None, reason: str,
             tracking_uri: str | None, spec_path: str | None, as_json: bool) -> None:
    """Register a new version of MODEL (an MLflow Model) from a run or a directory."""
    from mlscope.errors import ConflictError, InputError

    if bool(run_id) == bool(model_dir):
        raise (ConflictError("--run and --model-dir exclude each other", "pass one of them")
               if run_id else InputError("nothing to register",
                                         "pass --run ID or --model-dir DIR"))
    ctx = _open(spec_path, tracking_uri)
    actor = ctx.release.actor()
    info = (ctx.release.register(model, run_id, actor, reason) if run_id else
            ctx.release.register_dir(model, Path(str(model_dir)), actor, reason))
    if as_json:
        print_json(info.as_dict())
    else:
        click.echo(f"registered {model} v{info.version} (author {actor.name}, "
                   f"{info.artifact_digest})")


def _print_gates(result: Any) -> None:
    from rich.table import Table

    table = Table(title=f"{result.model} v{result.version} → {result.env}")
    for col in ("gate", "result", "detail"):
        table.add_column(col, overflow="fold")
    for gate in result.gates:
        table.add_row(gate.gate, "pass" if gate.passed else "FAIL", gate.detail)
    console().print(table)


@release.command()
@click.argument("model")
@VERSION
@click.option("--to", "env", required=True, help="Target environment (dev, qa, prod, ...).")
@click.option("--reason", default="", help="Why (recorded in the audit log).")
@click.option("--requests", "requests_path", default=None, type=click.Path(dir_okay=False),
              help="Replace the policy's evaluation set (recorded in the audit log; refused "
                   "for production).")
@click.option("--dry-run", is_flag=True, help="Run the gates and report; change nothing.")
@_tracking_option
@_spec_option
@json_option
def promote(model: str, version: int, env: str, reason: str, requests_path: str | None,
            dry_run: bool, tracking_uri: str | None, spec_path: str | None,
            as_json: bool) -> None:
    """Promote MODEL VERSION to an environment through the policy's gates (1 when refused)."""
    ctx = _open(spec_path, tracking_uri)
    result = ctx.release.promote(model, version, env, ctx.release.actor(), reason,
                                 Path(requests_path) if requests_path else None, dry_run)
    if as_json:
        print_json(result.as_dict())
    else:
        _print_gates(result)
        if result.promoted:
            prev = f"v{result.previous}" if result.previous else "nothing"
            click.echo(f"promoted {model} v{version} to {env} (was {prev})")
        elif dry_run:
            click.echo(f"dry run: {'would be refused' if result.refusals else 'would pass'}")
        else:
            click.echo(f"refused: {'; '.join(result.refusals)}", err=True)
    if result.refusals:
        sys.exit(1)


def _decide(decision: str, model: str, version: int, env: str, reason: str,
            tracking_uri: str | None, spec_path: str | None, as_json: bool) -> None:
    ctx = _open(spec_path, tracking_uri)
    actor = ctx.release.actor()
    approval = ctx.release.approve(model, version, env, actor, reason, decision)
    if as_json:
        print_json({"model": model, "version": version, **approval.as_dict()})
    else:
        signed = "signed" if approval.signed else "UNSIGNED (local-dev)"
        click.echo(f"{approval.actor} {decision}d {model} v{version} for {env} ({signed}, "
                   f"expires {approval.expires})")


@release.command()
@click.argument("model")
@VERSION
@click.option("--env", required=True, help="The environment the approval is for (e.g. prod).")
@click.option("--reason", required=True, help="Why this version is safe to ship.")
@_tracking_option
@_spec_option
@json_option
def approve(model: str, version: int, env: str, reason: str, tracking_uri: str | None,
            spec_path: str | None, as_json: bool) -> None:
    """Sign an approval of MODEL VERSION's artifact for ENV (the author cannot: exit 1)."""
    _decide("approve", model, version, env, reason, tracking_uri, spec_path, as_json)


@release.command()
@click.argument("model")
@VERSION
@click.option("--env", required=True, help="The environment the rejection is for.")
@click.option("--reason", required=True, help="Why this version must not ship.")
@_tracking_option
@_spec_option
@json_option
def reject(model: str, version: int, env: str, reason: str, tracking_uri: str | None,
           spec_path: str | None, as_json: bool) -> None:
    """Sign a rejection of MODEL VERSION for ENV: promotion is refused while it stands."""
    _decide("reject", model, version, env, reason, tracking_uri, spec_path, as_json)


@release.command()
@click.argument("model", required=False)
@click.option("--env", required=True, help="The environment to roll back (e.g. prod).")
@click.option("--to-version", type=click.IntRange(min=1), default=None,
              help="Restore this version instead of the previous holder.")
@click.option("--reason", default="", help="Why (recorded in the audit log).")
@click.option("--planned", is_flag=True,
              help="Not an incident: keep the rolled-back version's approvals valid.")
@_tracking_option
@_spec_option
@json_option
def rollback(model: str | None, env: str, to_version: int | None, reason: str, planned: bool,
             tracking_uri: str | None, spec_path: str | None, as_json: bool) -> None:
    """Give ENV back to the version that held it before (voids approvals of the bad one)."""
    ctx = _open(spec_path, tracking_uri)
    event = ctx.release.rollback(ctx.model(model), env, ctx.release.actor(), reason,
                                 to_version, incident=not planned)
    if as_json:
        print_json(event.as_dict())
    else:
        click.echo(f"rolled back {event.model} {env}: v{event.previous} → v{event.version}")


@release.command()
@click.argument("model", required=False)
@click.option("--env", default=None, help="Only this environment.")
@click.option("--at", "at", default=None, metavar="DATE",
              help="Which version held --env at this ISO date/time (UTC unless given).")
@_tracking_option
@_spec_option
@json_option
def history(model: str | None, env: str | None, at: str | None, tracking_uri: str | None,
            spec_path: str | None, as_json: bool) -> None:
    """Which version held each environment, when, who moved it and why (from the audit log)."""
    from mlscope.errors import InputError
    from mlscope.release.history import parse_when

    ctx = _open(spec_path, tracking_uri)
    name = ctx.model(model)
    if at is not None:
        if env is None:
            raise InputError("--at needs --env", "e.g. --env prod --at 2026-11-26")
        when = parse_when(at)
        event = ctx.release.holder_at(name, env, when)
        payload = {"model": name, "env": env, "at": when.isoformat(),
                   "version": event.version if event else None,
                   "since": event.ts if event else None,
                   "event": event.as_dict() if event else None}
        if as_json:
            print_json(payload)
        elif event is None or event.version is None:
            click.echo(f"nothing held {env} for {name} at {when.isoformat()}")
        else:
            click.echo(f"{name} v{event.version} held {env} at {when.isoformat()} "
                       f"(since {event.ts}, {event.cause} by {event.actor})")
        return
    events = ctx.release.history_events(name, env)
    if as_json:
        print_json({"model": name, "env": env, "events": [e.as_dict() for e in events],
                    "current": ctx.release.holders(name) if env is None else
                    {env: ctx.release.registry.alias_version(name, env)}})
        return
    from rich.table import Table

    table = Table(title=f"{name}: alias history")
    for col in ("when (UTC)", "env", "version", "was", "cause", "who", "reason"):
        table.add_column(col, overflow="fold")
    for e in events:
        table.add_row(e.ts[:19], e.alias, f"v{e.version}", f"v{e.previous}" if e.previous
                      else "-", e.cause, e.actor, e.reason)
    console().print(table)


@release.command()
@click.argument("model", required=False)
@_tracking_option
@_spec_option
@json_option
def status(model: str | None, tracking_uri: str | None, spec_path: str | None,
           as_json: bool) -> None:
    """Versions, what each environment's alias holds, what is actually serving, and drift
    (exit 1 when serving differs from the alias or a break-glass deploy is unresolved)."""
    from mlscope.release.status import release_status

    ctx = _open(spec_path, tracking_uri)
    name = ctx.model(model)
    report = release_status(ctx.release, name)
    if as_json:
        print_json(report)
    else:
        from rich.table import Table

        table = Table(title=f"{name}")
        for col in ("version", "holds", "author", "created (UTC)", "key metrics"):
            table.add_column(col, overflow="fold")
        for v in report["versions"]:
            created = datetime.fromtimestamp(v["created_ms"] / 1000, UTC).isoformat()[:19]
            metrics = ", ".join(f"{k} {val:.4f}" for k, val in sorted(v["metrics"].items())
                                if k in ("ndcg_at_10", "precision_at_10", "rmse", "accuracy"))
            table.add_row(f"v{v['version']}", ", ".join(sorted(v["aliases"])) or "-",
                          v["author"] or "?", created, metrics)
        console().print(table)
        for env, row in report["environments"].items():
            flag = " DRIFT" if row["drift"] else ""
            click.echo(f"{env}: alias v{row['alias']}, serving {row['serving'] or '-'}{flag}")
        for item in report["break_glass"]:
            click.echo(f"UNRESOLVED break-glass deploy: {item['env']} v{item['version']} by "
                       f"{item['actor']} ({item['reason']})", err=True)
    if report["drift"] or report["break_glass"]:
        sys.exit(1)


@release.command()
@click.option("--provider", type=click.Choice(["github"]), default="github", show_default=True)
@click.option("-o", "--output", "output", default=None, type=click.Path(dir_okay=False),
              help="Write the workflow here (default: print it).")
@click.option("--model", "model", default=None, help="Model name (default: the spec's).")
@click.option("--train-command", default=None,
              help="The command that trains and writes an MLflow Model to $MODEL_DIR "
                   "(default: the tabular example's).")
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
@_spec_option
@json_option
def ci(provider: str, output: str | None, model: str | None, train_command: str | None,
       force: bool, spec_path: str | None, as_json: bool) -> None:
    """Write a GitHub Actions workflow: check, test, train, register, dev, qa, approvals, prod."""
    from mlscope.errors import InputError
    from mlscope.release.ci import DEFAULT_TRAIN, github_workflow
    from mlscope.spec import load_spec

    path = Path(spec_path) if spec_path else Path("mlscope.yaml")
    spec = load_spec(path) if (spec_path or path.exists()) else None
    name = model or (spec.release.model_name if spec else None) or "model"
    text = github_workflow(name, spec_file=str(path), train_command=train_command or
                           DEFAULT_TRAIN)
    if output:
        out = Path(output)
        if out.exists() and not force:
            raise InputError(f"{out} exists", "pass --force to overwrite it")
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text)
    if as_json:
        print_json({"provider": provider, "model": name, "output": output,
                    "workflow": None if output else text})
    elif output:
        click.echo(f"wrote {output} ({provider} Actions workflow for {name})")
    else:
        click.echo(text, nl=False)


@release.group("state")
def state_group() -> None:
    """Keep the release state (audit log, registry) in S3 between CI jobs, under a lock."""


@state_group.command("pull")
@click.option("--url", required=True, metavar="s3://BUCKET/PREFIX")
@click.option("--endpoint-url", envvar="AWS_ENDPOINT_URL", default=None)
@json_option
def state_pull(url: str, endpoint_url: str | None, as_json: bool) -> None:
    """Take the S3 lock and copy the state down (run `state push` to release it)."""
    from mlscope.release.s3state import pull

    info = pull(url, endpoint_url)
    print_json(info) if as_json else click.echo(f"pulled {info['files']} files, lock "
                                                f"{info['lock']}")


@state_group.command("push")
@click.option("--url", required=True, metavar="s3://BUCKET/PREFIX")
@click.option("--endpoint-url", envvar="AWS_ENDPOINT_URL", default=None)
@json_option
def state_push(url: str, endpoint_url: str | None, as_json: bool) -> None:
    """Copy the state up (refused when the log would lose entries) and release the lock."""
    from mlscope.release.s3state import push

    info = push(url, endpoint_url)
    print_json(info) if as_json else click.echo(f"pushed {info['files']} files")


# -- audit ----------------------------------------------------------------------------------
@click.group()
def audit() -> None:
    """Verify, read and repair the tamper-evident audit log."""


@audit.command()
@click.option("--anchor", default=None, metavar="HASH",
              help="A head hash recorded elsewhere earlier; it must still be in the chain.")
@click.option("--no-registry", is_flag=True, help="Check the log and anchors only.")
@_tracking_option
@_spec_option
@json_option
def verify(anchor: str | None, no_registry: bool, tracking_uri: str | None,
           spec_path: str | None, as_json: bool) -> None:
    """Replay the log: chain, signatures, anchors, aliases, approvals, artifacts (1: broken)."""
    from mlscope.release.verify import verify_release

    ctx = _open(spec_path, tracking_uri)
    report = verify_release(ctx.release, anchor, check_registry=not no_registry)
    if as_json:
        print_json({**report.as_dict(), "path": str(ctx.release.log.path)})
    else:
        state = "intact" if report.ok else "BROKEN"
        click.echo(f"audit log {ctx.release.log.path}: {state} ({report.entries} entries, head "
                   f"{report.head})", err=not report.ok)
        for f in report.findings:
            click.echo(f"  {'ok ' if f.ok else 'BAD'} {f.check}: {f.detail}", err=not f.ok)
    if not report.ok:
        sys.exit(1)


@audit.command()
@click.option("--last", default=20, show_default=True, type=click.IntRange(min=1))
@json_option
def show(last: int, as_json: bool) -> None:
    """The last entries of the audit log (who, when, what, why, signed or not)."""
    from mlscope.release.audit import default_audit_log

    log = default_audit_log()
    entries = log.entries()[-last:]
    if as_json:
        print_json({"path": str(log.path), "entries": entries})
        return
    from rich.table import Table

    table = Table(title=str(log.path))
    for col in ("#", "when (UTC)", "who", "signed", "action", "subject", "reason"):
        table.add_column(col, overflow="fold")
    for e in entries:
        signed = "yes" if (e.get("identity") or {}).get("verified") else "NO (local-dev)"
        table.add_row(str(e.get("seq")), str(e.get("ts", ""))[:19], str(e.get("actor")),
                      signed, str(e.get("action")), str(e.get("subject")),
                      str(e.get("reason", "")))
    console().print(table)


@audit.command()
@_tracking_option
@_spec_option
@json_option
def repair(tracking_uri: str | None, spec_path: str | None, as_json: bool) -> None:
    """Finish or abort changes a crash left half done, from what the registry holds."""
    ctx = _open(spec_path, tracking_uri)
    done = ctx.release.repair(ctx.release.actor())
    if as_json:
        print_json({"repaired": done})
    elif not done:
        click.echo("nothing to repair")
    else:
        for item in done:
            click.echo(f"entry {item['intent']} ({item['subject']} {item['env']}): "
                       f"{item['outcome']}")
