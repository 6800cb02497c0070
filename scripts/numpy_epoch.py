#!/usr/bin/env python3
"""Side-by-side reference for `npm run bench -- --epoch`: one epoch of the same
training step in numpy (whatever BLAS it links; OpenBLAS here), so the two can
be compared in the same sitting on the same machine.

    python3 scripts/numpy_epoch.py [--hidden 800] [--batch 128]
    python3 scripts/numpy_epoch.py --hidden 1024,1024 --relu-ce   # W4

Network 784-H-10 (--hidden 1024,1024 for 784-1024-1024-10), sigmoid hidden
and output (glorot_uniform), squared error, plain SGD with the batch-mean
gradient, lr 0.5. With --relu-ce, the bench's W4 step: ReLU hidden,
he_uniform weights and zero biases, softmax and cross-entropy (output delta
y - d), SGD with momentum 0.9 (v = 0.9 v + g, W -= lr v, as PyTorch), lr 0.1.
Float32 throughout; backprop by hand. Prints seconds per epoch and effective
GFLOP/s by the bench's count (4*784*H + 60*H per sample for 784-H-10:
forward, weight gradients, hidden deltas; epoch_common.py).
"""
import time

import numpy as np

from epoch_common import arguments, mnist_train, report


def main() -> None:
    a = arguments()
    X, L = mnist_train()
    N, B, sizes, ce = len(L), a.batch, a.sizes, a.relu_ce
    rng = np.random.default_rng(1)
    lims = [np.sqrt(6 / i) if ce else np.sqrt(6 / (i + o)) for i, o in zip(sizes[:-1], sizes[1:])]
    W = [rng.uniform(-m, m, (o, i)).astype(np.float32) for m, i, o in zip(lims, sizes[:-1], sizes[1:])]
    b = [np.zeros(o, np.float32) for o in sizes[1:]]
    if not ce:
        b[-1][:] = -np.log(9)
    V = [np.zeros_like(p) for p in W + b] if ce else None  # momentum buffers
    eye = np.eye(10, dtype=np.float32)
    lr = np.float32(0.1 if ce else 0.5)
    times = []
    for _ in range(a.epochs):
        order = rng.permutation(N)
        t0 = time.perf_counter()
        for k in range(0, N, B):
            idx = order[k:k + B]
            acts = [X[idx].astype(np.float32) / np.float32(255)]
            for l in range(len(W)):
                z = acts[-1] @ W[l].T + b[l]
                if l < len(W) - 1:
                    acts.append(np.maximum(z, 0) if ce else 1 / (1 + np.exp(-z)))
                elif ce:
                    e = np.exp(z - z.max(1, keepdims=True))
                    y = e / e.sum(1, keepdims=True)
                else:
                    y = 1 / (1 + np.exp(-z))
            d = y - eye[L[idx]] if ce else (y - eye[L[idx]]) * y * (1 - y)
            s = lr / np.float32(len(idx))
            for l in reversed(range(len(W))):
                gW, gb = d.T @ acts[l], d.sum(0)
                if l > 0:
                    d = (d @ W[l]) * ((acts[l] > 0) if ce else acts[l] * (1 - acts[l]))
                for j, (p, g) in enumerate(((W[l], gW), (b[l], gb))):
                    if V is None:
                        p -= s * g
                    else:
                        v = V[l + j * len(W)]
                        v *= np.float32(0.9)
                        v += g
                        p -= s * v
        times.append(time.perf_counter() - t0)
    report(f"numpy {np.__version__}", sizes, B, times, N)


if __name__ == "__main__":
    main()
