"""Where the served model comes from: a small protocol so the app does not care about the registry.

A `ModelSource` answers one question, "which version should be served now, where are its
files, and what digest must they have?". The app polls it and hot-swaps when the answer changes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from mlscope.errors import InputError
from mlscope.release.deploy.pointer import check_artifact_dir, write_pointer

__all__ = ["AliasSource", "ModelRef", "ModelSource", "PointerFileSource", "StaticSource",
           "check_artifact_dir", "write_pointer"]


@dataclass(frozen=True)
class ModelRef:
    version: str
    artifact_dir: Path
    digest: str | None = None  # the registered digest the files must still have


class ModelSource(Protocol):
    def current(self) -> ModelRef:
        """The version to serve now; raise InputError when nothing is available."""
        ...

    def describe(self) -> str:
        """A short label for logs and metrics (never contains secrets)."""
        ...


class StaticSource:
    """One MLflow Model directory, never changes (handy for `serve --artifact DIR`)."""

    def __init__(self, artifact_dir: Path, version: str | None = None) -> None:
        self.artifact_dir = check_artifact_dir(Path(artifact_dir))
        self.version = version or self.artifact_dir.name

    def current(self) -> ModelRef:
        return ModelRef(self.version, self.artifact_dir)

    def describe(self) -> str:
        return f"static:{self.artifact_dir.name}"


class PointerFileSource:
    """A JSON file `{"version", "artifact_dir", "digest"}`; rewrite it (atomically) to promote.

    Used by the local deploy target: a deploy rewrites the pointer, the running server swaps.
    """

    def __init__(self, pointer: Path) -> None:
        self.pointer = Path(pointer)

    def current(self) -> ModelRef:
        try:
            data = json.loads(self.pointer.read_text())
            return ModelRef(str(data["version"]), Path(data["artifact_dir"]), data.get("digest"))
        except FileNotFoundError as exc:
            raise InputError(f"pointer file {self.pointer} does not exist",
                             "deploy a version first") from exc
        except (ValueError, KeyError, TypeError) as exc:
            raise InputError(f"pointer file {self.pointer} is not valid",
                             'it must hold {"version": ..., "artifact_dir": ...}') from exc

    def describe(self) -> str:
        return f"pointer:{self.pointer.name}"


class AliasSource:
    """The version an MLflow registry alias (dev/qa/prod) holds, via mlscope's Registry."""

    def __init__(self, model: str, alias: str, tracking_uri: str | None = None) -> None:
        from mlscope.release.registry import Registry  # mlflow is heavy: only when used

        self.model = model
        self.alias = alias
        self.registry = Registry(tracking_uri)

    def current(self) -> ModelRef:
        version = self.registry.alias_version(self.model, self.alias)
        if version is None:
            raise InputError(f"alias '{self.alias}' of model '{self.model}' holds no version",
                             f"promote a version to {self.alias} first")
        info = self.registry.version(self.model, version)
        return ModelRef(str(version), Path(self.registry.artifact_dir(self.model, version)),
                        info.artifact_digest)

    def describe(self) -> str:
        return f"alias:{self.model}@{self.alias}"
