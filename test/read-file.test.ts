// Input files over their size limit are refused from their size alone (sparse
// test files: nothing is written or read but the metadata); pipes and devices,
// whose stat size is 0, are read to at most the limit + 1 bytes.
import { readFileSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_IDX_BYTES, readIdx } from '../src/data/idx.js';
import { DataFileError, WeightsFileError } from '../src/errors.js';
import { MAX_FILE_BYTES, readSafetensors } from '../src/output/safetensors.js';
import { readInputFile } from '../src/read-file.js';
import { tempDir } from './helpers/cli.js';
import { errorOf } from './helpers/errors.js';
import { withFifo } from './helpers/files.js';

const dir = tempDir('mlp-read-');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function sparse(name: string, bytes: number): string {
  const file = join(dir, name);
  writeFileSync(file, '');
  truncateSync(file, bytes);
  return file;
}

describe('size limits', () => {
  it('an IDX file one byte over the limit', () => {
    const file = sparse('huge-idx3-ubyte', MAX_IDX_BYTES + 1);
    expect(errorOf(DataFileError, () => readIdx(file)).message).toBe(
      `${file}: ${MAX_IDX_BYTES + 1} bytes is more than the ${MAX_IDX_BYTES}-byte limit for an IDX file`,
    );
  });

  it('a safetensors file one byte over the limit', () => {
    const file = sparse('huge.safetensors', MAX_FILE_BYTES + 1);
    expect(errorOf(WeightsFileError, () => readSafetensors(file)).message).toBe(
      `${file}: ${MAX_FILE_BYTES + 1} bytes is more than the ${MAX_FILE_BYTES}-byte limit for a safetensors file`,
    );
  });
});

describe('readInputFile: regular files, pipes and devices alike', () => {
  const LIMIT = 10;
  const read = (file: string, checkHead?: (head: Uint8Array) => void): Uint8Array =>
    readInputFile(file, 'a test file', LIMIT, (f, problem) => new DataFileError(f, problem), checkHead);
  const problemOf = (file: string, checkHead?: (head: Uint8Array) => void): string => errorOf(DataFileError, () => read(file, checkHead)).message;
  const write = (name: string, data: string | Uint8Array): string => {
    const file = join(dir, name);
    writeFileSync(file, data);
    return file;
  };

  beforeAll(() => {
    writeFileSync(join(dir, 'eleven.txt'), '01234567890');
    symlinkSync(join(dir, 'loop'), join(dir, 'loop'));
  });


  it.each<[string, string]>([
    ['empty', ''],
    ['one byte', 'x'],
    ['exactly the limit', '0123456789'],
  ])('a regular file, %s: its bytes', (name, text) => {
    expect(Buffer.from(read(write(`${name}.txt`, text))).toString()).toBe(text);
  });

  it.each<[string, string | ((d: string) => string), string]>([
    ['one byte over the limit', (d) => join(d, 'eleven.txt'), '11 bytes is more than the 10-byte limit for a test file'],
    ['a missing file', (d) => join(d, 'nope.txt'), 'no such file'],
    ['a missing folder on the path', (d) => join(d, 'nope', 'x.txt'), 'no such file'],
    ['a file used as a folder (ENOTDIR)', (d) => join(d, 'eleven.txt', 'x'), 'no such file (a part of the path is not a folder)'],
    ['a folder', (d) => d, 'is a directory, expected a test file'],
    ['a symbolic link loop (ELOOP)', (d) => join(d, 'loop'), 'cannot read: too many levels of symbolic links (ELOOP)'],
    ['a file name of 300 characters (ENAMETOOLONG)', (d) => join(d, 'n'.repeat(300)), 'cannot read: file name too long (ENAMETOOLONG)'],
    ['/dev/zero: endless, size 0 in stat', '/dev/zero', 'more than the 10-byte limit for a test file: read 11 bytes from this character device and stopped'],
    ['/dev/urandom', '/dev/urandom', 'more than the 10-byte limit for a test file: read 11 bytes from this character device and stopped'],
  ])('%s -> one line naming the file', (_name, where, problem) => {
    const file = typeof where === 'string' ? where : where(dir);
    expect(problemOf(file)).toBe(`${file}: ${problem}`);
  });

  it('/dev/null: a device with nothing in it is an empty input', () => {
    expect(read('/dev/null').length).toBe(0);
  });

  it('a /proc file (stat size 0, content behind it) is read whole', () => {
    const text = Buffer.from(readInputFile('/proc/self/status', 'a proc file', 1 << 20, (f, p) => new DataFileError(f, p))).toString();
    expect(text).toMatch(/^Name:/);
  });

  it('a pipe: 300,000 bytes arrive in pieces and come back whole', () => {
    const src = write('big.bin', Uint8Array.from({ length: 300_000 }, (_, i) => (i * 7) % 251));
    const got = withFifo(dir, 'fifo-ok', `cat '${src}'`, (fifo) => readInputFile(fifo, 'a big file', 300_000, (f, p) => new DataFileError(f, p)));
    expect(Buffer.compare(Buffer.from(got), readFileSync(src))).toBe(0);
  });

  it('a pipe one byte over the limit is refused after limit + 1 bytes, naming the pipe', () => {
    const src = write('big1.bin', new Uint8Array(300_001));
    withFifo(dir, 'fifo-over', `cat '${src}'`, (fifo) => {
      expect(errorOf(DataFileError, () => readInputFile(fifo, 'a big file', 300_000, (f, p) => new DataFileError(f, p))).message).toBe(
        `${fifo}: more than the 300000-byte limit for a big file: read 300001 bytes from this pipe and stopped`,
      );
    });
  });

  it('an endless pipe is refused, not read for ever', () => {
    withFifo(dir, 'fifo-endless', 'cat /dev/zero', (fifo) => {
      expect(problemOf(fifo)).toBe(`${fifo}: more than the 10-byte limit for a test file: read 11 bytes from this pipe and stopped`);
    });
  });

  it('checkHead sees the first 64 KiB of a device and may refuse at once; it is not asked for regular files', () => {
    const heads: number[] = [];
    const refuse = (head: Uint8Array): never => {
      heads.push(head.length);
      throw new DataFileError('/dev/zero', 'refused by its head');
    };
    const big = (file: string): Uint8Array => readInputFile(file, 'a test file', 1 << 30, (f, p) => new DataFileError(f, p), refuse);
    expect(errorOf(DataFileError, () => big('/dev/zero')).message).toBe('/dev/zero: refused by its head');
    expect(heads).toEqual([65536]);
    expect(big(write('head.txt', 'abc')).length).toBe(3);
    expect(heads).toEqual([65536]);
  });
});
