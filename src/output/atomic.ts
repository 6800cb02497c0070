// Atomic file writes: a reader (or a crash) sees the old file or the new one,
// never half of one. Temp file in the same folder (same file system, so the
// rename is atomic), write, fsync, rename over the target, fsync the folder.
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { OutputError } from '../errors.js';

export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  const tmp = `${path}.tmp-${process.pid}-${Math.random().toString(36).slice(2, 10)}`;
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  let fd = -1;
  try {
    fd = openSync(tmp, 'wx', 0o644);
    for (let off = 0; off < bytes.length; ) off += writeSync(fd, bytes, off, bytes.length - off);
    fsyncSync(fd);
    closeSync(fd);
    fd = -1;
    renameSync(tmp, path);
  } catch (err) {
    if (fd >= 0) closeSync(fd);
    rmSync(tmp, { force: true });
    throw new OutputError(path, `cannot write: ${describe(err)}`);
  }
  syncDir(dirname(path));
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
function describe(err: unknown): string {
  if (err instanceof Error) {
    const { code, syscall } = err as NodeJS.ErrnoException;
    const m = /^[A-Z]+: ([^,]+)/.exec(err.message);
    if (code && m) return `${m[1]} (${code}${syscall ? `, ${syscall}` : ''})`;
    return err.message;
  }
  return String(err);
}
