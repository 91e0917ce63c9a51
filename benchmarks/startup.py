"""Start-up time of the CLI, whole process, as a user feels it.

Prints, for every command's `--help` and for one `estimate training --json`, the median wall
time over several runs (measured with /usr/bin/time when present, else a monotonic clock around
the subprocess) and the ratio to `python -c pass` on the same interpreter, so a busy machine
shows up in both and the ratio stays comparable. Targets (issue 10): every `--help` <= 0.3 s
and `estimate training ... --json` <= 0.5 s on this machine.

    .venv/bin/python benchmarks/startup.py [--runs 7] [--json] [--cpu]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MLSCOPE = [sys.executable, "-m", "mlscope"]
ESTIMATE = ["estimate", "training", "--model", "llama-2-7b", "--tokens", "2T",
            "--accelerator", "A100-80GB", "--count", "64", "--json"]


def _commands() -> list[str]:
    from mlscope.cli.main import COMMANDS

    return sorted(COMMANDS)


CPU = "--cpu" in sys.argv  # CPU seconds (user + sys): steadier than wall time on a busy machine


def _time_once(argv: list[str]) -> float:
    if CPU:
        before = os.times()
        subprocess.run(argv, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        after = os.times()
        return (after.children_user - before.children_user
                + after.children_system - before.children_system)
    time_bin = shutil.which("time") or ("/usr/bin/time" if Path("/usr/bin/time").exists() else None)
    if time_bin:
        with tempfile.NamedTemporaryFile("r", suffix=".txt") as out:
            subprocess.run([time_bin, "-f", "%e", "-o", out.name, *argv], check=False,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            text = Path(out.name).read_text().strip().splitlines()
            try:
                return float(text[-1])
            except (IndexError, ValueError):
                pass
    start = time.perf_counter()
    subprocess.run(argv, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def _median(argv: list[str], runs: int) -> float:
    return statistics.median(_time_once(argv) for _ in range(runs))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--cpu", action="store_true",
                    help="Measure CPU seconds (user + sys) instead of wall-clock seconds.")
    args = ap.parse_args()
    env_note = f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    base = _median([sys.executable, "-c", "pass"], args.runs)
    rows = [("mlscope --help", _median([*MLSCOPE, "--help"], args.runs), 0.3)]
    for name in _commands():
        rows.append((f"mlscope {name} --help", _median([*MLSCOPE, name, "--help"], args.runs), 0.3))
    rows.append(("mlscope " + " ".join(ESTIMATE), _median([*MLSCOPE, *ESTIMATE], args.runs), 0.5))
    if args.json:
        print(json.dumps({"python_c_pass_s": base, "load": env_note, "rows": [
            {"command": c, "seconds": s, "ratio": s / base, "target_s": t} for c, s, t in rows]},
            indent=2))
        return
    kind = "CPU seconds" if CPU else "wall seconds"
    print(f"python -c pass: {base:.3f} s  ({kind}; {env_note}; median of {args.runs} runs)")
    print(f"{'command':<70} {'seconds':>8} {'x pass':>7} {'target':>7}")
    for command, seconds, target in rows:
        flag = "" if seconds <= target else "  over"
        print(f"{command[:70]:<70} {seconds:8.3f} {seconds / base:7.1f} {target:7.1f}{flag}")


if __name__ == "__main__":
    main()
