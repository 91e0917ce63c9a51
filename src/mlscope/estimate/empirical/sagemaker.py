"""Calibration runs as SageMaker training jobs (`--on sagemaker`): not in this build yet."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mlscope.errors import InputError


def sagemaker_runner(instances: Sequence[str], region: str | None, image: str | None,
                     role: str | None, output: str | None) -> Any:
    raise InputError("--on sagemaker is not available in this build yet",
                     "run the calibration locally (--on local)")
