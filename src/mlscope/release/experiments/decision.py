"""From an analysis to a decision a release can act on: ship, keep, continue or stop.

- stop: the traffic split is broken (SRM), so no comparison can be trusted.
- keep: a guardrail is significantly worse, or the challenger is significantly worse.
- ship: the best challenger's interval lies above zero and no guardrail is worse.
- continue: not enough evidence yet (only safe to look again with the sequential method).
"""

from __future__ import annotations

from typing import Any

from mlscope.release.experiments.analysis import Analysis
from mlscope.release.experiments.stats import SRM_ALPHA


def decide(analysis: Analysis) -> dict[str, Any]:
    reasons: list[str] = []
    if analysis.srm.mismatch:
        reasons.append(f"sample ratio mismatch: p = {analysis.srm.p_value:.2g} < "
                       f"{SRM_ALPHA} against weights {analysis.weights}")
        return {"decision": "stop", "reasons": reasons, "winner": None}
    winners = []
    for c in analysis.comparisons:
        bad = [g["metric"] for g in c.guardrails if g["worse"]]
        if bad:
            reasons.append(f"{c.variant}: guardrail worse ({', '.join(bad)})")
            continue
        if c.lift.ci_high < 0:
            reasons.append(f"{c.variant}: worse than {analysis.control} "
                           f"(lift {c.lift.estimate:+.2%}, CI below 0)")
        elif c.lift.ci_low > 0:
            winners.append(c)
            reasons.append(f"{c.variant}: better than {analysis.control} "
                           f"(lift {c.lift.estimate:+.2%}, CI [{c.lift.ci_low:+.2%}, "
                           f"{c.lift.ci_high:+.2%}])")
        else:
            reasons.append(f"{c.variant}: no significant difference yet "
                           f"(CI [{c.lift.ci_low:+.2%}, {c.lift.ci_high:+.2%}])")
    if winners:
        best = max(winners, key=lambda c: c.lift.estimate)
        return {"decision": "ship", "reasons": reasons, "winner": best.variant}
    undecided = any(c.lift.ci_low <= 0 <= c.lift.ci_high and not any(g["worse"] for g in
                    c.guardrails) for c in analysis.comparisons)
    return {"decision": "continue" if undecided else "keep", "reasons": reasons, "winner": None}
