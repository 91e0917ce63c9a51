"""Train the tabular example and save it as an MLflow Model (what CI's train step runs).

    python examples/tabular-classifier/train.py --c 1.0 --out build/model
    cd examples/tabular-classifier && mlscope release register cancer --model-dir ../../build/model

The data is scikit-learn's bundled breast-cancer set (nothing is downloaded); the code lives
in mlscope.release.tabular_app so the tests train exactly the same model.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from mlscope.errors import MlscopeError
from mlscope.release.tabular_app import TabularConfig, train


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--c", type=float, default=1.0, help="inverse regularization")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    try:
        out, metrics, params = train(TabularConfig(c=args.c, seed=args.seed), args.out)
    except MlscopeError as exc:
        print(f"Error: {exc.one_line()}")
        return 2
    print(json.dumps({"model_dir": str(out), "metrics": metrics, "params": params}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
