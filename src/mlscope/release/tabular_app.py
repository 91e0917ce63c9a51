"""The tabular example: a classifier on scikit-learn's bundled breast-cancer data set
(569 rows, 30 features, shipped inside the scikit-learn wheel: nothing is downloaded).

The split is fixed (stratified, seed 0), so the held-out rows are the same for every version and
can be the policy's pinned evaluation set. The model is an sklearn Pipeline saved as an MLflow
Model (`sklearn` and `python_function` flavors) with a signature and an input example.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlscope.errors import InputError, require
from mlscope.release.evaluation import write_classification_set

DATASET = "sklearn.datasets.load_breast_cancer"
TEST_FRACTION = 0.3
SPLIT_SEED = 0
# Linear models only: skops (the safe, non-pickle format) refuses tree internals by default.
KINDS = ("logistic",)


@dataclass
class TabularConfig:
    kind: str = "logistic"
    c: float = 1.0  # inverse regularization: tiny values make a deliberately weak model
    max_depth: int = 3  # kept for the parameter record
    seed: int = 0

    def validate(self) -> TabularConfig:
        if self.kind not in KINDS:
            raise InputError(f"unknown classifier kind {self.kind!r}", f"use {', '.join(KINDS)}")
        if not self.c > 0 or not 1 <= self.max_depth <= 64:
            raise InputError("c must be > 0 and max_depth 1..64")
        return self


def _data() -> tuple[Any, Any, Any, Any]:
    datasets = require("sklearn.datasets", "calibrate")
    from sklearn.model_selection import train_test_split

    x, y = datasets.load_breast_cancer(return_X_y=True, as_frame=True)
    return train_test_split(x, y, test_size=TEST_FRACTION, random_state=SPLIT_SEED, stratify=y)


def data_version() -> dict[str, Any]:
    x_train, x_test, _, _ = _data()
    digest = hashlib.sha256(x_train.to_csv().encode() + x_test.to_csv().encode()).hexdigest()
    return {"name": "breast-cancer (scikit-learn)", "source": DATASET, "sha256": digest,
            "rows": int(len(x_train) + len(x_test))}


def write_evaluation_set(path: Path) -> Path:
    """The held-out split as a classification evaluation set (commit it, pin its sha256)."""
    _, x_test, _, y_test = _data()
    return write_classification_set(x_test.to_dict(orient="records"),
                                    [int(v) for v in y_test], path)


def _estimator(cfg: TabularConfig) -> Any:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), LogisticRegression(C=cfg.c, max_iter=1000,
                                                              random_state=cfg.seed))


def train(cfg: TabularConfig, out: Path) -> tuple[Path, dict[str, float], dict[str, Any]]:
    """Fit, evaluate on the held-out split, save an MLflow Model at `out`."""
    from mlflow.models import infer_signature
    from sklearn.metrics import accuracy_score, roc_auc_score

    from mlscope.release.pyfunc import quiet_mlflow

    mlflow_sklearn = require("mlflow.sklearn", "mlflow")
    cfg = cfg.validate()
    x_train, x_test, y_train, y_test = _data()
    started = time.perf_counter()
    model = _estimator(cfg).fit(x_train, y_train)
    proba = model.predict_proba(x_test)[:, 1]
    metrics = {"accuracy": float(accuracy_score(y_test, model.predict(x_test))),
               "roc_auc": float(roc_auc_score(y_test, proba)),
               "train_seconds": time.perf_counter() - started}
    signature = infer_signature(x_train.head(20), model.predict(x_train.head(20)))
    with quiet_mlflow():
        mlflow_sklearn.save_model(model, str(out), signature=signature,
                                  input_example=x_train.head(3),
                                  pip_requirements=["mlflow-skinny", "scikit-learn", "pandas",
                                                    "skops"])
    params = {"kind": cfg.kind, "c": cfg.c, "max_depth": cfg.max_depth, "seed": cfg.seed,
              "dataset": DATASET}
    return out, metrics, params


def train_and_log(cfg: TabularConfig, out: Path, tracking_uri: str | None = None
                  ) -> tuple[str, dict[str, float], dict[str, Any]]:
    from mlscope.release.registry import Registry

    model_dir, metrics, params = train(cfg, out)
    registry = Registry(tracking_uri)
    run_id = registry.log_run(model_dir, params=params, metrics=metrics,
                              tags={"mlscope.app": "tabular-classifier"},
                              run_name=f"tabular-{cfg.kind}")
    registry.log_dataset(run_id, data_version())
    return run_id, metrics, params
