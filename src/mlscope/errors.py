"""Domain errors. Each carries the fix, so the CLI can print one actionable line (exit 2)."""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Iterable
from types import ModuleType


class MlscopeError(Exception):
    """Base of every error a user can cause. `fix` says what to do about it."""

    exit_code = 2

    def __init__(self, problem: str, fix: str | None = None) -> None:
        super().__init__(problem)
        self.problem = problem
        self.fix = fix

    def one_line(self) -> str:
        line = self.problem.rstrip(".")
        if self.fix:
            line += f"; {self.fix}"
        return " ".join(line.split())


class InputError(MlscopeError):
    """A value given on the command line or in a spec is invalid (zero sizes, bad ranges...)."""


class ConflictError(InputError):
    """Flags or spec fields that contradict each other."""


class UnknownNameError(InputError):
    """A name (accelerator, instance, model, component, ...) that is not in the catalog."""

    def __init__(self, kind: str, name: str, known: Iterable[str]) -> None:
        known_list = sorted(set(known))
        close = difflib.get_close_matches(name, known_list, n=3, cutoff=0.5)
        if not close:
            lowered = {k.lower(): k for k in known_list}
            close = [lowered[c] for c in difflib.get_close_matches(name.lower(), lowered, n=3)]
        fix = f"did you mean {' or '.join(close)}?" if close else (
            f"run `mlscope catalog list` to see the {kind}s mlscope knows")
        super().__init__(f"unknown {kind} '{name}'", fix)
        self.kind = kind
        self.name = name
        self.suggestions = close


class SpecError(InputError):
    """An invalid mlscope.yaml. `problems` lists every problem with its location."""

    def __init__(self, problems: list[str], path: str | None = None) -> None:
        head = problems[0] if problems else "invalid spec"
        more = f" (+{len(problems) - 1} more problems)" if len(problems) > 1 else ""
        super().__init__(f"{head}{more}", "run `mlscope validate FILE` to list every problem")
        self.problems = problems
        self.path = path


class DoesNotFitError(InputError):
    """A model that cannot fit in accelerator memory at any supported count."""


class EngineMissingError(MlscopeError):
    """An optional component (extra, system binary) is not installed."""


def require(module: str, extra: str, what: str | None = None) -> ModuleType:
    """Import an optional dependency, or raise one line naming the extra that provides it.

    Every use of an optional package goes through here, so a missing extra is always
    "X is not installed; pip install 'mlscope[EXTRA]'", exit 2 — never a traceback.
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        top = module.split(".")[0]
        if exc.name is not None and exc.name.split(".")[0] != top:
            raise  # the package is there but broken inside: that is a real bug, show it
        raise EngineMissingError(f"{what or top} is not installed",
                                 f"pip install 'mlscope[{extra}]'") from exc
