"""`measure_tokens(path)`: how many tokens a dataset holds, measured on a sample.

With a tokenizer (a callable, `tiktoken:<encoding>` when its vocabulary is already cached, or a
local `tokenizer.json` for the `tokenizers` library) the tokens of a sample of rows are counted
and scaled by rows. Without one, the text bytes of the sample are divided by a stated
bytes-per-token (4.0 by default: English text with a GPT-style BPE), and the output says so.
Nothing is downloaded: a tokenizer whose files are not on disk counts as absent.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from mlscope.datasets.formats import Format, dataset_files, delimiter, iter_lines, open_text
from mlscope.datasets.profile import profile_file
from mlscope.datasets.sample import keep_mask
from mlscope.errors import EngineMissingError, InputError, require

DEFAULT_BYTES_PER_TOKEN = 4.0
DEFAULT_SAMPLE_BYTES = 1_000_000
AUTO_TIKTOKEN_ENCODING = "cl100k_base"
# Columns / keys that hold the text to train on; when present, other fields are ignored.
TEXT_FIELDS = ("text", "content", "document", "body", "prompt", "completion", "messages")

TokenCounter = Callable[[str], "int | Sequence[Any]"]


@dataclass
class TokenMeasurement:
    tokens: int  # estimated tokens in the whole dataset
    method: str  # "tokenizer" or "bytes-per-token"
    bytes: int  # dataset bytes on disk
    rows: int
    sample_bytes: int  # UTF-8 bytes of text actually measured
    bytes_per_token: float  # measured on the sample (tokenizer) or assumed
    tokenizer: str | None
    sample_rows: int = 0
    exact: bool = False  # True when the sample was the whole dataset
    assumptions: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# -- tokenizers -------------------------------------------------------------------------------
def _tiktoken_cached(encoding: str) -> bool:
    """True when tiktoken can load `encoding` without the network (its cache file exists)."""
    cache_dir = os.environ.get("TIKTOKEN_CACHE_DIR") or os.environ.get("DATA_GYM_CACHE_DIR") or (
        str(Path(tempfile.gettempdir()) / "data-gym-cache"))
    url = f"https://openaipublic.blob.core.windows.net/encodings/{encoding}.tiktoken"
    return (Path(cache_dir) / hashlib.sha1(url.encode()).hexdigest()).exists()


def _tiktoken(encoding: str, required: bool) -> tuple[str, TokenCounter] | None:
    try:
        import tiktoken
    except ImportError:
        if required:
            raise EngineMissingError("tiktoken is not installed",
                                     "pip install 'mlscope[tokens]', or leave the tokenizer "
                                     "out") from None
        return None
    if not _tiktoken_cached(encoding):
        if required:
            raise EngineMissingError(
                f"tiktoken's '{encoding}' vocabulary is not cached and mlscope does not download",
                "load it once with network access (tiktoken.get_encoding) or set "
                "TIKTOKEN_CACHE_DIR to a folder that holds it")
        return None
    enc = tiktoken.get_encoding(encoding)
    return f"tiktoken:{encoding}", lambda text: enc.encode(text, disallowed_special=())


def _hf_tokenizer(path: Path) -> tuple[str, TokenCounter]:
    try:
        from tokenizers import Tokenizer
    except ImportError:
        raise EngineMissingError("the `tokenizers` library is not installed",
                                 "pip install 'mlscope[tokens]' to count with a "
                                 "tokenizer.json") from None
    try:
        tok = Tokenizer.from_file(str(path))
    except Exception as exc:  # tokenizers raises a bare Exception with the parser's message
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputError(f"{path} is not a readable tokenizer.json ({reason})",
                         "pass a tokenizer.json saved by `tokenizers` or `transformers`, "
                         "tiktoken:<encoding>, or leave --tokenizer out") from None
    return f"tokenizers:{path.name}", lambda text: tok.encode(text).ids


def resolve_tokenizer(spec: str | TokenCounter | None) -> tuple[str, TokenCounter] | None:
    """A (name, counter) pair, or None when no tokenizer is available offline (auto mode)."""
    if spec is None:
        return _tiktoken(AUTO_TIKTOKEN_ENCODING, required=False)
    if callable(spec):
        return getattr(spec, "__name__", "custom"), spec
    if spec.startswith("tiktoken:"):
        found = _tiktoken(spec.split(":", 1)[1], required=True)
        assert found is not None
        return found
    if Path(spec).is_file():
        return _hf_tokenizer(Path(spec))
    raise InputError(f"unknown tokenizer '{spec}'",
                     "give tiktoken:<encoding>, a path to a tokenizer.json, or leave it out")


def _count(counter: TokenCounter, text: str) -> int:
    result = counter(text)
    return result if isinstance(result, int) else len(result)


# -- text of a row ----------------------------------------------------------------------------
def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _record_text(record: Any) -> str:
    if isinstance(record, dict):
        chosen = [record[k] for k in TEXT_FIELDS if k in record]
        return "\n".join(_strings(chosen if chosen else record))
    return "\n".join(_strings(record))


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _sampled_texts(path: Path, fmt: Format, rows: int, keep: Any) -> Iterator[str]:
    """Text of the kept rows of one file (`keep` is a boolean mask over rows)."""
    if fmt in ("txt", "jsonl"):
        for index, line in enumerate(iter_lines(path)):
            if keep[index]:
                yield line if fmt == "txt" else _record_text(_json(line, path, index))
    elif fmt == "parquet":
        yield from _parquet_texts(path, keep)
    else:
        with open_text(path) as fh:
            reader = csv.reader(fh, delimiter=delimiter(fmt))
            header = next(reader, [])
            text_cols = [i for i, name in enumerate(header) if name.lower() in TEXT_FIELDS]
            index = 0
            for row in reader:
                if not row:
                    continue
                if keep[index]:
                    cells = [row[i] for i in text_cols if i < len(row)] if text_cols else [
                        c for c in row if c.strip() and not _is_number(c)]
                    yield "\n".join(cells)
                index += 1


def _json(line: str, path: Path, index: int) -> Any:
    try:
        return json.loads(line)
    except json.JSONDecodeError as exc:
        raise InputError(f"{path.name} row {index + 1} is not JSON ({exc.msg})",
                         "each line of a .jsonl file must be one JSON object") from None


def _parquet_texts(path: Path, keep: Any) -> Iterator[str]:
    import numpy as np
    pa = require("pyarrow", "datasets")
    pq = require("pyarrow.parquet", "datasets", "pyarrow")

    table = pq.read_table(path)
    names = [f.name for f in table.schema
             if pa.types.is_string(f.type) or pa.types.is_large_string(f.type)]
    preferred = [n for n in names if n.lower() in TEXT_FIELDS]
    columns = [table.column(n).take(np.flatnonzero(keep)).to_pylist()
               for n in (preferred or names)]
    for cells in zip(*columns, strict=True):
        yield "\n".join(c for c in cells if c)


# -- measurement ------------------------------------------------------------------------------
def measure_tokens(path: str | Path, sample_bytes: int = DEFAULT_SAMPLE_BYTES,
                   tokenizer: str | TokenCounter | None = None,
                   bytes_per_token: float = DEFAULT_BYTES_PER_TOKEN,
                   seed: int = 0) -> TokenMeasurement:
    """Estimate the tokens of a dataset from a seeded sample of about `sample_bytes` of it."""
    if sample_bytes <= 0:
        raise InputError(f"sample_bytes must be positive, got {sample_bytes}",
                         "give the bytes of text to measure, e.g. 1000000")
    if bytes_per_token <= 0:
        raise InputError(f"bytes_per_token must be positive, got {bytes_per_token}",
                         "4.0 suits English text with a GPT-style tokenizer")
    found = resolve_tokenizer(tokenizer)
    files = [(p, fmt, profile_file(p, fmt)) for p, fmt in dataset_files(path)]
    total_rows = sum(f.rows for _, _, f in files)
    total_bytes = sum(f.bytes for _, _, f in files)
    tokens = 0.0
    measured_bytes = measured_rows = 0
    measured_tokens = 0
    exact = True
    non_ascii = 0
    for p, fmt, prof in files:
        if prof.rows == 0:
            continue
        # Keep about `sample_bytes` overall, shared between files by their size.
        share = sample_bytes * prof.bytes / max(total_bytes, 1)
        fraction = min(1.0, share / max(prof.bytes, 1))
        keep = keep_mask(prof.rows, fraction, seed, salt=p.name)
        kept = int(keep.sum())
        exact = exact and kept == prof.rows
        file_bytes = file_tokens = 0
        for text in _sampled_texts(p, fmt, prof.rows, keep):
            encoded = text.encode("utf-8")
            file_bytes += len(encoded)
            if not text.isascii():
                non_ascii += len(encoded) - len(text.encode("ascii", "ignore"))
            if found is not None:
                file_tokens += _count(found[1], text)
        file_tokens_f = file_bytes / bytes_per_token if found is None else float(file_tokens)
        tokens += file_tokens_f * prof.rows / kept
        measured_bytes += file_bytes
        measured_rows += kept
        measured_tokens += round(file_tokens_f)
    assumptions = _assumptions(found, bytes_per_token, exact, measured_rows, total_rows,
                               non_ascii, measured_bytes)
    measured_bpt = (measured_bytes / measured_tokens if found is not None and measured_tokens
                    else bytes_per_token)
    return TokenMeasurement(
        tokens=round(tokens), method="tokenizer" if found else "bytes-per-token",
        bytes=total_bytes, rows=total_rows, sample_bytes=measured_bytes,
        bytes_per_token=measured_bpt, tokenizer=found[0] if found else None,
        sample_rows=measured_rows, exact=exact, assumptions=assumptions)


def _assumptions(found: tuple[str, TokenCounter] | None, bytes_per_token: float, exact: bool,
                 sample_rows: int, rows: int, non_ascii: int, measured: int) -> list[str]:
    notes: list[str] = []
    if found is None:
        notes.append(f"no tokenizer available offline: tokens = text bytes / {bytes_per_token:g} "
                     "bytes per token (about right for English text with a GPT-style BPE; "
                     "code and other languages differ)")
        if measured and non_ascii / measured > 0.3:
            notes.append("over 30 % of the text bytes are non-ASCII: bytes per token is likely "
                         "lower (about 3 for CJK), so tokens are likely undercounted")
    if not exact:
        notes.append(f"counted on {sample_rows:,} of {rows:,} rows and scaled by rows")
    notes.append("text = the text/content fields when present, else every string field")
    return notes
