"""Fixtures for the Airflow tests: generated DAG folders, moto's server on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
EXAMPLE_SPECS = sorted(EXAMPLES.glob("*/mlscope.yaml"))


@pytest.fixture(scope="session")
def moto_endpoint(start_moto: Callable[[], AbstractContextManager[str]],
                  aws_test_credentials: Callable[[], AbstractContextManager[None]]
                  ) -> Iterator[str]:
    """moto's threaded server on a free loopback port, with dummy credentials."""
    with aws_test_credentials(), start_moto() as url:
        yield url
