"""Content digests: what an approval, a registration and a deploy are bound to."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from mlscope.errors import InputError


def file_digest(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def dir_digest(directory: Path) -> str:
    """SHA-256 over every file's relative path and content hash, in sorted order.

    Any changed, added, removed or renamed file changes the digest; timestamps and owners do not.
    """
    root = Path(directory)
    if not root.is_dir():
        raise InputError(f"model directory {root} does not exist")
    h = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        rel = path.relative_to(root).as_posix()
        h.update(f"{rel}\0{file_digest(path)}\n".encode())
    return "sha256:" + h.hexdigest()


def json_digest(value: Any) -> str:
    body = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      default=str)
    return "sha256:" + hashlib.sha256(body.encode("utf-8")).hexdigest()
