// Atomic file writes: a reader (or a crash) sees the old file or the new one,
// never half of one. Temp file in the same folder (same file system, so the
// rename is atomic), write, fsync, rename over the target, fsync the folder.
//
// Every temp file being written is in `liveTemps`, the one list of them: a
// failed write removes its own, and SIGINT/SIGTERM during an async write
// (writeFileAtomicAsync, which yields between chunks so that a signal is seen)
// removes them all and stops the write with Interrupted; runCli exits 130.
import { closeSync, fsyncSync, mkdirSync, openSync, realpathSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { Interrupted, OutputError, UserError } from '../errors.js';

const liveTemps = new Set<string>();

export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  let file: TempFile | null = null;
  try {
    file = openTemp(path);
    for (let off = 0; off < bytes.length; ) off += writeSync(file.fd, bytes, off, bytes.length - off);
    commit(file, path);
  } catch (err) {
    if (file) abandon(file);
    throw new OutputError(path, `cannot write: ${describe(err)}`);
  }
  syncDir(dirname(path));
}

/** Bytes per write of writeFileAtomicAsync; between two, signals are handled. */
const CHUNK = 1 << 20;

/**
 * writeFileAtomic for large outputs: the same steps, yielding to the event loop
 * after every chunk, so that Ctrl-C during the write removes the temp file and
 * ends the command (Interrupted) instead of leaving the temp file behind.
 */
export async function writeFileAtomicAsync(path: string, data: string | Uint8Array): Promise<void> {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  if (stopSignal !== null) throw new Interrupted(stopSignal, path);
  const delay = Number(process.env.MLP_MNIST_WRITE_DELAY_MS ?? 0); // test hook: a slow disk, so a test can signal mid-write
  watchSignals(+1);
  let file: TempFile | null = null;
  try {
    file = openTemp(path);
    for (let off = 0; off < bytes.length; ) {
      off += writeSync(file.fd, bytes, off, Math.min(CHUNK, bytes.length - off));
      await pause(delay);
      if (stopSignal !== null) throw new Interrupted(stopSignal, path);
    }
    commit(file, path);
  } catch (err) {
    if (file) abandon(file);
    if (err instanceof Interrupted) throw err;
    throw new OutputError(path, `cannot write: ${describe(err)}`);
  } finally {
    watchSignals(-1);
  }
  syncDir(dirname(path));
}

interface TempFile {
  tmp: string;
  fd: number;
}

function openTemp(path: string): TempFile {
  const tmp = `${path}.tmp-${process.pid}-${Math.random().toString(36).slice(2, 10)}`;
  const fd = openSync(tmp, 'wx', 0o644);
  liveTemps.add(tmp); // only a temp file that was created: under a path through a file even the removal fails (ENOTDIR)
  return { tmp, fd };
}

function commit(file: TempFile, path: string): void {
  fsyncSync(file.fd);
  closeSync(file.fd);
  file.fd = -1;
  killpoint(basename(path));
  renameSync(file.tmp, path);
  liveTemps.delete(file.tmp);
}

function abandon(file: TempFile): void {
  if (file.fd >= 0) closeSync(file.fd);
  file.fd = -1;
  if (liveTemps.delete(file.tmp)) rmSync(file.tmp, { force: true });
}

/** The signal that stopped the writes, once one came. */
let stopSignal: NodeJS.Signals | null = null;
let asyncWrites = 0;
/** Writes waiting between two chunks: a signal wakes them at once. */
const sleepers = new Set<() => void>();

/** A turn of the event loop (signals are handled), or `ms` milliseconds. */
function pause(ms: number): Promise<void> {
  return new Promise((done) => {
    const wake = (): void => {
      sleepers.delete(wake);
      if (ms > 0) clearTimeout(timer);
      done();
    };
    const timer = ms > 0 ? setTimeout(wake, ms) : undefined;
    if (ms <= 0) setImmediate(wake);
    sleepers.add(wake);
  });
}

/**
 * While async writes run: the first SIGINT/SIGTERM removes every live temp file
 * and stops the writes; a second one (a write stuck in the kernel, say) ends
 * the process at once, as the signal's default would. Not listening otherwise:
 * a signal outside a write keeps its default or its command's own handler.
 */
function onSignal(signal: NodeJS.Signals): void {
  for (const tmp of liveTemps) rmSync(tmp, { force: true });
  liveTemps.clear();
  if (stopSignal === null) {
    stopSignal = signal;
    for (const wake of [...sleepers]) wake();
    return;
  }
  watchSignals(-asyncWrites);
  process.kill(process.pid, signal);
}

function watchSignals(delta: number): void {
  const before = asyncWrites;
  asyncWrites += delta;
  if (before === 0 && asyncWrites > 0) {
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  } else if (before > 0 && asyncWrites === 0) {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/**
 * Refuse an output that is one of the inputs, or the same file as another
 * output of the command (`mlp-export --weights w.st --onnx w.st`). Files that
 * exist compare by device and inode (symbolic and hard links included); a file
 * not written yet by its resolved path (through the real path of its folder).
 * Each entry: [flag, path].
 */
export function checkOutputs(inputs: ReadonlyArray<[string, string]>, outputs: ReadonlyArray<[string, string]>): void {
  const seen: Array<{ flag: string; path: string; id: string; input: boolean }> = inputs.map(([flag, path]) => ({
    flag,
    path,
    id: fileId(path),
    input: true,
  }));
  for (const [flag, path] of outputs) {
    const id = fileId(path);
    const other = seen.find((s) => s.id === id);
    if (other) {
      const why = other.input ? 'an output must not replace an input' : 'each output needs its own file';
      throw new UserError(`${flag} ${path}: the same file as ${other.flag} ${other.path}; ${why}`);
    }
    seen.push({ flag, path, id, input: false });
  }
}

function fileId(path: string): string {
  try {
    const st = statSync(path);
    return `inode ${st.dev}:${st.ino}`;
  } catch {
    const abs = resolve(path);
    try {
      return `path ${join(realpathSync(dirname(abs)), basename(abs))}`;
    } catch {
      return `path ${abs}`;
    }
  }
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
