"""The `local` target: the serving app as a background uvicorn process managed by mlscope.

State per environment under `<state dir>/deploy/local/<env>/`: `server.json` (pid, port, model,
version), `current.json` (the pointer the server follows) and `server.log` (its JSON logs).
Deploying to an environment whose server already runs rewrites the pointer and asks the server
to reload: the new version is loaded beside the old one and swapped in without dropping requests.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from mlscope.errors import ConflictError, InputError
from mlscope.release.deploy import DeployError, record, recorded_failure
from mlscope.release.deploy.pointer import check_artifact_dir, write_pointer
from mlscope.release.registry import validate_alias, validate_model_name
from mlscope.release.state import state_dir

SERVER_MODULE = "mlscope.serving"


@dataclass
class LocalServer:
    env: str
    model: str
    version: str
    host: str
    port: int
    pid: int
    started_at: float
    artifact_dir: str
    digest: str | None = None

    @property
    def url(self) -> str:
        host = "127.0.0.1" if self.host in ("0.0.0.0", "") else self.host
        return f"http://{host}:{self.port}"

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "url": self.url, "target": "local"}


def env_dir(env: str) -> Path:
    return state_dir() / "deploy" / "local" / validate_alias(env)


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def _is_our_server(pid: int, pointer: Path) -> bool:
    """True when `pid` is alive and is the server process we started for this pointer
    (guards against signalling an unrelated process that reused a stale pid)."""
    proc = Path(f"/proc/{pid}/cmdline")
    if Path("/proc/self").exists():
        try:
            args = proc.read_bytes().decode(errors="replace").split("\0")
        except OSError:
            return False
    else:  # macOS and other systems without /proc
        done = subprocess.run(["ps", "-o", "command=", "-p", str(pid)], capture_output=True,
                              text=True, check=False)
        args = done.stdout.split()
    return SERVER_MODULE in args and str(pointer) in args


def running_server(env: str) -> LocalServer | None:
    d = env_dir(env)
    try:
        info = LocalServer(**json.loads((d / "server.json").read_text()))
    except (OSError, ValueError, TypeError):
        return None
    return info if _is_our_server(info.pid, d / "current.json") else None


ADMIN_TOKEN_ENV = "MLSCOPE_ADMIN_TOKEN"  # the server reads the same variable


def _http_json(method: str, url: str, timeout: float = 5.0) -> tuple[int, dict[str, Any]]:
    import httpx

    token = os.environ.get(ADMIN_TOKEN_ENV, "")
    headers = {"x-admin-token": token} if token and url.endswith("/admin/reload") else {}
    res = httpx.request(method, url, timeout=timeout, headers=headers)
    try:
        body = res.json()
    except ValueError:
        body = {}
    return res.status_code, body if isinstance(body, dict) else {}


def _wait_ready(server: LocalServer, proc: subprocess.Popen[bytes], log_file: Path,
                timeout_s: float) -> None:
    import httpx

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise DeployError(f"the local server exited with code {proc.returncode}",
                              f"see its log: {_tail(log_file)}")
        try:
            code, body = _http_json("GET", f"{server.url}/readyz", timeout=1)
            if code == 200 and body.get("model_version") == server.version:
                return
            if code == 503 and body.get("error"):  # up, but the model did not load
                _terminate(proc.pid)
                raise DeployError(f"version {server.version} did not load: {body['error']}",
                                  "nothing is serving in this environment")
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    _terminate(proc.pid)
    raise DeployError(f"the local server was not ready within {timeout_s:.0f} s",
                      f"see its log: {_tail(log_file)}")


def _tail(log_file: Path, lines: int = 3) -> str:
    try:
        return " | ".join(log_file.read_text(errors="replace").strip().splitlines()[-lines:])
    except OSError:
        return str(log_file)


def deploy_local(model: str, version: str, artifact_dir: Path, env: str, *,
                 host: str = "127.0.0.1", port: int | None = None, poll_s: float = 2.0,
                 ready_timeout_s: float = 60.0, reason: str = "",
                 digest: str | None = None) -> dict[str, Any]:
    """Serve `artifact_dir` as MODEL VERSION in ENV: start a server, or hot-swap a running one."""
    validate_model_name(model)
    check_artifact_dir(Path(artifact_dir))
    with recorded_failure(f"{model}/{version}", {"target": "local", "env": env}):
        return _deploy_local(model, str(version), Path(artifact_dir), env, host, port, poll_s,
                             ready_timeout_s, reason, digest)


def _deploy_local(model: str, version: str, artifact_dir: Path, env: str, host: str,
                  port: int | None, poll_s: float, ready_timeout_s: float,
                  reason: str, digest: str | None) -> dict[str, Any]:
    import httpx

    d = env_dir(env)
    pointer = d / "current.json"
    current = running_server(env)
    if current is not None and current.model != model:
        raise ConflictError(f"environment {env} already serves model {current.model}",
                            f"run `mlscope deploy stop --env {env}` first")
    before = current.as_dict() if current else {}
    write_pointer(pointer, str(version), Path(artifact_dir), digest)
    if current is not None:
        try:
            code, body = _http_json("POST", f"{current.url}/admin/reload", timeout=120)
        except httpx.HTTPError as exc:
            # The server died during the swap: bring it back on the last good version.
            _restart_last_good(current, pointer, poll_s, ready_timeout_s)
            raise DeployError(f"the server died while loading version {version} "
                              f"({type(exc).__name__})",
                              f"restarted on the last good version {current.version} at "
                              f"{current.url}") from exc
        if code != 200:
            # The server kept the old version; point the file back so its poller agrees.
            write_pointer(pointer, current.version, Path(current.artifact_dir), current.digest)
            raise DeployError(f"version {version} did not load: {body.get('error')}",
                              f"version {current.version} is still serving at {current.url}")
        server = LocalServer(env, model, str(version), current.host, current.port, current.pid,
                             current.started_at, str(Path(artifact_dir).resolve()), digest)
        action = "hot_swap"
    else:
        server = _start(model, str(version), env, host, port, poll_s, pointer, ready_timeout_s,
                        Path(artifact_dir), digest)
        action = "start"
    (d / "server.json").write_text(json.dumps(asdict(server)))
    after = server.as_dict()
    record("deploy", f"{model}/{version}", reason or f"deploy to {env} (local)",
           before=before, after=after)
    return {**after, "action": action, "previous_version": before.get("version")}


def _restart_last_good(last: LocalServer, pointer: Path, poll_s: float,
                       ready_timeout_s: float) -> None:
    _terminate(last.pid, grace_s=2)
    write_pointer(pointer, last.version, Path(last.artifact_dir), last.digest)
    server = _start(last.model, last.version, last.env, last.host, last.port, poll_s, pointer,
                    ready_timeout_s, Path(last.artifact_dir), last.digest)
    (pointer.parent / "server.json").write_text(json.dumps(asdict(server)))


def _start(model: str, version: str, env: str, host: str, port: int | None, poll_s: float,
           pointer: Path, ready_timeout_s: float, artifact_dir: Path,
           digest: str | None = None) -> LocalServer:
    port = port or free_port(host if host not in ("0.0.0.0", "") else "127.0.0.1")
    log_file = pointer.parent / "server.log"
    cmd = [sys.executable, "-m", SERVER_MODULE, "--pointer", str(pointer), "--model", model,
           "--host", host, "--port", str(port), "--poll-s", str(poll_s)]
    with open(log_file, "ab") as log:
        # Own session: the server outlives this command and ignores the terminal's Ctrl-C.
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True,
                                env={**os.environ, "PYTHONUNBUFFERED": "1"})
    server = LocalServer(env, model, version, host, port, proc.pid, time.time(),
                         str(artifact_dir.resolve()), digest)
    _wait_ready(server, proc, log_file, ready_timeout_s)
    return server


def _terminate(pid: int, grace_s: float = 10.0) -> None:
    """SIGTERM (uvicorn drains in-flight requests), then SIGKILL after `grace_s`."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + grace_s
    while time.monotonic() < deadline:
        try:
            done, _ = os.waitpid(pid, os.WNOHANG)  # reap if it is our child
            if done == pid:
                return
        except ChildProcessError:
            if not Path(f"/proc/{pid}").exists():
                return
        time.sleep(0.05)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def stop_local(env: str, reason: str = "") -> dict[str, Any]:
    server = running_server(env)
    d = env_dir(env)
    if server is None:
        (d / "server.json").unlink(missing_ok=True)
        raise InputError(f"no local server is running for environment {env}",
                         "see `mlscope deploy status`")
    _terminate(server.pid)
    (d / "server.json").unlink(missing_ok=True)
    record("undeploy", f"{server.model}/{server.version}", reason or f"stop {env} (local)",
           before=server.as_dict(), after={})
    return {**server.as_dict(), "stopped": True}


def local_status() -> list[dict[str, Any]]:
    """Every environment with a running local server, with its live readiness."""
    from mlscope.errors import require

    httpx = require("httpx", "serving")

    root = state_dir() / "deploy" / "local"
    out: list[dict[str, Any]] = []
    for d in sorted(root.glob("*")) if root.exists() else []:
        server = running_server(d.name)
        if server is None:
            continue
        try:
            code, body = _http_json("GET", f"{server.url}/readyz", timeout=2)
            serving = body.get("model_version") if code == 200 else None
        except httpx.HTTPError:
            serving = None
        out.append({**server.as_dict(), "serving_version": serving, "ready": serving is not None})
    return out
