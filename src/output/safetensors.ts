// safetensors (https://github.com/huggingface/safetensors), read and written by hand:
//
//   bytes 0..8      N, u64 little-endian: length of the header
//   bytes 8..8+N    UTF-8 JSON: {"__metadata__": {str: str},
//                                "<name>": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, ...}
//   bytes 8+N..     the byte buffer; offsets are relative to its start, data little-endian, row-major
//
// The reader trusts nothing: every length and offset is checked against the
// file size before use, tensors must exactly tile the byte buffer, and values
// must be finite. F64, F16 and BF16 tensors are converted to F32. The header
// is checked whole (and shown to the caller's `inspect`, which may refuse the
// file by its shapes) before any value is decoded.
import { readInputFile } from '../read-file.js';
import { WeightsFileError } from '../errors.js';
import { MEMORY_LIMIT_BYTES } from '../model/memory.js';
import { writeFileAtomic } from './atomic.js';

export interface Tensor {
  shape: number[];
  data: Float32Array;
}

export interface Safetensors {
  tensors: Map<string, Tensor>;
  metadata: Record<string, string>;
}

/** Headers larger than this are refused (ours are under 2 KB; the reference implementation caps at 100 MB too). */
export const MAX_HEADER_BYTES = 100 * 1024 * 1024;

/**
 * Files larger than this are refused before they are read (a 784-300-10
 * model is 0.95 MB). Half the memory limit: reading a file holds its bytes,
 * the values decoded from them and the model built from those, at least
 * twice the file's size (F64; three times for F32), so no larger file could
 * pass the memory check of src/model/memory.ts anyway.
 */
export const MAX_FILE_BYTES = MEMORY_LIMIT_BYTES / 2;

const DTYPE_BYTES: Record<string, number> = { F32: 4, F64: 8, F16: 2, BF16: 2 };

/** A view of `data` as anything with a shape; F32 is the only dtype we write. */
type TensorLike = { shape: number[]; data: Float32Array | Float64Array };

export function encodeSafetensors(
  tensors: ReadonlyArray<[string, TensorLike]> | Map<string, TensorLike>,
  metadata: Record<string, string> = {},
): Uint8Array {
  const entries = [...tensors];
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const [name, t] of entries) {
    const bytes = t.data.length * 4;
    header[name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  // Pad with spaces so that the byte buffer starts 8-byte aligned.
  const jsonBytes = Buffer.byteLength(json, 'utf8');
  json += ' '.repeat((8 - ((8 + jsonBytes) % 8)) % 8);
  const headerBytes = Buffer.from(json, 'utf8');
  const out = new Uint8Array(8 + headerBytes.length + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let pos = 8 + headerBytes.length;
  for (const [, t] of entries) {
    for (let k = 0; k < t.data.length; k++, pos += 4) view.setFloat32(pos, t.data[k], true);
  }
  return out;
}

type Fail = (problem: string) => never;

/** A tensor as the header describes it, checked against the file but not yet decoded. */
export interface TensorInfo {
  dtype: string;
  shape: number[];
}

/**
 * Called with the checked header, before any tensor is decoded (which
 * allocates 4 bytes per value): the place to refuse a file by its shapes.
 * `fileBytes` is the size of the whole file.
 */
export type InspectHeader = (tensors: ReadonlyMap<string, TensorInfo>, metadata: Readonly<Record<string, string>>, fileBytes: number) => void;

export function decodeSafetensors(buf: Uint8Array, file: string, inspect?: InspectHeader): Safetensors {
  const fail: Fail = (problem) => {
    throw new WeightsFileError(file, problem);
  };
  const { view, headerLen, entries } = readHeader(buf, fail);
  const metadata = readMetadata(entries.__metadata__, fail);
  const dataStart = 8 + headerLen;
  const dataLen = buf.length - dataStart;
  const spans: Span[] = [];
  for (const [name, e] of Object.entries(entries)) {
    if (name === '__metadata__') continue;
    spans.push(readEntry(name, e, dataLen, fail));
  }
  checkTiling(spans, dataLen, fail);
  inspect?.(new Map(spans.map((s) => [s.name, { dtype: s.dtype, shape: s.shape }])), metadata, buf.length);
  const tensors = new Map<string, Tensor>();
  for (const s of spans) {
    tensors.set(s.name, { shape: s.shape, data: decodeValues(view, dataStart + s.begin, s.count, s.dtype, `tensor ${s.name}`, fail) });
  }
  return { tensors, metadata };
}

/** The length field and the JSON header: the header's entries by name, __metadata__ included. */
function readHeader(buf: Uint8Array, fail: Fail): { view: DataView; headerLen: number; entries: Record<string, unknown> } {
  if (buf.length < 8) fail(`too short for a safetensors file: ${buf.length} bytes, need at least 8`);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const n = view.getBigUint64(0, true);
  checkHeaderLength(n, fail);
  if (n > BigInt(buf.length - 8)) fail(`header length ${n} exceeds the ${buf.length - 8} bytes after the length field`);
  const headerLen = Number(n);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(buf.subarray(8, 8 + headerLen)));
  } catch (err) {
    fail(`header is not valid JSON (${(err as Error).message})`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) fail('header is not a JSON object');
  return { view, headerLen, entries: header as Record<string, unknown> };
}

function checkHeaderLength(n: bigint, fail: Fail): void {
  if (n === 0n) fail('header length is 0');
  if (n > BigInt(MAX_HEADER_BYTES)) fail(`header length ${n} exceeds the limit of ${MAX_HEADER_BYTES} bytes`);
}

function readMetadata(meta: unknown, fail: Fail): Record<string, string> {
  const metadata: Record<string, string> = {};
  if (meta !== undefined) {
    if (meta === null || typeof meta !== 'object' || Array.isArray(meta)) fail('__metadata__ is not an object of strings');
    for (const [k, v] of Object.entries(meta as Record<string, unknown>)) {
      if (typeof v !== 'string') fail(`__metadata__.${k} is not a string`);
      metadata[k] = v as string;
    }
  }
  return metadata;
}

/** One header entry checked against the dtype table and the data's length (its values are decoded later). */
function readEntry(name: string, e: unknown, dataLen: number, fail: Fail): Span {
  const where = `tensor ${name}`;
  if (e === null || typeof e !== 'object' || Array.isArray(e)) fail(`${where}: expected {dtype, shape, data_offsets}`);
  const { dtype, shape, data_offsets: offsets } = e as Record<string, unknown>;
  if (typeof dtype !== 'string') fail(`${where}: missing dtype`);
  const size = DTYPE_BYTES[dtype as string];
  if (size === undefined) fail(`${where}: unsupported dtype ${String(dtype)} (expected F32, F64, F16 or BF16)`);
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    fail(`${where}: shape must be a list of non-negative integers, found ${JSON.stringify(shape)}`);
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)) {
    fail(`${where}: data_offsets must be [begin, end] non-negative integers, found ${JSON.stringify(offsets)}`);
  }
  const [begin, end] = offsets as number[];
  if (begin > end) fail(`${where}: data_offsets [${begin}, ${end}] end before they begin`);
  if (end > dataLen) fail(`${where}: data_offsets [${begin}, ${end}] run past the ${dataLen} bytes of data`);
  const dims = shape as number[];
  const count = dims.reduce((a, b) => a * b, 1);
  if (count * size !== end - begin) {
    fail(`${where}: shape [${dims}] of ${dtype} needs ${count * size} bytes, data_offsets give ${end - begin}`);
  }
  return { name, dtype: dtype as string, shape: dims, count, begin, end };
}

interface Span extends TensorInfo {
  name: string;
  count: number; // values
  begin: number;
  end: number;
}

/** The tensors must tile the byte buffer: no overlap, no gap, nothing after. */
function checkTiling(spans: readonly Span[], dataLen: number, fail: Fail): void {
  let covered = 0;
  for (const s of [...spans].sort((a, b) => a.begin - b.begin || a.end - b.end)) {
    if (s.begin < covered) fail(`tensor ${s.name}: data_offsets [${s.begin}, ${s.end}] overlap another tensor`);
    if (s.begin > covered) fail(`bytes ${covered}..${s.begin} of the data belong to no tensor`);
    covered = s.end;
  }
  if (covered !== dataLen) fail(`${dataLen - covered} bytes after the last tensor belong to no tensor`);
}

function decodeValues(
  view: DataView,
  at: number,
  count: number,
  dtype: string,
  where: string,
  fail: Fail,
): Float32Array {
  const out = new Float32Array(count);
  for (let k = 0; k < count; k++) {
    let v: number;
    switch (dtype) {
      case 'F32':
        v = view.getFloat32(at + 4 * k, true);
        break;
      case 'F64':
        v = view.getFloat64(at + 8 * k, true);
        break;
      case 'F16':
        v = halfToFloat(view.getUint16(at + 2 * k, true));
        break;
      default: // BF16: the high half of an F32
        v = new Float32Array(new Uint32Array([view.getUint16(at + 2 * k, true) << 16]).buffer)[0];
    }
    out[k] = v; // rounds F64 to F32: a finite double can become infinite here
    if (Number.isNaN(v)) fail(`${where}: value ${k} is NaN`);
    if (!Number.isFinite(out[k])) fail(`${where}: value ${k} is infinite${Number.isFinite(v) ? ` as float32 (${v})` : ''}`);
  }
  return out;
}

/** IEEE 754 binary16 -> number. */
function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 0x1f) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** Read (through readInputFile: pipes and devices too, at most MAX_FILE_BYTES) and decode; see decodeSafetensors for `inspect`. */
export function readSafetensors(file: string, inspect?: InspectHeader): Safetensors {
  const fail: Fail = (problem) => {
    throw new WeightsFileError(file, problem);
  };
  const buf = readInputFile(file, 'a safetensors file', MAX_FILE_BYTES, (f, problem) => new WeightsFileError(f, problem), (head) => {
    // A pipe or device: its header length is refused at once (/dev/zero: 0) rather than after MAX_FILE_BYTES bytes.
    if (head.length >= 8) checkHeaderLength(new DataView(head.buffer, head.byteOffset, head.byteLength).getBigUint64(0, true), fail);
  });
  return decodeSafetensors(buf, file, inspect);
}

export function writeSafetensors(
  file: string,
  tensors: ReadonlyArray<[string, TensorLike]> | Map<string, TensorLike>,
  metadata: Record<string, string> = {},
): void {
  writeFileAtomic(file, encodeSafetensors(tensors, metadata));
}
