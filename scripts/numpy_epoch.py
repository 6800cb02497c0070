#!/usr/bin/env python3
"""Side-by-side reference for `npm run bench -- --epoch`: one epoch of the same
training step in numpy (whatever BLAS it links; OpenBLAS here), so the two can
be compared in the same sitting on the same machine.

    python3 scripts/numpy_epoch.py [--hidden 800] [--batch 128]

Network 784-H-10, sigmoid hidden and output, squared error, plain SGD with the
batch-mean gradient; float32 throughout. Prints seconds per epoch and effective
GFLOP/s by the count 4*784*H + 60*H per sample (forward, weight gradients,
hidden delta), as the bench does.
"""
import time

import numpy as np

from epoch_common import arguments, mnist_train, report


def main() -> None:
    a = arguments()
    X, L = mnist_train()
    N, H, B = len(L), a.hidden, a.batch
    rng = np.random.default_rng(1)
    lim1, lim2 = np.sqrt(6 / (784 + H)), np.sqrt(6 / (H + 10))
    W1 = rng.uniform(-lim1, lim1, (H, 784)).astype(np.float32)
    W2 = rng.uniform(-lim2, lim2, (10, H)).astype(np.float32)
    b1, b2 = np.zeros(H, np.float32), np.full(10, -np.log(9), np.float32)
    eye = np.eye(10, dtype=np.float32)
    lr = np.float32(0.5)
    times = []
    for _ in range(a.epochs):
        order = rng.permutation(N)
        t0 = time.perf_counter()
        for k in range(0, N, B):
            idx = order[k:k + B]
            x = X[idx].astype(np.float32) / np.float32(255)
            d = eye[L[idx]]
            a1 = 1 / (1 + np.exp(-(x @ W1.T + b1)))
            y = 1 / (1 + np.exp(-(a1 @ W2.T + b2)))
            d2 = (y - d) * y * (1 - y)
            d1 = (d2 @ W2) * a1 * (1 - a1)
            s = lr / np.float32(len(idx))
            W2 -= s * (d2.T @ a1)
            b2 -= s * d2.sum(0)
            W1 -= s * (d1.T @ x)
            b1 -= s * d1.sum(0)
        times.append(time.perf_counter() - t0)
    report(f"numpy {np.__version__}", H, B, times, N)


if __name__ == "__main__":
    main()
