// Atomic file writes: a reader (or a crash) sees the old file or the new one,
// never half of one. Temp file in the same folder (same file system, so the
// rename is atomic), write, fsync, rename over the target, fsync the folder.
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { OutputError } from '../errors.js';

export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  const tmp = `${path}.tmp-${process.pid}-${Math.random().toString(36).slice(2, 10)}`;
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  let fd = -1;
  let created = false;
  try {
    fd = openSync(tmp, 'wx', 0o644);
    created = true;
    for (let off = 0; off < bytes.length; ) off += writeSync(fd, bytes, off, bytes.length - off);
    fsyncSync(fd);
    closeSync(fd);
    fd = -1;
    killpoint(basename(path));
    renameSync(tmp, path);
  } catch (err) {
    if (fd >= 0) closeSync(fd);
    // Only a temp file that was created: under a path through a file, even the removal fails (ENOTDIR).
    if (created) rmSync(tmp, { force: true });
    throw new OutputError(path, `cannot write: ${describe(err)}`);
  }
  syncDir(dirname(path));
}

/**
 * Test hook for crash tests: MLP_MNIST_KILL_BEFORE_RENAME=<name>:<k> kills the
 * process (SIGKILL) at the k-th write of <name>, after its temp file is written
 * and before the rename: a crash at the worst moment. Unset, it costs one lookup.
 */
const writesByName = new Map<string, number>();
function killpoint(name: string): void {
  const spec = process.env.MLP_MNIST_KILL_BEFORE_RENAME;
  if (spec === undefined || !spec.startsWith(`${name}:`)) return;
  const k = (writesByName.get(name) ?? 0) + 1;
  writesByName.set(name, k);
  if (k === Number(spec.slice(name.length + 1))) process.kill(process.pid, 'SIGKILL');
}

/**
 * Create `dir` and its missing parents, one level at a time. (Node's
 * mkdirSync with { recursive: true } never returns for a path under /proc on
 * Linux: each level reports ENOENT and it retries.) Errors: one OutputError.
 */
export function makeDir(dir: string): void {
  try {
    if (statSync(dir).isDirectory()) return;
    throw new OutputError(dir, 'exists and is not a folder');
  } catch (err) {
    if (err instanceof OutputError) throw err;
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new OutputError(dir, `cannot create the folder: ${describe(err)}`);
  }
  const parent = dirname(dir);
  if (parent !== dir) makeDir(parent);
  try {
    mkdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new OutputError(dir, `cannot create the folder: ${describe(err)}`);
  }
}

/** Make the rename itself durable; some platforms cannot fsync a folder, which is fine to skip. */
function syncDir(dir: string): void {
  let fd = -1;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // EISDIR/EPERM/EINVAL on platforms without directory fsync: the data itself is already synced.
  } finally {
    if (fd >= 0) closeSync(fd);
  }
}

/** "no such file or directory (ENOENT)" from a Node system error, else its message. */
export function describe(err: unknown): string {
  if (err instanceof Error) {
    const { code, syscall } = err as NodeJS.ErrnoException;
    const m = /^[A-Z]+: ([^,]+)/.exec(err.message);
    if (code && m) return `${m[1]} (${code}${syscall ? `, ${syscall}` : ''})`;
    return err.message;
  }
  return String(err);
}
