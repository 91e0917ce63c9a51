"""A small numpy MLP (one hidden layer, ReLU, softmax) trained by minibatch SGD.

A fixed number of epochs over round(fraction * rows) synthetic rows: the cost per epoch grows
with the rows, and the data are generated inside the script (part of the fixed-plus-growing
cost, as in a real job that loads its data).

    mlscope calibrate -- python examples/calibrate/train_mlp.py --fraction {fraction}
    mlscope calibrate --axis iterations --target-iterations 8 \\
        -- python examples/calibrate/train_mlp.py --iterations {iterations}
"""

from __future__ import annotations

import numpy as np
from _common import parse

args = parse(__doc__ or "", rows=200_000, iterations=8, features=64, hidden=256, batch=256)
n = max(args.batch, round(args.fraction * args.rows))
rng = np.random.default_rng(args.seed)
X = rng.normal(size=(n, args.features)).astype(np.float32)
true_w = rng.normal(size=(args.features, 10)).astype(np.float32)
y = np.argmax(X @ true_w + rng.normal(size=(n, 10)).astype(np.float32), axis=1)
w1 = (rng.normal(size=(args.features, args.hidden)) / np.sqrt(args.features)).astype(np.float32)
w2 = (rng.normal(size=(args.hidden, 10)) / np.sqrt(args.hidden)).astype(np.float32)
lr = np.float32(0.05)
for _epoch in range(args.iterations):
    order = rng.permutation(n)
    for start in range(0, n, args.batch):
        idx = order[start:start + args.batch]
        xb, yb = X[idx], y[idx]
        h = np.maximum(xb @ w1, 0)
        logits = h @ w2
        logits -= logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        p /= p.sum(axis=1, keepdims=True)
        p[np.arange(len(idx)), yb] -= 1
        grad2 = h.T @ p / len(idx)
        dh = (p @ w2.T) * (h > 0)
        w1 -= lr * (xb.T @ dh / len(idx))
        w2 -= lr * grad2
accuracy = float(np.mean(np.argmax(np.maximum(X @ w1, 0) @ w2, axis=1) == y))
print(f"rows={n} epochs={args.iterations} train_accuracy={accuracy:.3f}")
