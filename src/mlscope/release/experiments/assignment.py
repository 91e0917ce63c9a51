"""Sticky assignment of units (users, sessions) to variants by a hash of the unit id.

The same unit always lands in the same variant for a given experiment (salted by its name, so
two experiments split independently), and the share of units per variant follows the weights.
SHA-256 rather than Python's hash(), which is salted per process.
"""

from __future__ import annotations

import hashlib
import math
from bisect import bisect_right
from dataclasses import dataclass
from itertools import accumulate

from mlscope.errors import InputError


@dataclass(frozen=True)
class Split:
    experiment: str
    variants: tuple[str, ...]
    weights: tuple[float, ...]

    def __post_init__(self) -> None:
        if len(self.variants) < 2 or len(set(self.variants)) != len(self.variants):
            raise InputError("a split needs two or more distinct variants")
        if len(self.weights) != len(self.variants):
            raise InputError("give one weight per variant")
        if not all(math.isfinite(w) and w >= 0 for w in self.weights) or sum(self.weights) <= 0:
            raise InputError(f"weights must be finite and non-negative, got {self.weights}")
        if abs(sum(self.weights) - 1) > 1e-6:
            raise InputError(f"weights sum to {sum(self.weights):g}, not 1",
                             "give weights that add up to 1")

    def bucket(self, unit_id: str) -> float:
        digest = hashlib.sha256(f"{self.experiment}\x00{unit_id}".encode()).digest()
        return int.from_bytes(digest[:8], "big") / 2**64

    def assign(self, unit_id: str) -> str:
        if not unit_id:
            raise InputError("a unit id is needed to assign a variant")
        edges = list(accumulate(self.weights))
        i = bisect_right(edges, self.bucket(unit_id) * edges[-1])
        return self.variants[min(i, len(self.variants) - 1)]
