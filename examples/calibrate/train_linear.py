"""A linear model (scikit-learn LogisticRegression, lbfgs, multinomial) on a synthetic dataset.

    mlscope calibrate -- python examples/calibrate/train_linear.py --fraction {fraction}

Defaults: 30 classes over 40 features, so that the solver's iterations (not the synthetic data
generator) are most of the job, as they are when a real dataset is read from disk.
"""

from __future__ import annotations

from _common import parse
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression

args = parse(__doc__ or "", rows=800_000, features=40, classes=30)
n = max(100, round(args.fraction * args.rows))
X, y = make_classification(n_samples=n, n_features=args.features, n_informative=20,
                           n_classes=args.classes, random_state=args.seed)
model = LogisticRegression(max_iter=1000).fit(X, y)
print(f"rows={n} iterations={int(model.n_iter_[0])} train_accuracy={model.score(X, y):.3f}")
