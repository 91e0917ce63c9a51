"""Ranking metrics per request, and the held-out request set they are computed on.

A request is one user with the items they went on to like (`relevant`) and the items already
known to the model (`exclude`). Per-request values (not just means) are kept so that two
versions can be compared with a paired bootstrap rather than a raw difference of means.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np

from mlscope.errors import InputError

METRICS = ("precision_at_10", "ndcg_at_10")
MAX_REQUEST_BYTES = 10_000_000


class Ranker(Protocol):
    def recommend(self, user_id: str, k: int = 10,
                  exclude: set[str] | None = None) -> list[tuple[str, float]]: ...


@dataclass(frozen=True)
class EvalRequest:
    user_id: str
    relevant: list[str]
    exclude: list[str] = field(default_factory=list)


def precision_at_k(ranked: list[str], relevant: set[str], k: int) -> float:
    return sum(1 for item in ranked[:k] if item in relevant) / k


def ndcg_at_k(ranked: list[str], relevant: set[str], k: int) -> float:
    dcg = sum(1.0 / math.log2(pos + 2) for pos, item in enumerate(ranked[:k]) if item in relevant)
    ideal = sum(1.0 / math.log2(pos + 2) for pos in range(min(len(relevant), k)))
    return dcg / ideal if ideal else 0.0


@dataclass
class Evaluation:
    values: dict[str, list[float]]  # metric -> one value per request, in request order

    def mean(self, metric: str) -> float:
        vals = self.values[metric]
        return float(np.mean(vals)) if vals else 0.0


def evaluate(model: Ranker, requests: list[EvalRequest], k: int = 10) -> Evaluation:
    """Per-request precision@k and nDCG@k; a user the model does not know scores 0."""
    values: dict[str, list[float]] = {name: [] for name in METRICS}
    for req in requests:
        try:
            ranked = [item for item, _ in model.recommend(req.user_id, k, set(req.exclude))]
        except KeyError:
            ranked = []
        relevant = set(req.relevant)
        values["precision_at_10"].append(precision_at_k(ranked, relevant, k))
        values["ndcg_at_10"].append(ndcg_at_k(ranked, relevant, k))
    return Evaluation(values)


def write_requests(requests: list[EvalRequest], path: Path) -> Path:
    with open(path, "w", encoding="utf-8") as fh:
        for req in requests:
            fh.write(json.dumps(asdict(req), separators=(",", ":")) + "\n")
    return path


def read_requests(path: Path) -> list[EvalRequest]:
    """Load a request set (JSON lines of user_id, relevant, exclude), validating every line."""
    if not path.is_file():
        raise InputError(f"request set {path} does not exist",
                         "train with `mlscope release train` (it writes one) or pass --requests")
    if path.stat().st_size > MAX_REQUEST_BYTES:
        raise InputError(f"request set {path} is larger than {MAX_REQUEST_BYTES} bytes")
    out: list[EvalRequest] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
            req = EvalRequest(str(raw["user_id"]), [str(x) for x in raw.get("relevant", [])],
                              [str(x) for x in raw.get("exclude", [])])
        except (ValueError, KeyError, TypeError) as exc:
            raise InputError(f"{path}:{number}: not a request (need user_id, relevant, exclude)",
                             "each line is a JSON object such as "
                             '{"user_id": "1", "relevant": ["50"], "exclude": []}') from exc
        out.append(req)
    if not out:
        raise InputError(f"request set {path} is empty")
    return out
