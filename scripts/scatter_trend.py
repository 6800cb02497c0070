#!/usr/bin/env python3
"""tr S_w and tr S_b of the outputs per epoch, averaged over the seeds of each row.

The trainer records them in metrics.jsonl (tr_sw, tr_sb: mean per mini-batch of
the scatter traces of the output activations, while the discriminative term is
on). Run folders as mlp-reproduce leaves them: <runs>/<row>/seed-<k>/.

    python3 scripts/scatter_trend.py runs/reproduce discriminative-0.1 discriminative-1 ...
"""
import json
import sys
from pathlib import Path


def main() -> None:
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    runs = Path(sys.argv[1])
    for row in sys.argv[2:]:
        seeds = sorted((runs / row).glob('seed-*/metrics.jsonl'))
        if not seeds:
            sys.exit(f'{runs / row}: no seed-*/metrics.jsonl')
        by_epoch: dict[int, list[dict]] = {}
        for f in seeds:
            for line in f.read_text().splitlines():
                m = json.loads(line)
                by_epoch.setdefault(m['epoch'], []).append(m)
        print(f'{row} ({len(seeds)} seeds)')
        print('  epoch   tr_sw   tr_sb   train acc   loss_data/sample')
        epochs = sorted(by_epoch)
        shown = [e for e in epochs if e in (1, 2, 5, 10, 20, 40, 60) or e == epochs[-1]]
        for e in shown:
            ms = by_epoch[e]
            mean = lambda k: sum(m[k] for m in ms) / len(ms)  # noqa: E731
            sw = mean('tr_sw') if ms[0]['tr_sw'] is not None else float('nan')
            sb = mean('tr_sb') if ms[0]['tr_sb'] is not None else float('nan')
            print(f'  {e:5d}  {sw:6.2f}  {sb:6.2f}   {100 * mean("train_accuracy"):7.2f}%   {mean("loss_data"):.4f}')


if __name__ == '__main__':
    main()
