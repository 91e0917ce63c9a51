"""Accuracy of the on-device inference model under grouped cross-validation.

For each device family (Apple M1 / M2 / M3 / M4, Raspberry Pi 4 / 5, NVIDIA Ada / Ampere /
Hopper) the efficiencies are refitted WITHOUT that family's measurements and its published
numbers are predicted through the real estimator path (`estimate_llm`, `estimate_speech`).
Printed, per family and overall:
  * median |error| of the P50 decode tokens/s and the share of measurements inside [P10, P90];
  * the same for the single-constant bandwidth rule (tokens/s = k x bandwidth / model bytes,
    k fitted on the same training folds, with its own lognormal spread from their residuals);
  * prefill tokens/s and whisper.cpp encoder time, same protocol.
Targets (issue 19): median decode error <= 20 %, coverage >= 80 %, better than the constant.
Run: .venv/bin/python benchmarks/inference_accuracy.py [--list]   (--list: every measurement)
"""

from __future__ import annotations

import math
import statistics
import sys
from collections import defaultdict

from mlscope.catalog.devices import device
from mlscope.core.ranges import Z90
from mlscope.estimate.inference.fit import DECODE_POSITION, Measurement, fit, measurements
from mlscope.estimate.inference.llm import estimate_llm
from mlscope.estimate.inference.quant import quant
from mlscope.estimate.inference.speech import (
    encoder_efficiency,
    estimate_speech,
    fit_encoder,
    whisper_model,
    whisper_rows,
)


def family(m: Measurement) -> str:
    return device(m.device).family


def bytes_per_token(m: Measurement) -> float:
    llm = m.llm()
    return (llm.params_read_per_token * quant(m.quant).bits_per_weight / 8
            + llm.kv_bytes_per_token() * DECODE_POSITION)


def constant_rule(train: list[Measurement]) -> tuple[float, float]:
    """k and the log-spread of tokens/s = k x bandwidth / bytes on the training rows."""
    logs = [math.log(m.value * bytes_per_token(m) / (device(m.device).bandwidth_gbs or 1) / 1e9)
            for m in train]
    mu = sum(logs) / len(logs)
    sd = math.sqrt(sum((v - mu) ** 2 for v in logs) / max(1, len(logs) - 1))
    return math.exp(mu), sd


def main() -> None:
    rows = list(measurements())
    approx = [m for m in rows if m.quality != "measured"]
    rows_all, rows = rows, [m for m in rows if m.quality == "measured"]
    decode_rows = [m for m in rows if m.metric == "decode_tps"]
    prefill_rows = [m for m in rows if m.metric == "prefill_tps"]
    families = sorted({family(m) for m in rows})
    res: dict[str, list[tuple[float, bool, float, bool]]] = defaultdict(list)
    pre: dict[str, list[tuple[float, bool]]] = defaultdict(list)
    for fam in families:
        fits = fit(keep=lambda m, fam=fam: family(m) != fam)  # type: ignore[misc]
        train = [m for m in decode_rows if family(m) != fam]
        k, k_sd = constant_rule(train)
        for m in decode_rows:
            if family(m) != fam:
                continue
            est = estimate_llm(m.model, None, m.quant, m.device, m.runtime, fits_data=fits,
                               check_anywhere=False)
            err = abs(est.decode.median - m.value) / m.value
            inside = est.decode.p10 <= m.value <= est.decode.p90
            c50 = k * (device(m.device).bandwidth_gbs or 0) * 1e9 / bytes_per_token(m)
            c_err = abs(c50 - m.value) / m.value
            c_in = c50 * math.exp(-Z90 * k_sd) <= m.value <= c50 * math.exp(Z90 * k_sd)
            res[fam].append((err, inside, c_err, c_in))
        for m in prefill_rows:
            if family(m) != fam:
                continue
            est = estimate_llm(m.model, None, m.quant, m.device, m.runtime, fits_data=fits,
                               check_anywhere=False)
            pre[fam].append((abs(est.prefill.median - m.value) / m.value,
                             est.prefill.p10 <= m.value <= est.prefill.p90))

    print("Decode tokens/s, leave one device family out "
          f"({len(decode_rows)} published measurements, {len(families)} families)")
    print(f"{'family':16} {'n':>3} {'model med|err|':>15} {'in P10-P90':>11} "
          f"{'constant med|err|':>18} {'const in range':>15}")
    for fam in families:
        r = res.get(fam)
        if not r:
            continue
        print(f"{fam:16} {len(r):3d} {statistics.median(x[0] for x in r):15.1%} "
              f"{sum(x[1] for x in r) / len(r):11.0%} {statistics.median(x[2] for x in r):18.1%} "
              f"{sum(x[3] for x in r) / len(r):15.0%}")
    flat = [x for r in res.values() for x in r]
    med = statistics.median(x[0] for x in flat)
    cov = sum(x[1] for x in flat) / len(flat)
    cmed = statistics.median(x[2] for x in flat)
    ccov = sum(x[3] for x in flat) / len(flat)
    print(f"{'ALL':16} {len(flat):3d} {med:15.1%} {cov:11.0%} {cmed:18.1%} {ccov:15.0%}")
    fam_meds = [statistics.median(x[0] for x in r) for r in res.values()]
    const_meds = [statistics.median(x[2] for x in r) for r in res.values()]
    print(f"median over families of the family median |error|: {statistics.median(fam_meds):.1%}"
          f" (constant: {statistics.median(const_meds):.1%})")
    print(f"targets: median <= 20 % -> {'met' if med <= 0.20 else 'NOT met'}; coverage >= 80 % -> "
          f"{'met' if cov >= 0.80 else 'NOT met'}; better than the constant -> "
          f"{'yes' if med < cmed else 'NO'}")

    if approx:
        print(f"\nApproximate published figures (quoted ranges or 'about'; never fitted), "
              f"predicted by the shipped model: {len(approx)} rows")
        errs = []
        for m in approx:
            est = estimate_llm(m.model, None, m.quant, m.device, m.runtime, check_anywhere=False)
            inside = est.decode.p10 <= m.value <= est.decode.p90
            errs.append((abs(est.decode.median - m.value) / m.value, inside))
            print(f"  {m.device:18} {m.model:14} {m.quant:7} {m.runtime:9} published "
                  f"{m.value:6.1f}  predicted {est.decode.median:6.1f} "
                  f"({est.decode.p10:.1f}-{est.decode.p90:.1f})")
        print(f"  median |error| {statistics.median(e for e, _ in errs):.0%}, in range "
              f"{sum(i for _, i in errs) / len(errs):.0%}")

    pflat = [x for r in pre.values() for x in r]
    print(f"\nPrefill tokens/s, same folds: {len(pflat)} measurements, median |error| "
          f"{statistics.median(x[0] for x in pflat):.1%}, in P10-P90 "
          f"{sum(x[1] for x in pflat) / len(pflat):.0%}")
    for fam, r in sorted(pre.items()):
        print(f"  {fam:16} n={len(r):3d} median |error| {statistics.median(x[0] for x in r):6.1%}"
              f"  in range {sum(x[1] for x in r) / len(r):4.0%}")

    print("\nwhisper.cpp encoder time per 30 s window, leave one family out:")
    wrows = list(whisper_rows())
    werrs = []
    for r in wrows:
        fam = device(r["device"]).family
        enc_fit = fit_encoder(exclude_family=fam)
        est = estimate_speech(r["model"], r["device"], encoder_fit=enc_fit)
        measured = float(r["encode_ms"]) / 1000
        err = abs(est.encode_s.median - measured) / measured
        inside = est.encode_s.p10 <= measured <= est.encode_s.p90
        werrs.append((err, inside))
        eff = encoder_efficiency(device(r["device"]), whisper_model(r["model"]), measured * 1000)
        borrowed = device(r["device"]).device_class not in enc_fit
        print(f"  {r['device']:16} {r['model']:16} measured {measured * 1000:9.1f} ms  "
              f"predicted {est.encode_s.median * 1000:9.1f} ms ({est.encode_s.p10 * 1000:.1f}-"
              f"{est.encode_s.p90 * 1000:.1f})  |err| {err:5.0%}  efficiency {eff:.3f}"
              + ("  [class held out: prefill efficiency x whisper ratio]" if borrowed else ""))
    print(f"  median |error| {statistics.median(e for e, _ in werrs):.0%}, in range "
          f"{sum(i for _, i in werrs) / len(werrs):.0%}")
    full = fit()
    print("\nShipped fit (all measurements):")
    for cls, f in sorted(full.decode.items()):
        print(f"  decode {cls:12} bandwidth efficiency {1 / f.a:.2f}  overhead {f.b:.3f}  "
              f"sigma {f.sigma:.2f}  rows {f.rows}" + (f"  (borrowed {f.borrowed})"
                                                       if f.borrowed else ""))
    print(f"  runtime factor ollama: x{full.runtime_factor['ollama'][0]:.2f} time per token")
    if "--list" in sys.argv:  # every measurement, grouped by its source (markdown)
        by_source: dict[str, list[str]] = defaultdict(list)
        for m in rows_all:
            by_source[m.source].append(
                f"| {m.device} | {m.model} | {m.quant} | {m.runtime} | {m.metric} | "
                f"{m.value:g} | {m.quality} | {m.test} |")
        for r in wrows:
            by_source[r["source"]].append(
                f"| {r['device']} | {r['model']} | f16 | whisper.cpp | encode_ms | "
                f"{r['encode_ms']} | measured | {r['test']} |")
        for source, lines in by_source.items():
            print(f"\n**{source}**\n")
            print("| device | model | quant | runtime | metric | value | quality | test |")
            print("|---|---|---|---|---|---|---|---|")
            print("\n".join(lines))

if __name__ == "__main__":
    main()
