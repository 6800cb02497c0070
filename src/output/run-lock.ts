// The run folder's lock: one mlp-train process at a time writes into a run
// folder. The lock is a file, `.mlp-run.lock`, holding its owner:
//
//   {"pid": 4242, "host": "box", "started": "2026-11-30T17:15:51.123Z", "proc_start": 81234, "token": "k3j9..."}
//
// started     when the owner process started (for people)
// proc_start  the same in clock ticks since boot (/proc/<pid>/stat field 22; Linux only, else null):
//             a PID reused by another process after a crash has another start
// token       random: tells our own lock from one that replaced it
//
// Taken by exclusive create: the content is written to a temp file first and
// hard-linked to the lock name (link fails if the name exists), so a lock is
// never seen half written. A lock whose process is gone (or whose PID now
// belongs to a process started later) is stale and is taken over: renamed
// aside, checked to be the lock judged stale, then removed, and the exclusive
// create retried, so two processes taking over at once cannot both win.
// The lock is released when the process exits (normally, by an error, or by
// Ctrl-C: exit 130); a run killed outright leaves a stale lock, taken over by
// the next run or --resume.
import { closeSync, linkSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { OutputError, UserError } from '../errors.js';
import { describe } from './atomic.js';

export const LOCK_FILE = '.mlp-run.lock';

const ATTEMPTS = 5;

interface Owner {
  pid: number;
  host: string;
  started: string;
  proc_start: number | null;
  token: string;
}

const token = (): string => Math.random().toString(36).slice(2, 12);

/** The locks this process holds, released at its exit (one listener for them all). */
const held = new Set<RunLock>();
let exitHook = false;

export class RunLock {
  readonly file: string;
  /** Said once when the lock was taken over from a run that is gone; null otherwise. */
  readonly note: string | null;
  private readonly text: string;

  private constructor(file: string, text: string, note: string | null) {
    this.file = file;
    this.text = text;
    this.note = note;
    held.add(this);
    if (!exitHook) {
      exitHook = true;
      process.on('exit', () => {
        for (const lock of held) lock.release();
      });
    }
  }

  /**
   * Take the lock of run folder `dir` (which exists), or fail with one line naming the process that holds it.
   * `foreignIsStale`: a lock held on another host counts as stale (mlp-worker: the queue has handed the
   * run here because that host stopped answering); on this host the process check stands.
   */
  static acquire(dir: string, foreignIsStale = false): RunLock {
    const file = join(dir, LOCK_FILE);
    const text = `${JSON.stringify(self())}\n`;
    let note: string | null = null;
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      if (createExclusive(dir, file, text)) return new RunLock(file, text, note);
      const found = readLock(dir, file);
      if (found === null) continue; // released in between: try again
      const owner = parseOwner(found);
      const foreign = owner !== null && owner.host !== hostname();
      if (owner !== null && !(foreign && foreignIsStale) && isAlive(owner)) {
        const when = owner.started ? `, started ${owner.started}` : '';
        const where = owner.host === hostname() ? '' : ` on host ${owner.host}`;
        throw new UserError(`${dir}: in use by another mlp-train run (pid ${owner.pid}${where}${when}); wait for it to end or stop it first`);
      }
      if (takeOver(dir, file, found)) {
        note = owner === null
          ? `took over an unreadable ${LOCK_FILE}`
          : foreign && foreignIsStale
            ? `took over the lock of pid ${owner.pid} on host ${owner.host} (started ${owner.started}): the queue handed its run here`
            : `took over the lock of pid ${owner.pid} (started ${owner.started}), which is no longer running`;
      }
    }
    throw new UserError(`${dir}: could not take ${LOCK_FILE}: other processes kept taking it (${ATTEMPTS} attempts)`);
  }

  /** Remove the lock if it is still ours. Safe to call twice; also runs at process exit. */
  release(): void {
    if (!held.delete(this)) return;
    // Best effort (it also runs at exit): a lock left behind is stale once this
    // process is gone, and the next run takes it over with a warning.
    try {
      if (readFileSync(this.file, 'utf8') === this.text) unlinkSync(this.file);
    } catch {
      // gone already, or the folder became unwritable: nothing more to do
    }
  }
}

function self(): Owner {
  return {
    pid: process.pid,
    host: hostname(),
    started: new Date(Date.now() - process.uptime() * 1000).toISOString(),
    proc_start: procStart(process.pid),
    token: token(),
  };
}

/** Create the lock with its content in one step: false if it exists. */
function createExclusive(dir: string, file: string, text: string): boolean {
  const tmp = `${file}.tmp-${process.pid}-${token()}`;
  let fd = -1;
  let created = false;
  try {
    fd = openSync(tmp, 'wx', 0o644);
    created = true;
    const bytes = Buffer.from(text, 'utf8');
    for (let off = 0; off < bytes.length; ) off += writeSync(fd, bytes, off, bytes.length - off);
    closeSync(fd);
    fd = -1;
    try {
      linkSync(tmp, file);
      return true;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') return false;
      if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'ENOSYS') throw err;
    }
    // A file system without hard links: exclusive create of the lock itself.
    try {
      fd = openSync(file, 'wx', 0o644);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw err;
    }
    for (let off = 0; off < bytes.length; ) off += writeSync(fd, bytes, off, bytes.length - off);
    return true;
  } catch (err) {
    throw new OutputError(dir, `cannot write in the run folder: ${describe(err)}`);
  } finally {
    if (fd >= 0) closeSync(fd);
    if (created) unlinkQuietly(tmp);
  }
}

/** The lock's text, or null if there is none. */
function readLock(dir: string, file: string): string | null {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new OutputError(dir, `cannot read ${LOCK_FILE}: ${describe(err)}`);
  }
}

function parseOwner(text: string): Owner | null {
  try {
    const o = JSON.parse(text) as Partial<Owner>;
    if (typeof o.pid !== 'number' || !Number.isInteger(o.pid) || o.pid <= 0 || typeof o.host !== 'string') return null;
    return {
      pid: o.pid,
      host: o.host,
      started: typeof o.started === 'string' ? o.started : '',
      proc_start: typeof o.proc_start === 'number' ? o.proc_start : null,
      token: typeof o.token === 'string' ? o.token : '',
    };
  } catch {
    return null; // not JSON: no owner to ask, so the lock is stale
  }
}

/** Whether the lock's process still runs. A lock from another host cannot be checked: it counts as alive. */
function isAlive(owner: Owner): boolean {
  if (owner.host !== hostname()) return true;
  try {
    process.kill(owner.pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false; // EPERM: alive, another user's
  }
  const now = procStat(owner.pid);
  if (now === null) return true; // no /proc: the signal test is all there is
  if (now.state === 'Z' || now.state === 'X') return false; // exited, not yet reaped by its parent
  return owner.proc_start === null || now.start === owner.proc_start; // another start time: the PID was reused
}

/** Start time of process `pid` in clock ticks since boot, from /proc (Linux); null elsewhere. */
function procStart(pid: number): number | null {
  return procStat(pid)?.start ?? null;
}

/** State letter and start time (clock ticks since boot) of process `pid`, from /proc/<pid>/stat; null without /proc. */
function procStat(pid: number): { state: string; start: number } | null {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split after the last ')'.
  // state is field 3, starttime field 22; the fields after ')' start at field 3.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const start = Number(fields[22 - 3]);
  return Number.isFinite(start) ? { state: fields[0], start } : null;
}

/**
 * Remove the stale lock `text`, unless someone replaced it meanwhile: rename it
 * aside (atomic: only one process gets it), check it is the one judged stale,
 * then delete it; a live lock caught by mistake is linked back. True if removed.
 */
function takeOver(dir: string, file: string, text: string): boolean {
  const aside = `${file}.tmp-${process.pid}-${token()}`;
  try {
    renameSync(file, aside);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false; // someone else moved it first
    throw new OutputError(dir, `cannot take over ${LOCK_FILE}: ${describe(err)}`);
  }
  try {
    if (readFileSync(aside, 'utf8') === text) return true;
    linkSync(aside, file); // a fresh lock of another process: put it back (fails if a third took the name: it then holds)
    return false;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw new OutputError(dir, `cannot take over ${LOCK_FILE}: ${describe(err)}`);
  } finally {
    unlinkQuietly(aside);
  }
}

/** Remove a temp file of ours; one that cannot be removed stays (harmless: nothing reads it). */
function unlinkQuietly(file: string): void {
  try {
    unlinkSync(file);
  } catch {
    // ENOENT (already gone) or a folder that turned read-only: nothing to do here
  }
}
