"""Where billing exports come from: files, folders, globs, gzip, and s3:// prefixes.

Local files are read by DuckDB directly (it streams Parquet and CSV, so memory stays bounded for
files larger than RAM). Objects under s3:// are listed and copied, streamed in chunks, through
pyarrow's S3 filesystem into a temporary folder first: DuckDB's own S3 reader is an extension
it would download at run time, which mlscope never does.
"""

from __future__ import annotations

import fnmatch
import glob
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from mlscope.errors import InputError, require

COPY_CHUNK = 8 * 2**20


@dataclass
class Sources:
    """Local files by kind, plus a temporary folder to delete when done (for s3:// copies)."""

    parquet: list[str] = field(default_factory=list)
    csv: list[str] = field(default_factory=list)
    temp_dir: str | None = None

    def cleanup(self) -> None:
        if self.temp_dir:
            shutil.rmtree(self.temp_dir, ignore_errors=True)
            self.temp_dir = None

    @property
    def files(self) -> list[str]:
        return self.parquet + self.csv


def _kind(name: str) -> str | None:
    lower = name.lower()
    if lower.endswith(".parquet") or lower.endswith(".pq"):
        return "parquet"
    if lower.endswith(".csv") or lower.endswith(".csv.gz") or lower.endswith(".gz"):
        return "csv"
    return None


def _expand_local(path: str) -> list[str]:
    p = Path(path)
    if any(ch in path for ch in "*?["):
        found = sorted(glob.glob(path, recursive=True))
        if not found:
            raise InputError(f"no files match {path}", "check the pattern (quote it in the shell)")
        return [f for f in found if Path(f).is_file()]
    if p.is_dir():
        found = sorted(str(f) for f in p.rglob("*") if f.is_file() and _kind(f.name))
        if not found:
            raise InputError(f"folder {path} holds no .parquet, .csv or .csv.gz files",
                             "point at the export's folder (the one with the data files)")
        return found
    if p.is_file():
        return [str(p)]
    raise InputError(f"billing export {path} does not exist", "pass a file, folder, glob or s3://")


def _s3_filesystem() -> object:
    fs_mod = require("pyarrow.fs", "billing", "pyarrow")
    endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
    kwargs: dict[str, object] = {}
    if endpoint:
        scheme, _, rest = endpoint.partition("://")
        kwargs["endpoint_override"] = rest or scheme
        kwargs["scheme"] = scheme if rest else "https"
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    if region:
        kwargs["region"] = region
    return fs_mod.S3FileSystem(**kwargs)


def _expand_s3(url: str, fs: object, into: str) -> list[str]:
    """Copy the objects behind an s3:// file, prefix or glob into `into`; their local paths."""
    fs_mod = require("pyarrow.fs", "billing", "pyarrow")
    path = url[len("s3://"):]
    pattern = None
    if any(ch in path for ch in "*?["):
        cut = min(path.index(ch) for ch in "*?[" if ch in path)
        prefix = path[:cut].rsplit("/", 1)[0]
        pattern = path
    else:
        prefix = path.rstrip("/")
    try:
        info = fs.get_file_info(prefix)  # type: ignore[attr-defined]
        if info.type == fs_mod.FileType.File and pattern is None:
            keys = [prefix]
        else:
            listing = fs.get_file_info(  # type: ignore[attr-defined]
                fs_mod.FileSelector(prefix, recursive=True, allow_not_found=True))
            keys = sorted(i.path for i in listing if i.type == fs_mod.FileType.File
                          and _kind(i.path) and (pattern is None
                                                 or fnmatch.fnmatch(i.path, pattern)))
    except OSError as exc:
        raise InputError(f"cannot read {url}: {exc}",
                         "check the bucket, the credentials and AWS_ENDPOINT_URL") from None
    if not keys:
        raise InputError(f"no .parquet, .csv or .csv.gz objects under {url}",
                         "point at the export's S3 prefix")
    local = []
    for i, key in enumerate(keys):
        target = Path(into) / f"{i:05d}-{Path(key).name}"
        with fs.open_input_stream(key, compression=None) as src, open(  # type: ignore[attr-defined]
                target, "wb") as dst:
            while chunk := src.read(COPY_CHUNK):
                dst.write(chunk)
        local.append(str(target))
    return local


def resolve(paths: list[str]) -> Sources:
    """Every data file behind `paths`, sorted into Parquet and CSV (gzip or not)."""
    if not paths:
        raise InputError("no billing export given", "pass a file, folder, glob or s3:// path")
    out = Sources()
    fs = None
    for path in paths:
        if path.startswith("s3://"):
            if out.temp_dir is None:
                out.temp_dir = tempfile.mkdtemp(prefix="mlscope-billing-")
                fs = _s3_filesystem()
            files = _expand_s3(path, fs, out.temp_dir)
        else:
            files = _expand_local(path)
        for f in files:
            kind = _kind(f)
            if kind == "parquet":
                out.parquet.append(f)
            elif kind == "csv":
                out.csv.append(f)
            else:
                out.cleanup()
                raise InputError(f"{f} is neither Parquet nor CSV",
                                 "billing exports are .parquet, .csv or .csv.gz files")
    return out
