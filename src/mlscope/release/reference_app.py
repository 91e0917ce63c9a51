"""The reference application: an ALS recommender on MovieLens-100k, trained and evaluated.

MovieLens may not be redistributed, so the ratings are read from the installed recbole wheel
(`pip install --no-deps recbole`), never copied. The split is temporal per user (each user's
latest ratings are held out), so every version trained on the same data sees the same
held-out requests and versions can be compared request by request.

Metrics: RMSE of ratings predicted from ALS scores (a linear map fitted on the training ratings,
because implicit ALS scores preferences, not stars), precision@10 and nDCG@10 on held-out
interactions rated 4 or more, with the user's training items excluded from the ranking.
"""

from __future__ import annotations

import hashlib
import importlib.util
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from mlscope.errors import EngineMissingError, InputError
from mlscope.release.artifact import RecommenderArtifact
from mlscope.release.evaluation import EvalRequest, EvalSet, evaluate, write_ranking_set

RATINGS_FILE = "ml-100k.inter"
FACTORS_DIR = "factors"  # the RecommenderArtifact, kept beside the MLflow Model it feeds
RECBOLE_FIX = "pip install --no-deps recbole (its wheel ships MovieLens-100k)"


def movielens_dir() -> Path:
    """MovieLens-100k inside the installed recbole package (located without importing it)."""
    spec = importlib.util.find_spec("recbole")
    if spec is None or not spec.submodule_search_locations:
        raise EngineMissingError("MovieLens-100k comes from the recbole wheel, which is not "
                                 "installed", RECBOLE_FIX)
    for root in spec.submodule_search_locations:
        candidate = Path(root) / "dataset_example" / "ml-100k"
        if (candidate / RATINGS_FILE).exists():
            return candidate
    raise EngineMissingError("recbole is installed but carries no dataset_example/ml-100k",
                             RECBOLE_FIX)


@dataclass
class Ratings:
    users: npt.NDArray[np.int64]
    items: npt.NDArray[np.int64]
    ratings: npt.NDArray[np.float32]
    timestamps: npt.NDArray[np.int64]
    data_version: dict[str, Any]


def data_version(path: Path, rows: int) -> dict[str, Any]:
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return {"name": "movielens-100k", "source": f"recbole:{path.name}", "sha256": digest,
            "bytes": path.stat().st_size, "rows": rows}


def load_ratings(path: Path | None = None) -> Ratings:
    file = path or movielens_dir() / RATINGS_FILE
    try:
        table = np.loadtxt(file, skiprows=1, dtype=np.float64, ndmin=2)
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read ratings from {file}: {exc}",
                         "expect tab-separated user, item, rating, timestamp columns") from exc
    if table.shape[1] < 4 or table.shape[0] == 0:
        raise InputError(f"{file} has no user/item/rating/timestamp rows")
    return Ratings(table[:, 0].astype(np.int64), table[:, 1].astype(np.int64),
                   table[:, 2].astype(np.float32), table[:, 3].astype(np.int64),
                   data_version(file, int(table.shape[0])))


@dataclass
class TrainConfig:
    factors: int = 32
    iterations: int = 10
    regularization: float = 0.05
    alpha: float = 1.0  # confidence = 1 + alpha * rating
    holdout_fraction: float = 0.1
    positive_rating: float = 4.0
    seed: int = 0

    def validate(self) -> TrainConfig:
        if not 1 <= self.factors <= 1024:
            raise InputError(f"factors must be 1..1024, got {self.factors}")
        if not 1 <= self.iterations <= 200:
            raise InputError(f"iterations must be 1..200, got {self.iterations}")
        if self.regularization < 0 or self.alpha <= 0:
            raise InputError("regularization must be >= 0 and alpha > 0")
        if not 0 < self.holdout_fraction < 1:
            raise InputError(f"holdout_fraction must be in (0, 1), got {self.holdout_fraction}")
        return self


def temporal_split(r: Ratings, fraction: float) -> npt.NDArray[np.bool_]:
    """True for held-out rows: each user's latest `fraction` of ratings (at least one)."""
    order = np.lexsort((r.timestamps, r.users))
    held = np.zeros(len(r.users), dtype=bool)
    users_sorted = r.users[order]
    starts = np.flatnonzero(np.r_[True, users_sorted[1:] != users_sorted[:-1]])
    ends = np.r_[starts[1:], len(order)]
    for start, end in zip(starts, ends, strict=True):
        n = end - start
        take = max(1, round(n * fraction)) if n >= 5 else 0
        held[order[end - take:end]] = True
    return held


@dataclass
class TrainResult:
    artifact: RecommenderArtifact
    requests: list[EvalRequest]
    params: dict[str, Any]
    metrics: dict[str, float]
    data_version: dict[str, Any]
    per_user: dict[str, list[float]] = field(default_factory=dict)
    seconds: float = 0.0


def _fit_als(matrix: Any, cfg: TrainConfig) -> tuple[npt.NDArray[np.float32],
                                                      npt.NDArray[np.float32]]:
    try:
        from implicit.cpu.als import AlternatingLeastSquares
        from threadpoolctl import threadpool_limits
    except ImportError as exc:
        raise EngineMissingError("the reference app needs the `implicit` library",
                                 "pip install 'mlscope[recommender]'") from exc
    # implicit asks for single-threaded BLAS: its own loop parallelises.
    with threadpool_limits(1, "blas"):
        model = AlternatingLeastSquares(factors=cfg.factors, iterations=cfg.iterations,
                                        regularization=cfg.regularization, alpha=1.0,
                                        random_state=cfg.seed, num_threads=1)
        model.fit(matrix, show_progress=False)
    return (np.asarray(model.user_factors, dtype=np.float32),
            np.asarray(model.item_factors, dtype=np.float32))


def _biases(index: npt.NDArray[np.int64], residual: npt.NDArray[np.float64], size: int,
            damping: float = 10.0) -> npt.NDArray[np.float64]:
    sums = np.bincount(index, weights=residual, minlength=size)
    counts = np.bincount(index, minlength=size)
    return np.asarray(sums / (counts + damping), dtype=np.float64)


def _rating_rmse(users: npt.NDArray[np.int64], items: npt.NDArray[np.int64],
                 ratings: npt.NDArray[np.float32], held: npt.NDArray[np.bool_],
                 uf: npt.NDArray[np.float32], itf: npt.NDArray[np.float32]) -> dict[str, float]:
    """RMSE of held-out ratings predicted as baseline + w * ALS score.

    Implicit ALS scores preference, not stars, so the rating model is a damped baseline (global
    mean, user and item biases) plus a least-squares weight on the ALS score, all fitted on the
    training ratings only. `rmse_baseline` (the same without the ALS term) is reported beside it
    so the ALS contribution is visible.
    """
    train = ~held
    y = ratings.astype(np.float64)
    mean = float(y[train].mean())
    item_bias = _biases(items[train], y[train] - mean, len(itf))
    user_bias = _biases(users[train], y[train] - mean - item_bias[items[train]], len(uf))
    baseline = mean + user_bias[users] + item_bias[items]
    scores = np.einsum("ij,ij->i", uf[users], itf[items]).astype(np.float64)
    design = np.column_stack([np.ones(int(train.sum())), scores[train]])
    coef, *_ = np.linalg.lstsq(design, y[train] - baseline[train], rcond=None)
    predicted = np.clip(baseline[held] + coef[0] + coef[1] * scores[held], 1.0, 5.0)
    rmse = float(np.sqrt(np.mean((predicted - y[held]) ** 2)))
    base = float(np.sqrt(np.mean((np.clip(baseline[held], 1.0, 5.0) - y[held]) ** 2)))
    return {"rmse": rmse, "rmse_baseline": base}


def train(cfg: TrainConfig | None = None, ratings: Ratings | None = None) -> TrainResult:
    """Train ALS on the training split and evaluate on the held-out split."""
    import scipy.sparse as sp

    cfg = (cfg or TrainConfig()).validate()
    started = time.perf_counter()
    r = ratings or load_ratings()
    user_ids, u = np.unique(r.users, return_inverse=True)
    item_ids, i = np.unique(r.items, return_inverse=True)
    held = temporal_split(r, cfg.holdout_fraction)
    train_rows = ~held
    confidence = 1.0 + cfg.alpha * r.ratings[train_rows]
    matrix = sp.csr_matrix((confidence, (u[train_rows], i[train_rows])),
                           shape=(len(user_ids), len(item_ids)))
    uf, itf = _fit_als(matrix, cfg)

    counts = np.bincount(i[train_rows], minlength=len(item_ids))
    popular = [str(item_ids[j]) for j in np.argsort(-counts, kind="stable")]
    params = {**asdict(cfg), "model": "implicit.als", "data_sha256": r.data_version["sha256"]}
    artifact = RecommenderArtifact([str(x) for x in user_ids], [str(x) for x in item_ids],
                                   uf, itf, popular, meta={})
    requests = _holdout_requests(r, u, i, user_ids, item_ids, held, cfg.positive_rating)
    evaluation = _evaluate_artifact(artifact, requests)
    metrics = {**_rating_rmse(u, i, r.ratings, held, uf, itf),
               "precision_at_10": evaluation.mean("precision_at_10"),
               "ndcg_at_10": evaluation.mean("ndcg_at_10"),
               "eval_users": float(len(requests))}
    artifact.meta = {"params": params, "metrics": metrics, "data_version": r.data_version,
                     "trained_at": time.time()}
    return TrainResult(artifact, requests, params, metrics, r.data_version,
                       per_user=evaluation.values, seconds=time.perf_counter() - started)


def _holdout_requests(r: Ratings, u: npt.NDArray[np.int64], i: npt.NDArray[np.int64],
                      user_ids: npt.NDArray[np.int64], item_ids: npt.NDArray[np.int64],
                      held: npt.NDArray[np.bool_], positive: float) -> list[EvalRequest]:
    seen: dict[int, list[str]] = {}
    relevant: dict[int, list[str]] = {}
    for row in np.flatnonzero(~held):
        seen.setdefault(int(u[row]), []).append(str(item_ids[i[row]]))
    for row in np.flatnonzero(held & (r.ratings >= positive)):
        relevant.setdefault(int(u[row]), []).append(str(item_ids[i[row]]))
    return [EvalRequest(str(user_ids[k]), sorted(v), sorted(seen.get(k, [])))
            for k, v in sorted(relevant.items())]


class DirectModel:
    """The pyfunc wrapper's predict(frame), without saving and loading an MLflow Model."""

    def __init__(self, artifact: RecommenderArtifact) -> None:
        from mlscope.release.pyfunc import RecommenderModel

        self.model = RecommenderModel()
        self.model.artifact = artifact

    def predict(self, frame: Any) -> Any:
        return self.model.predict(None, frame)


def ranking_set(requests: list[EvalRequest]) -> EvalSet:
    return EvalSet("ranking", [{"user_id": q.user_id, "relevant": q.relevant,
                                "exclude": q.exclude} for q in requests])


def _evaluate_artifact(artifact: RecommenderArtifact, requests: list[EvalRequest]) -> Any:
    """The same metrics the gates compute, through the same pyfunc wrapper."""
    return evaluate(DirectModel(artifact), ranking_set(requests))


def write_evaluation_set(path: Path, cfg: TrainConfig | None = None) -> Path:
    """The held-out requests of the fixed temporal split: the policy's evaluation set.

    Generated from the installed recbole wheel (MovieLens may not be redistributed); the spec
    pins its sha256, so every machine must produce the same file.
    """
    cfg = (cfg or TrainConfig()).validate()
    r = load_ratings()
    user_ids, u = np.unique(r.users, return_inverse=True)
    item_ids, i = np.unique(r.items, return_inverse=True)
    held = temporal_split(r, cfg.holdout_fraction)
    return write_ranking_set(_holdout_requests(r, u, i, user_ids, item_ids, held,
                                               cfg.positive_rating), path)


def save_version(result: TrainResult, directory: Path) -> Path:
    """The version as an MLflow pyfunc Model (signature and input example included)."""
    from mlscope.release.pyfunc import save_recommender

    directory.mkdir(parents=True, exist_ok=True)
    users = [q.user_id for q in result.requests[:2]]
    return save_recommender(result.artifact, directory / FACTORS_DIR, directory / "model",
                            users)


def train_and_log(cfg: TrainConfig, workdir: Path, tracking_uri: str | None = None,
                  run_name: str | None = None) -> tuple[str, TrainResult]:
    """Train, save the MLflow Model and log params, metrics and data version to MLflow."""
    from mlscope.release.registry import Registry

    result = train(cfg)
    out = save_version(result, workdir)
    registry = Registry(tracking_uri)
    dv = result.data_version
    params = {**result.params, "data_bytes": dv["bytes"], "data_rows": dv["rows"],
              "data_source": dv["source"]}
    tags = {"mlscope.app": "reference-recommender", "mlscope.data_sha256": dv["sha256"]}
    run_id = registry.log_run(out, params=params, metrics=result.metrics, tags=tags,
                              run_name=run_name)
    registry.log_dataset(run_id, dv)
    return run_id, result
