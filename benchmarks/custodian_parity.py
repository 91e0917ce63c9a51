"""How often mlscope reads Cloud Custodian offhours tags as c7n itself does.

Generates tag values (valid, mutated, escaped, with spaces; tests/costs/c7n_oracle.py) and
prints: accept/reject agreement with c7n's OffHour/OnHour filters (raw, and counting the
values mlscope refuses on purpose because Custodian only half applies them), and for values
both accept, how many get the same running hours in a DST month as c7n's filters driven hour
by hour. Runs against whichever mlscope is importable, so the figure before a change is
measured by pointing PYTHONPATH at the old checkout's src/.

    .venv/bin/python benchmarks/custodian_parity.py [--values 2000] [--seed 0]
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "costs"))

from c7n_oracle import c7n_states, month_start, random_tag, verdict

from mlscope.costs.schedules import parse_custodian, simulate_month
from mlscope.errors import InputError


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--values", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    same = deliberate = both = same_hours = 0
    wrong_accept = wrong_refuse = crashes = 0
    for _ in range(args.values):
        value, months = random_tag(rng)
        month = rng.choice(months)
        v = verdict(value)
        try:
            schedule = parse_custodian(value)
            ours = True
        except InputError as exc:
            ours = False
            if v.accepted and v.deliberate and "Custodian" in exc.one_line():
                deliberate += 1
        except Exception:
            ours = False
            crashes += 1
        theirs = v.accepted
        same += ours == theirs
        wrong_accept += ours and not theirs
        wrong_refuse += theirs and not ours
        if ours and theirs:
            both += 1
            start, count = month_start(v.off.tz, 2026, month)
            expected = sum(c7n_states(v, start, count))
            same_hours += simulate_month(schedule, 2026, month).running_hours == expected
    n = args.values
    print(f"tag values: {n} (seed {args.seed})")
    print(f"accept/reject agrees with c7n: {same}/{n} = {same / n:.1%}")
    print(f"  refused on purpose (Custodian half applies them, message says so): {deliberate}")
    print(f"  agreement counting those as intended: {(same + deliberate) / n:.1%}")
    print(f"  mlscope accepts, c7n never acts: {wrong_accept}; c7n acts, mlscope refuses: "
          f"{wrong_refuse - deliberate} (+{deliberate} on purpose); tracebacks: {crashes}")
    print(f"accepted by both: {both}; same running hours in a DST month as c7n's filters "
          f"hour by hour: {same_hours}/{both} = {same_hours / max(both, 1):.1%}")


if __name__ == "__main__":
    main()
