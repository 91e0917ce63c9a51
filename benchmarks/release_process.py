"""Measured figures of the release process on the reference app (MovieLens-100k, CPU).

1. train: seconds to train and evaluate ALS (32 factors, 10 sweeps), median of --repeats;
2. gates: seconds for the beat-the-champion gate (two evaluations + 2000-resample BCa bootstrap)
   and the QA simulation (843 held-out requests), in process;
3. noise: retrain the same configuration with different seeds against seed 0 as champion;
   count how often the raw nDCG@10 difference is positive (a naive "number went up" gate
   would promote) versus how often the bootstrap gate passes;
4. audit: appends per second and verify time for a log of --entries unsigned entries, and for
   --signed entries signed with an SSH key (ssh-keygen -Y sign per append, -Y verify per entry).

    .venv/bin/python benchmarks/release_process.py [--seeds 8] [--entries 10000] [--json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seeds", type=int, default=8)
    parser.add_argument("--entries", type=int, default=10_000)
    parser.add_argument("--signed", type=int, default=200)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    from mlscope.release.audit import AuditLog
    from mlscope.release.evaluation import evaluate
    from mlscope.release.qa_simulation import simulate
    from mlscope.release.reference_app import (
        DirectModel,
        TrainConfig,
        load_ratings,
        ranking_set,
        train,
    )
    from mlscope.release.stats import paired_bootstrap

    out: dict[str, Any] = {}
    ratings = load_ratings()
    times = []
    for _ in range(args.repeats):
        result = train(TrainConfig(), ratings)
        times.append(result.seconds)
    out["train_s_median"] = statistics.median(times)
    champion = result

    t0 = time.perf_counter()
    cand = train(TrainConfig(factors=4, iterations=2), ratings)
    evalset = ranking_set(champion.requests)
    c_vals = evaluate(DirectModel(cand.artifact), evalset).values["ndcg_at_10"]
    h_vals = evaluate(DirectModel(champion.artifact), evalset).values["ndcg_at_10"]
    ci = paired_bootstrap(c_vals, h_vals)
    t1 = time.perf_counter()
    sim = simulate(DirectModel(champion.artifact), evalset)
    t2 = time.perf_counter()
    out["champion_gate_s"] = t1 - t0 - cand.seconds
    out["simulation_s"] = t2 - t1
    out["simulation"] = sim.as_dict()
    out["weak_vs_champion_ci"] = [ci.low, ci.high]

    raw_up = gate_pass = 0
    diffs = []
    for seed in range(1, args.seeds + 1):
        other = train(TrainConfig(seed=seed), ratings)
        o_vals = evaluate(DirectModel(other.artifact), evalset).values["ndcg_at_10"]
        res = paired_bootstrap(o_vals, h_vals, seed=seed)
        diffs.append(res.mean_difference)
        raw_up += res.mean_difference > 0
        gate_pass += res.low > 0
    out["noise"] = {"retrains": args.seeds, "raw_difference_positive": raw_up,
                    "bootstrap_gate_passed": gate_pass,
                    "raw_differences": [round(d, 5) for d in diffs]}

    with tempfile.TemporaryDirectory() as tmp:
        log = AuditLog(Path(tmp) / "audit.jsonl")
        t0 = time.perf_counter()
        for i in range(args.entries):
            log.append("bench@example.com", "deploy", f"m:{i}", reason="benchmark",
                       after={"version": i})
        t1 = time.perf_counter()
        verdict = log.verify()
        t2 = time.perf_counter()
    out["audit"] = {"entries": args.entries, "appends_per_s": args.entries / (t1 - t0),
                    "verify_s": t2 - t1, "ok": verdict.ok}
    out["signed_audit"] = _signed_audit(args.signed)

    if args.json:
        print(json.dumps(out, indent=2))
        return
    print(f"train (ALS 32 factors, 10 sweeps, 100k ratings): {out['train_s_median']:.2f} s median")
    print(f"beat-champion gate (2 evaluations + BCa bootstrap): {out['champion_gate_s']:.2f} s; "
          f"weak model vs champion CI [{ci.low:+.4f}, {ci.high:+.4f}]")
    print(f"QA simulation: {sim.requests} requests in {out['simulation_s']:.2f} s, "
          f"p50 {sim.p50_ms:.3f} ms, p99 {sim.p99_ms:.3f} ms, errors {sim.errors}")
    n = out["noise"]
    print(f"same config, {n['retrains']} other seeds vs seed 0: raw nDCG@10 up in "
          f"{n['raw_difference_positive']}, bootstrap gate passed in {n['bootstrap_gate_passed']}"
          f" (differences {n['raw_differences']})")
    a = out["audit"]
    print(f"audit log: {a['appends_per_s']:.0f} appends/s; verify {a['entries']} entries in "
          f"{a['verify_s']:.2f} s (ok={a['ok']})")
    g = out["signed_audit"]
    print(f"signed audit log: {g['appends_per_s']:.1f} signed appends/s; verify {g['entries']} "
          f"signatures in {g['verify_s']:.2f} s (ok={g['ok']})")


def _signed_audit(entries: int) -> dict[str, Any]:
    import subprocess

    from mlscope.release.audit import AuditLog
    from mlscope.release.identity import Actor
    from mlscope.release.signing import AllowedSigners

    with tempfile.TemporaryDirectory() as tmp:
        key = Path(tmp) / "key"
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)],
                       check=True)
        signers_file = Path(tmp) / "allowed_signers"
        signers_file.write_text(f'bench@example.com namespaces="mlscope" '
                                f'{key.with_suffix(".pub").read_text()}')
        signers = AllowedSigners(signers_file)
        probe = b"probe"
        from mlscope.release.signing import sign

        found = signers.verify(probe, sign(probe, key))
        assert found is not None
        actor = Actor(found.principal, key, found.fingerprint)
        log = AuditLog(Path(tmp) / "signed.jsonl")
        t0 = time.perf_counter()
        for i in range(entries):
            log.append(actor, "deploy", f"m:{i}", reason="benchmark", after={"version": i})
        t1 = time.perf_counter()
        verdict = AuditLog(log.path).verify(signers=signers)
        t2 = time.perf_counter()
    return {"entries": entries, "appends_per_s": entries / (t1 - t0), "verify_s": t2 - t1,
            "ok": verdict.ok}


if __name__ == "__main__":
    main()
