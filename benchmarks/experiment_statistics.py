"""The A/B statistics validated by simulation, not asserted.

Prints, for seeded simulations that call mlscope's own functions:
- A/A tests with daily peeking: false-positive rate of the fixed-horizon Welch test when one
  stops at the first p < alpha (inflated), and of the always-valid confidence sequence (must stay
  at or below alpha);
- power on a known lift, fixed horizon at the end and sequential at any look;
- sample-ratio-mismatch detection on a known imbalance, and its false-alarm rate on a true split;
- drift detection on an injected covariate shift, and no alarm on same-distribution windows;
- cumulative regret of Thompson sampling, UCB1 and epsilon-greedy on the same arms and seeds.

    .venv/bin/python benchmarks/experiment_statistics.py [--experiments 1000]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from mlscope.release.experiments import stats
from mlscope.release.experiments.bandits import simulate
from mlscope.release.monitoring.drift import feature_drift

ALPHA = 0.05


def _summaries(conv_a: int, n_a: int, conv_b: int, n_b: int) -> tuple[stats.Summary, ...]:
    def s(name: str, c: int, n: int) -> stats.Summary:
        p = c / n
        return stats.Summary(name, n, p, p * (1 - p) * n / (n - 1))
    return s("A", conv_a, n_a), s("B", conv_b, n_b)


def peeking(experiments: int, days: int, per_day: int, rate_a: float, rate_b: float,
            seed: int) -> tuple[float, float, float, float]:
    """(fixed any-look rejection, fixed final-look rejection, sequential any-look, seq final)."""
    rng = np.random.default_rng(seed)
    conv_a = rng.binomial(per_day, rate_a, (experiments, days)).cumsum(axis=1)
    conv_b = rng.binomial(per_day, rate_b, (experiments, days)).cumsum(axis=1)
    tuning = 2 * per_day * days  # the planned total sample size
    fixed_any = fixed_end = seq_any = seq_end = 0
    for e in range(experiments):
        f_hit = s_hit = False
        for d in range(days):
            n = per_day * (d + 1)
            a, b = _summaries(int(conv_a[e, d]), n, int(conv_b[e, d]), n)
            fixed = stats.relative_lift(a, b, ALPHA)
            se = fixed.se
            half = stats.cs_halfwidth(se, 2 * n, tuning, ALPHA) if se > 0 else 0.0
            f_rej = fixed.p_value < ALPHA
            s_rej = se > 0 and abs(fixed.estimate) > half
            f_hit |= f_rej
            s_hit |= s_rej
            if d == days - 1:
                fixed_end += f_rej
                seq_end += s_rej
        fixed_any += f_hit
        seq_any += s_hit
    return (fixed_any / experiments, fixed_end / experiments, seq_any / experiments,
            seq_end / experiments)


def srm_rates(trials: int, n: int, seed: int) -> tuple[float, float]:
    rng = np.random.default_rng(seed)
    true_split = [stats.sample_ratio_mismatch([k, n - k], [0.5, 0.5]).mismatch
                  for k in rng.binomial(n, 0.5, trials)]
    skewed = [stats.sample_ratio_mismatch([k, n - k], [0.5, 0.5]).mismatch
              for k in rng.binomial(n, 0.49, trials)]
    return float(np.mean(true_split)), float(np.mean(skewed))


def drift_rates(trials: int, seed: int) -> dict[str, float]:
    rng = np.random.default_rng(seed)
    out = {}
    for label, size, shift in (("small, same", 500, 0.0), ("small, +0.3 sd", 500, 0.3),
                               ("large, same", 5000, 0.0), ("large, +0.3 sd", 5000, 0.3)):
        hits = [feature_drift("x", rng.normal(0, 1, size).tolist(),
                              rng.normal(shift, 1, size).tolist()).drift for _ in range(trials)]
        out[label] = float(np.mean(hits))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--experiments", type=int, default=1000)
    ap.add_argument("--days", type=int, default=14)
    ap.add_argument("--per-day", type=int, default=500)
    args = ap.parse_args()
    start = time.perf_counter()
    print(f"A/A, {args.experiments} experiments x {args.days} daily looks, "
          f"{args.per_day} units/arm/day, rate 10 %, alpha {ALPHA}:")
    f_any, f_end, s_any, s_end = peeking(args.experiments, args.days, args.per_day, 0.10, 0.10, 1)
    print(f"  fixed-horizon Welch, stop at first p < alpha : false positives {f_any:.1%}")
    print(f"  fixed-horizon Welch, one look at the end     : false positives {f_end:.1%}")
    print(f"  sequential confidence sequence, any look     : false positives {s_any:.1%}"
          f"  (target <= {ALPHA:.0%})")
    print("Power on a known +10 % relative lift (10 % -> 11 %):")
    f_any, f_end, s_any, s_end = peeking(args.experiments // 2, args.days, args.per_day,
                                         0.10, 0.11, 2)
    print(f"  fixed horizon at the end {f_end:.1%}; sequential at any look {s_any:.1%}, "
          f"at the end {s_end:.1%}")
    print("Power on a known +20 % relative lift (10 % -> 12 %):")
    f_any, f_end, s_any, s_end = peeking(args.experiments // 2, args.days, args.per_day,
                                         0.10, 0.12, 5)
    print(f"  fixed horizon at the end {f_end:.1%}; sequential at any look {s_any:.1%}, "
          f"at the end {s_end:.1%}")
    for units in (20_000, 100_000):
        false_alarm, detect = srm_rates(2000, units, 3)
        print(f"SRM (chi-squared, p < 0.001), {units:,} units: false alarms on a true 50/50 "
              f"split {false_alarm:.2%}; detection of a 49/51 split {detect:.1%}")
    print("Drift (KS up to 1,000 rows, normed Wasserstein 0.1 above), 200 trials each:")
    for label, rate in drift_rates(200, 4).items():
        print(f"  {label:<16} alarm rate {rate:.1%}")
    print("Bandits on arms 5 % / 6 % / 7 %, horizon 10,000, mean regret over 10 seeds:")
    for policy in ("thompson", "ucb1", "epsilon"):
        regret = np.mean([simulate([0.05, 0.06, 0.07], 10_000, policy, s)["regret"]
                          for s in range(10)])
        print(f"  {policy:<9} {regret:7.1f}")
    print(f"({time.perf_counter() - start:.0f} s)")


if __name__ == "__main__":
    main()
