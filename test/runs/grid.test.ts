// The points of a sweep: --grid parsing, every combination, random draws,
// folder names, the sweep file, and every point's config validated up front.
import { describe, expect, it } from 'vitest';
import { gridSettings, parseGridFlag, pointNames, withRandom } from '../../src/runs/grid.js';
import { readSweepFile, sweepPoints } from '../../src/runs/sweep-spec.js';
import { join } from 'node:path';
import { ROOT } from '../helpers/cli.js';
import { useTempFiles } from '../helpers/files.js';

describe('--grid', () => {
  it('splits values on commas outside brackets', () => {
    expect(parseGridFlag('training.lr=0.5,1,2')).toEqual({ key: 'training.lr', values: ['0.5', '1', '2'] });
    expect(parseGridFlag('model.layers=[784,100,10],[784,300,10]').values).toEqual(['[784,100,10]', '[784,300,10]']);
    expect(() => parseGridFlag('training.lr')).toThrow(/expected KEY=V1,V2/);
    expect(() => parseGridFlag('training.lr=1,,2')).toThrow(/an empty value/);
  });

  it('every combination, the first axis slowest; a key twice is refused', () => {
    const points = gridSettings([parseGridFlag('a.x=1,2'), parseGridFlag('b.y=p,q,r')]);
    expect(points).toHaveLength(6);
    expect(points[0]).toEqual({ 'a.x': '1', 'b.y': 'p' });
    expect(points[3]).toEqual({ 'a.x': '2', 'b.y': 'p' });
    expect(() => gridSettings([parseGridFlag('a.x=1'), parseGridFlag('a.x=2')])).toThrow(/given twice/);
  });

  it('names: last key parts, whole keys when those collide, numbered when settings repeat', () => {
    expect(pointNames([{ 'training.lr': '0.5', 'model.seed': '1' }])).toEqual(['lr-0.5_seed-1']);
    expect(pointNames([{ 'a.lr': '1', 'b.lr': '2' }, { 'a.lr': '2', 'b.lr': '1' }])).toEqual(['lr-1_lr-2', 'lr-2_lr-1']);
    expect(pointNames([{ 'model.layers': '[784,100,10]' }])).toEqual(['layers-784-100-10-']);
    expect(pointNames([{ 'a.x': '1' }, { 'a.x': '1' }])).toEqual(['1_a.x-1', '2_a.x-1']);
  });
});

describe('random draws', () => {
  const spec = {
    samples: 50,
    seed: 7,
    keys: {
      'training.momentum': { choice: [0.8, 0.9] },
      'training.lr': { log_uniform: [0.01, 1] as [number, number] },
      'regularization.l2': { uniform: [0, 0.001] as [number, number] },
    },
  };

  it('are seeded, inside their ranges, and combined with every grid point', () => {
    const a = withRandom([{ 'model.seed': '1' }, { 'model.seed': '2' }], spec);
    expect(a).toHaveLength(100);
    expect(withRandom([{ 'model.seed': '1' }, { 'model.seed': '2' }], spec)).toEqual(a);
    expect(withRandom([{}], { ...spec, seed: 8 })).not.toEqual(withRandom([{}], spec));
    for (const p of a) {
      expect(['0.8', '0.9']).toContain(p['training.momentum']);
      const lr = Number(p['training.lr']);
      expect(lr).toBeGreaterThanOrEqual(0.01);
      expect(lr).toBeLessThanOrEqual(1);
      const l2 = Number(p['regularization.l2']);
      expect(l2).toBeGreaterThanOrEqual(0);
      expect(l2).toBeLessThanOrEqual(0.001);
    }
    // the same draws for each grid point
    expect(a.slice(0, 50).map((p) => p['training.lr'])).toEqual(a.slice(50).map((p) => p['training.lr']));
    // log-uniform: about half the draws below the geometric middle 0.1
    const below = a.slice(0, 50).filter((p) => Number(p['training.lr']) < 0.1).length;
    expect(below).toBeGreaterThan(12);
    expect(below).toBeLessThan(38);
  });
});

describe('sweep file', () => {
  const tmp = useTempFiles('mlp-sweep-file-');

  it('resolves its config against its folder and validates every point before any run', () => {
    tmp.write('base.yaml', 'model:\n  layers: [784, 20, 10]\n');
    const file = tmp.write('s.yaml', 'config: base.yaml\ngrid:\n  training.lr: [0.5, 1]\n  model.hidden: [sigmoid, relu]\nmetric: test_loss\n');
    const spec = readSweepFile(file);
    expect(spec.metric).toBe('test_loss');
    const points = sweepPoints(spec, ['training.epochs=1'], tmp.dir);
    expect(points.map((p) => p.name)).toEqual(['lr-0.5_hidden-sigmoid', 'lr-0.5_hidden-relu', 'lr-1_hidden-sigmoid', 'lr-1_hidden-relu']);
    expect(points[3].config.model.layers).toEqual([784, 20, 10]);
    expect(points[3].config.model.hidden).toBe('relu');
    expect(points[3].config.training.lr).toBe(1);
    expect(points[3].config.training.epochs).toBe(1);

    const bad = tmp.write('bad.yaml', 'config: base.yaml\ngrid:\n  training.lr: [0.5, -1]\n');
    expect(() => sweepPoints(readSweepFile(bad), [], tmp.dir)).toThrow(/^point lr-1: --set: training\.lr: expected a positive number, got -1$/);
    const typo = tmp.write('typo.yaml', 'grid:\n  training.lr: [0.5]\nrandom: { samples: 2, keys: { training.lr: { normal: [0, 1] } } }\n');
    expect(() => readSweepFile(typo)).toThrow(/typo\.yaml.*random\.keys\.training\.lr/);
    const shipped = readSweepFile(join(ROOT, 'configs', 'sweeps', 'default-lr.yaml'));
    expect(sweepPoints(shipped, [], tmp.dir).map((p) => [p.config.training.lr, p.config.model.seed, p.config.model.layers])).toHaveLength(12);
    const empty = tmp.write('empty.yaml', 'config: base.yaml\n');
    expect(() => sweepPoints(readSweepFile(empty), [], tmp.dir)).toThrow(/needs at least one --grid/);
  });
});
