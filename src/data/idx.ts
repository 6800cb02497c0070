// IDX files (LeCun's MNIST format), u8 data only, plain or gzipped.
//
//   offset 0: 0x00 0x00 <type> <ndims>      magic; type 0x08 = unsigned byte
//   offset 4: ndims x u32 big-endian         the dimensions, e.g. 60000 28 28
//   then:     product(dims) bytes            the data, row-major
//
// Every header field is checked against the file size before anything is
// allocated from it, so a hostile header cannot make us allocate gigabytes.
// The bytes come through readInputFile, so a pipe or a device (/dev/zero) is
// read to at most MAX_IDX_BYTES + 1 bytes, and a .gz inflates to at most
// MAX_GUNZIP_BYTES.
import { readInputFile } from '../read-file.js';
import { gunzipSync } from 'node:zlib';
import { DataFileError } from '../errors.js';

export interface IdxU8 {
  dims: number[];
  data: Uint8Array; // product(dims) bytes, a view into the file buffer
}

/** The largest IDX file read: room for EMNIST ByClass (547 MB); MNIST's largest is 47 MB. */
export const MAX_IDX_BYTES = 1024 ** 3;
/**
 * The most a .gz file may inflate to. Lower than MAX_IDX_BYTES because the
 * inflated size is only known by inflating: this caps the memory a gzip bomb
 * can take (decompress larger files first).
 */
export const MAX_GUNZIP_BYTES = 256 * 1024 ** 2;
const MAX_DIMS = 4;

const TYPE_NAMES: Record<number, string> = {
  0x08: 'unsigned byte',
  0x09: 'signed byte',
  0x0b: 'int16',
  0x0c: 'int32',
  0x0d: 'float32',
  0x0e: 'float64',
};

const hex = (v: number, digits: number): string => `0x${v.toString(16).padStart(digits, '0')}`;

export function parseIdx(buf: Uint8Array, file: string): IdxU8 {
  const fail = (problem: string): never => {
    throw new DataFileError(file, problem);
  };
  const { dims, headerBytes, expected } = parseHeader(buf, fail);
  const shape = dims.join('x');
  if (buf.length < expected) fail(`truncated: header says ${shape} (${expected} bytes), file has ${buf.length}`);
  if (buf.length > expected) fail(`${buf.length - expected} trailing bytes after the data: header says ${shape} (${expected} bytes), file has ${buf.length}`);
  return { dims, data: buf.subarray(headerBytes, expected) };
}

/** Magic, type and dimensions; `expected` = the bytes of the whole file they describe. */
function parseHeader(buf: Uint8Array, fail: (problem: string) => never): { dims: number[]; headerBytes: number; expected: number } {
  if (buf.length === 0) fail('empty file, expected an IDX file');
  if (buf.length < 4) fail(`too short for an IDX header: ${buf.length} bytes, need at least 4`);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const magic = view.getUint32(0, false);
  if (buf[0] !== 0 || buf[1] !== 0) fail(`not an IDX file: magic ${hex(magic, 8)}, expected 0x000008NN`);
  const type = buf[2];
  if (type !== 0x08) {
    const name = TYPE_NAMES[type];
    fail(`unsupported data type ${hex(type, 2)}${name ? ` (${name})` : ''}; expected 0x08 (unsigned byte)`);
  }
  const ndims = buf[3];
  if (ndims === 0 || ndims > MAX_DIMS) fail(`${ndims} dimensions in the header; expected 1 to ${MAX_DIMS}`);
  const headerBytes = 4 + 4 * ndims;
  if (buf.length < headerBytes) fail(`truncated header: ${ndims} dimensions need ${headerBytes} bytes, file has ${buf.length}`);

  const dims: number[] = [];
  let size = 1;
  for (let k = 0; k < ndims; k++) {
    const d = view.getUint32(4 + 4 * k, false);
    dims.push(d);
    size *= d; // exact while below 2^53; any larger product fails the size check below anyway
  }
  return { dims, headerBytes, expected: headerBytes + size };
}

/**
 * The first bytes of a pipe or device, before the rest is read: a bad header,
 * or one that describes more than MAX_IDX_BYTES, is refused at once.
 */
function checkHead(head: Uint8Array, file: string): void {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return; // gzip: the header is inside
  const fail = (problem: string): never => {
    throw new DataFileError(file, problem);
  };
  if (head.length < 4 + 4 * MAX_DIMS) return; // then it is the whole input: parseIdx says what is wrong
  const { dims, expected } = parseHeader(head, fail);
  if (expected > MAX_IDX_BYTES) fail(`header says ${dims.join('x')} (${expected} bytes), more than the ${MAX_IDX_BYTES}-byte limit for an IDX file`);
}

/** Read an IDX file; gunzip it when its bytes start with the gzip magic 1f 8b. */
export function readIdx(file: string): IdxU8 {
  let buf = readInputFile(file, 'an IDX file', MAX_IDX_BYTES, (f, problem) => new DataFileError(f, problem), (head) => checkHead(head, file));
  if (buf.length >= 2 && buf[0] === 0x1f && buf[1] === 0x8b) {
    try {
      buf = gunzipSync(buf, { maxOutputLength: MAX_GUNZIP_BYTES });
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      const problem =
        e.code === 'ERR_BUFFER_TOO_LARGE'
          ? `gzip data inflates beyond ${MAX_GUNZIP_BYTES} bytes, the limit for .gz input (decompress larger files first)`
          : `corrupt or truncated gzip data (${e.message})`;
      throw new DataFileError(file, problem);
    }
  }
  return parseIdx(buf, file);
}
