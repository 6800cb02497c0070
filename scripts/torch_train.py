#!/usr/bin/env python3
"""PyTorch twin of `mlp-train`: the same config trained with PyTorch's own
optimizers (torch.optim), so the results table can put them beside ours on
the same setting. Not a dependency of the project: run it with any PyTorch,
for example Debian's (`apt-get install python3-torch libopenblas0-pthread`,
1.13 on bookworm, then `/usr/bin/python3`; without OpenBLAS, Debian's torch
falls back to the reference BLAS, about 5x slower), from anywhere, with node
on the PATH:

    OMP_WAIT_POLICY=passive /usr/bin/python3 scripts/torch_train.py -c configs/X.yaml \
        [--set key=value ...] [--seeds 3] [--threads 2] [--json] [--log-every N]

The config is resolved by `mlp-train --print-config`, so defaults and --set
mean what they mean there. Mirrored: the network, init and output bias prior,
the summed objective (mse or cross-entropy, L2 on the weights once per batch)
stepped on E/d, the lr schedule and warm-up per step, the batches (the last
short one kept, reshuffled each epoch from the file order), dropout and
max-norm (torch.nn.Dropout, Tensor.renorm_), softplus and maxout units, the validation
split, best-validation tracking and early stopping. The test accuracy is the
last epoch's weights', as summary.json's test_accuracy; with a validation
split the best-validation weights' is printed too (summary.json's best).
Random draws are torch's/numpy's, so seeds match ours in name only.
Refused (exit 2): data files other than the bundled MNIST, the
discriminative term, Rprop's irprop+ variant (not in torch).
--seeds k runs model.seed = 1..k, as `mlp-reproduce --seeds k`.
"""
import argparse
import copy
import json
import math
import os
import statistics
import subprocess
import sys
import time
from typing import TextIO

import numpy as np
import torch
import yaml

from epoch_common import DATA, ROOT

Data = dict[str, tuple[torch.Tensor, torch.Tensor]]  # name -> (images [n, 784] float32, labels [n] int64)
ACTIVATIONS = {"sigmoid": torch.nn.Sigmoid, "tanh": torch.nn.Tanh, "relu": torch.nn.ReLU, "softplus": torch.nn.Softplus}


class Maxout(torch.nn.Module):
    """Unit h of a Linear(in, H*k) is the max of its k pieces z[h*k + j] (pieces fastest), as model.hidden: maxout."""

    def __init__(self, k: int):
        super().__init__()
        self.k = k

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return z.view(z.shape[0], -1, self.k).max(dim=-1).values


def arguments() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-c", "--config", required=True, help="config YAML, as mlp-train -c")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="as mlp-train --set (repeatable)")
    ap.add_argument("--seeds", type=int, default=0, help="run model.seed = 1..k (0: the config's seed only)")
    ap.add_argument("--threads", type=int, default=2, help="torch.set_num_threads")
    ap.add_argument("--json", action="store_true", help="one JSON object on stdout; the lines go to stderr")
    ap.add_argument("--log-every", type=int, default=0, metavar="N", help="a line every N epochs")
    return ap.parse_args()


def refuse(why: str) -> None:
    print(f"torch_train: {why}", file=sys.stderr)
    sys.exit(2)


def resolve_config(path: str, sets: list[str]) -> dict:
    """The config as mlp-train resolves it (defaults filled in, --set applied, validated)."""
    cmd = ["node", os.path.join(ROOT, "bin", "mlp-train.js"), "-c", os.path.abspath(path), "--print-config"]
    for s in sets:
        cmd += ["--set", s]
    run = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    if run.returncode != 0:
        refuse(f"mlp-train --print-config failed:\n{run.stderr.strip()}")
    return yaml.safe_load(run.stdout)


def check_supported(cfg: dict) -> None:
    d = cfg["data"]
    paths = [d[split][kind] for split in ("train", "test") for kind in ("images", "labels")]
    if any(p is not None for p in paths):
        refuse("data.train/data.test files are not supported: the twin reads the bundled MNIST only")
    if float(cfg["regularization"]["discriminative"]) > 0:
        refuse("regularization.discriminative > 0 is not supported by the twin")
    t = cfg["training"]
    if t["optimizer"] == "rprop" and t["rprop"]["variant"] != "irprop-":
        refuse(f"training.rprop.variant {t['rprop']['variant']} is not in torch (its Rprop is irprop-)")


def read_idx(prefix: str) -> tuple[torch.Tensor, torch.Tensor]:
    X = np.fromfile(os.path.join(DATA, f"{prefix}-images-idx3-ubyte"), dtype=np.uint8)[16:].reshape(-1, 784)
    L = np.fromfile(os.path.join(DATA, f"{prefix}-labels-idx1-ubyte"), dtype=np.uint8)[8:]
    return torch.from_numpy(X.astype(np.float32) / np.float32(255)), torch.from_numpy(L.astype(np.int64))


def load_data(cfg: dict, seed: int) -> Data:
    """train (limited, then minus the validation hold-out, in file order), validation (if any), test."""
    X, L = read_idx("train")
    limit, n_val = cfg["data"]["limit"], cfg["data"]["validation"]
    if 0 < limit < len(L):
        X, L = X[:limit], L[:limit]
    out: Data = {"test": read_idx("t10k")}
    if n_val > 0:
        is_val = np.zeros(len(L), dtype=bool)
        is_val[np.random.default_rng(seed).permutation(len(L))[:n_val]] = True
        keep = torch.from_numpy(~is_val)
        out["validation"] = (X[~keep], L[~keep])
        X, L = X[keep], L[keep]
    out["train"] = (X, L)
    return out


def build_model(m: dict, dropout: dict) -> torch.nn.Sequential:
    """Linear layers with the hidden activation (and dropout) between them; the output activation is applied by outputs()."""
    sizes = m["layers"]
    k = m["maxout_pieces"] if m["hidden"] == "maxout" else 1
    layers: list[torch.nn.Module] = [torch.nn.Dropout(dropout["input"])] if dropout["input"] > 0 else []
    for l, (I, O) in enumerate(zip(sizes[:-1], sizes[1:])):
        if l == len(sizes) - 2:
            layers.append(torch.nn.Linear(I, O))
            break
        layers += [torch.nn.Linear(I, O * k), Maxout(k) if k > 1 else ACTIVATIONS[m["hidden"]]()]
        if dropout["hidden"] > 0:
            layers.append(torch.nn.Dropout(dropout["hidden"]))
    net = torch.nn.Sequential(*layers)
    with torch.no_grad():
        for lin in linears(net):
            init_weight(lin.weight, m["init"])
            lin.bias.zero_()
        if m["output_bias"] == "prior" and m["output"] == "sigmoid" and sizes[-1] > 1:
            linears(net)[-1].bias.fill_(-math.log(sizes[-1] - 1))  # logit(1/K); softmax stays at 0
    return net


def linears(net: torch.nn.Sequential) -> list[torch.nn.Linear]:
    return [x for x in net if isinstance(x, torch.nn.Linear)]


def init_weight(W: torch.Tensor, scheme: str) -> None:
    """src/model/init.ts: W[O, I], fan_in = I, fan_out = O."""
    O, I = W.shape
    uniform = {"glorot_uniform": 6 / (I + O), "he_uniform": 6 / I, "lecun_uniform": 3 / I}
    normal = {"glorot_normal": 2 / (I + O), "he_normal": 2 / I, "lecun_normal": 1 / I}
    if scheme in uniform:
        a = math.sqrt(uniform[scheme])
        W.uniform_(-a, a)
    else:
        W.normal_(0, math.sqrt(normal[scheme]))


def objective(net: torch.nn.Sequential, cfg: dict, X: torch.Tensor, L: torch.Tensor) -> torch.Tensor:
    """E of the batch, summed over its rows: the data term plus lambda/2 sum ||W||^2 once."""
    Z = net(X)
    if cfg["loss"] == "cross_entropy":
        E = -torch.log_softmax(Z, dim=1).gather(1, L[:, None]).sum()
    else:
        Y = outputs(Z, cfg["model"]["output"])
        E = 0.5 * ((Y - torch.nn.functional.one_hot(L, Y.shape[1]).to(Y.dtype)) ** 2).sum()
    lam = float(cfg["regularization"]["l2"])
    if lam > 0:
        E = E + 0.5 * lam * sum((lin.weight ** 2).sum() for lin in linears(net))
    return E


def outputs(Z: torch.Tensor, activation: str) -> torch.Tensor:
    return torch.softmax(Z, dim=1) if activation == "softmax" else torch.sigmoid(Z)


def make_optimizer(net: torch.nn.Sequential, t: dict) -> torch.optim.Optimizer:
    name, lr = t["optimizer"], float(t["lr"])
    if name in ("sgd", "nesterov"):
        return torch.optim.SGD(net.parameters(), lr=lr, momentum=float(t["momentum"]), nesterov=name == "nesterov")
    if name == "adam":
        a = t["adam"]
        return torch.optim.Adam(net.parameters(), lr=lr, betas=(float(a["beta1"]), float(a["beta2"])), eps=float(a["eps"]))
    if name == "adamw":  # decoupled decay of the weights only: the biases go in a group without
        a = t["adamw"]
        groups = [{"params": [x.weight for x in linears(net)], "weight_decay": float(a["weight_decay"])},
                  {"params": [x.bias for x in linears(net)], "weight_decay": 0.0}]
        return torch.optim.AdamW(groups, lr=lr, betas=(float(a["beta1"]), float(a["beta2"])), eps=float(a["eps"]))
    r = t["rprop"]
    return torch.optim.Rprop(net.parameters(), lr=float(r["step_init"]), etas=(float(r["eta_minus"]), float(r["eta_plus"])),
                             step_sizes=(float(r["step_min"]), float(r["step_max"])))


def step_lr(t: dict, e: int, step: int) -> float:
    """src/train/schedule.ts: lrAt(epoch e, 0-based) * warmupFactor(step, 0-based over the run)."""
    s, base, epochs = t["lr_schedule"], float(t["lr"]), t["epochs"]
    if s["type"] == "step":
        base *= float(s["factor"]) ** (e // s["every"])
    elif s["type"] == "cosine":
        base = 0.5 * base * (1 + math.cos(math.pi * e / epochs))
    w = s["warmup_steps"]
    return base * (min(1.0, (step + 1) / w) if w > 0 else 1.0)


@torch.no_grad()
def accuracy(net: torch.nn.Sequential, data: tuple[torch.Tensor, torch.Tensor]) -> float:
    X, L = data
    net.eval()  # no dropout
    hits = (net(X).argmax(dim=1) == L).double().mean().item()  # argmax of the logits = of the outputs
    net.train()
    return hits


def train_epoch(net: torch.nn.Sequential, opt: torch.optim.Optimizer, cfg: dict, data: Data, e: int, gen: torch.Generator) -> float:
    """One pass over the training set; returns the epoch's loss, sum of the batches' E / samples."""
    t = cfg["training"]
    X, L = data["train"]
    n = len(L)
    size = n if t["batch_size"] == "full" else min(t["batch_size"], n)
    count = -(-n // size)  # the last batch may be short
    order = torch.randperm(n, generator=gen) if t["shuffle"] and count > 1 else None
    total = 0.0
    for k in range(count):
        idx = None if order is None else order[k * size:(k + 1) * size]
        xb, lb = (X[k * size:(k + 1) * size], L[k * size:(k + 1) * size]) if idx is None else (X[idx], L[idx])
        E = objective(net, cfg, xb, lb)
        if not math.isfinite(E.item()):
            print(f"torch_train: training diverged at epoch {e + 1}, batch {k + 1}: the loss is {E.item()}", file=sys.stderr)
            sys.exit(1)
        total += E.item()
        if t["optimizer"] != "rprop":  # Rprop takes no lr and no schedule
            for g in opt.param_groups:
                g["lr"] = step_lr(t, e, e * count + k)
        opt.zero_grad(set_to_none=True)
        (E / len(lb)).backward()
        opt.step()
        c = float(cfg["regularization"]["max_norm"])
        if c > 0:  # every unit's incoming weights (a row of W) onto the ball of radius c
            with torch.no_grad():
                for lin in linears(net):
                    lin.weight.renorm_(2, 0, c)
    return total / n


def train_seed(cfg: dict, seed: int, log_every: int, out: TextIO) -> dict:
    """Train model.seed = seed; the last weights' test accuracy, and the best-validation weights' when split."""
    torch.manual_seed(seed)
    data = load_data(cfg, seed)
    net = build_model(cfg["model"], cfg["regularization"]["dropout"])
    opt = make_optimizer(net, cfg["training"])
    gen = torch.Generator().manual_seed(seed)
    patience = cfg["training"]["early_stopping"]["patience"]
    best: dict | None = None
    seconds, epoch = 0.0, 0
    for epoch in range(1, cfg["training"]["epochs"] + 1):
        t0 = time.perf_counter()
        loss = train_epoch(net, opt, cfg, data, epoch - 1, gen)
        seconds += time.perf_counter() - t0
        val = accuracy(net, data["validation"]) if "validation" in data else None
        if log_every > 0 and epoch % log_every == 0:
            v = "" if val is None else f"  val {100 * val:.2f}%"
            print(f"  seed {seed} epoch {epoch}  loss {loss:.5f}{v}  test {100 * accuracy(net, data['test']):.2f}%", file=out)
        if val is not None and (best is None or val > best["val_accuracy"]):  # trainer.ts trackBest
            best = {"epoch": epoch, "val_accuracy": val, "state": copy.deepcopy(net.state_dict())}
        elif best is not None and patience > 0 and epoch - best["epoch"] >= patience:
            break
    result = {"seed": seed, "test_accuracy": accuracy(net, data["test"]), "epochs": epoch, "train_seconds": seconds}
    if best is not None:
        net.load_state_dict(best.pop("state"))
        result["best"] = {**best, "test_accuracy": accuracy(net, data["test"])}
    return result


def seed_line(r: dict) -> str:
    b = r.get("best")
    best = f"  (best val epoch {b['epoch']}: val {100 * b['val_accuracy']:.2f}%, test {100 * b['test_accuracy']:.2f}%)" if b else ""
    return f"seed {r['seed']}: test {100 * r['test_accuracy']:.2f}%  {r['epochs']} epochs  {r['train_seconds']:.1f} s{best}"


def main() -> None:
    a = arguments()
    cfg = resolve_config(a.config, a.set)
    check_supported(cfg)
    torch.set_num_threads(a.threads)
    out = sys.stderr if a.json else sys.stdout
    seeds = list(range(1, a.seeds + 1)) if a.seeds > 0 else [cfg["model"]["seed"]]
    results = []
    for seed in seeds:
        cfg["model"]["seed"] = seed
        results.append(train_seed(cfg, seed, a.log_every, out))
        print(seed_line(results[-1]), file=out, flush=True)
    accs = [r["test_accuracy"] for r in results]  # fractions, as summary.json and mlp-reproduce
    mean, sd = statistics.mean(accs), statistics.stdev(accs) if len(accs) > 1 else 0.0  # src/reproduce/stats.ts
    med = statistics.median(r["train_seconds"] for r in results)
    print(f"torch {torch.__version__} ({a.threads} threads) {cfg['training']['optimizer']}: test {100 * mean:.2f} ± {100 * sd:.2f}% "
          f"over {len(seeds)} seed{'s' if len(seeds) > 1 else ''}, median {med:.1f} s training", file=out)
    if a.json:
        summary = {"config": a.config, "set": a.set, "torch_version": torch.__version__, "threads": a.threads,
                   "seeds": results, "mean": mean, "sd": sd, "median_train_seconds": med}
        print(json.dumps(summary))

if __name__ == "__main__":
    main()
