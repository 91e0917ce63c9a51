"""A time budget instead of a list of fractions: grow the size geometrically while it pays.

The plan, decided one run at a time from what has been measured so far:

1. a warm-up run at the vanishing size (unmeasured: fills disk and import caches);
2. the fixed-cost run at the vanishing size (start-up, imports, loading the whole data),
   repeated up to FIXED_REPEATS times while that costs at most FIXED_SHARE of the budget
   (its fastest run counts);
3. a first growing run at `start`;
4. then geometric steps: after each run the rest of the ladder is re-planned so that the
   largest run is as close to the target as the remaining budget affords, ending with a pair
   of sizes (X / 2.5 and X) whose growth is well above the noise;
5. what is left goes first to a second fixed-cost run where only one was made (the first run
   after other work is often slow, and an over-stated fixed cost steepens the exponent), then
   to repeats of the largest size that fits (then the fixed-cost run).

Each run is capped at the budget that remains (`timeout_for`), so the whole calibration never
spends more than the budget; a run stopped by that cap ends the ladder, and the fit takes it
as what it is, a lower bound on the cost at its size (`fit._censored_loglik`).
The cost of a next run is predicted pessimistically: the growth measured between the two
largest runs, with its exponent raised by `PLAN_EXPONENT_MARGIN`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from mlscope.errors import InputError

DEFAULT_BUDGET_S = 180.0
FIXED_FRACTION = 0.001
START_FRACTION = 0.01
STEP_RATIOS = (1.5, 10.0)  # smallest and largest growth between two successive sizes
FINAL_RATIO = 2.5  # the top size over the one below it
CLOSEST_PAIR = 1.2  # ... and never less than this
SIGNIFICANT_GROWTH = 0.1  # growth below this share of the fixed cost is timing noise
# The pair's lower size should show at least this share of the fixed cost as growth: at 3 %
# timing noise on both, a growth of half the fixed cost is measured to about 10 %.
PAIR_GROWTH = 0.5
PLAN_EXPONENT_MARGIN = 0.1
FIRST_STEP_EXPONENT = 2.2  # until two sizes show growth: pessimistic (overshoot wastes a run)
# Plan to use this share of what remains: run times scatter, and the cap wastes a killed run.
PLAN_SHARE = 0.9
MAX_REPEATS_PER_SIZE = 3
FIXED_REPEATS = 3  # fixed-cost runs up front, while together they cost at most FIXED_SHARE
FIXED_SHARE = 0.08
# How many of the job's start-ups (the fixed-cost run) a budget must buy for the ladder to
# reach sizes that pin the growth. Simulated (benchmarks/calibrate_simulated.py, exact power
# laws k = 0.8-2.6 at 3 % timing noise, 25 % of the job as budget, 2026-12-02): P50 within
# +-25 % for 3/24 laws at 5 start-ups, 12-15/24 at 8.3-8.5, 18/24 at 11.5, 20-22/24 at
# 14.1-14.5, 23/24 at 19-24. Below this the range is honest but wide; the warning says why.
ADVISED_STARTUPS = 15.0


def parse_budget(text: str) -> float:
    """'60s', '90', '5m', '2.5min', '1h' -> seconds (a bare number is seconds)."""
    m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+(?:e[+-]?[0-9]+)?)\s*(s|sec|m|min|h)?\s*",
                     text.lower())
    value = float(m.group(1)) if m else math.nan
    if not m or not (math.isfinite(value) and value > 0):
        raise InputError(f"budget '{text}' is not a positive duration",
                         "give seconds or a unit, e.g. --budget 60s, --budget 5m")
    return value * {"s": 1, "sec": 1, None: 1, "m": 60, "min": 60, "h": 3600}[m.group(2)]


@dataclass(frozen=True)
class Measured:
    """What the ladder needs to know of a finished run."""

    size: float  # x: share of the target (fraction, or iterations / target iterations)
    seconds: float
    fixed: bool = False  # the vanishing-size run
    warmup: bool = False
    over_budget: bool = False  # stopped by the budget cap


@dataclass
class Step:
    size: float
    kind: str  # "warmup", "fixed", "grow", "repeat"
    predicted_s: float | None = None


@dataclass
class Ladder:
    """Decides the next run from the runs so far; `stop_reason` says why it ended."""

    budget_s: float
    target: float = 1.0
    start: float = START_FRACTION
    fixed: float | None = FIXED_FRACTION
    warmup: bool = True
    quantize: Callable[[float], float] = field(default=lambda x: x)
    repeats: int = 1  # runs at each growing size
    stop_reason: str | None = None

    def __post_init__(self) -> None:
        if not (self.budget_s > 0 and math.isfinite(self.budget_s)):
            raise InputError(f"budget {self.budget_s} is not a positive duration",
                             "give e.g. --budget 60s")
        if self.fixed is not None and self.fixed >= self.start:
            self.fixed = None

    def timeout_for(self, spent_s: float) -> float:
        return max(self.budget_s - spent_s, 0.0)

    def next(self, runs: Sequence[Measured], spent_s: float) -> Step | None:
        """The next run, or None (then `stop_reason` is set)."""
        if any(r.over_budget for r in runs):
            return self._stop("a run was stopped at the end of the budget")
        first = self.fixed if self.fixed is not None else self.start
        if self.warmup and not any(r.warmup for r in runs):
            return Step(first, "warmup")
        fixed_runs = [r.seconds for r in runs if r.fixed]
        if self.fixed is not None and not fixed_runs:
            return Step(self.fixed, "fixed")
        grown = sorted((r for r in runs if not (r.fixed or r.warmup)), key=lambda r: r.size)
        if (self.fixed is not None and not grown and len(fixed_runs) < FIXED_REPEATS
                and sum(fixed_runs) + min(fixed_runs) <= FIXED_SHARE * self.budget_s):
            # Repeat it while cheap: its fastest run is the fixed cost every prediction
            # stands on, and one run (the first, with cold caches) can be slow by chance.
            return Step(self.fixed, "fixed", min(fixed_runs))
        remaining = self.budget_s - spent_s
        if not grown:
            if remaining < 1.05 * self.fixed_cost(runs):
                return self._stop("the budget was spent before any growing run")
            return Step(self.quantize(self.start), "grow")
        top = grown[-1]
        at_top = sum(1 for r in grown if r.size == top.size)
        if at_top < self.repeats and self.predict(runs, top.size) <= remaining * PLAN_SHARE:
            return Step(top.size, "repeat", self.predict(runs, top.size))
        if top.size >= self.target:
            return self._fill_pair(runs, grown, remaining) or self._repeat_or_stop(
                runs, remaining, "reached the target size")
        plan = self._plan_growth(runs, grown, remaining) or self._fill_pair(runs, grown,
                                                                             remaining)
        if plan:
            return plan
        return self._repeat_or_stop(runs, remaining,
                                    "the next larger size would not fit in the budget")

    def _fill_pair(self, runs: Sequence[Measured], grown: list[Measured],
                   remaining: float) -> Step | None:
        """The pair's lower size when the ladder went straight to X (no growth showed below
        it) and no size near it shows growth: a repeat of a size already measured tells less
        about the exponent at the top than a second size there does.

        The lower size is X / FINAL_RATIO, or larger where X's own growth is so small that
        linear growth would leave it under PAIR_GROWTH of the fixed cost there (at most
        X / STEP_RATIOS[0]). Sizing it by a steeper exponent would buy visibility with lever
        arm: worked out for 3 % noise, the exponent's error is about the same either way
        for k = 2.2 and 1.45x larger for k = 1 (X / 1.7 instead of X / 2.5).
        """
        top = grown[-1].size
        fixed = self.fixed_cost(runs)
        lows: dict[float, float] = {}
        for r in grown:
            lows[r.size] = min(lows.get(r.size, math.inf), r.seconds)
        grow_top = lows[top] - fixed
        if grow_top <= 0:
            return None
        wanted = PAIR_GROWTH * fixed
        lower = top / FINAL_RATIO
        if wanted < grow_top:
            lower = max(lower, top * wanted / grow_top)
        below = min(lower, top / STEP_RATIOS[0])
        # A size already measured within STEP_RATIOS[0] of it makes the new run nearly a
        # repeat: two close sizes whose growth is near the noise tell little of the slope.
        # Halfway (geometrically) between that size and the top spreads the three instead.
        crowd = [s for s in lows if s < top and max(s, below) / min(s, below) < STEP_RATIOS[0]]
        if crowd:
            below = max(below, math.sqrt(max(crowd) * top))
        below = self.quantize(min(below, top / CLOSEST_PAIR))
        near = any(top / (FINAL_RATIO * STEP_RATIOS[0]) <= s < top / CLOSEST_PAIR
                   and lows[s] - fixed >= wanted for s in lows)
        if near or below in lows or below >= top or below <= min(lows):
            return None
        cost = self.predict(runs, below)
        return Step(below, "grow", cost) if cost <= remaining * PLAN_SHARE else None

    def _stop(self, reason: str) -> Step | None:
        self.stop_reason = reason
        return None

    # -- cost model for planning -------------------------------------------------------------
    def fixed_cost(self, runs: Sequence[Measured]) -> float:
        fixed = [r.seconds for r in runs if r.fixed]
        if fixed:  # no larger run costs less: a faster one shows the fixed run was slowed
            return min(fixed + [r.seconds for r in runs
                                if not (r.warmup or r.over_budget or r.fixed)])
        grown = [r.seconds for r in runs if not r.warmup]
        return 0.0 if not grown else 0.5 * min(grown)

    def predict(self, runs: Sequence[Measured], size: float) -> float:
        """Pessimistic seconds at `size` from the fixed cost and the two largest sizes."""
        fixed = self.fixed_cost(runs)
        lows: dict[float, float] = {}
        for r in runs:
            if not (r.fixed or r.warmup or r.over_budget):
                lows[r.size] = min(lows.get(r.size, math.inf), r.seconds)
        sizes = sorted(lows)
        top = sizes[-1]
        grow_top = max(lows[top] - fixed, 0.05 * max(fixed, 1e-3))
        exponent = FIRST_STEP_EXPONENT
        if len(sizes) >= 2:
            below = sizes[-2]
            grow_below = lows[below] - fixed
            if grow_below > SIGNIFICANT_GROWTH * fixed and grow_top > grow_below:
                measured = math.log(grow_top / grow_below) / math.log(top / below)
                exponent = min(max(measured, 0.8), 3.5)
        exponent += PLAN_EXPONENT_MARGIN
        return fixed + grow_top * (size / top) ** exponent

    def _plan_growth(self, runs: Sequence[Measured], grown: list[Measured],
                     remaining: float) -> Step | None:
        """The next size on the way to the largest affordable top size X.

        The plan ends with a pair, X / FINAL_RATIO and X: two sizes near the target whose
        growth is well above the timing noise pin the exponent where it matters (geometric
        sizes from 1 % would leave a superlinear job's middle sizes all start-up). Below the
        pair the ladder climbs by up to STEP_RATIOS[1] per run; it is re-planned after each.
        """
        last = grown[-1].size
        usable = remaining * PLAN_SHARE / self.repeats
        lo = last * STEP_RATIOS[0]
        if lo > self.target or self.predict(runs, min(lo, self.target)) > usable:
            return None

        def pair_cost(top: float) -> float:
            below = top / FINAL_RATIO
            extra = self.predict(runs, below) if below > last * STEP_RATIOS[0] else 0.0
            return self.predict(runs, top) + extra

        top = self._largest(lo, self.target, pair_cost, usable)
        if top is None:  # no room for a pair: one last step, as large as fits
            top = self._largest(lo, self.target, lambda x: self.predict(runs, x), usable)
            if top is None:
                return None
        below = top / FINAL_RATIO
        fixed = self.fixed_cost(runs)
        unseen = min(r.seconds for r in grown if r.size == last) - fixed < (
            SIGNIFICANT_GROWTH * fixed)
        if unseen or below <= last * STEP_RATIOS[0]:
            # No growth above the noise yet (a superlinear job's small sizes are all
            # start-up): climbing to X / FINAL_RATIO first would spend a run, and its fixed
            # cost, on another size that shows nothing. Go to X; the pair is completed below
            # it (or above, once the growth is measured) with what the budget has left.
            size = top
        else:
            size = min(below, last * STEP_RATIOS[1])
        # The command may run only some sizes (whole iterations): the largest that fits.
        for shrink in (1.0, 0.9, 0.8, 0.7):
            quantized = self.quantize(max(size * shrink, lo))
            if quantized > last and self.predict(runs, quantized) <= usable:
                return Step(quantized, "grow", self.predict(runs, quantized))
        return None

    @staticmethod
    def _largest(lo: float, hi: float, cost: Callable[[float], float],
                 usable: float) -> float | None:
        """The largest size in [lo, hi] whose cost fits (cost grows with the size)."""
        if cost(lo) > usable:
            return None
        if cost(hi) <= usable:
            return hi
        for _ in range(40):  # bisection on a log scale
            mid = math.sqrt(lo * hi)
            lo, hi = (mid, hi) if cost(mid) <= usable else (lo, mid)
        return lo

    def _repeat_or_stop(self, runs: Sequence[Measured], remaining: float,
                        reason: str) -> Step | None:
        """Spend what is left on repeats: the largest size that fits, fewest repeats first."""
        counts: dict[float, int] = {}
        for r in runs:
            if not (r.warmup or r.over_budget):
                counts[r.size] = counts.get(r.size, 0) + 1
        fixed_sizes = {r.size for r in runs if r.fixed}
        usable = remaining * PLAN_SHARE
        # A lone fixed-cost run first: the first run after other work is often slow (the
        # benchmark's first fixed-cost run over the later ones: 1.19-1.45x in 6 of 39
        # calibrations), and an over-stated fixed cost hides the small sizes' growth and
        # steepens the exponent (session 7's boosting row: 2.68 s where ~1.9 s was the
        # truth, k 1.33 instead of ~1.05, P50 +124 %). Simulated with such a slow first run
        # (`calibrate_simulated.py --cold 0.15 --full 150 --repeats 20`, 2026-12-02): P50
        # within 25 % 80 -> 91/120 laws at a 2.5 s start-up, 109 -> 114/120 at 1.5 s; with
        # no slow run 100 -> 101 and 116 -> 118.
        if (self.fixed is not None and self.fixed_cost(runs) <= usable
                and sum(1 for r in runs if r.fixed and not r.over_budget) == 1):
            return Step(self.fixed, "fixed", self.fixed_cost(runs))
        for size in sorted(counts, reverse=True):
            if counts[size] >= max(MAX_REPEATS_PER_SIZE, self.repeats + 1):
                continue
            cost = self.fixed_cost(runs) if size in fixed_sizes else self.predict(runs, size)
            if cost <= usable:
                kind = "fixed" if size in fixed_sizes else "repeat"
                return Step(size, kind, cost)
        return self._stop(reason)


def startup_warning(budget_s: float, fixed_s: float) -> str | None:
    """A warning when the budget buys fewer than ADVISED_STARTUPS start-ups of the job: every
    run pays the fixed cost again, so such a budget affords only a few small sizes."""
    if not (fixed_s > 0 and math.isfinite(fixed_s)) or budget_s >= ADVISED_STARTUPS * fixed_s:
        return None
    return (f"seconds: the budget ({budget_s:.0f} s) buys only {budget_s / fixed_s:.1f} of the "
            f"job's start-ups ({fixed_s:.1f} s each, the fixed-cost run), and every run pays one: "
            f"the largest size it reaches is small and the growth is measured on a weak signal; "
            f"give --budget {math.ceil(ADVISED_STARTUPS * fixed_s)}s or more "
            f"({ADVISED_STARTUPS:.0f} start-ups) for a narrower, surer prediction")


def describe(steps: Sequence[Step], reason: str | None) -> str:
    sizes = ", ".join(f"{s.size:g}" for s in steps if s.kind == "grow")
    return f"sizes {sizes}; stopped: {reason or 'not finished'}"


def drive(ladder: Ladder, seconds_at: Callable[[float], float]) -> list[Measured]:
    """Run the ladder against a simulated job: `seconds_at(size)` times each step, and a run
    longer than what the budget has left is stopped at that cap (as the real runner does).

    For tests and benchmarks that check the ladder and fit on laws whose truth is known.
    """
    runs: list[Measured] = []
    spent = 0.0
    while (step := ladder.next(runs, spent)) is not None:
        seconds = seconds_at(step.size)
        cap = ladder.timeout_for(spent)
        over = seconds > cap
        seconds = min(seconds, cap)
        spent += seconds
        runs.append(Measured(step.size, seconds, step.kind == "fixed", step.kind == "warmup",
                             over))
    return runs
