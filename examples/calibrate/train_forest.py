"""A random forest (scikit-learn) on a synthetic dataset: cost grows like n log n.

    mlscope calibrate -- python examples/calibrate/train_forest.py --fraction {fraction}

Trees are independent: the cost grows linearly in their number at full data, so the
iterations axis (one tree, two, ...) measures the full job's per-tree cost directly:

    mlscope calibrate --axis iterations --target-iterations 40 \\
        -- python examples/calibrate/train_forest.py --iterations {iterations}
"""

from __future__ import annotations

from _common import parse
from sklearn.datasets import make_classification
from sklearn.ensemble import RandomForestClassifier

args = parse(__doc__ or "", rows=150_000, iterations=40)
n = max(100, round(args.fraction * args.rows))
X, y = make_classification(n_samples=n, n_features=20, n_informative=10, random_state=args.seed)
model = RandomForestClassifier(n_estimators=args.iterations, n_jobs=args.threads,
                               random_state=args.seed)
model.fit(X, y)
print(f"rows={n} train_accuracy={model.score(X, y):.3f}")
