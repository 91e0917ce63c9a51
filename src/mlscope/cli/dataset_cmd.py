"""`mlscope dataset profile|sample|tokens PATH`: what a dataset holds, seeded samples, tokens."""

from __future__ import annotations

import click

from mlscope.cli.output import console, json_option, print_json


@click.group()
def dataset() -> None:
    """Profile datasets (txt, jsonl, csv, tsv, parquet files or folders) and sample them."""


@dataset.command("profile")
@click.argument("path", type=click.Path())
@json_option
def profile_cmd(path: str, as_json: bool) -> None:
    """Rows, bytes, columns and types of PATH (a file or a folder of files)."""
    from rich.table import Table

    from mlscope.datasets import profile

    prof = profile(path)
    if as_json:
        print_json(prof.to_dict())
        return
    out = console()
    out.print(f"{prof.path}: {prof.rows:,} rows, {prof.bytes:,} bytes, {len(prof.files)} "
              f"file(s), format {', '.join(prof.formats)}")
    table = Table("column", "type")
    for col in prof.columns:
        table.add_row(col.name, col.type)
    out.print(table)
    for note in prof.notes:
        out.print(f"note: {note}")


@dataset.command("sample")
@click.argument("path", type=click.Path())
@click.option("--fraction", type=float, required=True, help="Share of rows to keep, in (0, 1].")
@click.option("--out", "out_dir", type=click.Path(), required=True,
              help="Folder to write the sample into (file names and formats are kept).")
@click.option("--seed", default=0, show_default=True, help="Seed of the row selection.")
@json_option
def sample_cmd(path: str, fraction: float, out_dir: str, seed: int, as_json: bool) -> None:
    """Write a seeded sample of PATH; samples of one seed are nested (1 % inside 2 %)."""
    from mlscope.datasets import sample

    result = sample(path, fraction, out_dir, seed=seed)
    if as_json:
        print_json(result.to_dict())
    else:
        console().print(f"wrote {result.rows:,} of {result.source_rows:,} rows "
                        f"({result.files} file(s)) to {result.path}")


@dataset.command("tokens")
@click.argument("path", type=click.Path())
@click.option("--sample-bytes", default=1_000_000, show_default=True, type=click.IntRange(1),
              help="About how many bytes of text to tokenize.")
@click.option("--tokenizer", default=None,
              help="tiktoken:<encoding> (cached vocabulary) or a tokenizer.json path; default: "
                   "tiktoken cl100k_base when cached, else bytes per token.")
@click.option("--bytes-per-token", default=4.0, show_default=True,
              type=click.FloatRange(min=0, min_open=True),
              help="Used when no tokenizer is available.")
@json_option
def tokens_cmd(path: str, sample_bytes: int, tokenizer: str | None, bytes_per_token: float,
               as_json: bool) -> None:
    """Estimate the tokens in PATH from a sample."""
    from mlscope.datasets import measure_tokens

    m = measure_tokens(path, sample_bytes=sample_bytes, tokenizer=tokenizer,
                       bytes_per_token=bytes_per_token)
    if as_json:
        print_json(m.to_dict())
        return
    out = console()
    how = f"tokenizer {m.tokenizer}" if m.tokenizer else f"{m.bytes_per_token:g} bytes per token"
    out.print(f"{m.tokens:,} tokens in {m.rows:,} rows ({how}; measured on {m.sample_rows:,} "
              f"rows, {m.sample_bytes:,} bytes of text)")
    for note in m.assumptions:
        out.print(f"assumption: {note}")
