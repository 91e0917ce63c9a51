"""Kernel ridge regression (scikit-learn KernelRidge, RBF kernel): the n x n kernel matrix
(about n^2 work) and its dense solve (about n^3 / 3), so the cost is superlinear in the rows and
its exponent rises with them.

    mlscope calibrate -- python examples/calibrate/train_krr.py --fraction {fraction}
"""

from __future__ import annotations

from _common import parse
from sklearn.datasets import make_regression
from sklearn.kernel_ridge import KernelRidge

args = parse(__doc__ or "", rows=12_000)
n = max(100, round(args.fraction * args.rows))
X, y = make_regression(n_samples=n, n_features=20, noise=5.0, random_state=args.seed)
model = KernelRidge(alpha=1.0, kernel="rbf", gamma=0.05).fit(X, y)
print(f"rows={n} train_r2={model.score(X[:2000], y[:2000]):.3f}")
