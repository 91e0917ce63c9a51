"""Fixtures for the architecture tests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from mlscope.spec import load_spec_text
from mlscope.spec.models import ProjectSpec

SpecFactory = Callable[..., ProjectSpec]


def _spec_text(use_case: str, level: int, architecture: str = "",
               environments: bool = True) -> str:
    envs = "environments: [{name: dev}, {name: qa}, {name: prod}]\n" if environments else ""
    return (f"project: {{name: t, use_case: {use_case}, mlops_level: {level}}}\n{envs}"
            f"{architecture}")


@pytest.fixture
def make_spec() -> SpecFactory:
    """make_spec("recommender", 2, architecture="architecture: {remove: [api]}\\n")."""

    def _make(use_case: str, level: int, architecture: str = "",
              environments: bool = True) -> ProjectSpec:
        return load_spec_text(_spec_text(use_case, level, architecture, environments))

    return _make


@pytest.fixture
def write_spec(tmp_path: Path) -> Callable[..., Path]:
    """Write a spec file (same arguments as make_spec) and return its path."""

    def _write(use_case: str, level: int, architecture: str = "",
               environments: bool = True) -> Path:
        path = tmp_path / "mlscope.yaml"
        path.write_text(_spec_text(use_case, level, architecture, environments))
        return path

    return _write
