// IDX parsing as tables: bytes -> {dims, data}, or bytes -> the exact one-line
// error a user would see. Buffers are built here from the format description
// (LeCun's MNIST page): 0x00 0x00 <type> <ndims>, ndims x u32 big-endian, u8 data.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { DataFileError } from '../../src/errors.js';
import { MAX_GUNZIP_BYTES, MAX_IDX_BYTES, parseIdx, readIdx, type IdxU8 } from '../../src/data/idx.js';
import { errorOf } from '../helpers/errors.js';
import { useTempFiles, withFifo } from '../helpers/files.js';
import { idx } from '../helpers/idx.js';

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => (i * 7 + 3) & 0xff);

/** Plain object so toEqual compares dims and bytes, not the view's buffer. */
const plain = (r: IdxU8): { dims: number[]; data: number[] } => ({ dims: r.dims, data: [...r.data] });

const dataErrorOf = (fn: () => unknown): DataFileError => errorOf(DataFileError, fn);

function expectMessage(err: DataFileError, file: string, expected: string): void {
  expect(err.message).toBe(expected);
  expect(err.message).not.toContain('\n');
  expect(err.file).toBe(file);
  expect(err.message.startsWith(`${file}: `)).toBe(true);
}

describe('parseIdx: bytes -> value', () => {
  it.each<[string, Uint8Array, number[], number[]]>([
    ['1-D labels', Uint8Array.from([0, 0, 8, 1, 0, 0, 0, 3, 7, 2, 1]), [3], [7, 2, 1]],
    ['1-D, one label 255', idx([1], [255]), [1], [255]],
    ['2-D', idx([2, 3], [1, 2, 3, 4, 5, 6]), [2, 3], [1, 2, 3, 4, 5, 6]],
    ['3-D images 2x2x3', idx([2, 2, 3], range(12)), [2, 2, 3], range(12)],
    ['3-D images 3x28x28', idx([3, 28, 28], range(3 * 784)), [3, 28, 28], range(3 * 784)],
    ['4-D (the most accepted)', idx([2, 1, 2, 2], range(8)), [2, 1, 2, 2], range(8)],
    // A dimension of extent 0 is well-formed IDX: the header alone, no data.
    ['1-D with 0 entries', idx([0], []), [0], []],
    ['3-D with 0 images', idx([0, 28, 28], []), [0, 28, 28], []],
    // dims are u32 big-endian: 0x00000100 = 256
    ['big-endian dimension 256', idx([256], range(256)), [256], range(256)],
  ])('%s', (_name, buf, dims, data) => {
    expect(plain(parseIdx(buf, 'f.idx'))).toEqual({ dims, data });
  });

  it('returns a view of the data after the header, not a copy', () => {
    const buf = idx([2, 2], [9, 8, 7, 6]);
    const r = parseIdx(buf, 'f.idx');
    expect(r.data.buffer).toBe(buf.buffer);
    expect(r.data.byteOffset).toBe(4 + 4 * 2);
  });

  it('reads a buffer that is itself a view at an odd offset', () => {
    const file = idx([3], [4, 5, 6]);
    const big = new Uint8Array(file.length + 5);
    big.set(file, 3);
    expect(plain(parseIdx(big.subarray(3, 3 + file.length), 'f.idx'))).toEqual({ dims: [3], data: [4, 5, 6] });
  });
});

describe('parseIdx: bytes -> exact error', () => {
  const truncated12 = idx([2, 2, 3], range(12)).subarray(0, 27);
  const trailing = Uint8Array.from([...idx([3], [1, 2, 3]), 0]);
  const trailing5 = Uint8Array.from([...idx([2, 2], [1, 2, 3, 4]), 0, 0, 0, 0, 0]);
  // The STYLE.md example: a real MNIST header with the data missing.
  const mnistHeaderOnly = idx([60000, 28, 28], []);
  it.each<[string, Uint8Array, string]>([
    ['empty file', new Uint8Array(0), 'empty file, expected an IDX file'],
    ['shorter than the magic', Uint8Array.from([0, 0, 8]), 'too short for an IDX header: 3 bytes, need at least 4'],
    ['one byte', Uint8Array.from([0]), 'too short for an IDX header: 1 bytes, need at least 4'],
    ['wrong magic, first byte', idx([1], [5]).map((b, i) => (i === 0 ? 1 : b)), 'not an IDX file: magic 0x01000801, expected 0x000008NN'],
    ['wrong magic, second byte', idx([1], [5]).map((b, i) => (i === 1 ? 0xff : b)), 'not an IDX file: magic 0x00ff0801, expected 0x000008NN'],
    ['a gzip stream given to the plain parser', gzipSync(idx([1], [5])), 'not an IDX file: magic 0x1f8b0800, expected 0x000008NN'],
    ['a PNG', Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), 'not an IDX file: magic 0x89504e47, expected 0x000008NN'],
    ['type 0x09 signed byte', idx([1], [5], 0x09), 'unsupported data type 0x09 (signed byte); expected 0x08 (unsigned byte)'],
    ['type 0x0b int16', idx([1], [5, 0], 0x0b), 'unsupported data type 0x0b (int16); expected 0x08 (unsigned byte)'],
    ['type 0x0c int32', idx([1], [0, 0, 0, 5], 0x0c), 'unsupported data type 0x0c (int32); expected 0x08 (unsigned byte)'],
    ['type 0x0d float32', idx([1], [0, 0, 0, 0], 0x0d), 'unsupported data type 0x0d (float32); expected 0x08 (unsigned byte)'],
    ['type 0x0e float64', idx([1], range(8), 0x0e), 'unsupported data type 0x0e (float64); expected 0x08 (unsigned byte)'],
    ['type 0x00, not in the format', idx([1], [5], 0x00), 'unsupported data type 0x00; expected 0x08 (unsigned byte)'],
    ['type 0xff, not in the format', idx([1], [5], 0xff), 'unsupported data type 0xff; expected 0x08 (unsigned byte)'],
    ['zero dimensions', Uint8Array.from([0, 0, 8, 0]), '0 dimensions in the header; expected 1 to 4'],
    ['zero dimensions, data after', Uint8Array.from([0, 0, 8, 0, 1, 2, 3]), '0 dimensions in the header; expected 1 to 4'],
    ['five dimensions', idx([1, 1, 1, 1, 1], [5]), '5 dimensions in the header; expected 1 to 4'],
    ['255 dimensions', Uint8Array.from([0, 0, 8, 255]), '255 dimensions in the header; expected 1 to 4'],
    ['header cut inside the dims', idx([2, 2, 3], range(12)).subarray(0, 8), 'truncated header: 3 dimensions need 16 bytes, file has 8'],
    ['header cut before the dims', Uint8Array.from([0, 0, 8, 1]), 'truncated header: 1 dimensions need 8 bytes, file has 4'],
    ['header cut one byte short', idx([2, 2, 3], range(12)).subarray(0, 15), 'truncated header: 3 dimensions need 16 bytes, file has 15'],
    ['data one byte short', truncated12, 'truncated: header says 2x2x3 (28 bytes), file has 27'],
    ['labels with no data', idx([3], []), 'truncated: header says 3 (11 bytes), file has 8'],
    ['MNIST header, no data', mnistHeaderOnly, 'truncated: header says 60000x28x28 (47040016 bytes), file has 16'],
    ['one trailing byte', trailing, '1 trailing bytes after the data: header says 3 (11 bytes), file has 12'],
    ['five trailing bytes', trailing5, '5 trailing bytes after the data: header says 2x2 (16 bytes), file has 21'],
    ['0 entries, but data follows', idx([0], [1, 2]), '2 trailing bytes after the data: header says 0 (8 bytes), file has 10'],
  ])('%s', (_name, buf, problem) => {
    expectMessage(
      dataErrorOf(() => parseIdx(buf, 'f.idx')),
      'f.idx',
      `f.idx: ${problem}`,
    );
  });

  it('a hostile header (4 x 0xffffffff) is refused by the size check, not by an allocation', () => {
    const buf = idx([0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff], [1, 2, 3]);
    const err = dataErrorOf(() => parseIdx(buf, 'f.idx'));
    expect(err.message).toMatch(/^f\.idx: truncated: header says 4294967295x4294967295x4294967295x4294967295 \(.+ bytes\), file has 23$/);
  });
});

describe('readIdx: files, plain and gzipped', () => {
  const { dir, write } = useTempFiles('mlp-idx-');

  const labels = idx([5], [3, 1, 4, 1, 5]);
  const images = idx([2, 3, 4], range(24));

  it.each<[string, Uint8Array, number[], number[]]>([
    ['labels-idx1-ubyte', labels, [5], [3, 1, 4, 1, 5]],
    ['images-idx3-ubyte', images, [2, 3, 4], range(24)],
    ['labels-idx1-ubyte.gz', gzipSync(labels), [5], [3, 1, 4, 1, 5]],
    ['images-idx3-ubyte.gz', gzipSync(images), [2, 3, 4], range(24)],
    // Detection is by the bytes 1f 8b, not by the name.
    ['gzipped-without-extension', gzipSync(images, { level: 1 }), [2, 3, 4], range(24)],
    ['plain-with-gz-extension.gz', images, [2, 3, 4], range(24)],
    // Two concatenated gzip members are one stream to gunzip (RFC 1952 section 2.2).
    ['two-members.gz', Uint8Array.from([...gzipSync(images.subarray(0, 10)), ...gzipSync(images.subarray(10))]), [2, 3, 4], range(24)],
  ])('%s', (name, bytes, dims, data) => {
    expect(plain(readIdx(write(name, bytes)))).toEqual({ dims, data });
  });

  it('gzip and plain give the same bytes for a 28x28 image file', () => {
    const big = idx([10, 28, 28], range(7840));
    const a = readIdx(write('big', big));
    const b = readIdx(write('big.gz', gzipSync(big)));
    expect(b.dims).toEqual(a.dims);
    expect(Buffer.from(b.data).equals(Buffer.from(a.data))).toBe(true);
  });

  const gz = gzipSync(idx([3], [1, 2, 3]));
  const cut = (b: Uint8Array, n: number): Uint8Array => b.subarray(0, b.length - n);
  const poke = (b: Uint8Array, at: number, v: number): Uint8Array => {
    const c = Uint8Array.from(b);
    c[at < 0 ? c.length + at : at] = v;
    return c;
  };
  // The text in parentheses is zlib's own message.
  it.each<[string, Uint8Array, string]>([
    ['cut.gz', cut(gz, 6), 'corrupt or truncated gzip data (unexpected end of file)'],
    ['only-the-magic.gz', Uint8Array.from([0x1f, 0x8b]), 'corrupt or truncated gzip data (unexpected end of file)'],
    ['bad-method.gz', poke(gz, 2, 7), 'corrupt or truncated gzip data (unknown compression method)'],
    ['bad-crc.gz', poke(gz, -6, gz[gz.length - 6] ^ 0xff), 'corrupt or truncated gzip data (incorrect data check)'],
    // A valid gzip stream around a bad IDX file: the error is the IDX one, for the .gz file.
    ['truncated-inside.gz', gzipSync(idx([2, 2, 3], range(11))), 'truncated: header says 2x2x3 (28 bytes), file has 27'],
    ['wrong-type-inside.gz', gzipSync(idx([1], [0, 0, 0, 0], 0x0d)), 'unsupported data type 0x0d (float32); expected 0x08 (unsigned byte)'],
    ['empty-inside.gz', gzipSync(new Uint8Array(0)), 'empty file, expected an IDX file'],
    ['empty-file', new Uint8Array(0), 'empty file, expected an IDX file'],
    ['trailing', Uint8Array.from([...idx([1], [1]), 9, 9]), '2 trailing bytes after the data: header says 1 (9 bytes), file has 11'],
  ])('%s -> error naming the file', (name, bytes, problem) => {
    const file = write(name, bytes);
    expectMessage(
      dataErrorOf(() => readIdx(file)),
      file,
      `${file}: ${problem}`,
    );
  });

  it('a missing file', () => {
    const file = join(dir, 'no-such-dir', 'train-images-idx3-ubyte');
    expectMessage(
      dataErrorOf(() => readIdx(file)),
      file,
      `${file}: no such file`,
    );
  });

  it('a directory', () => {
    const sub = join(dir, 'a-directory');
    mkdirSync(sub);
    expectMessage(
      dataErrorOf(() => readIdx(sub)),
      sub,
      `${sub}: is a directory, expected an IDX file`,
    );
  });

  it('a gzip bomb is stopped at MAX_GUNZIP_BYTES instead of inflating', () => {
    // Members of 16 MiB of zeros (~16 KB each on disk), one more than the limit holds.
    const member = gzipSync(new Uint8Array(16 * 1024 * 1024), { level: 9 });
    const members = Math.floor(MAX_GUNZIP_BYTES / (16 * 1024 * 1024)) + 1;
    const file = write('bomb.gz', Buffer.concat(Array.from({ length: members }, () => member)));
    expectMessage(
      dataErrorOf(() => readIdx(file)),
      file,
      `${file}: gzip data inflates beyond ${MAX_GUNZIP_BYTES} bytes, the limit for .gz input (decompress larger files first)`,
    );
  });
});

describe('readIdx: pipes and devices (stat size 0) are read to a bound', () => {
  const { dir, write } = useTempFiles('mlp-idx-pipe-');


  it('a valid file through a pipe, plain and gzipped', () => {
    const images = idx([200, 28, 28], range(200 * 784)); // 156,816 bytes: several reads of a pipe
    const plainFile = write('images', images);
    const gzFile = write('images.gz', gzipSync(images));
    expect(plain(withFifo(dir, 'p1', `cat '${plainFile}'`, readIdx))).toEqual(plain(readIdx(plainFile)));
    expect(plain(withFifo(dir, 'p2', `cat '${gzFile}'`, readIdx))).toEqual(plain(readIdx(plainFile)));
  });

  it.each<[string, string]>([
    ['/dev/zero', 'unsupported data type 0x00; expected 0x08 (unsigned byte)'],
    ['/dev/null', 'empty file, expected an IDX file'],
  ])('%s -> refused at once', (file, problem) => {
    expectMessage(
      dataErrorOf(() => readIdx(file)),
      file,
      `${file}: ${problem}`,
    );
  });

  it('a pipe whose header claims more than MAX_IDX_BYTES is refused after its header, not after a gigabyte', () => {
    const head = write('huge-head', idx([2_000_000, 28, 28], []));
    withFifo(dir, 'p3', `cat '${head}' /dev/zero`, (fifo) => {
      expectMessage(
        dataErrorOf(() => readIdx(fifo)),
        fifo,
        `${fifo}: header says 2000000x28x28 (1568000016 bytes), more than the ${MAX_IDX_BYTES}-byte limit for an IDX file`,
      );
    });
  });

  it('an endless pipe of bytes that are not IDX', () => {
    withFifo(dir, 'p4', 'yes', (fifo) => {
      expectMessage(dataErrorOf(() => readIdx(fifo)), fifo, `${fifo}: not an IDX file: magic 0x790a790a, expected 0x000008NN`);
    });
  });
});
