"""Fixtures for the cost tests: moto's server on 127.0.0.1 and a realistic spec."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path

import pytest

SPEC = """\
version: 1
project: {name: shop-recs, region: us-east-1}
training: {instance: m6i.8xlarge, runs_per_month: 4}
environments:
  - name: dev
    schedule: "off=(M-F,19);on=(M-F,7);tz=pt"
    holidays: [2026-03-20]
    resources:
      - {kind: notebook, name: nb, instance: ml.t3.medium, count: 2}
      - {kind: ec2, name: box, instance: m5.large, instance_ids: [i-0123456789abcdef0]}
      - {kind: storage, name: scratch, gb: 100, growth_gb_per_month: [5, 20]}
  - name: qa
    schedule:
      timezone: Europe/Berlin
      periods:
        - {begintime: "08:00", endtime: "18:00", weekdays: mon-fri}
    resources:
      - {kind: notebook, name: qa-nb, instance: ml.t3.medium}
      - {kind: batch, name: sim, instance: ml.m5.xlarge, hours_per_month: [10, 40]}
  - name: prod
    resources:
      - {kind: endpoint, name: api, instance: ml.c5.xlarge, min_instances: 2,
         max_instances: 6, typical_instances: 3}
      - {kind: training, name: retrain, instance: ml.m5.4xlarge, hours_per_run: [1, 3],
         runs_per_month: 4.3, rerun_rate: 0.2}
      - {kind: mwaa, name: airflow, workers: [1, 3]}
      - {kind: transfer, name: egress, direction: internet-out, gb_per_month: [100, 400]}
budget:
  monthly_usd: 1500
  alert_emails: [team@example.com]
"""


@pytest.fixture
def spec_file(tmp_path: Path) -> Path:
    path = tmp_path / "mlscope.yaml"
    path.write_text(SPEC)
    return path


@pytest.fixture(scope="session")
def moto_endpoint(start_moto: Callable[[], AbstractContextManager[str]],
                  aws_test_credentials: Callable[[], AbstractContextManager[None]]
                  ) -> Iterator[str]:
    """moto's threaded server on a free loopback port, with dummy credentials."""
    with aws_test_credentials(), start_moto() as url:
        yield url


# Helpers shared by the tests here and benchmarks/custodian_parity.py (c7n as the oracle).
sys.path.insert(0, str(Path(__file__).parent))
