// The lines of a config error: `file:line:column: key.path: problem`, the
// parts there when known, long parts clipped; several problems under a count,
// the file's in file order before --set's.
import { describe, expect, it } from 'vitest';
import { ConfigProblems, formatProblem, type ConfigProblem } from '../../src/config/problems.js';
import { ConfigError } from '../../src/errors.js';

describe('formatProblem', () => {
  it.each<[ConfigProblem, string]>([
    [{ source: 'c.yaml', line: 3, col: 7, keyPath: 'training.lr', problem: 'expected a positive number, got -1' }, 'c.yaml:3:7: training.lr: expected a positive number, got -1'],
    [{ source: 'c.yaml', line: 2, col: 1, keyPath: '', problem: 'YAML syntax error: Tabs are not allowed as indentation' }, 'c.yaml:2:1: YAML syntax error: Tabs are not allowed as indentation'],
    [{ source: 'c.yaml', keyPath: '', problem: 'no such file' }, 'c.yaml: no such file'],
    [{ source: '--set', keyPath: 'model.hidden', problem: 'expected one of sigmoid, tanh, relu, got "gelu"' }, '--set: model.hidden: expected one of sigmoid, tanh, relu, got "gelu"'],
    [{ source: 'c.json', line: 1, col: 2, keyPath: 'k'.repeat(500), problem: 'unknown key' }, `c.json:1:2: ${'k'.repeat(97)}...: unknown key`],
    [{ source: 'c.json', line: 1, col: 2, keyPath: 'a', problem: 'p'.repeat(1000) }, `c.json:1:2: a: ${'p'.repeat(297)}...`],
  ])('%j', (problem, expected) => {
    expect(formatProblem(problem)).toBe(expected);
  });
});

describe('ConfigProblems', () => {
  it('is a ConfigError with the first problem as its fields; the file in file order, then --set', () => {
    const err = new ConfigProblems([
      { source: '--set', keyPath: 'loss', problem: 'b' },
      { source: 'c.yaml', line: 9, col: 3, keyPath: 'model.seed', problem: 'c' },
      { source: 'c.yaml', keyPath: 'loss', problem: 'd' },
      { source: 'c.yaml', line: 2, col: 5, keyPath: 'training.lr', problem: 'a' },
    ]);
    expect(err).toBeInstanceOf(ConfigError);
    expect([err.source, err.keyPath, err.problem]).toEqual(['c.yaml', 'training.lr', 'a']);
    expect(err.message).toBe(
      ['4 problems in the config:', '  c.yaml:2:5: training.lr: a', '  c.yaml:9:3: model.seed: c', '  c.yaml: loss: d', '  --set: loss: b'].join('\n'),
    );
  });

  it('one problem is one line', () => {
    expect(new ConfigProblems([{ source: 'c.yaml', line: 1, col: 1, keyPath: 'x', problem: 'unknown key' }]).message).toBe('c.yaml:1:1: x: unknown key');
  });
});
