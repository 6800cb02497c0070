#!/usr/bin/env python3
"""Side-by-side reference for `npm run bench -- --epoch`: one epoch of the same
training in PyTorch on the CPU, to compare in the same sitting on the same machine.
Not a dependency of the project: run it with any PyTorch, for example Debian's
(`apt-get install python3-torch`, 1.13 on bookworm, then `/usr/bin/python3`):

    OMP_WAIT_POLICY=passive /usr/bin/python3 scripts/torch_epoch.py [--hidden 800] [--batch 128] [--threads 2]

Network 784-H-10 (nn.Linear), sigmoid hidden and output, squared error summed
over the batch, SGD with momentum 0.9 on the batch mean, float32 - the default
config's step. The images are converted to floats once, before timing (the
trainer converts each batch's bytes inside its epoch time). Prints seconds per
epoch (median) and effective GFLOP/s by the count 4*784*H + 60*H per sample.
"""
import time

import numpy as np
import torch

from epoch_common import arguments, mnist_train, report


def main() -> None:
    a = arguments(threads=2)
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    X, L = mnist_train()
    X = torch.from_numpy(X.astype(np.float32) / np.float32(255))
    D = torch.eye(10)[torch.from_numpy(L.astype(np.int64))]
    N, H, B = len(L), a.hidden, a.batch
    net = torch.nn.Sequential(torch.nn.Linear(784, H), torch.nn.Sigmoid(), torch.nn.Linear(H, 10), torch.nn.Sigmoid())
    opt = torch.optim.SGD(net.parameters(), lr=0.5, momentum=0.9)
    times = []
    for _ in range(a.epochs):
        order = torch.randperm(N)
        t0 = time.perf_counter()
        for k in range(0, N, B):
            idx = order[k:k + B]
            y = net(X[idx])
            loss = 0.5 * ((y - D[idx]) ** 2).sum() / len(idx)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        times.append(time.perf_counter() - t0)
    report(f"torch {torch.__version__} ({a.threads} threads)", H, B, times, N)


if __name__ == "__main__":
    main()
