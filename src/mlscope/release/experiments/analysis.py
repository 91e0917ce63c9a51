"""Analysis of an A/B(/n) test from a table of units: SRM, per-variant means, lifts."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from mlscope.errors import InputError
from mlscope.release.experiments import stats
from mlscope.release.experiments.table import numeric, read_columns


@dataclass(frozen=True)
class Guardrail:
    """A metric the challenger must not make worse (higher is worse unless `higher_is_better`)."""

    column: str
    higher_is_better: bool = False


@dataclass(frozen=True)
class Settings:
    metric: str
    variant_col: str = "variant"
    control: str | None = None
    weights: dict[str, float] | None = None
    sequential: bool = False
    tuning: float | None = None  # planned total units; default: the units seen
    alpha: float = 0.05
    covariate: str | None = None
    guardrails: tuple[Guardrail, ...] = ()


@dataclass
class Comparison:
    variant: str
    lift: stats.Lift
    guardrails: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Analysis:
    settings: Settings
    control: str
    variants: list[stats.Summary]
    weights: dict[str, float]
    srm: stats.SrmResult
    comparisons: list[Comparison]
    method: str

    def as_dict(self, decision: dict[str, Any] | None = None) -> dict[str, Any]:
        def lift_dict(lift: stats.Lift) -> dict[str, float]:
            return {"estimate": lift.estimate, "ci_low": lift.ci_low, "ci_high": lift.ci_high}
        out: dict[str, Any] = {
            "metric": self.settings.metric,
            "control": self.control,
            "method": self.method,
            "alpha": self.settings.alpha,
            "srm": {"p_value": self.srm.p_value, "mismatch": self.srm.mismatch,
                    "statistic": self.srm.statistic, "weights": self.weights,
                    "threshold": stats.SRM_ALPHA},
            "variants": [{"name": v.name, "n": v.n, "mean": v.mean} for v in self.variants],
            "comparisons": [{"variant": c.variant, "lift": lift_dict(c.lift),
                             "p_value": c.lift.p_value, "chance_to_win": c.lift.chance_to_win,
                             "guardrails": c.guardrails} for c in self.comparisons],
        }
        if decision is not None:
            out["decision"] = decision["decision"]
            out["reasons"] = decision["reasons"]
        return out


def parse_weights(text: str) -> dict[str, float]:
    """`A=0.5,B=0.5` → {'A': 0.5, 'B': 0.5}; they must be positive, finite and sum to 1."""
    out: dict[str, float] = {}
    for part in text.split(","):
        name, sep, value = part.partition("=")
        try:
            w = float(value)
        except ValueError:
            w = math.nan
        if not sep or not name.strip() or not math.isfinite(w) or w <= 0:
            raise InputError(f"bad weight '{part}'", "write weights as A=0.5,B=0.5")
        out[name.strip()] = w
    if abs(sum(out.values()) - 1) > 1e-6:
        raise InputError(f"weights sum to {sum(out.values()):g}, not 1",
                         "give weights that add up to 1, e.g. A=0.5,B=0.5")
    return out


def _default_control(names: list[str]) -> str:
    """A variant named control, champion or A (any case); else the first in sorted order."""
    lowered = {n.lower(): n for n in names}
    for conventional in ("control", "champion", "a"):
        if conventional in lowered:
            return lowered[conventional]
    return sorted(names)[0]


def analyze(path: str | Path, settings: Settings) -> Analysis:
    if not (0 < settings.alpha < 1) or not math.isfinite(settings.alpha):
        raise InputError(f"alpha must be between 0 and 1, got {settings.alpha}")
    cols = [settings.variant_col, settings.metric]
    cols += [settings.covariate] if settings.covariate else []
    cols += [g.column for g in settings.guardrails]
    data = read_columns(path, list(dict.fromkeys(cols)))
    labels = np.asarray([str(v) if v is not None else "" for v in data[settings.variant_col]])
    if (labels == "").any():
        raise InputError(f"column '{settings.variant_col}' has empty variant names",
                         "every unit needs the variant it was assigned to")
    y = numeric(data[settings.metric], settings.metric)
    if settings.covariate:
        y = stats.cuped(y, numeric(data[settings.covariate], settings.covariate))
    names = list(dict.fromkeys(labels.tolist()))
    if len(names) < 2:
        raise InputError(f"only one variant ('{names[0]}') in '{settings.variant_col}'",
                         "an experiment needs a control and at least one challenger")
    control = settings.control or _default_control(names)
    if control not in names:
        raise InputError(f"control '{control}' is not a variant",
                         f"variants are: {', '.join(names)}")
    order = [control] + [n for n in names if n != control]
    weights = settings.weights or {n: 1 / len(order) for n in order}
    if set(weights) != set(order):
        raise InputError(f"weights name {sorted(weights)} but the data has {sorted(order)}",
                         "give one weight for each variant in the data")
    summaries = [stats.summarize(n, y[labels == n]) for n in order]
    for s in summaries:
        if s.n < 2:
            raise InputError(f"variant '{s.name}' has {s.n} unit", "each variant needs 2 or more")
    if summaries[0].mean == 0:
        raise InputError(f"the control's mean {settings.metric} is 0, so a relative lift is "
                         "undefined", "check the metric column, or wait for conversions")
    srm = stats.sample_ratio_mismatch([s.n for s in summaries], [weights[n] for n in order])
    tuning = settings.tuning or float(len(y))
    comparisons = []
    for s in summaries[1:]:
        lift = (stats.sequential_lift(summaries[0], s, tuning, settings.alpha)
                if settings.sequential else stats.relative_lift(summaries[0], s, settings.alpha))
        guards = []
        for g in settings.guardrails:
            gv = numeric(data[g.column], g.column)
            gc, gt = (stats.summarize(control, gv[labels == control]),
                      stats.summarize(s.name, gv[labels == s.name]))
            if gc.mean == 0:
                worse = gt.mean > 0 if not g.higher_is_better else False
                guards.append({"metric": g.column, "control": gc.mean, "challenger": gt.mean,
                               "worse": bool(worse), "p_value": None})
                continue
            gl = stats.relative_lift(gc, gt, settings.alpha)
            # One-sided: worse when the interval lies wholly on the bad side.
            worse = gl.ci_high < 0 if g.higher_is_better else gl.ci_low > 0
            guards.append({"metric": g.column, "control": gc.mean, "challenger": gt.mean,
                           "lift": gl.estimate, "p_value": gl.p_value, "worse": bool(worse)})
        comparisons.append(Comparison(s.name, lift, guards))
    method = (f"sequential (asymptotic confidence sequence, tuning {tuning:g})"
              if settings.sequential else "fixed-horizon Welch t on the relative lift")
    return Analysis(settings, control, summaries, weights, srm, comparisons, method)
