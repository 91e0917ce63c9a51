"""Hierarchical clustering (scikit-learn AgglomerativeClustering, Ward linkage): all pairwise
distances, about n^2 time and memory.

    mlscope calibrate -- python examples/calibrate/train_ward.py --fraction {fraction}
"""

from __future__ import annotations

from _common import parse
from sklearn.cluster import AgglomerativeClustering
from sklearn.datasets import make_blobs

args = parse(__doc__ or "", rows=20_000)
n = max(100, round(args.fraction * args.rows))
X, _ = make_blobs(n_samples=n, n_features=10, centers=12, random_state=args.seed)
labels = AgglomerativeClustering(n_clusters=12, linkage="ward").fit_predict(X)
print(f"rows={n} clusters={labels.max() + 1}")
