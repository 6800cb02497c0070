// Reading an input file whole, with the failure as one line naming the file.
// Every input of every command comes through here: IDX files, weights and
// checkpoints, PNG images, mlp-grad's samples, config files.
//
// The size is never taken from stat alone: it is 0 for pipes, FIFOs and
// devices (/dev/zero, /dev/stdin, <(...) process substitution), so the bytes
// are read through the descriptor, at most maxBytes + 1 of them; one byte past
// the limit is the proof that the input is too large. A regular file's size
// still refuses it before anything is read (sparse files, huge files).
import { closeSync, fstatSync, openSync, readSync, type Stats } from 'node:fs';
import type { UserError } from './errors.js';

/** The first chunk read from an input of unknown size (pipe, device); later chunks double, up to CHUNK_MAX. */
const CHUNK_MIN = 64 * 1024;
const CHUNK_MAX = 64 * 1024 * 1024;
/** Waits for a non-blocking descriptor with no data yet (EAGAIN), in ms. */
const RETRY_MS = 5;

const STDIN_NAMES = new Set(['/dev/stdin', '/dev/fd/0', '/proc/self/fd/0']);

const PROBLEMS: Record<string, string> = {
  ENOENT: 'no such file',
  ENOTDIR: 'no such file (a part of the path is not a folder)',
  EACCES: 'cannot read: permission denied (EACCES)',
  EPERM: 'cannot read: operation not permitted (EPERM)',
  ELOOP: 'cannot read: too many levels of symbolic links (ELOOP)',
  ENAMETOOLONG: 'cannot read: file name too long (ENAMETOOLONG)',
  ENXIO: 'cannot read: no such device or address (ENXIO)',
  ENODEV: 'cannot read: no such device (ENODEV)',
  EIO: 'cannot read: input/output error (EIO)',
  EMFILE: 'cannot read: too many open files (EMFILE)',
  ENFILE: 'cannot read: too many open files in the system (ENFILE)',
};

/**
 * The bytes of `file`, at most `maxBytes` of them; a missing file, a folder, an
 * input over the limit or an unreadable file becomes `makeError(file, problem)`.
 * `what` names the expected content ("an IDX file"). Works alike for regular
 * files, pipes and devices: nothing larger than maxBytes + 1 bytes is ever
 * allocated or read.
 *
 * `checkHead`, if given, sees the first bytes of an input of unknown size (a
 * pipe or a device: its first 64 KiB, or all of it if shorter) before the
 * rest is read, and may throw: a format's header refuses /dev/zero at once
 * instead of after maxBytes bytes of zeros.
 */
export function readInputFile(
  file: string,
  what: string,
  maxBytes: number,
  makeError: (file: string, problem: string) => UserError,
  checkHead?: (head: Uint8Array) => void,
): Uint8Array {
  const systemError = (err: unknown): UserError => {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EISDIR') return makeError(file, `is a directory, expected ${what}`);
    return makeError(file, PROBLEMS[code ?? ''] ?? `cannot read (${code ?? String(err)})`);
  };
  const limit = `the ${maxBytes}-byte limit for ${what}`;
  let fd: number;
  let own = true; // close fd at the end
  try {
    fd = openSync(file, 'r'); // a FIFO blocks here until a writer opens it, as `cat` would
  } catch (err) {
    // stdin that is a socket (a parent process's pipe, as Node and systemd make them) cannot be
    // opened again by name: read the descriptor itself.
    if ((err as NodeJS.ErrnoException).code !== 'ENXIO' || !STDIN_NAMES.has(file)) throw systemError(err);
    fd = 0;
    own = false;
  }
  try {
    let st: Stats;
    try {
      st = fstatSync(fd);
    } catch (err) {
      throw systemError(err);
    }
    if (st.isDirectory()) throw makeError(file, `is a directory, expected ${what}`);
    if (st.isFile() && st.size > maxBytes) throw makeError(file, `${st.size} bytes is more than ${limit}`);
    // A regular file is read into one buffer of its size (+1 to notice growth); anything else in doubling chunks.
    const chunks: Uint8Array[] = [];
    let total = 0;
    let next = st.isFile() ? st.size + 1 : CHUNK_MIN;
    for (;;) {
      const chunk = new Uint8Array(Math.min(next, maxBytes + 1 - total));
      const got = fill(fd, chunk, systemError);
      total += got;
      chunks.push(got === chunk.length ? chunk : chunk.subarray(0, got));
      if (chunks.length === 1 && !st.isFile()) checkHead?.(chunks[0]);
      if (total > maxBytes) {
        const how = st.isFile() ? 'from this file, which grew while it was read' : `from this ${kindOf(st)}`;
        throw makeError(file, `more than ${limit}: read ${total} bytes ${how} and stopped`);
      }
      if (got < chunk.length) break; // end of file
      next = Math.min(Math.max(2 * chunk.length, CHUNK_MIN), CHUNK_MAX);
    }
    return chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, total);
  } finally {
    if (own) closeSync(fd);
  }
}

function kindOf(st: Stats): string {
  if (st.isFIFO()) return 'pipe';
  if (st.isCharacterDevice()) return 'character device';
  if (st.isBlockDevice()) return 'block device';
  if (st.isSocket()) return 'socket';
  return 'input';
}

/** Read until `buf` is full or the end of the input; the bytes read. Pipes return a little at a time. */
function fill(fd: number, buf: Uint8Array, systemError: (err: unknown) => UserError): number {
  let at = 0;
  while (at < buf.length) {
    let n: number;
    try {
      n = readSync(fd, buf, at, buf.length - at, null);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EAGAIN' || code === 'EINTR') {
        // A non-blocking descriptor (an inherited stdin) with no data yet: wait, do not spin.
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, RETRY_MS);
        continue;
      }
      throw systemError(err);
    }
    if (n === 0) break;
    at += n;
  }
  return at;
}
