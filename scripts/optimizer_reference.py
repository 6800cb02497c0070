#!/usr/bin/env python3
"""PyTorch's own optimizers, in float64, on a small fixed problem: the
reference values that test/model/optimizer.test.ts holds src/model/optimizer.ts
to (relative 1e-12). Not a dependency of the project: run it with any PyTorch,
for example Debian's (`apt-get install python3-torch`, 1.13 on bookworm):

    /usr/bin/python3 scripts/optimizer_reference.py > test/fixtures/optimizers_torch.json

The problem: 5 parameters, a weight matrix W [1, 3] and a bias b [2] (AdamW
decays W only, as this project decays weights only), on the quadratic
E = 1/2 sum_i a_i (p_i - c_i)^2, whose gradient a * (p - c) makes the
trajectories overshoot c so that Rprop sees sign changes. Every step records
the gradient it was given (the test feeds the same gradients, so the
comparison does not depend on recomputing E), then the parameters and the
optimizer's state after the step. Optimizers: SGD with momentum (heavy ball),
SGD(nesterov=True), Adam, AdamW, Rprop (PyTorch's Rprop is iRprop-).
"""
import json

import torch

STEPS = 8
P0 = [0.8, -1.3, 0.05, 0.4, -0.02]
A = [3.0, 0.7, 12.0, 1.5, 40.0]
C = [0.1, 0.9, -0.3, 0.45, 0.3]

# Settings in this project's names; the constructor of each PyTorch optimizer below.
CASES = {
    'sgd': {'settings': {'name': 'sgd', 'momentum': 0.9}, 'lr': 0.02},
    'nesterov': {'settings': {'name': 'nesterov', 'momentum': 0.9}, 'lr': 0.02},
    'adam': {'settings': {'name': 'adam', 'beta1': 0.9, 'beta2': 0.999, 'eps': 1e-8}, 'lr': 0.05},
    'adamw': {'settings': {'name': 'adamw', 'beta1': 0.8, 'beta2': 0.99, 'eps': 1e-6, 'weight_decay': 0.5}, 'lr': 0.05},
    'rprop': {
        'settings': {'name': 'rprop', 'eta_minus': 0.5, 'eta_plus': 1.2, 'step_init': 0.1, 'step_min': 1e-6, 'step_max': 50, 'variant': 'irprop-'},
        'lr': 0.1,
    },
}


def make(name, groups, lr, s):
    if name == 'sgd':
        return torch.optim.SGD(groups, lr=lr, momentum=s['momentum'])
    if name == 'nesterov':
        return torch.optim.SGD(groups, lr=lr, momentum=s['momentum'], nesterov=True)
    if name == 'adam':
        return torch.optim.Adam(groups, lr=lr, betas=(s['beta1'], s['beta2']), eps=s['eps'])
    if name == 'adamw':
        # weight decay on W only: the bias in its own group with none
        return torch.optim.AdamW(
            [{'params': groups[0:1]}, {'params': groups[1:2], 'weight_decay': 0.0}],
            lr=lr, betas=(s['beta1'], s['beta2']), eps=s['eps'], weight_decay=s['weight_decay'],
        )
    if name == 'rprop':
        return torch.optim.Rprop(groups, lr=s['step_init'], etas=(s['eta_minus'], s['eta_plus']), step_sizes=(s['step_min'], s['step_max']))
    raise ValueError(name)


# This project's state tensor names -> PyTorch's state keys.
STATE_KEYS = {
    'sgd': {'velocity': 'momentum_buffer'},
    'nesterov': {'velocity': 'momentum_buffer'},
    'adam': {'exp_avg': 'exp_avg', 'exp_avg_sq': 'exp_avg_sq'},
    'adamw': {'exp_avg': 'exp_avg', 'exp_avg_sq': 'exp_avg_sq'},
    'rprop': {'step_size': 'step_size', 'prev': 'prev'},
}


def flat(ts):
    return [float(x) for t in ts for x in t.detach().reshape(-1).tolist()]


def run(name, case):
    W = torch.tensor([P0[0:3]], dtype=torch.float64, requires_grad=True)
    b = torch.tensor(P0[3:5], dtype=torch.float64, requires_grad=True)
    a = torch.tensor(A, dtype=torch.float64)
    c = torch.tensor(C, dtype=torch.float64)
    opt = make(name, [W, b], case['lr'], case['settings'])
    steps = []
    for _ in range(STEPS):
        with torch.no_grad():
            p = torch.cat([W.reshape(-1), b])
            g = a * (p - c)
        W.grad = g[0:3].reshape(1, 3).clone()
        b.grad = g[3:5].clone()
        opt.step()
        state = {ours: flat([opt.state[W][theirs], opt.state[b][theirs]]) for ours, theirs in STATE_KEYS[name].items()}
        steps.append({'grad': g.tolist(), 'params': flat([W, b]), 'state': state})
    return {'settings': case['settings'], 'lr': case['lr'], 'steps': steps}


def main():
    torch.set_default_dtype(torch.float64)
    out = {
        'torch': torch.__version__,
        'problem': {'params': P0, 'a': A, 'c': C, 'weights': [0, 3], 'steps': STEPS},
        'optimizers': {name: run(name, case) for name, case in CASES.items()},
    }
    print(json.dumps(out, indent=1))


if __name__ == '__main__':
    main()
