"""Lognormal ranges: every uncertain factor is a median and a log-sigma; products combine them.

Keeping ranges analytic (rather than Monte Carlo) makes the config search over the whole catalog
cheap and the P10/P50/P90 of one estimate exactly reproducible.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

Z90 = 1.2815515655446004  # the standard normal's 90th percentile


@dataclass(frozen=True)
class Range:
    median: float
    sigma: float = 0.0  # standard deviation of the natural log

    def __mul__(self, other: Range | float) -> Range:
        if isinstance(other, Range):
            return Range(self.median * other.median, math.hypot(self.sigma, other.sigma))
        return Range(self.median * other, self.sigma)

    __rmul__ = __mul__

    def __truediv__(self, other: Range | float) -> Range:
        if isinstance(other, Range):
            return Range(self.median / other.median, math.hypot(self.sigma, other.sigma))
        return Range(self.median / other, self.sigma)

    def __rtruediv__(self, other: float) -> Range:
        return Range(other / self.median, self.sigma)

    @property
    def p10(self) -> float:
        return self.median * math.exp(-Z90 * self.sigma)

    @property
    def p90(self) -> float:
        return self.median * math.exp(Z90 * self.sigma)

    def to_dict(self) -> dict[str, float]:
        return {"p10": self.p10, "p50": self.median, "p90": self.p90}

    @classmethod
    def from_p10_p90(cls, p10: float, p90: float) -> Range:
        return cls(math.sqrt(p10 * p90), math.log(p90 / p10) / (2 * Z90))
