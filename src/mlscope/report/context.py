"""What every report section reads: the spec, the report's date, and each engine's result once.

Engines are called directly (real types, mypy-checked); each result is computed on first use and
shared, so the decision summary, the cost section and the risk section agree on one set of draws.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from mlscope.architecture.build import build_architecture, check_spec_graph
from mlscope.architecture.graph import ArchitectureGraph
from mlscope.architecture.overrides import Locator
from mlscope.architecture.readiness import Finding
from mlscope.report.plan import Timeline, timeline_for
from mlscope.spec.models import ProjectSpec

HORIZON_MONTHS = 12  # the budget horizon the report looks at
SEED = 0  # Monte Carlo draws repeat from run to run
# Used when the spec gives no `plan.loaded_cost_usd_per_fte_year`; stated wherever it is used.
DEFAULT_LOADED_COST_PER_FTE_YEAR = 150_000.0


@dataclass
class ReportContext:
    spec: ProjectSpec
    as_of: dt.date
    locate: Locator | None = None
    loaded_rate: float | None = None  # USD per FTE-year from the command line (beats the spec)
    _cache: dict[str, Any] = field(default_factory=dict)

    def _once(self, key: str, compute: Any) -> Any:
        if key not in self._cache:
            self._cache[key] = compute()
        return self._cache[key]

    @property
    def start_month(self) -> tuple[int, int]:
        """The first month priced: the plan's start when it has one, else the report's month."""
        first = self.spec.plan.start or self.as_of
        return first.year, first.month

    def graph(self) -> ArchitectureGraph:
        graph: ArchitectureGraph = self._once(
            "graph", lambda: build_architecture(self.spec, self.locate))
        return graph

    def findings(self) -> list[Finding]:
        found: list[Finding] = self._once("findings", lambda: check_spec_graph(
            self.spec, self.graph(), self.locate, self.as_of))
        return found

    def timeline(self) -> Timeline:
        t: Timeline = self._once("timeline", lambda: timeline_for(self.spec))
        return t

    def costs(self) -> dict[str, Any]:
        from mlscope.costs.runrate import estimate_costs

        result: dict[str, Any] = self._once("costs", lambda: estimate_costs(
            self.spec, start=self.start_month, months=HORIZON_MONTHS, seed=SEED))
        return result

    def cost_draws(self) -> Any:
        """The cost engine's draws × months of the monthly total (the same seeded draws)."""
        from mlscope.costs.runrate import monthly_total_draws

        costs = self.costs()
        return self._once("draws", lambda: monthly_total_draws(
            self.spec, self.start_month, len(costs["months"]),
            int(costs["monte_carlo"]["draws"]), int(costs["monte_carlo"]["seed"])))

    def estimate(self) -> dict[str, Any]:
        from mlscope.estimate.api import estimate_spec

        result: dict[str, Any] = self._once("estimate", lambda: estimate_spec(self.spec))
        return result

    @property
    def rate(self) -> tuple[float, bool]:
        """USD per FTE-year and whether it is the default assumption."""
        given = self.loaded_rate or self.spec.plan.loaded_cost_usd_per_fte_year
        return (given, False) if given else (DEFAULT_LOADED_COST_PER_FTE_YEAR, True)

    def has_costs(self) -> bool:
        return any(e.resources for e in self.spec.environments)

    def has_training(self) -> bool:
        m, d = self.spec.model, self.spec.dataset
        return any(v is not None for v in m.model_dump(exclude_defaults=True).values()) or any(
            v is not None for v in d.model_dump(exclude_defaults=True).values())
