"""Model performance on live traffic once the labels arrive (delayed labels).

Predictions are logged when served; outcomes come later (a purchase days after a
recommendation, a default months after a credit decision). Joining the two on the request or
unit key gives the live metric and the share of predictions that have a label yet (coverage):
a metric over 2 % of the traffic is not yet the model's performance, and says so.
Classification: accuracy of the predicted label, and ROC AUC of a score via the Mann-Whitney U
statistic (AUC = U / (n_pos n_neg), scipy); regression: RMSE and MAE.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats

from mlscope.errors import InputError
from mlscope.release.experiments.table import numeric, read_columns


def _join(pred: dict[str, list[object]], labels: dict[str, list[object]], key: str,
          pcol: str, lcol: str) -> tuple[np.ndarray, np.ndarray, int]:
    by_key = {str(k): v for k, v in zip(labels[key], labels[lcol], strict=True)}
    p, y = [], []
    for k, v in zip(pred[key], pred[pcol], strict=True):
        if str(k) in by_key:
            p.append(v)
            y.append(by_key[str(k)])
    return (numeric(p, pcol) if p else np.empty(0), numeric(y, lcol) if y else np.empty(0),
            len(pred[key]))


def auc(scores: np.ndarray, labels: np.ndarray) -> float | None:
    pos, neg = scores[labels == 1], scores[labels == 0]
    if len(pos) == 0 or len(neg) == 0:
        return None
    u = stats.mannwhitneyu(pos, neg, alternative="two-sided").statistic
    return float(u / (len(pos) * len(neg)))


def performance(predictions: str | Path, labels: str | Path, key: str, prediction: str,
                label: str, task: str) -> dict[str, Any]:
    if task not in {"classification", "regression"}:
        raise InputError(f"unknown task '{task}'", "use classification or regression")
    pred = read_columns(predictions, [key, prediction])
    lab = read_columns(labels, [key, label])
    p, y, served = _join(pred, lab, key, prediction, label)
    out: dict[str, Any] = {"task": task, "served": served, "labelled": len(y),
                           "coverage": len(y) / served if served else 0.0}
    if len(y) == 0:
        raise InputError(f"no prediction in {Path(predictions).name} has a label yet",
                         f"check that both files share the key column '{key}'")
    if task == "classification":
        if not set(np.unique(y)) <= {0.0, 1.0}:
            raise InputError(f"labels in '{label}' are not 0/1",
                             "use --task regression for numeric outcomes")
        is_score = not set(np.unique(p)) <= {0.0, 1.0}
        out["accuracy"] = float(np.mean((p >= 0.5) == (y == 1)))
        out["auc"] = auc(p, y) if is_score else None
    else:
        err = p - y
        out["rmse"] = float(math.sqrt(np.mean(err**2)))
        out["mae"] = float(np.mean(np.abs(err)))
    out["note"] = ("few labels yet: the live metric is not settled"
                   if out["coverage"] < 0.05 else "")
    return out
