"""`mlscope release ...` (registry, gated promotion, approvals, rollback, history, CI) and
`mlscope audit ...` (verify and show the tamper-evident audit log).

Exit codes: 0 done; 1 refused by policy (a gate failed, a self-approval) or a broken audit
chain; 2 bad input.
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
    from mlscope.spec.models import ProjectSpec


# -- shared options -------------------------------------------------------------------------
def _tracking_option(func: Any) -> Any:
    return click.option("--tracking-uri", default=None, metavar="URI",
                        help="MLflow tracking URI (default: the spec's release.tracking_uri, "
                             "$MLSCOPE_TRACKING_URI, or SQLite in the state dir).")(func)


def _spec_option(func: Any) -> Any:
    return click.option("--spec", "spec_path", default=None, metavar="FILE",
                        type=click.Path(dir_okay=True), envvar="MLSCOPE_SPEC",
                        help="mlscope.yaml with the release gates (default: $MLSCOPE_SPEC, "
                             "else ./mlscope.yaml when present).")(func)


@dataclass
class _Ctx:
    spec: ProjectSpec | None
    spec_dir: Path | None
    release: Release

    def model(self, given: str | None) -> str:
        from mlscope.errors import InputError

        name = given or (self.spec.release.model_name if self.spec else None)
        if not name:
            raise InputError("no model name given",
                             "pass MODEL or set release.model_name in mlscope.yaml")
        return name


def _open(spec_path: str | None, tracking_uri: str | None) -> _Ctx:
    from mlscope.release.promotion import Release
    from mlscope.spec import load_spec

    spec = None
    path = Path(spec_path) if spec_path else Path("mlscope.yaml")
    if spec_path or path.exists():
        spec = load_spec(path)
    uri = tracking_uri or (spec.release.tracking_uri if spec else None)
    envs = spec.release.environments if spec else None
    spec_dir = (path if path.is_dir() else path.parent).resolve() if spec else None
    return _Ctx(spec, spec_dir, Release.open(uri, envs))


def _actor() -> str:
    from mlscope.release.identity import current_identity

    return current_identity()


VERSION = click.argument("version", type=click.IntRange(min=1))


# -- release --------------------------------------------------------------------------------
@click.group()
def release() -> None:
    """Registry, gated promotion dev → qa → prod, approvals, rollback, history and CI/CD."""


@release.command()
@click.option("--factors", default=32, show_default=True, type=click.IntRange(1, 1024))
@click.option("--iterations", default=10, show_default=True, type=click.IntRange(1, 200))
@click.option("--regularization", default=0.05, show_default=True, type=click.FloatRange(0))
@click.option("--alpha", default=1.0, show_default=True, type=click.FloatRange(0, min_open=True),
              help="Confidence per rating star: 1 + alpha * rating.")
@click.option("--seed", default=0, show_default=True, type=int)
@click.option("--out", "out_dir", default=None, type=click.Path(file_okay=False),
              help="Where to write the model directory (default: under the state dir).")
@click.option("--register", "register_as", default=None, metavar="MODEL",
              help="Also register the run as a new version of MODEL.")
@click.option("--reason", default="", help="Why (recorded in the audit log when registering).")
@_tracking_option
@_spec_option
@json_option
def train(factors: int, iterations: int, regularization: float, alpha: float, seed: int,
          out_dir: str | None, register_as: str | None, reason: str, tracking_uri: str | None,
          spec_path: str | None, as_json: bool) -> None:
    """Train the reference recommender (ALS on MovieLens-100k) and log it to MLflow."""
    import uuid

    from mlscope.release.reference_app import TrainConfig, train_and_log
    from mlscope.release.state import state_dir

    ctx = _open(spec_path, tracking_uri)
    cfg = TrainConfig(factors=factors, iterations=iterations, regularization=regularization,
                      alpha=alpha, seed=seed)
    out = Path(out_dir) if out_dir else state_dir() / "trained" / uuid.uuid4().hex[:12]
    run_id, result = train_and_log(cfg, out, ctx.release.registry.tracking_uri)
    payload: dict[str, Any] = {"run_id": run_id, "artifact_dir": str(out),
                               "metrics": result.metrics, "params": result.params,
                               "data_version": result.data_version,
                               "seconds": round(result.seconds, 3)}
    if register_as:
        info = ctx.release.register(register_as, run_id, _actor(), reason)
        payload["registered"] = {"model": info.model, "version": info.version}
    if as_json:
        print_json(payload)
        return
    out_console = console()
    out_console.print(f"run {run_id}: trained in {result.seconds:.1f} s → {out}")
    for name, value in result.metrics.items():
        out_console.print(f"  {name:18s} {value:.4f}")
    if register_as:
        out_console.print(f"registered {register_as} v{payload['registered']['version']}")


@release.command()
@click.argument("model")
@click.option("--run", "run_id", default=None, help="MLflow run id (from `release train`).")
@click.option("--artifact", "artifact_dir", default=None, type=click.Path(file_okay=False),
              help="A RecommenderArtifact directory trained elsewhere.")
@click.option("--reason", default="", help="Why (recorded in the audit log).")
@_tracking_option
@_spec_option
@json_option
def register(model: str, run_id: str | None, artifact_dir: str | None, reason: str,
             tracking_uri: str | None, spec_path: str | None, as_json: bool) -> None:
    """Register a new version of MODEL from a run (--run) or a model directory (--artifact)."""
    from mlscope.errors import ConflictError, InputError

    if bool(run_id) == bool(artifact_dir):
        raise (ConflictError("--run and --artifact exclude each other", "pass one of them")
               if run_id else InputError("nothing to register", "pass --run ID or --artifact DIR"))
    ctx = _open(spec_path, tracking_uri)
    actor = _actor()
    info = (ctx.release.register(model, run_id, actor, reason) if run_id else
            ctx.release.register_dir(model, Path(str(artifact_dir)), actor, reason))
    if as_json:
        print_json(info.as_dict())
    else:
        click.echo(f"registered {model} v{info.version} (author {actor}, run {info.run_id})")


def _print_gates(result: Any) -> None:
    from rich.table import Table

    table = Table(title=f"{result.model} v{result.version} → {result.env}")
    for col in ("gate", "result", "detail"):
        table.add_column(col, overflow="fold")
    for gate in result.gates:
        table.add_row(gate.gate, "pass" if gate.passed else "FAIL", gate.detail)
    if result.gates:
        console().print(table)
    else:
        click.echo(f"no gates configured for {result.env}")


@release.command()
@click.argument("model")
@VERSION
@click.option("--to", "env", required=True, help="Target environment (dev, qa, prod, ...).")
@click.option("--reason", default="", help="Why (recorded in the audit log).")
@click.option("--requests", "requests_path", default=None, type=click.Path(dir_okay=False),
              help="Held-out request set for the champion and simulation gates "
                   "(default: the spec's, else the one saved with the candidate).")
@click.option("--dry-run", is_flag=True, help="Run the gates and report; change nothing.")
@_tracking_option
@_spec_option
@json_option
def promote(model: str, version: int, env: str, reason: str, requests_path: str | None,
            dry_run: bool, tracking_uri: str | None, spec_path: str | None,
            as_json: bool) -> None:
    """Promote MODEL VERSION to an environment through its gates (exit 1 when refused)."""
    ctx = _open(spec_path, tracking_uri)
    gates = ctx.spec.release.gates.get(env) if ctx.spec else None
    result = ctx.release.promote(model, version, env, _actor(), gates, reason, ctx.spec_dir,
                                 Path(requests_path) if requests_path else None, dry_run)
    if as_json:
        print_json(result.as_dict())
    else:
        _print_gates(result)
        if result.promoted:
            prev = f"v{result.previous}" if result.previous else "nothing"
            click.echo(f"promoted {model} v{version} to {env} (was {prev})")
        elif dry_run:
            verdict = "would be refused" if result.refusals else "would pass"
            click.echo(f"dry run: {verdict}")
        else:
            click.echo(f"refused: {'; '.join(result.refusals)}", err=True)
    if result.refusals:
        sys.exit(1)


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
    """Approve MODEL VERSION for an environment (the author cannot approve: exit 1)."""
    ctx = _open(spec_path, tracking_uri)
    approval = ctx.release.approve(model, version, env, _actor(), reason)
    if as_json:
        print_json({"model": model, "version": version, **approval.as_dict()})
    else:
        click.echo(f"{approval.actor} approved {model} v{version} for {env}")


@release.command()
@click.argument("model", required=False)
@click.option("--env", required=True, help="The environment to roll back (e.g. prod).")
@click.option("--to-version", type=click.IntRange(min=1), default=None,
              help="Restore this version instead of the previous holder.")
@click.option("--reason", default="", help="Why (recorded in the audit log).")
@_tracking_option
@_spec_option
@json_option
def rollback(model: str | None, env: str, to_version: int | None, reason: str,
             tracking_uri: str | None, spec_path: str | None, as_json: bool) -> None:
    """Give ENV back to the version that held it before (MODEL defaults to the spec's)."""
    ctx = _open(spec_path, tracking_uri)
    event = ctx.release.rollback(ctx.model(model), env, _actor(), reason, to_version)
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
    """Which version held each environment, when, who moved it and why."""
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
    """Every version of MODEL with its author, metrics and the environments it holds."""
    ctx = _open(spec_path, tracking_uri)
    name = ctx.model(model)
    versions = ctx.release.registry.versions(name)
    holders = ctx.release.holders(name)
    if as_json:
        print_json({"model": name, "environments": holders,
                    "versions": [v.as_dict() for v in versions]})
        return
    from rich.table import Table

    table = Table(title=f"{name}")
    for col in ("version", "holds", "author", "created (UTC)", "key metrics"):
        table.add_column(col, overflow="fold")
    for v in versions:
        created = datetime.fromtimestamp(v.created_ms / 1000, UTC).isoformat()[:19]
        metrics = ", ".join(f"{k} {val:.4f}" for k, val in sorted(v.metrics.items())
                            if k in ("ndcg_at_10", "precision_at_10", "rmse"))
        table.add_row(f"v{v.version}", ", ".join(sorted(v.aliases)) or "-", v.author or "?",
                      created, metrics)
    console().print(table)


@release.command()
@click.option("--provider", type=click.Choice(["github"]), default="github", show_default=True)
@click.option("-o", "--output", "output", default=None, type=click.Path(dir_okay=False),
              help="Write the workflow here (default: print it).")
@click.option("--model", "model", default=None, help="Model name (default: the spec's).")
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
@_spec_option
@json_option
def ci(provider: str, output: str | None, model: str | None, force: bool,
       spec_path: str | None, as_json: bool) -> None:
    """Write a GitHub Actions workflow: test, train, register, dev, gates, qa, approval, prod."""
    from mlscope.errors import InputError
    from mlscope.release.ci import github_workflow
    from mlscope.spec import load_spec

    path = Path(spec_path) if spec_path else Path("mlscope.yaml")
    spec = load_spec(path) if (spec_path or path.exists()) else None
    name = model or (spec.release.model_name if spec else None) or "recommender"
    text = github_workflow(name, spec_file=str(path))
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


# -- audit ----------------------------------------------------------------------------------
@click.group()
def audit() -> None:
    """Verify and read the tamper-evident audit log."""


def _log_for(file: str | None) -> Any:
    from mlscope.errors import InputError
    from mlscope.release.audit import AuditLog, default_audit_log

    if file is None:
        return default_audit_log()
    if not Path(file).is_file():
        raise InputError(f"audit log {file} does not exist",
                         "omit --file to use audit.jsonl in the state dir")
    return AuditLog(Path(file))


@audit.command()
@click.option("--file", "file", default=None, type=click.Path(dir_okay=False),
              help="The log to check (default: audit.jsonl in the state dir).")
@click.option("--anchor", default=None, metavar="HASH",
              help="A head hash recorded elsewhere earlier (CI log, ticket); it must still be "
                   "in the audit chain.")
@json_option
def verify(file: str | None, anchor: str | None, as_json: bool) -> None:
    """Exit 0 when the hash chain is intact; 1 naming the first bad entry."""
    from mlscope.release.history import AliasHistory

    logs = [("audit", _log_for(file))]
    if file is None:
        logs.append(("alias history", AliasHistory().log))
    results = {name: log.verify(anchor if name == "audit" else None) for name, log in logs}
    ok = all(r.ok for r in results.values())
    if as_json:
        print_json({"ok": ok, **{name.replace(" ", "_"): {**r.as_dict(), "path": str(log.path)}
                                 for (name, log), r in zip(logs, results.values(), strict=True)}})
    else:
        for (name, log), r in zip(logs, results.values(), strict=True):
            state = "intact" if r.ok else "BROKEN"
            line = f"{name} log {log.path}: {state}: {r.message}"
            click.echo(line, err=not r.ok)
            if r.ok:
                click.echo(f"  head {r.head}")
    if not ok:
        sys.exit(1)


@audit.command()
@click.option("--file", "file", default=None, type=click.Path(dir_okay=False))
@click.option("--last", default=20, show_default=True, type=click.IntRange(min=1))
@json_option
def show(file: str | None, last: int, as_json: bool) -> None:
    """The last entries of the audit log (who, when, what, why)."""
    log = _log_for(file)
    entries = log.entries()[-last:]
    if as_json:
        print_json({"path": str(log.path), "entries": entries})
        return
    from rich.table import Table

    table = Table(title=str(log.path))
    for col in ("#", "when (UTC)", "who", "action", "subject", "reason"):
        table.add_column(col, overflow="fold")
    for e in entries:
        table.add_row(str(e.get("seq")), str(e.get("ts", ""))[:19], str(e.get("actor")),
                      str(e.get("action")), str(e.get("subject")), str(e.get("reason", "")))
    console().print(table)
