"""Serving a classic model (the recommender) on AWS CPU instances, from a measured request cost.

Input: a load test of the served model on the machine mlscope runs on (`mlscope.serving.
loadtest`: CPU seconds per request, p50/p99 latency, the machine). Per instance type:

  speed     = per-vCPU speed of the family relative to one CPU of the measuring machine:
              (clock x IPC x SMT share) of the family / (clock x IPC) of the machine, a range
              (catalog/data/cpu_families.csv; the machine's clock is an assumption, said so)
  cpu       = measured CPU s per request / speed (one request on one target vCPU)
  instances = ceil(rate x cpu / (vCPUs x target utilization)), at least 1; a burstable type's
              utilization is capped at its baseline
  p99       = cpu x (measured p99 / p50) + the 99th percentile wait of an M/M/c queue (Erlang C)
              with c = vCPUs (one worker process per vCPU) at that load; more instances until
              it meets the target, or the type cannot meet it at all
  autoscale = min: the trough (rate / peak-to-average), at least `min_instances`;
              typical: the average rate; max: the peak (rate x peak-to-average)
  monthly   = typical instances x price per hour x 730, per purchase option (`mlscope.pricing`)

P10/P50/P90 of instances and money come from the P10/P50/P90 of `cpu` (and of the price).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from mlscope.catalog.core import Instance, get_catalog
from mlscope.catalog.cpus import CpuFamily, cpu_families, family_of
from mlscope.core.ranges import Range
from mlscope.core.units import HOURS_PER_MONTH
from mlscope.errors import InputError, UnknownNameError
from mlscope.pricing import PURCHASE_OPTIONS, instance_price

# An AWS x86 vCPU is one hyperthread of a core. With one worker per vCPU both threads of a core
# are busy, and two threads deliver 1.1-1.3x one thread's work (Intel: "up to 30 %"), so each
# vCPU runs at 0.55-0.65 of a lone thread. ASSUMPTION (not measured here).
SMT_SHARE = Range.from_p10_p90(0.55, 0.65)
# Vendor IPC claims come from SPEC-style mixes; an interpreted Python service may gain less.
# ASSUMPTION: the real gain lies between half the claimed gain and all of it.
IPC_GAIN_REALISED = (0.5, 1.0)
MAX_INSTANCES = 10_000
P99_QUANTILE = 0.99


def _finite_positive(name: str, value: float, fix: str) -> float:
    if not isinstance(value, int | float) or not math.isfinite(value) or value <= 0:
        raise InputError(f"{name} must be a finite number above zero (got {value})", fix)
    return float(value)


def _clock(f: CpuFamily) -> Range:
    return Range(f.ghz_low) if f.ghz_high <= f.ghz_low else Range.from_p10_p90(f.ghz_low,
                                                                               f.ghz_high)


def _ipc(f: CpuFamily) -> Range:
    gain = f.ipc_vs_skylake - 1.0
    if abs(gain) < 1e-9:
        return Range(1.0)
    low, high = (1.0 + gain * s for s in IPC_GAIN_REALISED)
    return Range.from_p10_p90(min(low, high), max(low, high))


def relative_speed(target: CpuFamily, machine: CpuFamily) -> Range:
    """Per-vCPU speed of `target` (fully loaded, SMT) over one CPU of the measuring machine."""
    return (_clock(target) * _ipc(target) * SMT_SHARE) / (_clock(machine) * _ipc(machine))


def instances_for(rate: float, cpu_s: float, vcpus: int, utilization: float) -> int:
    """ceil(rate x cpu / (vCPUs x utilization)), at least one instance."""
    need = rate * cpu_s / (vcpus * utilization)
    return max(1, math.ceil(need - 1e-9))


def erlang_c(servers: int, offered: float) -> float:
    """Probability that a request waits in an M/M/c queue (offered load in servers)."""
    if offered <= 0:
        return 0.0
    if offered >= servers:
        return 1.0
    b = 1.0  # Erlang B by its stable recursion, then C from B
    for k in range(1, servers + 1):
        b = offered * b / (k + offered * b)
    rho = offered / servers
    return b / (1.0 - rho * (1.0 - b))


def p99_seconds(rate: float, cpu_s: float, workers: int, tail_ratio: float) -> float:
    """p99 response time on one instance: the service tail plus the 99th percentile wait."""
    mu = 1.0 / cpu_s
    if rate >= workers * mu:
        return math.inf
    wait_chance = erlang_c(workers, rate / mu)
    q = 1.0 - P99_QUANTILE
    wait = 0.0 if wait_chance <= q else math.log(wait_chance / q) / (workers * mu - rate)
    return cpu_s * tail_ratio + wait


def _cpu_instances(region: str, service: str) -> list[Instance]:
    fams = cpu_families()
    return [i for i in get_catalog().instances
            if i.region == region and i.service == service and not i.accelerator
            and family_of(i.instance_type) in fams]


def size_option(inst: Instance, fam: CpuFamily, machine: CpuFamily, m: dict[str, Any],
                rps: float, p99_target_s: float | None, utilization: float,
                peak_to_average: float, min_instances: int) -> dict[str, Any]:
    speed = relative_speed(fam, machine)
    cpu = m["cpu_s_per_request"] / speed
    util = min(utilization, fam.burst_baseline.get(inst.instance_type.removeprefix("ml."), 1.0))
    tail = max(1.0, m["p99_ms"] / m["p50_ms"]) if m["p50_ms"] > 0 else 1.0
    counts = {k: instances_for(rps, c, inst.vcpus, util)
              for k, c in (("p10", cpu.p10), ("p50", cpu.median), ("p90", cpu.p90))}
    typical = counts["p50"]
    p99 = p99_seconds(rps / typical, cpu.median, inst.vcpus, tail)
    meets = True
    if p99_target_s is not None and p99 > p99_target_s:
        # More instances shorten the queue, never the service time itself.
        if cpu.median * tail <= p99_target_s:
            while typical < MAX_INSTANCES and p99 > p99_target_s:
                typical += 1
                p99 = p99_seconds(rps / typical, cpu.median, inst.vcpus, tail)
        meets = p99 <= p99_target_s
    extra = typical - counts["p50"]  # instances the latency target adds
    peak = instances_for(rps * peak_to_average, cpu.median, inst.vcpus, util) + extra
    trough = instances_for(rps / peak_to_average, cpu.median, inst.vcpus, util)
    scale = {"min": max(min_instances, trough), "typical": max(min_instances, typical),
             "max": max(min_instances, peak, typical)}
    n = {"p10": max(min_instances, counts["p10"] + extra), "p50": scale["typical"],
         "p90": max(min_instances, counts["p90"] + extra)}
    monthly: dict[str, dict[str, float] | None] = {}
    for purchase in PURCHASE_OPTIONS:
        price = instance_price(inst, purchase)
        if price is None:
            monthly[purchase] = None
            continue
        usd = price.usd_per_hour
        monthly[purchase] = {"p10": n["p10"] * usd.p10 * HOURS_PER_MONTH,
                             "p50": n["p50"] * usd.median * HOURS_PER_MONTH,
                             "p90": n["p90"] * usd.p90 * HOURS_PER_MONTH}
    od = inst.on_demand_usd_hr or 0.0
    return {
        "instance_type": inst.instance_type, "family": fam.family, "processor": fam.processor,
        "vcpus": inst.vcpus, "memory_gib": inst.memory_gib,
        "speed_vs_here": speed.to_dict(), "utilization": util,
        "cpu_ms_per_request": {k: v * 1000 for k, v in cpu.to_dict().items()},
        "requests_per_s_per_instance": inst.vcpus * util / cpu.median,
        "instances": n, "autoscaling": scale,
        "p99_ms": None if math.isinf(p99) else p99 * 1000, "meets_p99": meets,
        "fits_memory": inst.vcpus * m["max_rss_mb"] / 1024 <= inst.memory_gib,
        "monthly_usd": monthly,
        "monthly_usd_at_max_on_demand": scale["max"] * od * HOURS_PER_MONTH,
        "price_quality": inst.price_quality,
    }


def check_targets(rps: float, *, p99_ms: float | None = None, region: str = "us-east-1",
                  service: str = "ec2", utilization: float = 0.6, peak_to_average: float = 3.0,
                  min_instances: int = 2, instance_types: list[str] | None = None,
                  ) -> list[Instance]:
    """Validate the targets (one-line errors) and return the instance types to size."""
    _finite_positive("--rps", rps, "give the average requests per second, e.g. --rps 50")
    if p99_ms is not None:
        _finite_positive("--p99-ms", p99_ms, "e.g. --p99-ms 50")
    if not (isinstance(utilization, int | float) and math.isfinite(utilization)
            and 0 < utilization <= 1):
        raise InputError(f"--target-utilization must lie in (0, 1] (got {utilization})",
                         "e.g. --target-utilization 0.6")
    if not (math.isfinite(peak_to_average) and peak_to_average >= 1):
        raise InputError(f"--peak-to-average must be at least 1 (got {peak_to_average})",
                         "e.g. --peak-to-average 3")
    if min_instances < 0:
        raise InputError(f"--min-instances must not be negative (got {min_instances})",
                         "e.g. --min-instances 2")
    if service not in ("ec2", "sagemaker"):
        raise InputError(f"unknown service '{service}'", "use ec2 or sagemaker")
    fams = cpu_families()
    cat = get_catalog()
    if region not in cat.regions():
        raise UnknownNameError("region", region, cat.regions())
    if not instance_types:
        return _cpu_instances(region, service)
    chosen = []
    for name in instance_types:
        inst = cat.instance(name, region)
        if family_of(inst.instance_type) not in fams or inst.accelerator:
            raise InputError(f"{inst.instance_type} is not a CPU family the catalog has a "
                             "speed for", f"use one of {', '.join(sorted(fams)[:7])}")
        chosen.append(inst)
    return chosen


def size_serving(measurement: dict[str, Any], rps: float, *, p99_ms: float | None = None,
                 region: str = "us-east-1", service: str = "ec2", utilization: float = 0.6,
                 peak_to_average: float = 3.0, min_instances: int = 2,
                 instance_types: list[str] | None = None) -> dict[str, Any]:
    """Instance choice, autoscaling range and monthly cost for `rps` average requests/s."""
    chosen = check_targets(rps, p99_ms=p99_ms, region=region, service=service,
                           utilization=utilization, peak_to_average=peak_to_average,
                           min_instances=min_instances, instance_types=instance_types)
    for key in ("cpu_s_per_request", "p50_ms", "p99_ms"):
        _finite_positive(f"measured {key}", float(measurement[key]), "measure again")
    fams = cpu_families()
    machine = fams[measurement["machine"]["cpu_family"]]
    target = None if p99_ms is None else p99_ms / 1000
    options = [size_option(i, fams[family_of(i.instance_type)], machine, measurement, rps,
                           target, utilization, peak_to_average, min_instances) for i in chosen]

    def cost(o: dict[str, Any]) -> float:
        od = o["monthly_usd"]["on-demand"]
        return od["p50"] if od else math.inf

    options.sort(key=lambda o: (not o["meets_p99"], not o["fits_memory"], cost(o),
                                o["instances"]["p50"]))
    ok = [o for o in options if o["meets_p99"] and o["fits_memory"] and cost(o) < math.inf]
    return {
        "kind": "classic",
        "measurement": measurement,
        "target": {"requests_per_s": rps, "p99_ms": p99_ms, "region": region,
                   "service": service, "target_utilization": utilization,
                   "peak_to_average": peak_to_average, "min_instances": min_instances},
        "choice": ok[0] if ok else None,
        "options": options,
        "assumptions": assumptions(machine, measurement),
    }


def assumptions(machine: CpuFamily, m: dict[str, Any]) -> list[str]:
    mach = m["machine"]
    return [
        f"measured here: {m['requests']} sequential requests to {m['route']} (after "
        f"{m['warmup']} warm-up) on {mach['cpu_model']} x{mach['cpus']}, load average "
        f"{mach['load_average_1m']} while measuring; cost = process CPU time minus the "
        "client's, per request",
        f"this machine is taken as '{machine.family}': {machine.note}",
        f"one worker process per vCPU; each vCPU (a hyperthread) at {SMT_SHARE.p10:.2f}-"
        f"{SMT_SHARE.p90:.2f} of a lone thread when all are busy (assumed)",
        f"IPC gains of newer cores realised at {IPC_GAIN_REALISED[0]:.0%}-"
        f"{IPC_GAIN_REALISED[1]:.0%} of the vendors' claims (assumed)",
        "p99 = service time x the measured p99/p50 + the M/M/c (Erlang C) 99th percentile "
        "wait at the typical fleet; traffic spread evenly over instances",
        "memory check: vCPUs x the measuring process's peak RSS (an upper bound: it "
        "includes the client)",
        "monthly = typical instances x $/h x 730; the autoscaling max is the bill at peak all "
        "month; savings plans commit spend, so only the min fleet is a safe commitment",
    ]


def load_sizing(path: str | Path) -> dict[str, Any]:
    """Read a saved `mlscope estimate serving --artifact ... --json` result."""
    p = Path(path)
    try:
        data = json.loads(p.read_text())
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read the serving sizing '{p}': {type(exc).__name__}",
                         "write it with `mlscope estimate serving --artifact DIR --rps N "
                         "--json > FILE`") from None
    if not isinstance(data, dict) or data.get("kind") != "classic" or "options" not in data:
        raise InputError(f"'{p}' is not a classic serving sizing",
                         "write it with `mlscope estimate serving --artifact DIR --rps N "
                         "--json > FILE`")
    return data


def sizing_counts(path: str | Path, instance_type: str) -> tuple[int, int, int]:
    """(min, typical, max) instances of `instance_type` (ml. prefix ignored) from a sizing."""
    data = load_sizing(path)
    want = instance_type.lower().removeprefix("ml.")
    for o in data["options"]:
        if o["instance_type"].lower().removeprefix("ml.") == want:
            s = o["autoscaling"]
            return int(s["min"]), int(s["typical"]), int(s["max"])
    have = sorted(o["instance_type"] for o in data["options"])
    raise InputError(f"the serving sizing '{path}' has no option for {instance_type}",
                     f"size it with --instance {want}, or use one of {', '.join(have[:8])}")
