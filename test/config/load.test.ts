// Config loading as tables: file text or --set list -> resolved differences
// from the defaults, or -> the exact error a user would see: one line
// `FILE:line:column: key.path: problem` per problem, all problems at once.
// In expected messages, FILE stands for the temp file's path.
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { applySet, configDiff, loadConfig, parseConfig } from '../../src/config/load.js';
import { ConfigProblems, MAX_SHOWN_PROBLEMS } from '../../src/config/problems.js';
import { defaultConfig } from '../../src/config/schema.js';
import { ConfigError } from '../../src/errors.js';
import { errorOf } from '../helpers/errors.js';
import { useTempFiles } from '../helpers/files.js';

const DEFAULTS = defaultConfig();

type Diff = ReturnType<typeof configDiff>;

const { dir, write: writeConfig } = useTempFiles('mlp-config-');

const configErrorOf = (fn: () => unknown): ConfigError => errorOf(ConfigError, fn);

/** Both the message and the one-line rule a single problem obeys. */
function expectMessage(err: ConfigError, expected: string): void {
  expect(err.message).toBe(expected);
  expect(err.message).not.toContain('\n');
}

const lr01: Diff = [{ key: 'training.lr', value: 0.1, default: DEFAULTS.training.lr }];

describe('loadConfig: file -> resolved config', () => {
  it.each<[string, string, Diff]>([
    ['empty.yaml', '', []],
    ['comments.yaml', '# nothing to override\n\n   # at all\n', []],
    ['null.yaml', '~\n', []],
    ['null-word.yaml', 'null\n', []],
    ['empty.json', '', []],
    ['empty-object.json', '{}', []],
    // every line under a section commented out leaves `training: null`
    ['empty-section.yaml', 'training:\n  # lr: 0.1\n', []],
    ['explicit-defaults.yaml', 'model:\n  layers: [784, 300, 10]\ndata:\n  train:\n    images: ~\n', []],
    ['lr.yaml', 'training:\n  lr: 0.1\n', lr01],
    ['lr.yml', 'training:\n  lr: 0.1\n', lr01],
    ['lr.json', '{"training": {"lr": 0.1}}', lr01],
    ['lr.JSON', '{"training": {"lr": 0.1}}', lr01],
    ['lr.conf', 'training: {lr: 0.1}', lr01], // unknown extension: read as YAML
    ['exp.yaml', 'training:\n  lr: 1e-3\n', [{ key: 'training.lr', value: 0.001, default: DEFAULTS.training.lr }]],
    ['full.yaml', 'training:\n  batch_size: full\n', [{ key: 'training.batch_size', value: 'full', default: 100 }]],
    [
      'ce.yaml',
      'loss: cross_entropy\nmodel:\n  output: softmax\n',
      [
        { key: 'model.output', value: 'softmax', default: 'sigmoid' },
        { key: 'loss', value: 'cross_entropy', default: 'mse' },
      ],
    ],
    [
      'early.yaml',
      'data: {validation: 5000}\ntraining: {early_stopping: {patience: 3}}\n',
      [
        { key: 'data.validation', value: 5000, default: 0 },
        { key: 'training.early_stopping.patience', value: 3, default: 0 },
      ],
    ],
  ])('%s', (name, text, diff) => {
    expect(configDiff(loadConfig(writeConfig(name, text)))).toEqual(diff);
  });

  it('no file means all defaults', () => {
    expect(loadConfig(undefined)).toEqual(defaultConfig());
  });

  it('reads the same config from YAML and from JSON', () => {
    const yaml = writeConfig(
      'same.yaml',
      [
        '# a full-batch softmax run',
        'model:',
        '  layers: [784, 100, 10]',
        '  hidden: relu',
        '  output: softmax',
        'loss: cross_entropy',
        'regularization:',
        '  l2: 0.0001',
        'training:',
        '  batch_size: full',
        '  lr: 0.1',
        '  lr_schedule: {type: cosine}',
        'output:',
        '  dir: runs/a',
        '',
      ].join('\n'),
    );
    const json = writeConfig(
      'same.json',
      JSON.stringify(
        {
          model: { layers: [784, 100, 10], hidden: 'relu', output: 'softmax' },
          loss: 'cross_entropy',
          regularization: { l2: 0.0001 },
          training: { batch_size: 'full', lr: 0.1, lr_schedule: { type: 'cosine' } },
          output: { dir: 'runs/a' },
        },
        null,
        2,
      ),
    );
    const fromYaml = loadConfig(yaml);
    expect(loadConfig(json)).toEqual(fromYaml);
    expect(configDiff(fromYaml).map((d) => d.key)).toEqual([
      'model.layers',
      'model.hidden',
      'model.output',
      'loss',
      'regularization.l2',
      'training.batch_size',
      'training.lr',
      'training.lr_schedule.type',
      'output.dir',
    ]);
  });
});

describe('loadConfig: file -> exact error', () => {
  it.each<[string, string, string]>([
    // syntax: one line, with position, no code frame; duplicates and aliases name their key
    ['tab.yaml', 'training:\n\tlr: 1\n', 'FILE:2:1: YAML syntax error: Tabs are not allowed as indentation'],
    ['dup.yaml', 'loss: mse\nloss: mse\n', 'FILE:2:1: loss: duplicate key (first at line 1, column 1)'],
    ['quote.yaml', 'output:\n  dir: "runs/a\n', 'FILE:3:1: YAML syntax error: Missing closing "quote'],
    ['alias.yaml', 'training:\n  lr: *x\n', 'FILE:2:7: training.lr: YAML alias *x has no anchor &x before it'],
    [
      'bare.json',
      '{\n  "model": {\n    "hidden": relu\n  }\n}\n',
      'FILE:3:15: JSON syntax error: expected a value, found relu (strings need double quotes)',
    ],
    [
      'comma.json',
      '{\n  "model": {"hidden": "relu"}\n  "loss": "mse"\n}\n',
      `FILE:3:3: JSON syntax error: expected ',' or '}' after a member, found "loss"`,
    ],
    ['nan.json', '{"training": {"lr": NaN}}', 'FILE:1:21: JSON syntax error: expected a value, found NaN (JSON has no NaN or Infinity)'],
    ['dup.json', '{"loss": "mse", "loss": "mse"}', 'FILE:1:17: loss: duplicate key (first at line 1, column 2)'],
    // the top level
    ['list.yaml', '- 1\n- 2\n', 'FILE:1:1: expected a mapping of sections (data, model, loss, regularization, training, output) at the top level, got [1,2]'],
    ['word.yaml', 'hello\n', 'FILE:1:1: expected a mapping of sections (data, model, loss, regularization, training, output) at the top level, got "hello"'],
    ['list.json', '[784, 100, 10]', 'FILE:1:1: expected a mapping of sections (data, model, loss, regularization, training, output) at the top level, got [784,100,10]'],
    // values: expected vs found, read from the schema
    ['neg-lr.yaml', 'training:\n  lr: -1\n', 'FILE:2:7: training.lr: expected a positive number, got -1'],
    ['zero-lr.json', '{"training": {"lr": 0}}', 'FILE:1:21: training.lr: expected a positive number, got 0'],
    ['nan-lr.yaml', 'training:\n  lr: .nan\n', 'FILE:2:7: training.lr: expected a positive number, got NaN'],
    ['inf-lr.yaml', 'training:\n  lr: .inf\n', 'FILE:2:7: training.lr: expected a positive number, got Infinity'],
    ['inf-l2.yaml', 'regularization:\n  l2: -.inf\n', 'FILE:2:7: regularization.l2: expected a non-negative number, got -Infinity'],
    ['str-lr.yaml', 'training:\n  lr: fast\n', 'FILE:2:7: training.lr: expected a positive number, got "fast"'],
    ['big.yaml', 'training:\n  batch_size: big\n', `FILE:2:15: training.batch_size: expected a positive integer or 'full', got "big"`],
    ['bs0.yaml', 'training:\n  batch_size: 0\n', "FILE:2:15: training.batch_size: expected a positive integer or 'full', got 0"],
    ['gelu.yaml', 'model:\n  hidden: gelu\n', 'FILE:2:11: model.hidden: expected one of sigmoid, tanh, relu, softplus, maxout, got "gelu"'],
    ['pieces1.yaml', 'model:\n  hidden: maxout\n  maxout_pieces: 1\n', 'FILE:3:18: model.maxout_pieces: expected an integer >= 2, got 1'],
    ['pieces-half.yaml', 'model:\n  hidden: maxout\n  maxout_pieces: 2.5\n', 'FILE:3:18: model.maxout_pieces: expected an integer >= 2, got 2.5'],
    ['pieces-relu.yaml', 'model:\n  hidden: relu\n  maxout_pieces: 3\n', 'FILE:3:18: model.maxout_pieces: maxout_pieces is used only with model.hidden: maxout (hidden is relu): remove it'],
    ['width0.yaml', 'model:\n  layers: [784, 0, 10]\n', 'FILE:2:17: model.layers.1: expected a positive integer, got 0'],
    ['width-half.yaml', 'model:\n  layers: [784, 0.5, 10]\n', 'FILE:2:17: model.layers.1: expected a positive integer, got 0.5'],
    ['one-layer.yaml', 'model:\n  layers: [784]\n', 'FILE:2:11: model.layers: expected a list of at least 2 positive integers, got [784]'],
    ['layers-str.yaml', 'model:\n  layers: 784-100-10\n', 'FILE:2:11: model.layers: expected a list of at least 2 positive integers, got "784-100-10"'],
    ['seed.yaml', 'model:\n  seed: 1.5\n', 'FILE:2:9: model.seed: expected a non-negative integer <= 4294967295, got 1.5'],
    ['momentum.yaml', 'training:\n  momentum: 1\n', 'FILE:2:13: training.momentum: expected a non-negative number < 1, got 1'],
    ['dropout.yaml', 'regularization:\n  dropout:\n    input: 1\n', 'FILE:3:12: regularization.dropout.input: expected a non-negative number < 1, got 1'],
    ['dropout-neg.json', '{"regularization": {"dropout": {"hidden": -0.1}}}', 'FILE:1:43: regularization.dropout.hidden: expected a non-negative number < 1, got -0.1'],
    ['max-norm.yaml', 'regularization:\n  max_norm: -3\n', 'FILE:2:13: regularization.max_norm: expected a non-negative number, got -3'],
    ['threads.yaml', 'training:\n  threads: 100\n', "FILE:2:12: training.threads: expected a positive integer <= 64 or 'auto', got 100"],
    ['factor.yaml', 'training:\n  lr_schedule:\n    factor: 2\n', 'FILE:3:13: training.lr_schedule.factor: expected a positive number <= 1, got 2'],
    ['shuffle.yaml', 'training:\n  shuffle: "yes"\n', 'FILE:2:12: training.shuffle: expected true or false, got "yes"'],
    ['images.yaml', 'data:\n  train:\n    images: ""\n', 'FILE:3:13: data.train.images: expected a non-empty string or null, got ""'],
    ['dir.json', '{"output": {"dir": 3}}', 'FILE:1:20: output.dir: expected a non-empty string or null, got 3'],
    ['section.yaml', 'training: 30\n', 'FILE:1:11: training: expected a mapping, got 30'],
    ['loss-map.yaml', 'loss:\n  type: mse\n', 'FILE:2:3: loss: expected one of mse, cross_entropy, got a mapping'],
    // cross-field rules (the schema's superRefine)
    ['ce-sigmoid.yaml', 'loss: cross_entropy\n', 'FILE:1:7: loss: cross_entropy needs model.output: softmax'],
    [
      'early.yaml',
      'training:\n  early_stopping:\n    patience: 3\n',
      'FILE:3:15: training.early_stopping.patience: early stopping needs a validation split (data.validation > 0)',
    ],
    // the optimizers' combinations that make no sense (a key at its default counts as not set)
    [
      'rprop-minibatch.yaml',
      'training:\n  optimizer: rprop\n',
      "FILE:2:14: training.optimizer: rprop follows sign changes of the full-batch gradient, and a mini-batch gradient changes sign from batch to batch: set training.batch_size: full (or training.rprop.allow_minibatch: true to force it)",
    ],
    [
      'rprop-lr.yaml',
      'training:\n  optimizer: rprop\n  batch_size: full\n  lr: 0.01\n',
      'FILE:4:7: training.lr: rprop does not use training.lr (its first step is training.rprop.step_init): remove it',
    ],
    [
      'rprop-schedule.yaml',
      'training:\n  optimizer: rprop\n  batch_size: full\n  lr_schedule:\n    warmup_steps: 0\n',
      'FILE:5:5: training.lr_schedule: rprop does not use training.lr_schedule (each weight adapts its own step): remove it',
    ],
    [
      'rprop-momentum.yaml',
      'training:\n  optimizer: rprop\n  momentum: 0\n  rprop:\n    allow_minibatch: true\n',
      'FILE:3:13: training.momentum: rprop does not use training.momentum: remove it',
    ],
    [
      'rprop-step-init.yaml',
      'training:\n  optimizer: rprop\n  batch_size: full\n  rprop:\n    step_init: 100\n',
      'FILE:5:16: training.rprop.step_init: step_init 100 is outside [step_min, step_max] = [0.000001, 50]',
    ],
    [
      'rprop-bounds.yaml',
      'training:\n  optimizer: rprop\n  batch_size: full\n  rprop:\n    step_min: 60\n',
      'FILE:5:15: training.rprop.step_min: step_min 60 is above step_max 50',
    ],
    [
      'adam-momentum.yaml',
      'training:\n  optimizer: adam\n  lr: 0.001\n  momentum: 0.5\n',
      'FILE:4:13: training.momentum: adam does not use training.momentum (its momentum is training.adam.beta1): remove it',
    ],
    [
      // sgd's default rate 2 left in place (no line: the file does not set it)
      'adam-lr.yaml',
      'training:\n  optimizer: adam\n',
      "FILE: training.lr: adam's lr is a step size: each weight moves by up to about lr a step, and lr 2 is far beyond the scale of the weights; use one like PyTorch's default 0.001",
    ],
    [
      'adamw-decay.yaml',
      'training:\n  optimizer: adamw\n  lr: 0.5\n  adamw:\n    weight_decay: 2\n',
      'FILE:5:19: training.adamw.weight_decay: weight_decay 2 x training.lr 0.5 >= 1 zeroes or flips every weight each step',
    ],
    ['nesterov-0.yaml', 'training:\n  optimizer: nesterov\n  momentum: 0\n', 'FILE:3:13: training.momentum: nesterov needs training.momentum > 0 (with 0 it is sgd without momentum)'],
    ['optimizer.yaml', 'training:\n  optimizer: adagrad\n', 'FILE:2:14: training.optimizer: expected one of sgd, nesterov, adam, adamw, rprop, got "adagrad"'],
    ['variant.yaml', 'training:\n  rprop:\n    variant: irprop\n', 'FILE:3:14: training.rprop.variant: expected one of irprop-, irprop+, got "irprop"'],
    ['eta-plus.yaml', 'training:\n  rprop:\n    eta_plus: 1\n', 'FILE:3:15: training.rprop.eta_plus: expected a number > 1, got 1'],
    // unknown keys: a suggestion when one is close, else the allowed list
    ['learning-rate.yaml', 'training:\n  learning_rate: 0.1\n', 'FILE:2:3: training.learning_rate: unknown key (did you mean training.lr?)'],
    ['ephocs.yaml', 'training:\n  ephocs: 3\n', 'FILE:2:3: training.ephocs: unknown key (did you mean training.epochs?)'],
    ['camel.json', '{"training": {"batchSize": 10}}', 'FILE:1:15: training.batchSize: unknown key (did you mean training.batch_size?)'],
    ['word-of.yaml', 'training:\n  batch: 10\n', 'FILE:2:3: training.batch: unknown key (did you mean training.batch_size?)'],
    ['section-typo.yaml', 'trainig:\n  lr: 0.1\n', 'FILE:1:1: trainig: unknown key (did you mean training?)'],
    ['deep.yaml', 'data:\n  train:\n    image: x.gz\n', 'FILE:3:5: data.train.image: unknown key (did you mean data.train.images?)'],
    ['far.yaml', 'optimizer: adam\n', 'FILE:1:1: optimizer: unknown key (allowed: data, model, loss, regularization, training, output)'],
    [
      'far-nested.yaml',
      'training:\n  warmup: 5\n',
      'FILE:2:3: training.warmup: unknown key (allowed: epochs, checkpoint_every, batch_size, optimizer, lr, momentum, adam, adamw, rprop, lr_schedule, early_stopping, shuffle, kernel, threads)',
    ],
    ['proto.yaml', '__proto__:\n  lr: 1\n', 'FILE:1:1: __proto__: unknown key (allowed: data, model, loss, regularization, training, output)'],
  ])('%s', (name, text, expected) => {
    const file = writeConfig(name, text);
    expectMessage(
      configErrorOf(() => loadConfig(file)),
      expected.replace('FILE', file),
    );
  });

  it('carries source, key path and problem separately, and every problem with its place', () => {
    const file = writeConfig('fields.yaml', 'training:\n  lr: -1\n  epochs: 0\n');
    const err = configErrorOf(() => loadConfig(file));
    expect([err.source, err.keyPath, err.problem]).toEqual([file, 'training.lr', 'expected a positive number, got -1']);
    expect(err).toBeInstanceOf(ConfigProblems);
    expect((err as ConfigProblems).problems).toEqual([
      { source: file, line: 2, col: 7, keyPath: 'training.lr', problem: 'expected a positive number, got -1' },
      { source: file, line: 3, col: 11, keyPath: 'training.epochs', problem: 'expected a positive integer, got 0' },
    ]);
  });

  it.each<[string, () => string, string]>([
    ['missing', () => join(dir, 'nope.yaml'), 'no such file'],
    ['missing folder', () => join(dir, 'nope', 'c.yaml'), 'no such file'],
    [
      'a directory',
      () => {
        const sub = join(dir, 'sub.yaml');
        mkdirSync(sub, { recursive: true });
        return sub;
      },
      'is a directory, expected a config file',
    ],
  ])('%s file: one short line', (_, makePath, reason) => {
    const file = makePath();
    expectMessage(
      configErrorOf(() => loadConfig(file)),
      `${file}: ${reason}`,
    );
  });
});

// Every problem, in file order, then --set's; each line as it would be alone.
describe('loadConfig: every problem at once', () => {
  it.each<[string, string, string[], string]>([
    [
      'three.yaml',
      'training:\n  learning_rate: 0.1\n  epochs: -3\nmodel:\n  hidden: gelu\n',
      [],
      [
        '3 problems in the config:',
        '  FILE:2:3: training.learning_rate: unknown key (did you mean training.lr?)',
        '  FILE:3:11: training.epochs: expected a positive integer, got -3',
        '  FILE:5:11: model.hidden: expected one of sigmoid, tanh, relu, softplus, maxout, got "gelu"',
      ].join('\n'),
    ],
    [
      'three.json',
      '{\n  "training": {"learning_rate": 0.1, "epochs": 0},\n  "model": {"hidden": "gelu"}\n}\n',
      [],
      [
        '3 problems in the config:',
        '  FILE:2:16: training.learning_rate: unknown key (did you mean training.lr?)',
        '  FILE:2:48: training.epochs: expected a positive integer, got 0',
        '  FILE:3:23: model.hidden: expected one of sigmoid, tanh, relu, softplus, maxout, got "gelu"',
      ].join('\n'),
    ],
    // two unknown keys of one mapping are two problems; list items each
    [
      'keys.yaml',
      'training:\n  ephocs: 3\n  batch: 10\nmodel:\n  layers: [784, 0, -1, 10]\n',
      [],
      [
        '4 problems in the config:',
        '  FILE:2:3: training.ephocs: unknown key (did you mean training.epochs?)',
        '  FILE:3:3: training.batch: unknown key (did you mean training.batch_size?)',
        '  FILE:5:17: model.layers.1: expected a positive integer, got 0',
        '  FILE:5:20: model.layers.2: expected a positive integer, got -1',
      ].join('\n'),
    ],
    // a refused tag and a duplicate do not hide the schema's problems elsewhere
    [
      'mixed.yaml',
      'data: !!omap [limit: 2000]\ntraining:\n  lr: -1\n  lr: 2\n',
      [],
      [
        '3 problems in the config:',
        '  FILE:1:14: data: YAML tag !!omap is not supported (a config holds plain mappings, lists, strings, numbers, true/false and null)',
        '  FILE:3:7: training.lr: expected a positive number, got -1',
        '  FILE:4:3: training.lr: duplicate key (first at line 3, column 3)',
      ].join('\n'),
    ],
    // the file's problems in file order, then --set's (which have no place)
    [
      'with-set.yaml',
      'model:\n  hidden: gelu\ntraining:\n  lr: -1\n',
      ['training.epochs=0', 'model.seed=x'],
      [
        '4 problems in the config:',
        '  FILE:2:11: model.hidden: expected one of sigmoid, tanh, relu, softplus, maxout, got "gelu"',
        '  FILE:4:7: training.lr: expected a positive number, got -1',
        '  --set: model.seed: expected a non-negative integer <= 4294967295, got "x"',
        '  --set: training.epochs: expected a positive integer, got 0',
      ].join('\n'),
    ],
    // a --set that cannot be read is one problem; the others are still checked
    [
      'empty.yaml',
      '',
      ['training.lr=[1', 'nokey', 'model.x=1', 'loss.y=2'],
      [
        '4 problems in the config:',
        '  --set: training.lr: cannot read value "[1": Flow sequence must end with a ]',
        '  --set: nokey: expected key.path=value',
        '  --set: model.x: unknown key (allowed: layers, hidden, maxout_pieces, output, init, output_bias, seed)',
        '  --set: loss: expected one of mse, cross_entropy, got a mapping',
      ].join('\n'),
    ],
  ])('%s %j', (name, text, sets, expected) => {
    const file = writeConfig(name, text);
    expect(configErrorOf(() => loadConfig(file, sets)).message).toBe(expected.replaceAll('FILE', file));
  });

  it(`shows the first ${MAX_SHOWN_PROBLEMS} problems and counts the rest`, () => {
    const keys = Array.from({ length: 25 }, (_, i) => `k${i}: 1`);
    const file = writeConfig('many.yaml', `${keys.join('\n')}\n`);
    const lines = configErrorOf(() => loadConfig(file)).message.split('\n');
    const allowed = '(allowed: data, model, loss, regularization, training, output)';
    expect(lines).toEqual([
      '25 problems in the config:',
      ...keys.slice(0, MAX_SHOWN_PROBLEMS).map((_, i) => `  ${file}:${i + 1}:1: k${i}: unknown key ${allowed}`),
      '  ... and 5 more',
    ]);
  });
});

describe('--set', () => {
  it.each<[string[], Diff]>([
    [['training.lr=0.1'], lr01],
    [['training.lr=1e-3'], [{ key: 'training.lr', value: 0.001, default: DEFAULTS.training.lr }]],
    [['training.lr=0.2', 'training.lr=0.1'], lr01], // in order: the last one wins
    [['training.shuffle=false'], [{ key: 'training.shuffle', value: false, default: true }]],
    [['model.layers=[784,100,10]'], [{ key: 'model.layers', value: [784, 100, 10], default: [784, 300, 10] }]],
    [['model.layers=[784, 100, 50, 10]'], [{ key: 'model.layers', value: [784, 100, 50, 10], default: [784, 300, 10] }]],
    [['training.batch_size=full'], [{ key: 'training.batch_size', value: 'full', default: 100 }]],
    [['training.batch_size=32'], [{ key: 'training.batch_size', value: 32, default: 100 }]],
    [['output.dir=runs/a'], [{ key: 'output.dir', value: 'runs/a', default: null }]],
    // relative paths of --set mean the working directory (test/config/paths.test.ts)
    [['data.train.images=path/to/x.gz'], [{ key: 'data.train.images', value: resolve('path/to/x.gz'), default: null }]],
    [['model.hidden=relu'], [{ key: 'model.hidden', value: 'relu', default: 'sigmoid' }]],
    [
      ['model.maxout_pieces=3', 'model.hidden=maxout'],
      [
        { key: 'model.hidden', value: 'maxout', default: 'sigmoid' },
        { key: 'model.maxout_pieces', value: 3, default: 2 },
      ],
    ],
    [['output.dir=~'], []],
    [['training={epochs: 5}'], [{ key: 'training.epochs', value: 5, default: DEFAULTS.training.epochs }]],
    // the cross-field rule is checked once, after all overrides, so order does not matter
    [
      ['loss=cross_entropy', 'model.output=softmax'],
      [
        { key: 'model.output', value: 'softmax', default: 'sigmoid' },
        { key: 'loss', value: 'cross_entropy', default: 'mse' },
      ],
    ],
    [
      ['model.output=softmax', 'loss=cross_entropy'],
      [
        { key: 'model.output', value: 'softmax', default: 'sigmoid' },
        { key: 'loss', value: 'cross_entropy', default: 'mse' },
      ],
    ],
    // an optimizer with the keys it needs, in either order
    [
      ['training.batch_size=full', 'training.optimizer=rprop'],
      [
        { key: 'training.batch_size', value: 'full', default: 100 },
        { key: 'training.optimizer', value: 'rprop', default: 'sgd' },
      ],
    ],
    [
      ['training.lr=0.001', 'training.optimizer=adam'],
      [
        { key: 'training.optimizer', value: 'adam', default: 'sgd' },
        { key: 'training.lr', value: 0.001, default: DEFAULTS.training.lr },
      ],
    ],
  ])('%j', (sets, diff) => {
    expect(configDiff(loadConfig(undefined, sets))).toEqual(diff);
  });

  it.each<[string[], string]>([
    [['training.learning_rate=0.1'], '--set: training.learning_rate: unknown key (did you mean training.lr?)'],
    [['trainig.lr=0.1'], '--set: trainig: unknown key (did you mean training?)'],
    [['training.lr=-1'], '--set: training.lr: expected a positive number, got -1'],
    [['training.lr=.nan'], '--set: training.lr: expected a positive number, got NaN'],
    [['training.lr=.inf'], '--set: training.lr: expected a positive number, got Infinity'],
    [['training.lr='], '--set: training.lr: expected a positive number, got null'],
    [['training.batch_size=big'], `--set: training.batch_size: expected a positive integer or 'full', got "big"`],
    [['training.shuffle=yes'], '--set: training.shuffle: expected true or false, got "yes"'], // YAML 1.2: yes is a string
    [['model.layers=[784,0,10]'], '--set: model.layers.1: expected a positive integer, got 0'],
    [['loss=cross_entropy'], '--set: loss: cross_entropy needs model.output: softmax'],
    [['model.hidden=maxout', 'model.maxout_pieces=1'], '--set: model.maxout_pieces: expected an integer >= 2, got 1'],
    [['model.hidden=maxout', 'model.maxout_pieces=0'], '--set: model.maxout_pieces: expected an integer >= 2, got 0'],
    [['model.maxout_pieces=4'], '--set: model.maxout_pieces: maxout_pieces is used only with model.hidden: maxout (hidden is sigmoid): remove it'],
    [
      ['training.early_stopping.patience=5'],
      '--set: training.early_stopping.patience: early stopping needs a validation split (data.validation > 0)',
    ],
    [
      ['training.optimizer=rprop'],
      '--set: training.optimizer: rprop follows sign changes of the full-batch gradient, and a mini-batch gradient changes sign from batch to batch: set training.batch_size: full (or training.rprop.allow_minibatch: true to force it)',
    ],
    [['training.optimizer=nesterov', 'training.momentum=0'], '--set: training.momentum: nesterov needs training.momentum > 0 (with 0 it is sgd without momentum)'],
    [['loss.x=1'], '--set: loss: expected one of mse, cross_entropy, got a mapping'],
    [['training.lr'], '--set: training.lr: expected key.path=value'],
    [['=0.1'], '--set: =0.1: expected key.path=value'],
    [['training..lr=0.1'], '--set: training..lr=0.1: expected key.path=value'],
    [['training.=0.1'], '--set: training.=0.1: expected key.path=value'],
    [['model.layers=[784,100'], '--set: model.layers: cannot read value "[784,100": Flow sequence must end with a ]'],
    [['__proto__.lr=1'], '--set: __proto__: unknown key (allowed: data, model, loss, regularization, training, output)'],
  ])('%j', (sets, expected) => {
    expectMessage(
      configErrorOf(() => loadConfig(undefined, sets)),
      expected,
    );
  });

  // Which source an error names: --set when the key lies on a path a --set wrote, else the file.
  it.each<[string, string[], string]>([
    ['training:\n  lr: -1\n', ['model.hidden=relu'], 'FILE:2:7: training.lr: expected a positive number, got -1'],
    ['training:\n  lr: 0.1\n', ['training.lr=-1'], '--set: training.lr: expected a positive number, got -1'],
    ['model:\n  hidden: relu\n', ['model=relu'], '--set: model: expected a mapping, got "relu"'],
    ['loss: mse\n', ['loss.x=1'], '--set: loss.x: loss is "mse", not a mapping'],
    ['model:\n  layers: [784, 10]\n', ['model.layers.0=100'], '--set: model.layers.0: model.layers is [784,10], not a mapping'],
    ['loss: cross_entropy\nmodel:\n  output: softmax\n', ['model.output=sigmoid'], 'FILE:1:7: loss: cross_entropy needs model.output: softmax'],
  ])('file %j with %j', (text, sets, expected) => {
    const file = writeConfig('with-set.yaml', text);
    expectMessage(
      configErrorOf(() => loadConfig(file, sets)),
      expected.replace('FILE', file),
    );
  });

  it.each<[string, string[], Diff]>([
    ['training:\n  lr: -1\n', ['training.lr=0.1'], lr01], // an override may repair the file
    ['training:\n', ['training.lr=0.1'], lr01], // an empty section is a section
    ['loss: cross_entropy\n', ['model.output=softmax'], configDiff(parseConfig({ loss: 'cross_entropy', model: { output: 'softmax' } }, 'x'))],
  ])('file %j with %j resolves', (text, sets, diff) => {
    expect(configDiff(loadConfig(writeConfig('repair.yaml', text), sets))).toEqual(diff);
  });
});

describe('applySet', () => {
  it.each<[Record<string, unknown>, string, Record<string, unknown>]>([
    [{}, 'a.b.c=1', { a: { b: { c: 1 } } }],
    [{ a: { x: 1 } }, 'a.y=[1, 2]', { a: { x: 1, y: [1, 2] } }],
    [{ a: null }, 'a.b=1', { a: { b: 1 } }],
    [{ a: 1 }, 'a=2', { a: 2 }],
    [{}, 'a=true', { a: true }],
    [{}, 'a=null', { a: null }],
    [{}, 'a=', { a: null }],
    [{}, 'a=-0.5', { a: -0.5 }],
    [{}, 'a=full', { a: 'full' }],
    [{}, 'a=x=y', { a: 'x=y' }], // split at the first '='
    [{}, 'a={b: 1}', { a: { b: 1 } }],
    [{}, ' a.b =3', { a: { b: 3 } }],
  ])('%j + %s', (raw, assignment, expected) => {
    expect(applySet(raw, assignment)).toBe(raw);
    expect(raw).toEqual(expected);
  });

  it.each<[Record<string, unknown>, string, string]>([
    [{ loss: 'mse' }, 'loss.x=1', '--set: loss.x: loss is "mse", not a mapping'],
    [{ a: { b: [1] } }, 'a.b.c=1', '--set: a.b.c: a.b is [1], not a mapping'],
    [{}, 'novalue', '--set: novalue: expected key.path=value'],
    [{}, 'a=[1', '--set: a: cannot read value "[1": Flow sequence must end with a ]'],
  ])('%j + %s', (raw, assignment, expected) => {
    expectMessage(
      configErrorOf(() => applySet(raw, assignment)),
      expected,
    );
  });

  it('cannot reach Object.prototype through __proto__', () => {
    const raw: Record<string, unknown> = {};
    applySet(raw, '__proto__.polluted=1');
    expect(Object.keys(raw)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('parseConfig', () => {
  it('round-trips a resolved config through JSON (as stored in weights metadata)', () => {
    const config = loadConfig(undefined, ['model.layers=[784,100,10]', 'training.batch_size=full']);
    expect(parseConfig(JSON.parse(JSON.stringify(config)), 'model.safetensors')).toEqual(config);
  });

  it.each([null, undefined, {}])('%j is all defaults', (raw) => {
    expect(parseConfig(raw, 'meta')).toEqual(defaultConfig());
  });

  it('does not modify its input', () => {
    const raw = { training: null, model: { layers: [784, 10] } };
    parseConfig(raw, 'meta');
    expect(raw).toEqual({ training: null, model: { layers: [784, 10] } });
  });

  // zod 4's number() refuses NaN and +-Infinity by itself (.finite() is a no-op kept for v3 code)
  it.each([NaN, Infinity, -Infinity, 0, -1])('training.lr = %s is rejected', (lr) => {
    expectMessage(
      configErrorOf(() => parseConfig({ training: { lr } }, 'model.safetensors')),
      `model.safetensors: training.lr: expected a positive number, got ${lr}`,
    );
  });

  it.each<[unknown, string]>([
    [[1, 2], 'meta: expected a mapping of sections (data, model, loss, regularization, training, output) at the top level, got [1,2]'],
    ['x', 'meta: expected a mapping of sections (data, model, loss, regularization, training, output) at the top level, got "x"'],
    [{ model: { layers: [784, -3, 10] } }, 'meta: model.layers.1: expected a positive integer, got -3'],
    [{ model: { layers: [784, 'a', 10] } }, 'meta: model.layers.1: expected a positive integer, got "a"'],
    [{ model: { init: 'xavier' } }, 'meta: model.init: expected one of glorot_uniform, glorot_normal, he_uniform, he_normal, lecun_uniform, lecun_normal, got "xavier"'],
  ])('%j', (raw, expected) => {
    expectMessage(
      configErrorOf(() => parseConfig(raw, 'meta')),
      expected,
    );
  });

  it('clips long values in messages', () => {
    const err = configErrorOf(() => parseConfig({ model: { hidden: 'x'.repeat(100) } }, 'meta'));
    expectMessage(err, `meta: model.hidden: expected one of sigmoid, tanh, relu, softplus, maxout, got "${'x'.repeat(56)}...`);
  });
});

describe('configDiff', () => {
  it('is empty for the defaults, and compares arrays by value', () => {
    const config = defaultConfig();
    expect(configDiff(config)).toEqual([]);
    config.model.layers = [784, 300, 10]; // a new array with the same values
    expect(configDiff(config)).toEqual([]);
    config.model.layers = [784, 100, 10];
    expect(configDiff(config)).toEqual([{ key: 'model.layers', value: [784, 100, 10], default: [784, 300, 10] }]);
  });

  it('compares against the defaults it is given', () => {
    const base = loadConfig(undefined, ['training.lr=0.1']);
    const config = loadConfig(undefined, ['training.lr=0.1', 'training.epochs=3']);
    expect(configDiff(config, base)).toEqual([{ key: 'training.epochs', value: 3, default: DEFAULTS.training.epochs }]);
  });
});

describe('a base config under the file (the config stored in a weights file)', () => {
  it('file keys replace the base section by section; lists are replaced whole; --set goes on top', () => {
    const file = writeConfig('over.yaml', 'model:\n  hidden: tanh\ntraining:\n  lr: 0.1\n');
    const base = { model: { layers: [784, 50, 10], output: 'softmax' }, loss: 'cross_entropy', training: { lr: 0.3, epochs: 7 } };
    const c = loadConfig(file, ['training.epochs=9'], base);
    expect(c.model).toMatchObject({ layers: [784, 50, 10], hidden: 'tanh', output: 'softmax' });
    expect(c.loss).toBe('cross_entropy');
    expect(c.training.lr).toBe(0.1);
    expect(c.training.epochs).toBe(9);
    expect(base.training.lr).toBe(0.3); // the base object is not modified
  });
});
