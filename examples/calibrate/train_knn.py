"""k nearest neighbours by brute force (scikit-learn KNeighborsClassifier): scoring the training
set compares every row with every other, about n^2 work.

    mlscope calibrate -- python examples/calibrate/train_knn.py --fraction {fraction}
"""

from __future__ import annotations

from _common import parse
from sklearn.datasets import make_classification
from sklearn.neighbors import KNeighborsClassifier

args = parse(__doc__ or "", rows=60_000)
n = max(100, round(args.fraction * args.rows))
X, y = make_classification(n_samples=n, n_features=30, n_informative=15, random_state=args.seed)
model = KNeighborsClassifier(n_neighbors=5, algorithm="brute", n_jobs=1).fit(X, y)
print(f"rows={n} train_accuracy={model.score(X, y):.3f}")
