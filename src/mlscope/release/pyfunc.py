"""Versions as MLflow Models: the recommender as an MLflow pyfunc, and the checks every model
passes before it is registered, served or swapped in (signature, input example, a finite smoke
prediction). Gates, the QA simulation and serving call only `predict` on the pyfunc interface,
so any MLflow model (sklearn, a custom PythonModel, ...) goes through the same release path.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from mlscope.errors import InputError, require

MLMODEL = "MLmodel"
FACTORS_KEY = "factors"
# Pinned so saving does not spend seconds inferring requirements from the environment.
PIP_REQUIREMENTS = ["mlflow-skinny", "numpy", "pandas"]


class RecommenderModel:
    """pyfunc wrapper of a RecommenderArtifact: one row per request, unknown users fall back
    to the popularity baseline (flagged), never an exception."""

    def load_context(self, context: Any) -> None:
        from mlscope.release.artifact import RecommenderArtifact

        self.artifact = RecommenderArtifact.load(Path(context.artifacts[FACTORS_KEY]))

    def recommend_one(self, user: str, k: int, exclude: set[str]) -> dict[str, Any]:
        """One request without DataFrames (the /recommend route's fast path; same answer as
        predict on a one-row frame)."""
        if self.artifact.knows_user(user):
            scored = self.artifact.recommend(user, k, exclude)
            return {"user_id": user, "items": [i for i, _ in scored],
                    "scores": [float(s) for _, s in scored], "fallback": False}
        items = self.artifact.popular(k, exclude)
        return {"user_id": user, "items": items, "scores": [0.0] * len(items), "fallback": True}

    def predict(self, context: Any, model_input: Any, params: Any = None) -> Any:
        pd = require("pandas", "mlflow")
        rows = []
        for rec in model_input.to_dict(orient="records"):
            raw = rec.get("exclude")
            exclude = {str(x) for x in raw} if isinstance(raw, list | tuple | np.ndarray) else set()
            rows.append(self.recommend_one(str(rec["user_id"]), int(rec.get("k") or 10), exclude))
        return pd.DataFrame(rows, columns=["user_id", "items", "scores", "fallback"])


def _python_model_class() -> type:
    mlflow_pyfunc = require("mlflow.pyfunc", "mlflow")
    return type("RecommenderPyfunc", (RecommenderModel, mlflow_pyfunc.PythonModel), {
        "__module__": __name__})


_CLASSES: dict[str, type] = {}


def recommender_pyfunc_class() -> type:
    """The PythonModel subclass, built on first use so importing this module needs no mlflow."""
    if "RecommenderPyfunc" not in _CLASSES:
        _CLASSES["RecommenderPyfunc"] = _python_model_class()
    return _CLASSES["RecommenderPyfunc"]


def __getattr__(name: str) -> Any:
    # Unpickling a saved model looks the class up by name here (in a fresh process too).
    if name == "RecommenderPyfunc":
        return recommender_pyfunc_class()
    raise AttributeError(name)


def save_recommender(artifact: Any, factors_dir: Path, out: Path,
                     example_users: list[str]) -> Path:
    """Save `artifact` (a RecommenderArtifact) as an MLflow pyfunc Model at `out`."""
    pd = require("pandas", "mlflow")
    mlflow_pyfunc = require("mlflow.pyfunc", "mlflow")
    from mlflow.models import infer_signature

    artifact.save(factors_dir)
    example = pd.DataFrame({"user_id": example_users[:2] or ["1"], "k": [5] * min(
        2, max(len(example_users), 1)), "exclude": [[] for _ in example_users[:2] or ["1"]]})
    cls = recommender_pyfunc_class()
    probe = cls()
    probe.artifact = artifact
    with quiet_mlflow():
        signature = infer_signature(example, probe.predict(None, example))
        # A fresh instance: the factors travel as an artifact file, not inside the pickle.
        mlflow_pyfunc.save_model(str(out), python_model=cls(),
                                 artifacts={FACTORS_KEY: str(factors_dir)},
                                 signature=signature, input_example=example,
                                 pip_requirements=PIP_REQUIREMENTS)
    return out


@contextmanager
def quiet_mlflow() -> Iterator[None]:
    """MLflow warns about pickles and integer columns on every save; the docs cover both."""
    import logging
    import warnings

    logger = logging.getLogger("mlflow")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        logger.setLevel(level)


def is_mlflow_model(directory: Path) -> bool:
    return (Path(directory) / MLMODEL).is_file()


def load_pyfunc(directory: Path) -> Any:
    mlflow_pyfunc = require("mlflow.pyfunc", "mlflow")
    if not is_mlflow_model(directory):
        raise InputError(f"{directory} is not an MLflow Model (no {MLMODEL} file)",
                         "save it with mlflow.<flavor>.save_model or mlflow.pyfunc.save_model")
    with quiet_mlflow():
        return mlflow_pyfunc.load_model(str(directory))


def input_example(directory: Path) -> Any:
    """The model's saved input example as a DataFrame (None when it has none)."""
    from mlflow.models import Model

    info = Model.load(str(directory))
    if not info.saved_input_example_info:
        return None
    ex = info.load_input_example(str(directory))
    pd = require("pandas", "mlflow")
    return ex if isinstance(ex, pd.DataFrame) else pd.DataFrame(ex)


def raw_records(output: Any) -> list[Any]:
    """pyfunc outputs as one Python value per row, NaN kept (JSON would turn it into null)."""
    if hasattr(output, "to_dict") and hasattr(output, "columns"):
        return list(output.to_dict(orient="records"))
    if hasattr(output, "tolist"):
        return list(output.tolist())
    return list(output)


def all_finite(value: Any) -> bool:
    return _finite(value)


def _finite(value: Any) -> bool:
    if isinstance(value, dict):
        return all(_finite(v) for v in value.values())
    if isinstance(value, list | tuple | np.ndarray):
        return all(_finite(v) for v in value)
    if isinstance(value, float | np.floating):
        return math.isfinite(float(value))
    return True


def outputs_as_records(output: Any) -> list[Any]:
    """pyfunc outputs (DataFrame, Series, ndarray, list) as one JSON-able value per row."""
    if hasattr(output, "to_dict") and hasattr(output, "columns"):
        return json.loads(output.to_json(orient="records"))
    if hasattr(output, "tolist"):
        return list(output.tolist())
    return list(output)


def validate_model(directory: Path) -> Any:
    """Load the model and prove it can serve: a signature, an input example, and a smoke
    prediction on that example whose every number is finite. Returns the loaded pyfunc.
    InputError naming the failed check otherwise (nothing is swapped or registered)."""
    model = load_pyfunc(directory)
    if model.metadata.signature is None:
        raise InputError(f"the model in {directory} has no signature",
                         "log it with signature=infer_signature(inputs, outputs)")
    example = input_example(directory)
    if example is None:
        raise InputError(f"the model in {directory} has no input example",
                         "log it with input_example=...")
    try:
        with quiet_mlflow():
            output = model.predict(example)
    except Exception as exc:
        raise InputError(f"the model's smoke prediction failed: {type(exc).__name__}: "
                         f"{str(exc)[:200]}") from exc
    records = raw_records(output)
    if len(records) != len(example):
        raise InputError(f"the smoke prediction returned {len(records)} rows for "
                         f"{len(example)} inputs")
    if not _finite(records):
        raise InputError("the smoke prediction returned NaN or infinite values",
                         "check the model's weights (a training run that diverged?)")
    return model
