"""The file a local server follows, and the check that a directory holds a servable model.

Here (in release) rather than in serving: deploy writes pointers and serving reads them, and
serving may import release, never the other way round.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from mlscope.errors import InputError

MLMODEL = "MLmodel"


def check_artifact_dir(path: Path) -> Path:
    if not (Path(path) / MLMODEL).is_file():
        raise InputError(f"no MLflow Model in {path} ({MLMODEL} missing)",
                         "point at a directory written by mlflow.<flavor>.save_model")
    return Path(path)


def write_pointer(pointer: Path, version: str, artifact_dir: Path,
                  digest: str | None = None) -> None:
    """Atomically point `pointer` at a version: readers see the old or the new file, never half.

    `digest` (the registered artifact digest) lets the server refuse files that changed.
    """
    pointer.parent.mkdir(parents=True, exist_ok=True)
    payload = json.dumps({"version": str(version), "digest": digest,
                          "artifact_dir": str(Path(artifact_dir).resolve())})
    fd, tmp = tempfile.mkstemp(dir=pointer.parent, prefix=".pointer-")
    with os.fdopen(fd, "w") as fh:
        fh.write(payload)
    os.replace(tmp, pointer)
