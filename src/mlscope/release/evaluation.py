"""The policy's evaluation set and per-row metrics computed through the pyfunc interface.

Two tasks. *ranking*: a line is one user with the items they went on to like (`relevant`) and
those already known (`exclude`); metrics precision@10 and nDCG@10. *classification*: a line is
`{"inputs": {feature: value, ...}, "label": y}`; metric accuracy (and log loss when the model
returns probabilities). Per-row values (not just means) are kept so that two versions can be
compared with a paired bootstrap on the same rows.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from mlscope.errors import InputError, require

MAX_SET_BYTES = 20_000_000
K = 10


@dataclass(frozen=True)
class EvalRequest:
    user_id: str
    relevant: list[str]
    exclude: list[str] = field(default_factory=list)


@dataclass
class EvalSet:
    task: str  # ranking | classification
    rows: list[dict[str, Any]]

    def __len__(self) -> int:
        return len(self.rows)

    def frame(self, rows: list[dict[str, Any]] | None = None) -> Any:
        """The pyfunc input for these rows (all by default)."""
        pd = require("pandas", "mlflow")
        chosen = self.rows if rows is None else rows
        if self.task == "ranking":
            return pd.DataFrame({"user_id": [r["user_id"] for r in chosen],
                                 "k": [K] * len(chosen),
                                 "exclude": [list(r.get("exclude", [])) for r in chosen]})
        return pd.DataFrame([r["inputs"] for r in chosen])


def precision_at_k(ranked: list[str], relevant: set[str], k: int) -> float:
    return sum(1 for item in ranked[:k] if item in relevant) / k


def ndcg_at_k(ranked: list[str], relevant: set[str], k: int) -> float:
    dcg = sum(1.0 / math.log2(pos + 2) for pos, item in enumerate(ranked[:k]) if item in relevant)
    ideal = sum(1.0 / math.log2(pos + 2) for pos in range(min(len(relevant), k)))
    return dcg / ideal if ideal else 0.0


@dataclass
class Evaluation:
    values: dict[str, list[float]]  # metric -> one value per row, in row order

    def mean(self, metric: str) -> float:
        vals = self.values[metric]
        return float(np.mean(vals)) if vals else 0.0


def _records(output: Any) -> list[Any]:
    from mlscope.release.pyfunc import outputs_as_records

    return outputs_as_records(output)


def evaluate(model: Any, evalset: EvalSet) -> Evaluation:
    """Per-row metrics of a pyfunc model (anything with `predict(DataFrame)`) on `evalset`."""
    out = _records(model.predict(evalset.frame()))
    if len(out) != len(evalset):
        raise InputError(f"the model returned {len(out)} rows for {len(evalset)} inputs")
    if evalset.task == "ranking":
        values: dict[str, list[float]] = {"precision_at_10": [], "ndcg_at_10": []}
        for row, pred in zip(evalset.rows, out, strict=True):
            ranked = [] if pred.get("fallback") else [str(x) for x in pred.get("items") or []]
            relevant = set(row["relevant"])
            values["precision_at_10"].append(precision_at_k(ranked, relevant, K))
            values["ndcg_at_10"].append(ndcg_at_k(ranked, relevant, K))
        return Evaluation(values)
    labels = [r["label"] for r in evalset.rows]
    predicted = [_label_of(p) for p in out]
    return Evaluation({"accuracy": [float(str(p) == str(y)) for p, y in
                                    zip(predicted, labels, strict=True)]})


def _label_of(pred: Any) -> Any:
    if isinstance(pred, dict):  # a DataFrame output: the first column is the prediction
        return next(iter(pred.values()))
    if isinstance(pred, list) and len(pred) == 1:
        return pred[0]
    return pred


def write_ranking_set(requests: list[EvalRequest], path: Path) -> Path:
    with open(path, "w", encoding="utf-8") as fh:
        for req in requests:
            fh.write(json.dumps(asdict(req), separators=(",", ":"), sort_keys=True) + "\n")
    return path


def write_classification_set(inputs: list[dict[str, Any]], labels: list[Any],
                             path: Path) -> Path:
    with open(path, "w", encoding="utf-8") as fh:
        for x, y in zip(inputs, labels, strict=True):
            fh.write(json.dumps({"inputs": x, "label": y}, separators=(",", ":"),
                                sort_keys=True) + "\n")
    return path


def read_set(path: Path, task: str) -> EvalSet:
    """Load an evaluation set, validating every line."""
    if not path.is_file():
        raise InputError(f"evaluation set {path} does not exist")
    if path.stat().st_size > MAX_SET_BYTES:
        raise InputError(f"evaluation set {path} is larger than {MAX_SET_BYTES} bytes")
    rows: list[dict[str, Any]] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        row: dict[str, Any]
        try:
            raw = json.loads(line)
            if task == "ranking":
                row = {"user_id": str(raw["user_id"]),
                       "relevant": [str(x) for x in raw.get("relevant", [])],
                       "exclude": [str(x) for x in raw.get("exclude", [])]}
            else:
                if not isinstance(raw["inputs"], dict):
                    raise TypeError("inputs")
                row = {"inputs": raw["inputs"], "label": raw["label"]}
        except (ValueError, KeyError, TypeError) as exc:
            shape = ('{"user_id": "1", "relevant": ["50"], "exclude": []}' if task == "ranking"
                     else '{"inputs": {"x1": 0.5}, "label": 1}')
            raise InputError(f"{path}:{number}: not a {task} row", f"each line is like {shape}"
                             ) from exc
        rows.append(row)
    if not rows:
        raise InputError(f"evaluation set {path} is empty")
    return EvalSet(task, rows)
