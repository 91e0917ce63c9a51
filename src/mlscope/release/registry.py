"""The model registry: MLflow (SQLite under the state directory by default, any tracking URI).

Environments are MLflow aliases (dev, qa, prod) on a registered model's versions, plus version
tags. mlflow is imported lazily so the rest of mlscope works without the `mlflow` extra.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from mlscope.errors import EngineMissingError, InputError, UnknownNameError
from mlscope.release.state import state_dir

EXPERIMENT = "mlscope"
ARTIFACT_PATH = "model"  # where a version's MLflow Model (MLmodel + files) lives in its run
AUTHOR_TAG = "mlscope.author"
DIGEST_TAG = "mlscope.artifact_digest"
POLICY_TAG = "mlscope.policy_digest"
# MLflow error codes that mean "there is no such alias/version", as opposed to "cannot read".
_ABSENT = {"RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE", "NOT_FOUND"}


class RegistryUnavailableError(InputError):
    """The registry could not be read: every decision that needs it fails closed."""

    exit_code = 1
_NAME_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")


TRACKING_ENV = "MLSCOPE_TRACKING_URI"
# Where new experiments keep artifacts (e.g. s3://bucket/mlflow in CI, where every job runs on
# a fresh machine); default: beside the SQLite database.
ARTIFACT_ENV = "MLSCOPE_ARTIFACT_URI"


def default_tracking_uri() -> str:
    """MLSCOPE_TRACKING_URI if set, else SQLite in the state directory."""
    return os.environ.get(TRACKING_ENV, "").strip() or f"sqlite:///{state_dir() / 'mlflow.db'}"


def validate_model_name(name: str) -> str:
    if not name or len(name) > 100 or not set(name) <= _NAME_CHARS:
        raise InputError(f"model name {name[:40]!r} is not valid",
                         "use letters, digits, '-', '_' and '.' (at most 100 characters)")
    return name


def validate_alias(alias: str) -> str:
    if not alias or len(alias) > 64 or not set(alias) <= _NAME_CHARS - {"."}:
        raise InputError(f"environment {alias[:40]!r} is not valid",
                         "use a short name such as dev, qa or prod")
    if alias.lower().startswith("v") and alias[1:].isdigit():
        raise InputError(f"environment {alias!r} looks like a version",
                         "MLflow reserves v<number> aliases; use names such as dev, qa, prod")
    return alias


@dataclass
class VersionInfo:
    model: str
    version: int
    run_id: str | None
    source: str
    created_ms: int
    tags: dict[str, str] = field(default_factory=dict)
    aliases: list[str] = field(default_factory=list)
    metrics: dict[str, float] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)

    @property
    def author(self) -> str | None:
        return self.tags.get(AUTHOR_TAG)

    @property
    def artifact_digest(self) -> str | None:
        return self.tags.get(DIGEST_TAG)

    def as_dict(self) -> dict[str, Any]:
        return {"model": self.model, "version": self.version, "run_id": self.run_id,
                "source": self.source, "created_ms": self.created_ms, "author": self.author,
                "aliases": self.aliases, "tags": self.tags, "metrics": self.metrics,
                "params": self.params}


def _quiet_mlflow() -> None:
    # MLflow and alembic log every migration step at INFO; the CLI prints its own summary.
    for name in ("mlflow", "alembic"):
        logging.getLogger(name).setLevel(logging.WARNING)


class Registry:
    """A thin adapter over MlflowClient: versions, aliases, tags and local artifact access."""

    def __init__(self, tracking_uri: str | None = None) -> None:
        self.tracking_uri = tracking_uri or default_tracking_uri()
        self._client: Any = None

    @property
    def client(self) -> Any:
        if self._client is None:
            try:
                from mlflow.tracking import MlflowClient
            except ImportError as exc:  # pragma: no cover - depends on the installed extras
                raise EngineMissingError("MLflow is not installed",
                                         "pip install 'mlscope[mlflow]'") from exc
            _quiet_mlflow()
            self._client = MlflowClient(tracking_uri=self.tracking_uri,
                                        registry_uri=self.tracking_uri)
        return self._client

    # -- runs ---------------------------------------------------------------------------
    def experiment_id(self, name: str = EXPERIMENT) -> str:
        found = self.client.get_experiment_by_name(name)
        if found is not None:
            return str(found.experiment_id)
        location = os.environ.get(ARTIFACT_ENV, "").strip() or None
        if location is None and self.tracking_uri.startswith("sqlite:"):
            # Keep artifacts next to the database, not in ./mlruns of whatever the cwd is.
            db = Path(unquote(urlparse(self.tracking_uri).path))
            location = (db.parent / "artifacts").resolve().as_uri()
        return str(self.client.create_experiment(name, artifact_location=location))

    def log_run(self, artifact_dir: Path, params: dict[str, Any] | None = None,
                metrics: dict[str, float] | None = None, tags: dict[str, str] | None = None,
                run_name: str | None = None) -> str:
        """A finished run holding `artifact_dir` under `model/`; returns its run id."""
        from mlflow.entities import Metric, Param, RunTag

        from mlscope.release.redact import redact

        client = self.client
        run = client.create_run(self.experiment_id(), run_name=run_name, tags=tags or {})
        run_id = str(run.info.run_id)
        safe_params = redact({k: str(v) for k, v in (params or {}).items()})
        client.log_batch(
            run_id,
            metrics=[Metric(k, float(v), 0, 0) for k, v in (metrics or {}).items()],
            params=[Param(k, str(v)[:6000]) for k, v in safe_params.items()],
            tags=[RunTag(k, v) for k, v in (tags or {}).items()],
        )
        client.log_artifacts(run_id, str(artifact_dir), ARTIFACT_PATH)
        client.set_terminated(run_id)
        return run_id

    def log_dataset(self, run_id: str, version: dict[str, Any]) -> None:
        """Record the training data's version (hash, size, rows) as the run's dataset input."""
        import json

        from mlflow.entities import Dataset, DatasetInput, InputTag

        dataset = Dataset(name=str(version.get("name", "training-data")),
                          digest=str(version["sha256"])[:36], source_type="local",
                          source=json.dumps({"uri": version.get("source", "")}),
                          profile=json.dumps({k: version[k] for k in ("bytes", "rows")
                                              if k in version}))
        self.client.log_inputs(run_id, datasets=[DatasetInput(
            dataset, tags=[InputTag("mlflow.data.context", "training")])])

    # -- versions -----------------------------------------------------------------------
    def register(self, model: str, run_id: str, author: str,
                 tags: dict[str, str] | None = None) -> int:
        """A new version of `model` from the run's `model/` artifacts, tagged with its author."""
        validate_model_name(model)
        client = self.client
        try:
            run = client.get_run(run_id)
        except Exception as exc:
            raise InputError(f"no MLflow run {run_id!r} in {self.tracking_uri}",
                             "pass the run id printed by `mlscope release train`") from exc
        if model not in self.models():
            client.create_registered_model(model)
        all_tags = {**(tags or {}), AUTHOR_TAG: author}
        mv = client.create_model_version(model, source=f"{run.info.artifact_uri}/{ARTIFACT_PATH}",
                                         run_id=run_id, tags=all_tags)
        return int(mv.version)

    def models(self) -> list[str]:
        return sorted(str(m.name) for m in self.client.search_registered_models())

    def _require_model(self, model: str) -> None:
        validate_model_name(model)
        known = self.models()
        if model not in known:
            raise UnknownNameError("registered model", model, known)

    def version(self, model: str, version: int) -> VersionInfo:
        validate_model_name(model)
        try:
            mv = self.client.get_model_version(model, str(version))
        except Exception as exc:
            self._require_model(model)  # an unknown model gets "did you mean"
            versions = [v.version for v in self.versions(model)]
            raise InputError(f"{model} has no version {version}",
                             f"known versions: {versions or 'none'}") from exc
        return self._info(mv)

    def versions(self, model: str) -> list[VersionInfo]:
        self._require_model(model)
        found = self.client.search_model_versions(f"name='{model}'")
        infos = sorted((self._info(mv) for mv in found), key=lambda v: v.version)
        # Searches do not fill in aliases; the registered model knows them all.
        aliases = dict(getattr(self.client.get_registered_model(model), "aliases", {}) or {})
        for info in infos:
            info.aliases = sorted(a for a, v in aliases.items() if int(v) == info.version)
        return infos

    def _info(self, mv: Any) -> VersionInfo:
        metrics: dict[str, float] = {}
        params: dict[str, str] = {}
        if mv.run_id:
            try:
                data = self.client.get_run(mv.run_id).data
                metrics, params = dict(data.metrics), dict(data.params)
            except Exception:  # the run may have been deleted; the version still stands
                pass
        return VersionInfo(model=str(mv.name), version=int(mv.version), run_id=mv.run_id,
                           source=str(mv.source), created_ms=int(mv.creation_timestamp or 0),
                           tags=dict(mv.tags or {}), aliases=list(mv.aliases or []),
                           metrics=metrics, params=params)

    def set_version_tag(self, model: str, version: int, key: str, value: str) -> None:
        self.client.set_model_version_tag(model, str(version), key, value)

    # -- aliases (environments) ---------------------------------------------------------
    def alias_version(self, model: str, alias: str) -> int | None:
        """The version holding `alias` (an environment), or None when nothing holds it.

        Only MLflow's "does not exist" answers mean None; anything else (a locked or missing
        database, a network error) raises RegistryUnavailableError, so a gate can never read an
        unreadable registry as "no champion".
        """
        validate_alias(alias)
        validate_model_name(model)
        try:
            return int(self.client.get_model_version_by_alias(model, alias).version)
        except Exception as exc:
            if getattr(exc, "error_code", None) in _ABSENT:
                return None
            from mlscope.release.redact import redact_text

            raise RegistryUnavailableError(
                f"cannot read alias {alias} of {model} from the registry: "
                f"{redact_text(type(exc).__name__ + ': ' + str(exc))[:300]}",
                "retry when the registry is reachable; nothing was changed") from exc

    def aliases(self, model: str) -> dict[str, int]:
        """Every alias of `model` and the version it holds (fails closed like alias_version)."""
        try:
            found = self.client.get_registered_model(model)
        except Exception as exc:
            if getattr(exc, "error_code", None) in _ABSENT:
                return {}
            raise RegistryUnavailableError(f"cannot read {model} from the registry") from exc
        return {str(k): int(v) for k, v in (getattr(found, "aliases", {}) or {}).items()}

    def set_alias(self, model: str, alias: str, version: int) -> None:
        validate_alias(alias)
        self.version(model, version)  # raises a clear error for an unknown version
        self.client.set_registered_model_alias(model, alias, str(version))

    def delete_alias(self, model: str, alias: str) -> None:
        validate_alias(alias)
        self.client.delete_registered_model_alias(model, alias)

    # -- artifacts ----------------------------------------------------------------------
    def verified_artifact_dir(self, model: str, version: int, expected: str) -> Path:
        """The version's model directory, after checking its digest against `expected` (the
        one recorded at registration): replaced weights are refused before anything loads
        them (a pickled model executes code when loaded)."""
        from mlscope.release.base import RefusedError
        from mlscope.release.digest import dir_digest

        directory = self.artifact_dir(model, version)
        actual = dir_digest(directory)
        if actual != expected:
            raise RefusedError(f"{model} v{version}'s files changed since registration "
                               f"(digest {actual[:19]}..., registered {expected[:19]}...)",
                               "register the new files as a new version")
        return directory

    def artifact_dir(self, model: str, version: int) -> Path:
        """A local directory holding the version's MLflow Model (downloaded if remote)."""
        info = self.version(model, version)
        parsed = urlparse(info.source)
        if parsed.scheme in ("", "file"):
            local = Path(unquote(parsed.path))
            if local.is_dir():
                return local
        cache = state_dir() / "cache" / model / str(version)
        if not (cache / "MLmodel").exists():
            import mlflow.artifacts

            cache.parent.mkdir(parents=True, exist_ok=True)
            got = mlflow.artifacts.download_artifacts(artifact_uri=info.source,
                                                      dst_path=str(cache.parent / "dl"),
                                                      tracking_uri=self.tracking_uri)
            Path(got).rename(cache)
        return cache
