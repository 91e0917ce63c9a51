"""Hold the served model behind one reference and swap it without disturbing requests.

A request reads `holder.current` once and keeps that object until it answers, so a swap never
changes a model under a request. A new version is loaded and *validated* completely (files
match their registered digest, the MLflow Model has a signature and an input example, and a
smoke prediction on that example is finite) before the reference is replaced; replacing one
attribute is atomic in CPython. A version that fails any check is reported and the old one
keeps serving.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from mlscope.serving.source import ModelRef, ModelSource

log = logging.getLogger("mlscope.serving")


@dataclass(frozen=True)
class LoadedModel:
    version: str
    model: Any  # an mlflow.pyfunc.PyFuncModel (anything with predict(DataFrame))
    input_names: list[str] = field(default_factory=list)
    loaded_at: float = field(default_factory=time.time)


@dataclass(frozen=True)
class ReloadOutcome:
    swapped: bool
    version: str | None
    previous: str | None
    error: str | None = None


def load_validated(ref: ModelRef) -> LoadedModel:
    """Digest check, then load and smoke-test the MLflow Model (InputError names the check)."""
    from mlscope.errors import InputError
    from mlscope.release.digest import dir_digest
    from mlscope.release.pyfunc import validate_model

    if ref.digest is not None and dir_digest(ref.artifact_dir) != ref.digest:
        raise InputError(f"version {ref.version}'s files do not match their registered digest")
    model = validate_model(ref.artifact_dir)
    schema = model.metadata.get_input_schema()
    names = list(schema.input_names()) if schema is not None and schema.has_input_names() else []
    return LoadedModel(ref.version, model, [str(n) for n in names])


class ModelHolder:
    def __init__(self, source: ModelSource,
                 loader: Callable[[ModelRef], LoadedModel] | None = None,
                 on_swap: Callable[[str | None, str], None] | None = None,
                 on_reload_error: Callable[[str], None] | None = None) -> None:
        self.source = source
        self._loader = loader or load_validated
        self._on_swap = on_swap
        self._on_reload_error = on_reload_error
        self._reload_lock = threading.Lock()  # one load at a time; readers never take it
        self.current: LoadedModel | None = None
        self.last_error: str | None = None  # why the latest load failed (None after a success)
        self._stop = threading.Event()
        self._poller: threading.Thread | None = None

    def refresh(self) -> ReloadOutcome:
        """Load the source's current version if it differs from the served one, then swap."""
        from mlscope.release.redact import redact_text

        with self._reload_lock:
            previous = self.current.version if self.current else None
            try:
                ref = self.source.current()
                if self.current is not None and ref.version == previous:
                    return ReloadOutcome(False, previous, previous)
                loaded = self._loader(ref)
            except Exception as exc:  # the old model keeps serving whatever went wrong
                reason = redact_text(f"{type(exc).__name__}: {exc}")[:500]
                self.last_error = reason
                log.warning("model reload failed; keeping version %s: %s", previous, reason)
                if self._on_reload_error:
                    self._on_reload_error(reason)
                return ReloadOutcome(False, previous, previous, reason)
            self.current = loaded
            self.last_error = None
            if self._on_swap:
                self._on_swap(previous, ref.version)
            log.info("now serving version %s (was %s)", ref.version, previous)
            return ReloadOutcome(True, ref.version, previous)

    def start_polling(self, every_s: float) -> None:
        if every_s <= 0 or self._poller is not None:
            return
        self._stop.clear()
        self._poller = threading.Thread(target=self._poll, args=(every_s,),
                                        name="mlscope-model-poller", daemon=True)
        self._poller.start()

    def _poll(self, every_s: float) -> None:
        while not self._stop.wait(every_s):
            self.refresh()

    def stop_polling(self) -> None:
        self._stop.set()
        if self._poller is not None:
            self._poller.join(timeout=5)
            self._poller = None
