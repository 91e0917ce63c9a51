"""The reference application: train the ALS recommender on MovieLens-100k and log it to MLflow.

    python examples/recommender/app/train.py --factors 32 --iterations 10 --register retail-recs

The same as `mlscope release train`; the training and evaluation code lives in
mlscope.release.reference_app. MovieLens-100k is read from the installed recbole wheel
(`pip install --no-deps recbole`), never copied here. State (MLflow SQLite, artifacts, audit log)
goes to ./.mlscope unless MLSCOPE_STATE_DIR says otherwise; registering needs the committed
policy and a signing key listed in release/allowed_signers (see docs/release.md).
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from mlscope.errors import MlscopeError
from mlscope.release.promotion import Release
from mlscope.release.reference_app import TrainConfig, train_and_log


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--factors", type=int, default=32)
    parser.add_argument("--iterations", type=int, default=10)
    parser.add_argument("--regularization", type=float, default=0.05)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--register", metavar="MODEL", help="register the run as MODEL")
    args = parser.parse_args()
    cfg = TrainConfig(factors=args.factors, iterations=args.iterations,
                      regularization=args.regularization, seed=args.seed)
    try:
        out = Path(tempfile.mkdtemp(prefix="recs-"))
        run_id, result = train_and_log(cfg, out)
        summary = {"run_id": run_id, "metrics": result.metrics, "data": result.data_version}
        if args.register:
            release = Release.open()  # the policy: ./mlscope.yaml or $MLSCOPE_SPEC
            info = release.register(args.register, run_id, release.actor(), "reference app")
            summary["version"] = info.version
    except MlscopeError as exc:
        print(f"Error: {exc.one_line()}")
        return 2
    print(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
