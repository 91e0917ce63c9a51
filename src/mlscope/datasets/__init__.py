"""Datasets: profile files or folders, write seeded fraction samples, measure tokens.

`profile(path)` reports rows, bytes, columns and types of txt/jsonl/csv/tsv/parquet files (or a
folder of them); `sample(path, fraction, out)` writes a seeded sample with the same format (used
by `mlscope calibrate` for the `{sample_path}` placeholder); `measure_tokens(path)` counts tokens
on a sample (with a tokenizer when one is available offline, else a stated bytes-per-token).
Heavy readers (pyarrow) are imported inside the functions that need them.
"""

from mlscope.datasets.formats import SUPPORTED_SUFFIXES
from mlscope.datasets.profile import ColumnInfo, DatasetProfile, FileProfile, profile
from mlscope.datasets.sample import SampleResult, sample
from mlscope.datasets.tokens import TokenMeasurement, measure_tokens

__all__ = [
    "SUPPORTED_SUFFIXES", "ColumnInfo", "DatasetProfile", "FileProfile", "SampleResult",
    "TokenMeasurement", "measure_tokens", "profile", "sample",
]
