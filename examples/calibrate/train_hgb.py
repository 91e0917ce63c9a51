"""Gradient-boosted trees (scikit-learn HistGradientBoosting) on a synthetic tabular dataset.

    mlscope calibrate -- python examples/calibrate/train_hgb.py --fraction {fraction}

or along the boosting rounds at full data (each round fits one tree to the same rows):

    mlscope calibrate --axis iterations --target-iterations 100 \\
        -- python examples/calibrate/train_hgb.py --iterations {iterations}
"""

from __future__ import annotations

from _common import parse
from sklearn.datasets import make_classification
from sklearn.ensemble import HistGradientBoostingClassifier

args = parse(__doc__ or "", rows=800_000, iterations=100)
n = max(100, round(args.fraction * args.rows))
X, y = make_classification(n_samples=n, n_features=40, n_informative=20, random_state=args.seed)
# A fixed number of boosting rounds (no early stopping): the cost per round grows with the rows.
model = HistGradientBoostingClassifier(max_iter=args.iterations, early_stopping=False,
                                       random_state=args.seed)
model.fit(X, y)
print(f"rows={n} train_accuracy={model.score(X, y):.3f}")
