"""`mlscope estimate serving --artifact DIR --rps N`: size CPU serving of a classic model.

Called by `estimate serving` (cli/inference_cmd.py) when --artifact is given: measures the
served model here (`mlscope.serving.loadtest`), sizes it with `mlscope.estimate.inference.
classic`, prints a table or `--json` (save that JSON and point an endpoint's `sizing:` at it
for `mlscope cost`).
"""

from __future__ import annotations

from typing import Any

from mlscope.cli.output import Table, console, print_json
from mlscope.core import fmt


def _rng_ms(d: dict[str, float]) -> str:
    return f"{d['p50']:.2f} ({d['p10']:.2f}-{d['p90']:.2f})"


def run_classic(artifact: str, rps: float, p99_ms: float | None, region: str, service: str,
                utilization: float, peak_to_average: float, min_instances: int,
                instances: list[str] | None, requests: int, as_json: bool) -> None:
    from mlscope.estimate.inference.classic import check_targets, size_serving
    from mlscope.serving.loadtest import check_artifact, measure

    check_artifact(artifact)
    # Check the targets before spending the load test on them.
    check_targets(rps, p99_ms=p99_ms, region=region, service=service, utilization=utilization,
                  peak_to_average=peak_to_average, min_instances=min_instances,
                  instance_types=instances)
    measured = measure(artifact, requests=requests).to_dict()
    result = size_serving(measured, rps, p99_ms=p99_ms, region=region, service=service,
                          utilization=utilization, peak_to_average=peak_to_average,
                          min_instances=min_instances, instance_types=instances)
    result["artifact"] = str(artifact)
    if as_json:
        print_json(result)
        return
    render(result)


def render(result: dict[str, Any]) -> None:
    c = console()
    m, t = result["measurement"], result["target"]
    mach = m["machine"]
    c.print(f"[bold]Measured here[/bold]: {m['cpu_s_per_request'] * 1000:.2f} ms CPU a request "
            f"({m['route']}, {m['requests']} requests, p50 {m['p50_ms']:.1f} ms, p99 "
            f"{m['p99_ms']:.1f} ms) on {mach['cpu_model']} x{mach['cpus']}, load "
            f"{mach['load_average_1m']}")
    p99 = f", p99 <= {t['p99_ms']:g} ms" if t["p99_ms"] else ""
    table = Table(title=f"{t['requests_per_s']:g} requests/s on average{p99}, "
                  f"{t['target_utilization']:.0%} target utilization, peak "
                  f"x{t['peak_to_average']:g}, {t['service']} in {t['region']}")
    for col in ("instance", "vCPU", "CPU ms/req", "req/s each", "n (P10-P90)", "min-max",
                "p99 ms", "$/month", "spot", "3y SP"):
        table.add_column(col, no_wrap=True)
    for o in result["options"][:12]:
        mon = o["monthly_usd"]
        n = o["instances"]

        def money(key: str, mon: dict[str, Any] = mon) -> str:
            return fmt.money(mon[key]["p50"]) if mon.get(key) else "n/a"

        p99_ms = "n/a" if o["p99_ms"] is None else f"{o['p99_ms']:.1f}"
        if not o["meets_p99"]:
            p99_ms = f"[red]{p99_ms}[/red]"
        table.add_row(o["instance_type"], str(o["vcpus"]), _rng_ms(o["cpu_ms_per_request"]),
                      f"{o['requests_per_s_per_instance']:,.0f}",
                      f"{n['p50']} ({n['p10']}-{n['p90']})",
                      f"{o['autoscaling']['min']}-{o['autoscaling']['max']}", p99_ms,
                      money("on-demand"), money("spot"), money("savings-3y"))
    c.print(table)
    ch = result["choice"]
    if ch is None:
        c.print("[bold red]Finding:[/bold red] no instance type meets the p99 target and fits "
                "the model's memory")
    else:
        od = ch["monthly_usd"]["on-demand"]
        c.print(f"[bold]Choice[/bold]: {ch['instance_type']} x{ch['instances']['p50']} "
                f"(autoscale {ch['autoscaling']['min']}-{ch['autoscaling']['max']}), "
                f"{fmt.money(od['p50'])}/month on-demand ({fmt.money(od['p10'])}-"
                f"{fmt.money(od['p90'])})")
    c.print("[bold]Assumptions[/bold]")
    for a in result["assumptions"]:
        c.print(f"  • {a}")
