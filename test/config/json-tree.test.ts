// A .json config is read as JSON: its syntax errors in JSON's words (not
// YAML's), each at its line and column, with a hint for the usual habits from
// YAML and JavaScript; its schema problems placed like a YAML file's.
// In expected messages, FILE stands for the temp file's path.
import { describe, expect, it } from 'vitest';
import { configDiff, loadConfig } from '../../src/config/load.js';
import { ConfigError } from '../../src/errors.js';
import { errorOf } from '../helpers/errors.js';
import { useTempFiles } from '../helpers/files.js';

const { write } = useTempFiles('mlp-json-');

function messageOf(text: string): string {
  const file = write('config.json', text);
  return errorOf(ConfigError, () => loadConfig(file)).message.replaceAll(file, 'FILE');
}

const DEPTH = 'nesting deeper than the 32-level limit for a config file';

describe('JSON syntax errors', () => {
  it.each<[string, string]>([
    ['{\n  "model": {\n    "hidden": relu\n  }\n}\n', 'FILE:3:15: JSON syntax error: expected a value, found relu (strings need double quotes)'],
    ['{"training": {"lr": NaN}}', 'FILE:1:21: JSON syntax error: expected a value, found NaN (JSON has no NaN or Infinity)'],
    ['{"training": {"lr": -Infinity}}', 'FILE:1:21: JSON syntax error: expected a value, found -Infinity (JSON has no NaN or Infinity)'],
    ['{\n  "model": {"hidden": "relu"}\n  "loss": "mse"\n}\n', `FILE:3:3: JSON syntax error: expected ',' or '}' after a member, found "loss"`],
    ['{"training": {"lr": 1,}}', `FILE:1:23: JSON syntax error: expected a key in double quotes, found '}' (JSON allows no comma after the last item)`],
    ['{"model": {"layers": [784, 10,]}}', `FILE:1:31: JSON syntax error: expected a value, found ']' (JSON allows no comma after the last item)`],
    ['{training: {}}', 'FILE:1:2: JSON syntax error: expected a key in double quotes, found training (strings need double quotes)'],
    ["{'training': {}}", `FILE:1:2: JSON syntax error: expected a key in double quotes, found ''' (strings need double quotes)`],
    ['{"loss": \'mse\'}', `FILE:1:10: JSON syntax error: expected a value, found ''' (strings need double quotes)`],
    ['{\n  // the loss\n  "loss": "mse"\n}', `FILE:2:3: JSON syntax error: expected a key in double quotes, found '/' (JSON has no comments)`],
    ['# a comment\n{}', `FILE:1:1: JSON syntax error: expected a value, found '#' (JSON has no comments)`],
    ['{"loss" "mse"}', `FILE:1:9: JSON syntax error: expected ':' after the key, found "mse"`],
    ['{"model": {"layers": [784 10]}}', `FILE:1:27: JSON syntax error: expected ',' or ']' after an item, found '1'`],
    ['{"loss": "mse"', `FILE:1:15: JSON syntax error: expected ',' or '}' after a member, found the end of the file`],
    ['{"loss": "mse"}}', `FILE:1:16: JSON syntax error: expected the end of the file after the value, found '}'`],
    ['{"loss": "mse"} {"loss": "mse"}', `FILE:1:17: JSON syntax error: expected the end of the file after the value, found '{'`],
    ['{"output": {"dir": "runs/a}}', 'FILE:1:20: JSON syntax error: unterminated string (missing closing ")'],
    ['{"output": {"dir": "runs\n/a"}}', 'FILE:1:20: JSON syntax error: unterminated string (missing closing ")'],
    ['{"output": {"dir": "a\tb"}}', 'FILE:1:22: JSON syntax error: control character U+0009 in a string (write it as an escape)'],
    ['{"output": {"dir": "a\\qb"}}', 'FILE:1:22: JSON syntax error: invalid escape \\q in a string'],
    ['{"output": {"dir": "a\\u12g4"}}', 'FILE:1:22: JSON syntax error: invalid escape \\u12g4 in a string'],
    ['{"training": {"epochs": 012}}', 'FILE:1:25: JSON syntax error: invalid number 012'],
    ['{"training": {"lr": .5}}', `FILE:1:21: JSON syntax error: expected a value, found '.'`],
    ['{"training": {"lr": 1.}}', 'FILE:1:21: JSON syntax error: invalid number 1.'],
    ['{"training": {"lr": +1}}', `FILE:1:21: JSON syntax error: expected a value, found '+'`],
    ['{"training": {"lr": 1e}}', 'FILE:1:21: JSON syntax error: invalid number 1e'],
    ['{"training": {"shuffle": True}}', 'FILE:1:26: JSON syntax error: expected a value, found True (strings need double quotes)'],
    ['{"training": {"shuffle": truefalse}}', 'FILE:1:26: JSON syntax error: expected a value, found truefalse (strings need double quotes)'],
    // a YAML file saved as .json
    ['training:\n  lr: 0.1\n', 'FILE:1:1: JSON syntax error: expected a value, found training (strings need double quotes)'],
  ])('%j', (text, expected) => {
    expect(messageOf(text)).toBe(expected);
  });
});

describe('JSON: duplicates, limits, places', () => {
  it.each<[string, string]>([
    ['{"loss": "mse", "loss": "mse"}', 'FILE:1:17: loss: duplicate key (first at line 1, column 2)'],
    ['{\n  "training": {"lr": -1},\n  "training": {"lr": 1}\n}', [
      '2 problems in the config:',
      '  FILE:2:22: training.lr: expected a positive number, got -1',
      '  FILE:3:3: training: duplicate key (first at line 2, column 3)',
    ].join('\n')],
    ['['.repeat(100_000) + ']'.repeat(100_000), `FILE:1:33: ${DEPTH}`],
    ['{"a":'.repeat(33) + '1' + '}'.repeat(33), `FILE:1:161: ${DEPTH}`],
    [`{"model": {"layers": [${'1,'.repeat(20_000)}1]}}`, 'FILE: 20003 keys and list items are more than the 10000-entry limit for a config file'],
    [`{${Array.from({ length: 10_001 }, (_, i) => `"k${i}": 1`).join(',')}}`, 'FILE: 10001 keys and list items are more than the 10000-entry limit for a config file'],
    // a key as long as the file is clipped in the message
    [`{"${'k'.repeat(5000)}": 1}`, `FILE:1:2: ${'k'.repeat(97)}...: unknown key (allowed: data, model, loss, regularization, training, output)`],
    ['{"__proto__": {"lr": 1}}', 'FILE:1:2: __proto__: unknown key (allowed: data, model, loss, regularization, training, output)'],
    ['"hello"', 'FILE:1:1: expected a mapping of sections (data, model, loss, regularization, training, output) at the top level, got "hello"'],
  ])('%j', (text, expected) => {
    expect(messageOf(text)).toBe(expected);
  });

  it.each<[string, ReturnType<typeof configDiff>]>([
    ['', []],
    [' \n\t\r\n', []],
    ['null', []],
    ['{}', []],
    ['\ufeff{"training": {"lr": 0.1}}', [{ key: 'training.lr', value: 0.1, default: 2 }]], // a BOM is dropped
    ['{"training": {"lr": 1e-1}}', [{ key: 'training.lr', value: 0.1, default: 2 }]],
    ['{"output": {"dir": "runs/\\u00e9\\n"}}', [{ key: 'output.dir', value: 'runs/é\n', default: null }]],
    ['{"model": {"layers": [784, 100, 10]}}', [{ key: 'model.layers', value: [784, 100, 10], default: [784, 300, 10] }]],
  ])('%j reads', (text, diff) => {
    expect(configDiff(loadConfig(write('ok.json', text)))).toEqual(diff);
  });
});
