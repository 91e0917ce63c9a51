"""A linear model (scikit-learn LogisticRegression, lbfgs) on a synthetic dataset.

    mlscope calibrate -- python examples/calibrate/train_linear.py --fraction {fraction}
"""

from __future__ import annotations

from _common import parse
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression

args = parse(__doc__ or "", rows=800_000)
n = max(100, round(args.fraction * args.rows))
X, y = make_classification(n_samples=n, n_features=100, n_informative=30, random_state=args.seed)
model = LogisticRegression(max_iter=500).fit(X, y)
print(f"rows={n} iterations={int(model.n_iter_[0])} train_accuracy={model.score(X, y):.3f}")
