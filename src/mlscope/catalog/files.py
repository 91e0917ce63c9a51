"""The catalog's packaged data files, by name: the one way engines read them.

Engines ask here (`data_text("model_shapes.json")`) rather than reaching into the package's
folder, so where the data lives, and which files exist, is the catalog's business alone.
"""

from __future__ import annotations

from importlib import resources
from importlib.abc import Traversable

from mlscope.errors import InputError


def data_file(name: str) -> Traversable:
    path = resources.files("mlscope.catalog") / "data" / name
    if "/" in name or "\\" in name or not path.is_file():
        raise InputError(f"the catalog has no data file '{name}'")
    return path


def data_text(name: str) -> str:
    return data_file(name).read_text(encoding="utf-8")
