#!/usr/bin/env python3
"""Side-by-side reference for `npm run bench -- --epoch`: one epoch of the same
training in PyTorch on the CPU, to compare in the same sitting on the same machine.
Not a dependency of the project: run it with any PyTorch, for example Debian's
(`apt-get install python3-torch`, 1.13 on bookworm, then `/usr/bin/python3`):

    OMP_WAIT_POLICY=passive /usr/bin/python3 scripts/torch_epoch.py [--hidden 800] [--batch 128] [--threads 2]
    OMP_WAIT_POLICY=passive /usr/bin/python3 scripts/torch_epoch.py --hidden 1024,1024 --relu-ce   # W4

Network 784-H-10 (nn.Linear; --hidden 1024,1024 for 784-1024-1024-10),
sigmoid hidden and output, squared error summed over the batch, SGD with
momentum 0.9 on the batch mean, lr 0.5, float32 - the default config's step.
With --relu-ce, the bench's W4 step: ReLU hidden, he_uniform weights
(kaiming_uniform_) and zero biases, F.cross_entropy on the logits (batch
mean), lr 0.1, momentum 0.9. The images are converted to floats once, before
timing (the trainer converts each batch's bytes inside its epoch time). Prints
seconds per epoch (median) and effective GFLOP/s by the bench's count
(4*784*H + 60*H per sample for 784-H-10; epoch_common.py).
"""
import time

import numpy as np
import torch
import torch.nn.functional as F

from epoch_common import arguments, mnist_train, report


def network(sizes: list[int], relu_ce: bool) -> torch.nn.Sequential:
    layers: list[torch.nn.Module] = []
    for i, o in zip(sizes[:-1], sizes[1:]):
        lin = torch.nn.Linear(i, o)
        if relu_ce:
            torch.nn.init.kaiming_uniform_(lin.weight, nonlinearity="relu")  # U(-a, a), a = sqrt(6 / fan_in)
            torch.nn.init.zeros_(lin.bias)
        layers += [lin, torch.nn.ReLU() if relu_ce else torch.nn.Sigmoid()]
    return torch.nn.Sequential(*(layers[:-1] if relu_ce else layers))  # --relu-ce: logits out


def main() -> None:
    a = arguments(threads=2)
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    X, L = mnist_train()
    X = torch.from_numpy(X.astype(np.float32) / np.float32(255))
    T = torch.from_numpy(L.astype(np.int64))
    D = torch.eye(10)[T]
    N, B = len(L), a.batch
    net = network(a.sizes, a.relu_ce)
    opt = torch.optim.SGD(net.parameters(), lr=0.1 if a.relu_ce else 0.5, momentum=0.9)
    times = []
    for _ in range(a.epochs):
        order = torch.randperm(N)
        t0 = time.perf_counter()
        for k in range(0, N, B):
            idx = order[k:k + B]
            y = net(X[idx])
            loss = F.cross_entropy(y, T[idx]) if a.relu_ce else 0.5 * ((y - D[idx]) ** 2).sum() / len(idx)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        times.append(time.perf_counter() - t0)
    report(f"torch {torch.__version__} ({a.threads} threads)", a.sizes, B, times, N)


if __name__ == "__main__":
    main()
