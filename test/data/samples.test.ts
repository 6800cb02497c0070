// mlp-grad's samples file, read through the bounded reader: regular files,
// pipes and devices alike, one exact line for each way it can fail.
import { mkdirSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MAX_SAMPLES_BYTES, readSamples } from '../../src/data/samples.js';
import { DataFileError } from '../../src/errors.js';
import { errorOf } from '../helpers/errors.js';
import { useTempFiles, withFifo } from '../helpers/files.js';

const GOOD = '{"x": [[0.5, 1]], "labels": [1]}';

describe('readSamples', () => {
  const { dir, write } = useTempFiles('mlp-samples-');

  it.each<[string, string]>([
    ['plain', GOOD],
    ['with a UTF-8 byte order mark', `\ufeff${GOOD}`],
  ])('%s', (name, text) => {
    const s = readSamples(write(`${name}.json`, text), 2, 3);
    expect({ n: s.n, X: [...s.X], D: [...s.D], labels: [...(s.labels ?? [])] }).toEqual({ n: 1, X: [0.5, 1], D: [0, 1, 0], labels: [1] });
  });

  it('through a pipe', () => {
    const src = write('pipe-src.json', GOOD);
    withFifo(dir, 'fifo.json', `cat '${src}'`, (fifo) => expect(readSamples(fifo, 2, 3).n).toBe(1));
  });

  it.each<[string, (d: string) => string, string]>([
    ['a missing file', (d) => join(d, 'nope.json'), 'no such file'],
    [
      'a folder',
      (d) => {
        mkdirSync(join(d, 'folder.json'));
        return join(d, 'folder.json');
      },
      'is a directory, expected a JSON samples file',
    ],
    [
      'a file one byte over the limit (sparse)',
      (d) => {
        const f = join(d, 'huge.json');
        write('huge.json', '');
        truncateSync(f, MAX_SAMPLES_BYTES + 1);
        return f;
      },
      `${MAX_SAMPLES_BYTES + 1} bytes is more than the ${MAX_SAMPLES_BYTES}-byte limit for a JSON samples file`,
    ],
    ['/dev/zero', () => '/dev/zero', `more than the ${MAX_SAMPLES_BYTES}-byte limit for a JSON samples file: read ${MAX_SAMPLES_BYTES + 1} bytes from this character device and stopped`],
    ['/dev/null', () => '/dev/null', 'not valid JSON (Unexpected end of JSON input)'],
  ])('%s -> one line naming the file', (_name, make, problem) => {
    const file = make(dir);
    const err = errorOf(DataFileError, () => readSamples(file, 2, 3));
    expect(err.message).toBe(`${file}: ${problem}`);
    expect(err.file).toBe(file);
  });
});
