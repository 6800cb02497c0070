// Relative data paths: in a config file they mean the file's folder, in --set
// the working directory; both come out absolute, so the config saved with a
// run means the same files from anywhere, and an error about a data file
// names the file that was opened.
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { pathKeys } from '../../src/config/paths.js';
import { loadRunData } from '../../src/data/load.js';
import { DataFileError } from '../../src/errors.js';
import { errorOf } from '../helpers/errors.js';
import { useTempFiles } from '../helpers/files.js';

const { dir, write } = useTempFiles('mlp-paths-');
mkdirSync(join(dir, 'configs'), { recursive: true });

type Files = { train: { images: string | null; labels: string | null }; test: { images: string | null; labels: string | null } };

const none = { images: null, labels: null };

describe('relative data paths', () => {
  it('the schema marks data.dir and the four IDX paths', () => {
    expect(pathKeys().map((k) => k.join('.'))).toEqual(['data.dir', 'data.train.images', 'data.train.labels', 'data.test.images', 'data.test.labels']);
  });

  it.each<[string, string, string[], (cfg: string) => Files]>([
    [
      'config.yaml',
      'data:\n  train:\n    images: idx/train-images.gz\n    labels: ../shared/train-labels\n',
      [],
      (cfg) => ({ train: { images: join(cfg, 'idx/train-images.gz'), labels: join(cfg, '../shared/train-labels') }, test: none }),
    ],
    [
      'config.json',
      '{"data": {"test": {"images": "./t10k-images", "labels": "/abs/t10k-labels"}}}',
      [],
      (cfg) => ({ train: none, test: { images: join(cfg, 't10k-images'), labels: '/abs/t10k-labels' } }),
    ],
    // --set: the working directory, whatever the config file's folder
    [
      'set.yaml',
      'data:\n  train:\n    images: a\n',
      ['data.train.labels=b', 'data.test={images: c, labels: /abs/d}'],
      (cfg) => ({ train: { images: join(cfg, 'a'), labels: resolve('b') }, test: { images: resolve('c'), labels: '/abs/d' } }),
    ],
    ['set-section.yaml', 'data:\n  train:\n    images: a\n', ['data={test: {labels: d}}'], () => ({ train: none, test: { images: null, labels: resolve('d') } })],
    ['set-over.yaml', 'data:\n  train:\n    images: a\n', ['data.train.images=a'], () => ({ train: { images: resolve('a'), labels: null }, test: none })],
    // values the schema refuses are left alone, for it to say so
    ['null.yaml', 'data:\n  train:\n    images: ~\n    labels: null\n', [], () => ({ train: none, test: none })],
  ])('%s %j', (name, text, sets, expected) => {
    const file = write(join('configs', name), text);
    expect(loadConfig(file, sets).data).toMatchObject(expected(join(dir, 'configs')));
  });

  it('output.dir is not a data path (it stays as written)', () => {
    const file = write(join('configs', 'out.yaml'), 'output:\n  dir: runs/a\n');
    expect(loadConfig(file).output.dir).toBe('runs/a');
  });

  it('a config given by a relative name resolves against its folder too', () => {
    write(join('configs', 'rel.yaml'), 'data:\n  test:\n    images: x\n');
    const relative = join('configs', 'rel.yaml');
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      expect(loadConfig(relative).data.test.images).toBe(join(dir, 'configs', 'x'));
    } finally {
      process.chdir(cwd);
    }
  });

  it.each<[string, string[]]>([
    ['data:\n  train:\n    images: ""\n', []],
    ['data:\n  train:\n    images: 3\n', []],
  ])('%j is refused as before', (text, sets) => {
    const file = write(join('configs', 'bad.yaml'), text);
    expect(() => loadConfig(file, sets)).toThrow(/data\.train\.images: expected a non-empty string or null/);
  });

  // the error about a data file names the resolved file, not the text of the config
  it.each<[string, string[], (cfg: string) => string]>([
    ['data:\n  test:\n    images: missing-images\n', [], (cfg) => `${join(cfg, 'missing-images')}: no such file`],
    ['', ['data.test.images=missing-images'], () => `${resolve('missing-images')}: no such file`],
  ])('a missing data file: %j %j', (text, sets, expected) => {
    const file = write(join('configs', 'missing.yaml'), text);
    const config = loadConfig(file, sets);
    const err = errorOf(DataFileError, () => loadRunData(config, file, { train: false, test: true }));
    expect(err.message).toBe(expected(join(dir, 'configs')));
  });
});
