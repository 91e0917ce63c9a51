"""The recommender model artifact shared by training, the registry, serving and deploy.

A directory holding `model.npz` (factor matrices, id maps, the popularity baseline) and
`meta.json` (name, version, data version, metrics). numpy only, so serving loads it without
the training stack (implicit, scipy) installed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

MODEL_FILE = "model.npz"
META_FILE = "meta.json"


@dataclass
class RecommenderArtifact:
    user_ids: list[str]
    item_ids: list[str]
    user_factors: npt.NDArray[np.float32]  # users x factors
    item_factors: npt.NDArray[np.float32]  # items x factors
    popular_items: list[str]  # baseline ranking, most popular first (the fallback)
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.user_factors.shape[0] != len(self.user_ids):
            raise ValueError("user_factors rows must match user_ids")
        if self.item_factors.shape[0] != len(self.item_ids):
            raise ValueError("item_factors rows must match item_ids")
        if self.user_factors.shape[1] != self.item_factors.shape[1]:
            raise ValueError("user and item factors must have the same width")
        self._user_index = {u: i for i, u in enumerate(self.user_ids)}

    def knows_user(self, user_id: str) -> bool:
        return user_id in self._user_index

    def recommend(self, user_id: str, k: int = 10,
                  exclude: set[str] | None = None) -> list[tuple[str, float]]:
        """Top-k items by dot-product score; KeyError for an unknown user (caller falls back)."""
        row = self._user_index[user_id]
        scores = self.item_factors @ self.user_factors[row]
        order = np.argsort(-scores)
        out: list[tuple[str, float]] = []
        for j in order:
            item = self.item_ids[int(j)]
            if exclude and item in exclude:
                continue
            out.append((item, float(scores[j])))
            if len(out) == k:
                break
        return out

    def popular(self, k: int = 10, exclude: set[str] | None = None) -> list[str]:
        return [i for i in self.popular_items if not exclude or i not in exclude][:k]

    def save(self, directory: str | Path) -> Path:
        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(
            d / MODEL_FILE,
            user_ids=np.array(self.user_ids, dtype=str),
            item_ids=np.array(self.item_ids, dtype=str),
            user_factors=self.user_factors.astype(np.float32),
            item_factors=self.item_factors.astype(np.float32),
            popular_items=np.array(self.popular_items, dtype=str),
        )
        (d / META_FILE).write_text(json.dumps(self.meta, indent=2, sort_keys=True, default=str))
        return d

    @classmethod
    def load(cls, directory: str | Path) -> RecommenderArtifact:
        d = Path(directory)
        with np.load(d / MODEL_FILE, allow_pickle=False) as z:
            art = cls(
                user_ids=[str(x) for x in z["user_ids"]],
                item_ids=[str(x) for x in z["item_ids"]],
                user_factors=z["user_factors"], item_factors=z["item_factors"],
                popular_items=[str(x) for x in z["popular_items"]],
            )
        meta = d / META_FILE
        art.meta = json.loads(meta.read_text()) if meta.exists() else {}
        return art
