// What a YAML config cannot mean is refused with its place: tags beyond the
// plain types, aliases without an anchor, keys that are not words; and what
// would cost too much (entries, nesting) is refused before the parser runs.
// In expected messages, FILE stands for the temp file's path.
import { describe, expect, it } from 'vitest';
import { configDiff, loadConfig } from '../../src/config/load.js';
import { ConfigError } from '../../src/errors.js';
import { errorOf } from '../helpers/errors.js';
import { useTempFiles } from '../helpers/files.js';

const { write } = useTempFiles('mlp-yaml-');

const PLAIN = '(a config holds plain mappings, lists, strings, numbers, true/false and null)';
const DEPTH = 'nesting deeper than the 32-level limit for a config file';

function messageOf(name: string, text: string, sets: string[] = []): string {
  const file = write(name, text);
  return errorOf(ConfigError, () => loadConfig(file, sets)).message.replaceAll(file, 'FILE');
}

describe('tags the schema does not expect', () => {
  it.each<[string, string]>([
    // issue 17 D: these used to resolve to the defaults without a word
    ['data: !!omap [limit: 2000]\n', `FILE:1:14: data: YAML tag !!omap is not supported ${PLAIN}`],
    ['data: !!set {limit, validation}\n', `FILE:1:13: data: YAML tag !!set is not supported ${PLAIN}`],
    ['data: !!pairs [limit: 2000]\n', `FILE:1:15: data: YAML tag !!pairs is not supported ${PLAIN}`],
    ['data: !<tag:yaml.org,2002:omap> [limit: 2000]\n', `FILE:1:33: data: YAML tag !!omap is not supported ${PLAIN}`],
    ['output:\n  dir: !!binary cnVucy9h\n', `FILE:2:17: output.dir: YAML tag !!binary is not supported ${PLAIN}`],
    ['output:\n  dir: !!timestamp 2001-12-14\n', `FILE:2:20: output.dir: YAML tag !!timestamp is not supported ${PLAIN}`],
    ['model:\n  hidden: !relu relu\n', `FILE:2:17: model.hidden: YAML tag !relu is not supported ${PLAIN}`],
    ['model:\n  layers: [784, !big 100, 10]\n', `FILE:2:22: model.layers.1: YAML tag !big is not supported ${PLAIN}`],
    ['!!omap [training: {}]\n', `FILE:1:8: YAML tag !!omap is not supported ${PLAIN}`],
    ['--- !!set\n? training\n', `FILE:2:1: YAML tag !!set is not supported ${PLAIN}`],
    ['? !!omap [a: 1]\n: 1\n', 'FILE:1:10: a key must be a plain word, not tagged !!omap'],
  ])('%j', (text, expected) => {
    expect(messageOf('tag.yaml', text)).toBe(expected);
  });

  it.each<[string, string]>([
    ['data=!!omap [limit: 2000]', `--set: data: YAML tag !!omap is not supported ${PLAIN}`],
    ['data={train: !!set {a}}', `--set: data.train: YAML tag !!set is not supported ${PLAIN}`],
    ['model.hidden=!x relu', `--set: model.hidden: YAML tag !x is not supported ${PLAIN}`],
  ])('--set %s', (set, expected) => {
    expect(messageOf('empty.yaml', '', [set])).toBe(expected);
  });

  it.each<[string, ReturnType<typeof configDiff>]>([
    ['output:\n  dir: !!str 2024\n', [{ key: 'output.dir', value: '2024', default: null }]],
    ['training:\n  epochs: !!int 3\n', [{ key: 'training.epochs', value: 3, default: 20 }]],
    ['training:\n  lr: !!float 0.5\n', [{ key: 'training.lr', value: 0.5, default: 2 }]],
    ['training: !!map {shuffle: !!bool false}\n', [{ key: 'training.shuffle', value: false, default: true }]],
    ['model:\n  layers: !!seq [784, 10]\n', [{ key: 'model.layers', value: [784, 10], default: [784, 300, 10] }]],
    ['output:\n  dir: !!null ~\n', []],
  ])('the plain tags are fine: %j', (text, diff) => {
    expect(configDiff(loadConfig(write('plain.yaml', text)))).toEqual(diff);
  });
});

describe('aliases, keys', () => {
  it.each<[string, string]>([
    ['training:\n  lr: *x\n', 'FILE:2:7: training.lr: YAML alias *x has no anchor &x before it'],
    ['training:\n  lr: *x\nmodel: &x {}\n', 'FILE:2:7: training.lr: YAML alias *x has no anchor &x before it'],
    // an alias's problems are placed where its anchor's value is written
    ['x: &t {lr: -1}\ntraining: *t\n', [
      '2 problems in the config:',
      '  FILE:1:1: x: unknown key (allowed: data, model, loss, regularization, training, output)',
      '  FILE:1:12: training.lr: expected a positive number, got -1',
    ].join('\n')],
    ['training: &a [*a]\n', [
      '2 problems in the config:',
      '  FILE:1:14: training: expected a mapping, got [null]',
      '  FILE:1:15: training.0: YAML alias *a lies inside its own anchor &a',
    ].join('\n')],
    ['? [training]\n: {}\n', 'FILE:1:3: a key must be a plain word, not a list'],
    ['? {training: 1}\n: {}\n', 'FILE:1:3: a key must be a plain word, not a mapping'],
    ['model: &m {}\n*m : 1\n', 'FILE:2:1: a key must be a plain word, not an alias'],
    ['training:\n  lr: 1\n  lr: 2\n', 'FILE:3:3: training.lr: duplicate key (first at line 2, column 3)'],
  ])('%j', (text, expected) => {
    expect(messageOf('alias.yaml', text)).toBe(expected);
  });

  it('an alias of a valid value is that value', () => {
    const config = loadConfig(write('anchor.yaml', 'model:\n  layers: &l [784, 50, 10]\n  seed: 3\ntraining:\n  epochs: 2\n'));
    expect(config.model.layers).toEqual([784, 50, 10]);
  });
});

describe('limits: refused before the parser runs (issue 17 C)', () => {
  const keys = (n: number): string => Array.from({ length: n }, (_, i) => `k${i}: ${i}\n`).join('');
  it.each<[string, () => string, string]>([
    // 100k keys in 1.3 MB took the parser 85 s; now the count refuses them first
    ['70,000 keys', () => keys(70_000), 'FILE: 70000 keys and list items are more than the 10000-entry limit for a config file'],
    ['10,001 keys', () => keys(10_001), 'FILE: 10001 keys and list items are more than the 10000-entry limit for a config file'],
    ['a flow list of 200,001', () => `model:\n  layers: [${'1,'.repeat(200_000)}1]\n`, 'FILE: 200003 keys and list items are more than the 10000-entry limit for a config file'],
    ['a block list of 20,000', () => `model:\n  layers:\n${'  - 1\n'.repeat(20_000)}`, 'FILE: 20002 keys and list items are more than the 10000-entry limit for a config file'],
    ['[ x 100,000', () => '['.repeat(100_000) + ']'.repeat(100_000), `FILE:1:33: ${DEPTH}`],
    ['{a: x 33', () => '{a: '.repeat(33) + '1' + '}'.repeat(33), `FILE:1:129: ${DEPTH}`],
    ['- x 300,000', () => '- '.repeat(300_000) + 'a', `FILE:1:67: ${DEPTH}`],
    ['? x 300,000', () => '? '.repeat(300_000) + 'a', `FILE:1:67: ${DEPTH}`],
    ['40 indented levels', () => Array.from({ length: 40 }, (_, i) => `${' '.repeat(2 * i)}a:\n`).join(''), `FILE:34:67: ${DEPTH}`],
    ['an alias bomb', () => bomb(), 'FILE: keys and list items (aliases expanded) exceed the 10000-entry limit for a config file'],
  ])('%s', (_, text, expected) => {
    expect(messageOf('big.yaml', text())).toBe(expected);
  });

  it('a --set value has the same limits', () => {
    expect(messageOf('empty.yaml', '', [`model.layers=${'['.repeat(40)}${']'.repeat(40)}`])).toBe(
      `--set: model.layers: cannot read value "${'['.repeat(40)}${']'.repeat(16)}...: ${DEPTH}`,
    );
  });

  it('10,000 keys are read (in well under the 85 s that 100k took)', () => {
    const t0 = performance.now();
    const message = messageOf('10k.yaml', keys(10_000));
    expect(message.split('\n')[0]).toBe('10000 problems in the config:');
    // about 0.5 s on a 2-core runner; quadratic parsing took over 10 s here
    expect(performance.now() - t0).toBeLessThan(10_000);
  });

  // the top mapping, model, layers and 29 lists inside each other: 32 levels, the limit
  it.each<[number, string]>([
    [29, `FILE:2:17: model.layers.1: expected a positive integer, got [[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]`],
    [30, `FILE:2:46: ${DEPTH}`],
  ])('%i lists inside model.layers', (lists, expected) => {
    expect(messageOf('deep.yaml', `model:\n  layers: [784, ${'['.repeat(lists)}1${']'.repeat(lists)}]\n`)).toBe(expected);
  });
});

/** Five levels of nine aliases each: 9^5 = 59,049 entries from 95 written. */
function bomb(): string {
  const lines = ['a: &a ["x", "x", "x", "x", "x", "x", "x", "x", "x"]'];
  for (const [name, prev] of [['b', 'a'], ['c', 'b'], ['d', 'c'], ['e', 'd']]) {
    lines.push(`${name}: &${name} [${Array(9).fill(`*${prev}`).join(', ')}]`);
  }
  return `${lines.join('\n')}\n`;
}
