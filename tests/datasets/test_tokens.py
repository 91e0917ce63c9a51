"""`measure_tokens()`: tokenizer counts scaled from a sample, or a stated bytes-per-token."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from mlscope.datasets import measure_tokens
from mlscope.datasets.tokens import _tiktoken_cached
from mlscope.errors import EngineMissingError, InputError


def words(text: str) -> list[str]:
    return text.split()


def test_fallback_states_its_bytes_per_token(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_text("abcd" * 100 + "\n")  # 400 bytes of text
    m = measure_tokens(path, tokenizer=None)
    if m.method == "bytes-per-token":  # no cached tokenizer on this machine
        assert m.tokens == 100 and m.bytes_per_token == 4.0 and m.tokenizer is None
        assert any("4 bytes per token" in a for a in m.assumptions)
    assert m.exact and m.rows == 1 and m.bytes == 401
    other = measure_tokens(path, tokenizer=words, bytes_per_token=2.0)
    assert other.tokens == 1 and other.method == "tokenizer" and other.tokenizer == "words"


def test_whole_dataset_sample_is_exact(tmp_path: Path) -> None:
    path = tmp_path / "d.jsonl"
    records = [{"id": i, "text": "tok " * (i % 13 + 1), "meta": "ignored words"}
               for i in range(400)]
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    m = measure_tokens(path, sample_bytes=10**9, tokenizer=words)
    assert m.exact and m.tokens == sum(i % 13 + 1 for i in range(400))  # only the text field
    assert m.bytes_per_token == pytest.approx(m.sample_bytes / m.tokens)


def test_sampled_estimate_is_close_for_homogeneous_text(tmp_path: Path) -> None:
    path = tmp_path / "big.txt"
    lines = [" ".join(["w"] * (5 + i % 11)) for i in range(20_000)]
    path.write_text("\n".join(lines) + "\n")
    truth = sum(5 + i % 11 for i in range(20_000))
    m = measure_tokens(path, sample_bytes=20_000, tokenizer=words)
    assert not m.exact and m.sample_rows < 20_000 / 5
    assert m.tokens == pytest.approx(truth, rel=0.05)


def test_csv_and_parquet_use_text_columns(tmp_path: Path) -> None:
    frame = pd.DataFrame({"id": range(50), "text": ["a b c"] * 50, "tag": ["x"] * 50})
    frame.to_parquet(tmp_path / "t.parquet")
    frame.to_csv(tmp_path / "t.csv", index=False)
    for name in ("t.parquet", "t.csv"):
        assert measure_tokens(tmp_path / name, tokenizer=words).tokens == 150


def test_missing_or_unknown_tokenizers_are_explained(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_text("hello\n")
    with pytest.raises(InputError, match="unknown tokenizer"):
        measure_tokens(path, tokenizer="gpt-9")
    try:
        import tiktoken  # noqa: F401
    except ImportError:
        with pytest.raises(EngineMissingError):
            measure_tokens(path, tokenizer="tiktoken:cl100k_base")
    else:
        if not _tiktoken_cached("cl100k_base"):
            with pytest.raises(EngineMissingError, match="not cached"):
                measure_tokens(path, tokenizer="tiktoken:cl100k_base")
    with pytest.raises(InputError, match="positive"):
        measure_tokens(path, sample_bytes=0)


def test_cli_tokens(run, tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_text("x" * 800 + "\n")
    res = run("dataset", "tokens", str(path), "--bytes-per-token", "8", "--json")
    assert res.code == 0
    out = res.json()
    if out["method"] == "bytes-per-token":
        assert out["tokens"] == 100
    assert out["rows"] == 1


@pytest.mark.parametrize("content", [b'{"model": {"type": "BPE", "vocab": ', b"\xff\xfe\x00binary",
                                     b'{"version": "1.0"}'])
def test_malformed_tokenizer_file_is_one_line_exit_2(run, tmp_path: Path, content: bytes) -> None:
    pytest.importorskip("tokenizers")
    data = tmp_path / "a.txt"
    data.write_text("hello world\n")
    bad = tmp_path / "tokenizer.json"
    bad.write_bytes(content)
    res = run("dataset", "tokens", str(data), "--tokenizer", str(bad))
    assert res.code == 2
    assert "Traceback" not in res.err and len(res.err.strip().splitlines()) == 1
    assert "not a readable tokenizer.json" in res.err
