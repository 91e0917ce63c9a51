"""A kernel SVM (scikit-learn SVC, RBF kernel): cost superlinear in the rows (about n^2).

    mlscope calibrate -- python examples/calibrate/train_svc.py --fraction {fraction}
"""

from __future__ import annotations

from _common import parse
from sklearn.datasets import make_classification
from sklearn.svm import SVC

args = parse(__doc__ or "", rows=30_000)
n = max(100, round(args.fraction * args.rows))
X, y = make_classification(n_samples=n, n_features=20, n_informative=10, flip_y=0.05,
                           random_state=args.seed)
model = SVC(kernel="rbf", C=1.0, gamma="scale").fit(X, y)
print(f"rows={n} support_vectors={len(model.support_)}")
