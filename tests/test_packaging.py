"""Packaging that a maintainer would ship: extras match imports, the lock file covers them.

Every third-party module that the package imports (anywhere, lazily or not) must come from a
distribution named in the core dependencies or in an extra; every distribution an extra names
must be imported by the package, or be listed below with the reason it is needed without an
import. A lazily imported module must name its extra through `mlscope.errors.require`, which
`tests/test_missing_extras.py` checks by running the commands without it.
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "mlscope"

# Distributions needed at run time without an `import` of their own in mlscope.
NEEDED_WITHOUT_IMPORT = {
    "tzdata": "zoneinfo's time-zone data on machines without /usr/share/zoneinfo",
    "sqlalchemy": "MLflow's SQLite tracking/registry store (imported by mlflow)",
    "alembic": "MLflow's SQLite store migrations (imported by mlflow)",
    "pillow": "the diagrams wheel's PNG icons (read by Graphviz through diagrams)",
    "uvicorn": "runs the serving app (`python -m uvicorn` in a subprocess)",
    "httpx": "FastAPI's TestClient and the deploy status probe",
    "diagrams": "its AWS icons are read from the installed wheel's resources, not imported",
    "skops": "MLflow's safe scikit-learn serialization format for the tabular example",
    "apache-airflow": "the meta-package; `airflow` itself is imported from apache-airflow-core",
    "recbole": "MovieLens-100k is read from its wheel's files, never imported",
}
# Modules of optional extras that the test environment does not install (no GPU here).
NOT_INSTALLED = {"pynvml": "nvidia-ml-py"}


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _req_name(req: str) -> str:
    return _norm(re.split(r"[\s<>=!~;\[]", req, maxsplit=1)[0])


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def _declared() -> tuple[set[str], dict[str, set[str]]]:
    project = _pyproject()["project"]
    core = {_req_name(r) for r in project["dependencies"]}
    extras = {name: {_req_name(r) for r in reqs if not r.startswith("mlscope")}
              for name, reqs in project["optional-dependencies"].items()}
    return core, extras


def _imported_top_modules() -> set[str]:
    mods: set[str] = set()
    for path in SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                mods.update(a.name.split(".")[0] for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                mods.add(node.module.split(".")[0])
            elif (isinstance(node, ast.Call) and getattr(node.func, "id", None) == "require"
                  and node.args and isinstance(node.args[0], ast.Constant)):
                mods.add(str(node.args[0].value).split(".")[0])
    stdlib = set(sys.stdlib_module_names)
    return {m for m in mods if m not in stdlib and m != "mlscope" and not m.startswith("_")}


def _distributions_of(module: str) -> set[str]:
    return {_norm(d) for d in metadata.packages_distributions().get(module, [])}


def test_every_imported_package_is_declared() -> None:
    core, extras = _declared()
    runtime = core | set().union(*(v for k, v in extras.items() if k != "test"))
    missing = {}
    for module in sorted(_imported_top_modules()):
        dists = _distributions_of(module) or ({NOT_INSTALLED[module]}
                                               if module in NOT_INSTALLED else set())
        if not dists:
            missing[module] = "not installed in the test environment"
        elif not dists & runtime:
            missing[module] = f"from {sorted(dists)}, in no runtime extra"
    assert not missing, f"imports without a declared distribution: {missing}"


def test_every_extra_package_is_used() -> None:
    _, extras = _declared()
    imported = set().union(*(_distributions_of(m) for m in _imported_top_modules()),
                           set(NOT_INSTALLED.values()))
    unused = {}
    for extra, dists in extras.items():
        if extra in {"test", "all"}:
            continue
        for dist in sorted(dists - imported - set(NEEDED_WITHOUT_IMPORT)):
            unused.setdefault(extra, []).append(dist)
    assert not unused, f"extras naming packages mlscope never imports: {unused}"


def test_build_backend_supports_the_license_expression() -> None:
    data = _pyproject()
    assert data["project"]["license"] == "Apache-2.0"
    # PEP 639 license expressions need setuptools >= 77.
    assert any(re.fullmatch(r"setuptools>=(7[7-9]|[89]\d)(\.\d+)*", r)
               for r in data["build-system"]["requires"])
    assert "Apache License" in (ROOT / "LICENSE").read_text()


def _lock() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line and "==" in line:
            name, version = line.split("==", 1)
            pins[_norm(name)] = version.strip()
    return pins


def test_lock_pins_every_declared_requirement() -> None:
    from packaging.requirements import Requirement

    project = _pyproject()["project"]
    extras = project["optional-dependencies"]
    # What `make test` installs: `all`, `test`, and recbole (movielens) without its deps. The
    # gpu extra is not locked: NVML is only useful on a machine with a GPU.
    locked = {"test", "movielens"} | set(
        re.search(r"\[(.*)\]", extras["all"][0]).group(1).split(","))  # type: ignore[union-attr]
    reqs = list(project["dependencies"])
    for name in sorted(locked):
        reqs += [r for r in extras[name] if not r.startswith("mlscope")]
    reqs += _pyproject()["build-system"]["requires"]
    pins = _lock()
    problems = []
    for text in reqs:
        req = Requirement(text)
        pinned = pins.get(_norm(req.name))
        if pinned is None:
            problems.append(f"{req.name} is not in requirements.lock")
        elif not req.specifier.contains(pinned, prereleases=True):
            problems.append(f"{req.name}=={pinned} in the lock does not satisfy {req.specifier}")
    assert not problems, "; ".join(problems) + " (run `make lock`)"


def test_installed_environment_is_the_lock() -> None:
    # What the tests run on is exactly what the lock says (make test installs from it).
    pins = _lock()
    drift = {}
    for dist in metadata.distributions():
        name = _norm(dist.metadata["Name"])
        if name in pins and pins[name] != dist.version:
            drift[name] = f"{dist.version} installed, {pins[name]} locked"
    assert not drift, drift
