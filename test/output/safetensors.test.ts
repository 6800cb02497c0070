// safetensors: round trips, hand-built files of every dtype we read, a table of
// damaged files -> the exact one-line error, and a cross-check with a reader
// that shares no code with ours (scripts/safetensors_check.py: struct + json + numpy).
// Files are built here from the format description
// (https://github.com/huggingface/safetensors#format): u64 LE header length N,
// N bytes of JSON, then the byte buffer.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WeightsFileError } from '../../src/errors.js';
import {
  MAX_HEADER_BYTES,
  decodeSafetensors,
  encodeSafetensors,
  readSafetensors,
  writeSafetensors,
  type Safetensors,
} from '../../src/output/safetensors.js';
import { ROOT, tempDir } from '../helpers/cli.js';
import { errorOf } from '../helpers/errors.js';
import { withFifo } from '../helpers/files.js';

const F = 'w.safetensors';

/** A safetensors file from a header (object, or raw JSON text) and the byte buffer. */
function file(header: unknown, data: Uint8Array = new Uint8Array(0), lengthField?: bigint): Uint8Array {
  const json = Buffer.from(typeof header === 'string' ? header : JSON.stringify(header), 'utf8');
  return withLength(lengthField ?? BigInt(json.length), json, data);
}

function withLength(n: bigint, header: Uint8Array, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(8 + header.length + data.length);
  new DataView(out.buffer).setBigUint64(0, n, true);
  out.set(header, 8);
  out.set(data, 8 + header.length);
  return out;
}

/** Little-endian bytes of values in the given dtype. */
function le(dtype: 'F32' | 'F64' | 'U16', values: number[]): Uint8Array {
  const size = dtype === 'F64' ? 8 : dtype === 'F32' ? 4 : 2;
  const out = new Uint8Array(values.length * size);
  const v = new DataView(out.buffer);
  values.forEach((x, k) => {
    if (dtype === 'F64') v.setFloat64(8 * k, x, true);
    else if (dtype === 'F32') v.setFloat32(4 * k, x, true);
    else v.setUint16(2 * k, x, true);
  });
  return out;
}

const cat = (...parts: Uint8Array[]): Uint8Array => Uint8Array.from(parts.flatMap((p) => [...p]));

/** Bit patterns, so that -0 vs 0 and every mantissa bit count. */
const bits = (a: Float32Array): number[] => [...new Uint32Array(a.buffer, a.byteOffset, a.length)];

const plain = (s: Safetensors): unknown => ({
  metadata: s.metadata,
  tensors: Object.fromEntries([...s.tensors].map(([k, t]) => [k, { shape: t.shape, data: [...t.data] }])),
});

const weightsErrorOf = (fn: () => unknown): WeightsFileError => errorOf(WeightsFileError, fn);

function expectMessage(err: WeightsFileError, name: string, expected: string | RegExp): void {
  if (typeof expected === 'string') expect(err.message).toBe(expected);
  else expect(err.message).toMatch(expected);
  expect(err.message).not.toContain('\n');
  expect(err.file).toBe(name);
}

describe('encode -> decode round trip', () => {
  it('F32 tensors keep every bit, their order, shapes and the metadata', () => {
    const awkward = Float32Array.from([
      0,
      -0,
      1,
      -1.5,
      Math.fround(Math.PI),
      1.401298464324817e-45, // smallest subnormal
      1.1754943508222875e-38, // smallest normal
      3.4028234663852886e38, // largest finite float32
      -3.4028234663852886e38,
      Math.fround(0.1),
      Math.fround(1 / 3),
      Math.fround(-2e-7),
    ]);
    const tensors: Array<[string, { shape: number[]; data: Float32Array }]> = [
      ['layers.0.weight', { shape: [3, 4], data: awkward }],
      ['layers.0.bias', { shape: [3], data: Float32Array.from([0.5, -0.25, 8]) }],
      ['scalar', { shape: [], data: Float32Array.from([42]) }],
      ['empty', { shape: [0, 5], data: new Float32Array(0) }],
    ];
    const metadata = { format: 'mlp-mnist', config: '{"a": [1, 2], "s": "π ≈ 3.14, \\"quoted\\"\\n"}', empty: '' };
    const back = decodeSafetensors(encodeSafetensors(tensors, metadata), F);
    expect([...back.tensors.keys()].sort()).toEqual(['empty', 'layers.0.bias', 'layers.0.weight', 'scalar']);
    for (const [name, t] of tensors) {
      const got = back.tensors.get(name);
      expect(got?.shape).toEqual(t.shape);
      expect(got?.data).toBeInstanceOf(Float32Array);
      expect(bits(got?.data ?? new Float32Array(1))).toEqual(bits(t.data));
    }
    expect(back.metadata).toEqual(metadata);
  });

  it('F64 input is stored as F32: each value rounds as Math.fround does', () => {
    const values = [0.1, 1 / 3, Math.PI, -1e-10, 123456789.123, 2 ** -140];
    const enc = encodeSafetensors([['x', { shape: [2, 3], data: Float64Array.from(values) }]]);
    const back = decodeSafetensors(enc, F);
    expect(back.tensors.get('x')?.shape).toEqual([2, 3]);
    expect([...(back.tensors.get('x')?.data ?? [])]).toEqual(values.map(Math.fround));
    const headerLen = Number(new DataView(enc.buffer).getBigUint64(0, true));
    const header = JSON.parse(Buffer.from(enc.subarray(8, 8 + headerLen)).toString('utf8'));
    expect(header.x).toEqual({ dtype: 'F32', shape: [2, 3], data_offsets: [0, 24] });
  });

  it('accepts a Map as well as a list of pairs', () => {
    const m = new Map([['t', { shape: [2], data: Float32Array.from([1, 2]) }]]);
    expect(plain(decodeSafetensors(encodeSafetensors(m), F))).toEqual({ metadata: {}, tensors: { t: { shape: [2], data: [1, 2] } } });
  });

  it('no tensors at all is a valid file', () => {
    expect(plain(decodeSafetensors(encodeSafetensors([], { k: 'v' }), F))).toEqual({ metadata: { k: 'v' }, tensors: {} });
  });

  it.each([0, 1, 2, 3, 4, 5, 6, 7])('byte buffer starts 8-byte aligned, header padded with spaces (metadata length +%i)', (extra) => {
    const enc = encodeSafetensors([['w', { shape: [1], data: Float32Array.from([1]) }]], { m: 'x'.repeat(extra) });
    const n = Number(new DataView(enc.buffer).getBigUint64(0, true));
    expect((8 + n) % 8).toBe(0);
    const header = Buffer.from(enc.subarray(8, 8 + n)).toString('utf8');
    expect(header.trimEnd()).toBe(JSON.stringify({ __metadata__: { m: 'x'.repeat(extra) }, w: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }));
    expect(/^ *$/.test(header.slice(header.trimEnd().length))).toBe(true);
    expect(enc.length).toBe(8 + n + 4);
    // The data: 1.0f little-endian is 00 00 80 3f.
    expect([...enc.subarray(8 + n)]).toEqual([0x00, 0x00, 0x80, 0x3f]);
  });
});

describe('decode: hand-built files of each dtype', () => {
  it.each<[string, Uint8Array, number[]]>([
    ['F32', le('F32', [1, -2.5, 0.15625]), [1, -2.5, 0.15625]],
    ['F64', le('F64', [1, -2.5, 0.1]), [1, -2.5, Math.fround(0.1)]],
    // binary16: 3c00 = 1, c000 = -2, 3555 ~ 1/3 = 0x155/1024 * 2^-2 + 2^-2, 0001 = 2^-24 (subnormal), 7bff = 65504 (max), 8000 = -0
    ['F16', le('U16', [0x3c00, 0xc000, 0x3555, 0x0001, 0x7bff, 0x8000]), [1, -2, (1 + 0x155 / 1024) / 4, 2 ** -24, 65504, -0]],
    // bfloat16 is the top half of a float32: 3f80 = 1, c040 = -3, 4049 = 3.140625, 0001 = 2^-133 (subnormal)
    ['BF16', le('U16', [0x3f80, 0xc040, 0x4049, 0x0001]), [1, -3, 3.140625, 2 ** -133]],
  ])('%s', (dtype, data, expected) => {
    const n = expected.length;
    const out = decodeSafetensors(file({ t: { dtype, shape: [n], data_offsets: [0, data.length] } }, data), F);
    const t = out.tensors.get('t');
    expect(t?.shape).toEqual([n]);
    expect(t?.data).toBeInstanceOf(Float32Array);
    expect([...(t?.data ?? [])]).toEqual(expected);
    expect(out.metadata).toEqual({});
  });

  it('mixed dtypes in one file, tensors listed out of offset order, unaligned data', () => {
    const data = cat(le('U16', [0x3c00]), le('F64', [2.5]), le('F32', [-4, 8]));
    const header = {
      b: { dtype: 'F64', shape: [1, 1], data_offsets: [2, 10] },
      c: { dtype: 'F32', shape: [2], data_offsets: [10, 18] },
      a: { dtype: 'F16', shape: [1], data_offsets: [0, 2] },
      __metadata__: { note: 'hand-made' },
    };
    expect(plain(decodeSafetensors(file(header, data), F))).toEqual({
      metadata: { note: 'hand-made' },
      tensors: { b: { shape: [1, 1], data: [2.5] }, c: { shape: [2], data: [-4, 8] }, a: { shape: [1], data: [1] } },
    });
  });

  it('a header padded with spaces and a decode from a view at an odd offset', () => {
    const f = file('{"t": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}     ', le('F32', [7]));
    const big = new Uint8Array(f.length + 3);
    big.set(f, 3);
    expect(plain(decodeSafetensors(big.subarray(3), F))).toEqual({ metadata: {}, tensors: { t: { shape: [1], data: [7] } } });
  });
});

describe('decode: damaged file -> exact error', () => {
  const t4 = (entry: Record<string, unknown>): Record<string, unknown> => ({ t: { dtype: 'F32', shape: [1], data_offsets: [0, 4], ...entry } });
  const one = le('F32', [1]);
  const good = encodeSafetensors([
    ['layers.0.weight', { shape: [2, 2], data: Float32Array.from([1, 2, 3, 4]) }],
    ['layers.0.bias', { shape: [2], data: Float32Array.from([5, 6]) }],
  ]);
  const goodDataStart = good.length - 24;

  it.each<[string, Uint8Array, string | RegExp]>([
    ['empty file', new Uint8Array(0), 'too short for a safetensors file: 0 bytes, need at least 8'],
    ['7 bytes', new Uint8Array(7), 'too short for a safetensors file: 7 bytes, need at least 8'],
    ['header length 0', new Uint8Array(8), 'header length is 0'],
    ['header length larger than the file', file('{}', new Uint8Array(0), 100n), 'header length 100 exceeds the 2 bytes after the length field'],
    ['header length one more than the file', file('{}', new Uint8Array(0), 3n), 'header length 3 exceeds the 2 bytes after the length field'],
    ['header length 2^63', file('{}', new Uint8Array(0), 2n ** 63n), 'header length 9223372036854775808 exceeds the limit of 104857600 bytes'],
    ['header length u64 max', file('{}', new Uint8Array(0), 2n ** 64n - 1n), 'header length 18446744073709551615 exceeds the limit of 104857600 bytes'],
    ['header length just over the limit', file('{}', new Uint8Array(0), BigInt(MAX_HEADER_BYTES) + 1n), 'header length 104857601 exceeds the limit of 104857600 bytes'],
    // JSON.parse's own message is V8's and may change with Node; our part is exact.
    ['header not JSON', file('{not json'), /^w\.safetensors: header is not valid JSON \(.+\)$/],
    ['header cut inside the JSON', file('{"t": {"dtype"'), /^w\.safetensors: header is not valid JSON \(.+\)$/],
    ['header all spaces', file('    '), /^w\.safetensors: header is not valid JSON \(.+\)$/],
    [
      'header not UTF-8',
      withLength(4n, Uint8Array.from([0x22, 0xff, 0xfe, 0x22]), new Uint8Array(0)),
      'header is not valid JSON (The encoded data was not valid for encoding utf-8)',
    ],
    ['header a JSON array', file('[1, 2]'), 'header is not a JSON object'],
    ['header JSON null', file('null'), 'header is not a JSON object'],
    ['header a JSON string', file('"tensors"'), 'header is not a JSON object'],
    ['header a JSON number', file('42'), 'header is not a JSON object'],
    ['__metadata__ an array', file({ __metadata__: ['a'] }), '__metadata__ is not an object of strings'],
    ['__metadata__ null', file({ __metadata__: null }), '__metadata__ is not an object of strings'],
    ['__metadata__ a string', file({ __metadata__: 'x' }), '__metadata__ is not an object of strings'],
    ['metadata value a number', file({ __metadata__: { epochs: 30 } }), '__metadata__.epochs is not a string'],
    ['metadata value an object', file({ __metadata__: { a: 'ok', config: { lr: 0.5 } } }), '__metadata__.config is not a string'],
    ['metadata value null', file({ __metadata__: { seed: null } }), '__metadata__.seed is not a string'],
    ['tensor entry a number', file({ t: 5 }), 'tensor t: expected {dtype, shape, data_offsets}'],
    ['tensor entry null', file({ t: null }), 'tensor t: expected {dtype, shape, data_offsets}'],
    ['tensor entry an array', file({ t: ['F32', [1], [0, 4]] }, one), 'tensor t: expected {dtype, shape, data_offsets}'],
    ['dtype missing', file({ t: { shape: [1], data_offsets: [0, 4] } }, one), 'tensor t: missing dtype'],
    ['dtype a number', file(t4({ dtype: 4 }), one), 'tensor t: missing dtype'],
    ['dtype unknown', file(t4({ dtype: 'F8' }), one), 'tensor t: unsupported dtype F8 (expected F32, F64, F16 or BF16)'],
    ['dtype integer', file(t4({ dtype: 'I32' }), one), 'tensor t: unsupported dtype I32 (expected F32, F64, F16 or BF16)'],
    ['dtype lower case', file(t4({ dtype: 'f32' }), one), 'tensor t: unsupported dtype f32 (expected F32, F64, F16 or BF16)'],
    ['shape missing', file({ t: { dtype: 'F32', data_offsets: [0, 4] } }, one), 'tensor t: shape must be a list of non-negative integers, found undefined'],
    ['shape negative', file(t4({ shape: [-1] }), one), 'tensor t: shape must be a list of non-negative integers, found [-1]'],
    ['shape fractional', file(t4({ shape: [0.5, 2] }), one), 'tensor t: shape must be a list of non-negative integers, found [0.5,2]'],
    ['shape a number', file(t4({ shape: 1 }), one), 'tensor t: shape must be a list of non-negative integers, found 1'],
    ['shape of strings', file(t4({ shape: ['1'] }), one), 'tensor t: shape must be a list of non-negative integers, found ["1"]'],
    ['offsets missing', file({ t: { dtype: 'F32', shape: [1] } }, one), 'tensor t: data_offsets must be [begin, end] non-negative integers, found undefined'],
    ['offsets one number', file(t4({ data_offsets: [4] }), one), 'tensor t: data_offsets must be [begin, end] non-negative integers, found [4]'],
    ['offsets three numbers', file(t4({ data_offsets: [0, 4, 8] }), one), 'tensor t: data_offsets must be [begin, end] non-negative integers, found [0,4,8]'],
    ['offsets negative', file(t4({ data_offsets: [-4, 0] }), one), 'tensor t: data_offsets must be [begin, end] non-negative integers, found [-4,0]'],
    ['offsets beyond 2^53', file('{"t": {"dtype": "F32", "shape": [1], "data_offsets": [0, 9007199254740993]}}', one), 'tensor t: data_offsets must be [begin, end] non-negative integers, found [0,9007199254740992]'],
    ['offsets reversed', file(t4({ data_offsets: [4, 0] }), one), 'tensor t: data_offsets [4, 0] end before they begin'],
    ['offsets out of range', file(t4({ data_offsets: [0, 8] }), one), 'tensor t: data_offsets [0, 8] run past the 4 bytes of data'],
    ['offsets far out of range', file(t4({ shape: [2 ** 40], data_offsets: [0, 2 ** 42] }), one), 'tensor t: data_offsets [0, 4398046511104] run past the 4 bytes of data'],
    ['shape bigger than the offsets', file(t4({ shape: [3] }), one), 'tensor t: shape [3] of F32 needs 12 bytes, data_offsets give 4'],
    ['shape smaller than the offsets', file(t4({ shape: [1], data_offsets: [0, 8] }), le('F32', [1, 2])), 'tensor t: shape [1] of F32 needs 4 bytes, data_offsets give 8'],
    ['F64 shape read as F32 bytes', file(t4({ dtype: 'F64', shape: [2], data_offsets: [0, 8] }), le('F32', [1, 2])), 'tensor t: shape [2] of F64 needs 16 bytes, data_offsets give 8'],
    ['2-D shape mismatch', file(t4({ shape: [2, 3], data_offsets: [0, 20] }), new Uint8Array(20)), 'tensor t: shape [2,3] of F32 needs 24 bytes, data_offsets give 20'],
    [
      'offsets overlapping',
      file({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } }, le('F32', [1, 2, 3])),
      'tensor b: data_offsets [4, 12] overlap another tensor',
    ],
    [
      'two tensors on the same bytes',
      file({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] }, b: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, one),
      'tensor b: data_offsets [0, 4] overlap another tensor',
    ],
    ['a gap before the first tensor', file(t4({ data_offsets: [4, 8] }), le('F32', [1, 2])), 'bytes 0..4 of the data belong to no tensor'],
    [
      'a gap between tensors',
      file({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] }, b: { dtype: 'F32', shape: [1], data_offsets: [8, 12] } }, le('F32', [1, 2, 3])),
      'bytes 4..8 of the data belong to no tensor',
    ],
    ['extra bytes after the last tensor', file(t4({}), le('F32', [1, 2])), '4 bytes after the last tensor belong to no tensor'],
    ['data but no tensors', file({ __metadata__: {} }, one), '4 bytes after the last tensor belong to no tensor'],
    ['truncated file (one byte)', good.subarray(0, good.length - 1), 'tensor layers.0.bias: data_offsets [16, 24] run past the 23 bytes of data'],
    ['truncated file (all data)', good.subarray(0, goodDataStart), 'tensor layers.0.weight: data_offsets [0, 16] run past the 0 bytes of data'],
    ['truncated file (inside the header)', good.subarray(0, 20), /^w\.safetensors: header length \d+ exceeds the 12 bytes after the length field$/],
    ['F32 NaN', file(t4({ shape: [2], data_offsets: [0, 8] }), le('F32', [1, NaN])), 'tensor t: value 1 is NaN'],
    ['F32 +Infinity', file(t4({}), le('F32', [Infinity])), 'tensor t: value 0 is infinite'],
    ['F32 -Infinity', file(t4({ shape: [3], data_offsets: [0, 12] }), le('F32', [0, 0, -Infinity])), 'tensor t: value 2 is infinite'],
    ['F64 Infinity', file(t4({ dtype: 'F64', data_offsets: [0, 8] }), le('F64', [Infinity])), 'tensor t: value 0 is infinite'],
    ['F64 NaN', file(t4({ dtype: 'F64', data_offsets: [0, 8] }), le('F64', [NaN])), 'tensor t: value 0 is NaN'],
    // binary16 7e00 = NaN, fc00 = -Infinity; bfloat16 7fc0 = NaN, 7f80 = +Infinity
    ['F16 NaN', file(t4({ dtype: 'F16', data_offsets: [0, 2] }), le('U16', [0x7e00])), 'tensor t: value 0 is NaN'],
    ['F16 -Infinity', file(t4({ dtype: 'F16', shape: [2], data_offsets: [0, 4] }), le('U16', [0x3c00, 0xfc00])), 'tensor t: value 1 is infinite'],
    ['BF16 NaN', file(t4({ dtype: 'BF16', data_offsets: [0, 2] }), le('U16', [0x7fc0])), 'tensor t: value 0 is NaN'],
    ['BF16 +Infinity', file(t4({ dtype: 'BF16', data_offsets: [0, 2] }), le('U16', [0x7f80])), 'tensor t: value 0 is infinite'],
  ])('%s', (_name, buf, expected) => {
    expectMessage(
      weightsErrorOf(() => decodeSafetensors(buf, F)),
      F,
      typeof expected === 'string' ? `${F}: ${expected}` : expected,
    );
  });

  it('F64 values beyond the float32 range are refused, not turned into infinite F32 weights', () => {
    // 1e300 is finite as F64, but the F32 it becomes is Infinity: the "values must be
    // finite" promise is about the weights we hand back. (The exact wording is open.)
    const buf = file({ t: { dtype: 'F64', shape: [2], data_offsets: [0, 16] } }, le('F64', [1, 1e300]));
    expectMessage(
      weightsErrorOf(() => decodeSafetensors(buf, F)),
      F,
      /^w\.safetensors: tensor t: value 1 /,
    );
  });
});

describe('files on disk', () => {
  let dir: string;
  beforeAll(() => {
    dir = tempDir('mlp-safetensors-');
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('writeSafetensors -> readSafetensors, and the file holds exactly the encoded bytes', () => {
    const f = join(dir, 'rt.safetensors');
    const tensors: Array<[string, { shape: number[]; data: Float32Array }]> = [['w', { shape: [2, 2], data: Float32Array.from([1, -2, 3.5, -0.125]) }]];
    writeSafetensors(f, tensors, { a: 'b' });
    expect(Buffer.from(readFileSync(f)).equals(Buffer.from(encodeSafetensors(tensors, { a: 'b' })))).toBe(true);
    expect(plain(readSafetensors(f))).toEqual({ metadata: { a: 'b' }, tensors: { w: { shape: [2, 2], data: [1, -2, 3.5, -0.125] } } });
  });

  it.each<[string, (dir: string) => string, string]>([
    ['a missing file', (d) => join(d, 'nope', 'model.safetensors'), 'no such file'],
    [
      'a directory',
      (d) => {
        mkdirSync(join(d, 'model.safetensors.d'));
        return join(d, 'model.safetensors.d');
      },
      'is a directory, expected a safetensors file',
    ],
    [
      'a damaged file',
      (d) => {
        writeFileSync(join(d, 'bad.safetensors'), 'not a safetensors file');
        return join(d, 'bad.safetensors');
      },
      // its first 8 bytes, "not a sa", read as the u64 little-endian header length
      `header length ${Buffer.from('not a sa').readBigUInt64LE(0)} exceeds the limit of 104857600 bytes`,
    ],
  ])('%s -> error naming the file', (_name, make, problem) => {
    const f = make(dir);
    expectMessage(
      weightsErrorOf(() => readSafetensors(f)),
      f,
      `${f}: ${problem}`,
    );
  });

  it('a Python reader with no code in common (numpy) reads the same tensors and metadata', () => {
    const f = join(dir, 'py.safetensors');
    const W = Float32Array.from({ length: 35 }, (_, k) => Math.fround(Math.sin(k + 1) * 3));
    const b = Float32Array.from([0.1, -0.2, 0.3, 1e-30, -7]);
    const v = Float64Array.from([1 / 3, -2 / 3]); // written as F32
    const metadata = { format: 'mlp-mnist', config: JSON.stringify({ model: { layers: [7, 5] } }) };
    writeSafetensors(
      f,
      [
        ['layers.0.weight', { shape: [5, 7], data: W }],
        ['layers.0.bias', { shape: [5], data: b }],
        ['v', { shape: [2, 1], data: v }],
      ],
      metadata,
    );
    const py = spawnSync('python3', [join(ROOT, 'scripts', 'safetensors_check.py'), f], { encoding: 'utf8' });
    expect(py.stderr).toBe('');
    expect(py.status).toBe(0);
    const out = JSON.parse(py.stdout) as Record<string, { shape: number[]; dtype: string; sum: number; first: number[] }> & {
      __metadata__: Record<string, string>;
    };
    expect(out.__metadata__).toEqual(metadata);
    const expectTensor = (name: string, shape: number[], data: ArrayLike<number>): void => {
      const f32 = Float32Array.from(data);
      expect(out[name].shape).toEqual(shape);
      expect(out[name].dtype).toBe('float32');
      // Python prints the float32 values widened to float64: exact.
      expect(out[name].first).toEqual([...f32.subarray(0, 5)]);
      // numpy sums pairwise, we sum left to right, both in float64 over <= 35 terms of
      // size <= 3: the orders differ by at most ~35 * 2^-52 * 3 ~ 2e-14.
      const sum = f32.reduce((s, x) => s + x, 0);
      expect(Math.abs(out[name].sum - sum)).toBeLessThanOrEqual(1e-12);
    };
    expectTensor('layers.0.weight', [5, 7], W);
    expectTensor('layers.0.bias', [5], b);
    expectTensor('v', [2, 1], v);
    expect(Object.keys(out).sort()).toEqual(['__metadata__', 'layers.0.bias', 'layers.0.weight', 'v']);
  });
});

describe('inspect: the checked header, before any value is decoded', () => {
  const W = { dtype: 'F32', shape: [2, 2], data_offsets: [0, 16] };
  const b = { dtype: 'F32', shape: [2], data_offsets: [16, 24] };

  it('sees every tensor (header order), the metadata and the file size, and can refuse the file', () => {
    const buf = file({ __metadata__: { k: 'v' }, 'layers.0.weight': W, 'layers.0.bias': b }, le('F32', [1, 2, 3, 4, 5, 6]));
    const seen: unknown[] = [];
    const out = decodeSafetensors(buf, F, (tensors, metadata, bytes) => seen.push([...tensors], metadata, bytes));
    expect(seen).toEqual([
      [
        ['layers.0.weight', { dtype: 'F32', shape: [2, 2] }],
        ['layers.0.bias', { dtype: 'F32', shape: [2] }],
      ],
      { k: 'v' },
      buf.length,
    ]);
    expect([...out.tensors.keys()]).toEqual(['layers.0.weight', 'layers.0.bias']);
    expectMessage(
      weightsErrorOf(() =>
        decodeSafetensors(buf, F, () => {
          throw new WeightsFileError(F, 'too big');
        }),
      ),
      F,
      `${F}: too big`,
    );
  });

  it('runs before the values are decoded: a NaN is not reached when inspect refuses', () => {
    const buf = file({ t: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, le('F32', [NaN]));
    expectMessage(
      weightsErrorOf(() =>
        decodeSafetensors(buf, F, () => {
          throw new WeightsFileError(F, 'refused by its shapes');
        }),
      ),
      F,
      `${F}: refused by its shapes`,
    );
  });

  it('runs after the layout is checked: a gap is reported first, inspect never sees a bad header', () => {
    let called = false;
    const buf = file({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] }, b: { dtype: 'F32', shape: [1], data_offsets: [8, 12] } }, le('F32', [1, 2, 3]));
    expectMessage(weightsErrorOf(() => decodeSafetensors(buf, F, () => (called = true))), F, `${F}: bytes 4..8 of the data belong to no tensor`);
    expect(called).toBe(false);
  });
});

describe('pipes and devices', () => {
  let dir: string;
  beforeAll(() => {
    dir = tempDir('mlp-safetensors-pipe-');
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it.each<[string, string]>([
    ['/dev/zero', 'header length is 0'],
    ['/dev/null', 'too short for a safetensors file: 0 bytes, need at least 8'],
  ])('%s -> refused at once', (f, problem) => {
    expectMessage(weightsErrorOf(() => readSafetensors(f)), f, `${f}: ${problem}`);
  });

  it('a file through a pipe reads as the file does; an endless pipe of "yes" is refused on its header length', () => {
    const src = join(dir, 'w.safetensors');
    writeSafetensors(src, [['w', { shape: [300, 300], data: Float32Array.from({ length: 90000 }, (_, k) => k / 7) }]], { a: 'b' });
    const fifo = (name: string, command: string, fn: (f: string) => void): void => withFifo(dir, name, command, fn);
    fifo('ok.safetensors', `cat '${src}'`, (f) => expect(plain(readSafetensors(f))).toEqual(plain(readSafetensors(src))));
    // "y\ny\ny\n..." as a u64 LE length: 0x0a790a790a790a79
    fifo('yes.safetensors', 'yes', (f) =>
      expectMessage(weightsErrorOf(() => readSafetensors(f)), f, `${f}: header length ${0x0a790a790a790a79n} exceeds the limit of 104857600 bytes`),
    );
  });
});
