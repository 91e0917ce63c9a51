"""Shared argument parsing for the calibration examples: --fraction and a few sizes."""

from __future__ import annotations

import argparse
import os


def parse(description: str, rows: int, iterations: int | None = None,
          **extra: int) -> argparse.Namespace:
    """--fraction, --rows, --seed, --threads; --iterations when given; --NAME for each extra."""
    parser = argparse.ArgumentParser(description=description)
    for name, default in extra.items():
        parser.add_argument(f"--{name.replace('_', '-')}", type=int, default=default)
    if iterations is not None:
        parser.add_argument("--iterations", type=int,
                            default=int(os.environ.get("MLSCOPE_ITERATIONS", iterations)),
                            help="iterations (epochs, rounds) to train for")
    parser.add_argument("--fraction", type=float,
                        default=float(os.environ.get("MLSCOPE_FRACTION", "1.0")),
                        help="share of the data to train on (default: $MLSCOPE_FRACTION or 1)")
    parser.add_argument("--rows", type=int, default=rows, help="rows of the full dataset")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int,
                        default=int(os.environ.get("MLSCOPE_THREADS", os.cpu_count() or 1)),
                        help="threads for the libraries that take a count")
    args = parser.parse_args()
    if not 0 < args.fraction <= 1:
        parser.error("--fraction must be in (0, 1]")
    return args
