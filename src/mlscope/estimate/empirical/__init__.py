"""Empirical estimates: run the user's own training on data fractions, fit, extrapolate.

- `CalibrationPlan` + `run_plan`: a command run per fraction/repeat (the `mlscope calibrate` CLI).
- `calibrate(train_fn, data, ...)`: the same for a Python function, in-process.
- `fit_and_predict`: the curve fitting with leave-one-out model choice and bootstrap ranges.
"""

from mlscope.estimate.empirical.api import calibrate, sample_data
from mlscope.estimate.empirical.fit import FitResult, Quantiles, fit_and_predict
from mlscope.estimate.empirical.plan import DEFAULT_FRACTIONS, parse_fractions
from mlscope.estimate.empirical.result import CalibrationResult, Run, analyze
from mlscope.estimate.empirical.session import CalibrationPlan, CommandFailedError, run_plan

__all__ = [
    "DEFAULT_FRACTIONS", "CalibrationPlan", "CalibrationResult", "CommandFailedError",
    "FitResult", "Quantiles", "Run", "analyze", "calibrate", "fit_and_predict", "parse_fractions",
    "run_plan", "sample_data",
]
