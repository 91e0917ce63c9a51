"""Where the served model comes from: a small protocol so the app does not care about the registry.

A `ModelSource` answers one question, "which version should be served now, and where is its
artifact?". The app polls it and hot-swaps when the answer changes.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from mlscope.errors import InputError
from mlscope.release.artifact import META_FILE, MODEL_FILE


@dataclass(frozen=True)
class ModelRef:
    version: str
    artifact_dir: Path


class ModelSource(Protocol):
    def current(self) -> ModelRef:
        """The version to serve now; raise InputError when nothing is available."""
        ...

    def describe(self) -> str:
        """A short label for logs and metrics (never contains secrets)."""
        ...


def check_artifact_dir(path: Path) -> Path:
    if not (path / MODEL_FILE).is_file():
        raise InputError(f"no model artifact in {path} ({MODEL_FILE} missing)",
                         "point at a directory written by RecommenderArtifact.save")
    return path


class StaticSource:
    """One artifact directory, never changes (handy for `serve --artifact DIR`)."""

    def __init__(self, artifact_dir: Path, version: str | None = None) -> None:
        self.artifact_dir = check_artifact_dir(Path(artifact_dir))
        self.version = version or _meta_version(self.artifact_dir)

    def current(self) -> ModelRef:
        return ModelRef(self.version, self.artifact_dir)

    def describe(self) -> str:
        return f"static:{self.artifact_dir.name}"


def _meta_version(artifact_dir: Path) -> str:
    meta = artifact_dir / META_FILE
    if meta.is_file():
        version = json.loads(meta.read_text()).get("version")
        if version is not None:
            return str(version)
    return artifact_dir.name


class PointerFileSource:
    """A JSON file `{"version": ..., "artifact_dir": ...}`; rewrite it (atomically) to promote.

    Used by the local deploy target: a deploy rewrites the pointer, the running server swaps.
    """

    def __init__(self, pointer: Path) -> None:
        self.pointer = Path(pointer)

    def current(self) -> ModelRef:
        try:
            data = json.loads(self.pointer.read_text())
            return ModelRef(str(data["version"]), Path(data["artifact_dir"]))
        except FileNotFoundError as exc:
            raise InputError(f"pointer file {self.pointer} does not exist",
                             "deploy a version first") from exc
        except (ValueError, KeyError, TypeError) as exc:
            raise InputError(f"pointer file {self.pointer} is not valid",
                             'it must hold {"version": ..., "artifact_dir": ...}') from exc

    def describe(self) -> str:
        return f"pointer:{self.pointer.name}"


def write_pointer(pointer: Path, version: str, artifact_dir: Path) -> None:
    """Atomically point `pointer` at a version: readers see the old or the new file, never half."""
    pointer.parent.mkdir(parents=True, exist_ok=True)
    payload = json.dumps({"version": str(version),
                          "artifact_dir": str(Path(artifact_dir).resolve())})
    fd, tmp = tempfile.mkstemp(dir=pointer.parent, prefix=".pointer-")
    with os.fdopen(fd, "w") as fh:
        fh.write(payload)
    os.replace(tmp, pointer)


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
        return ModelRef(str(version), Path(self.registry.artifact_dir(self.model, version)))

    def describe(self) -> str:
        return f"alias:{self.model}@{self.alias}"
