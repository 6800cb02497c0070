// The run folder's lock: taken by exclusive create, refused while its process
// lives, taken over once it is gone (or its PID belongs to a later process),
// and won by exactly one of several processes that race for a stale lock.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UserError } from '../../src/errors.js';
import { LOCK_FILE, RunLock } from '../../src/output/run-lock.js';
import { ROOT } from '../helpers/cli.js';
import { errorOf } from '../helpers/errors.js';
import { useTempFiles } from '../helpers/files.js';

const tmp = useTempFiles('mlp-lock-');
let counter = 0;
const folder = (): string => {
  const dir = join(tmp.dir, `run-${counter++}`);
  mkdirSync(dir);
  return dir;
};
const lockOf = (dir: string): Record<string, unknown> => JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8')) as Record<string, unknown>;

/** The PID of a process that has exited (and been reaped). */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', '']);
  return r.pid!;
}

describe('RunLock', () => {
  it('writes its owner (pid, host, start time) and removes the lock on release', () => {
    const dir = folder();
    const lock = RunLock.acquire(dir);
    const owner = lockOf(dir);
    expect(owner.pid).toBe(process.pid);
    expect(owner.host).toBe(hostname());
    expect(Date.parse(owner.started as string)).toBeLessThanOrEqual(Date.now());
    if (existsSync('/proc/self/stat')) expect(typeof owner.proc_start).toBe('number');
    expect(lock.note).toBeNull();
    lock.release();
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
    lock.release(); // twice is fine
  });

  it('a live owner: refused with one line naming it', () => {
    const dir = folder();
    const lock = RunLock.acquire(dir);
    const started = lockOf(dir).started as string;
    const err = errorOf(UserError, () => RunLock.acquire(dir));
    expect(err.message).toBe(`${dir}: in use by another mlp-train run (pid ${process.pid}, started ${started}); wait for it to end or stop it first`);
    lock.release();
  });

  it('an owner on another host cannot be checked: refused, naming the host', () => {
    const dir = folder();
    writeFileSync(join(dir, LOCK_FILE), JSON.stringify({ pid: 1, host: 'elsewhere', started: '2026-01-01T00:00:00.000Z', proc_start: null, token: 'x' }));
    expect(errorOf(UserError, () => RunLock.acquire(dir)).message).toBe(
      `${dir}: in use by another mlp-train run (pid 1 on host elsewhere, started 2026-01-01T00:00:00.000Z); wait for it to end or stop it first`,
    );
  });

  it('foreignIsStale (mlp-worker, after the queue handed it the run): a lock of another host is taken over, naming it; one of this host still counts', () => {
    const dir = folder();
    writeFileSync(join(dir, LOCK_FILE), JSON.stringify({ pid: 1, host: 'elsewhere', started: '2026-01-01T00:00:00.000Z', proc_start: null, token: 'x' }));
    const lock = RunLock.acquire(dir, true);
    expect(lock.note).toBe('took over the lock of pid 1 on host elsewhere (started 2026-01-01T00:00:00.000Z): the queue handed its run here');
    expect((JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8')) as { pid: number }).pid).toBe(process.pid);
    lock.release();
    const live = folder();
    const mine = RunLock.acquire(live);
    expect(() => RunLock.acquire(live, true)).toThrow(/in use by another mlp-train run \(pid \d+, started/);
    mine.release();
  });

  it('an owner that is gone: the lock is taken over, with a note', () => {
    const dir = folder();
    const pid = deadPid();
    writeFileSync(join(dir, LOCK_FILE), JSON.stringify({ pid, host: hostname(), started: '2026-01-01T00:00:00.000Z', proc_start: null, token: 'x' }));
    const lock = RunLock.acquire(dir);
    expect(lock.note).toBe(`took over the lock of pid ${pid} (started 2026-01-01T00:00:00.000Z), which is no longer running`);
    expect(lockOf(dir).pid).toBe(process.pid);
    lock.release();
  });

  it.skipIf(!existsSync('/proc/self/stat'))('a PID now used by a later process (another start time) is stale', () => {
    const dir = folder();
    writeFileSync(join(dir, LOCK_FILE), JSON.stringify({ pid: process.pid, host: hostname(), started: '2026-01-01T00:00:00.000Z', proc_start: 1, token: 'x' }));
    const lock = RunLock.acquire(dir);
    expect(lock.note).toBe(`took over the lock of pid ${process.pid} (started 2026-01-01T00:00:00.000Z), which is no longer running`);
    lock.release();
  });

  it('a lock that is not JSON has no owner to ask: taken over', () => {
    const dir = folder();
    writeFileSync(join(dir, LOCK_FILE), 'garbage');
    const lock = RunLock.acquire(dir);
    expect(lock.note).toBe(`took over an unreadable ${LOCK_FILE}`);
    lock.release();
  });

  it('release leaves a lock that is no longer its own', () => {
    const dir = folder();
    const lock = RunLock.acquire(dir);
    writeFileSync(join(dir, LOCK_FILE), 'someone else');
    lock.release();
    expect(readFileSync(join(dir, LOCK_FILE), 'utf8')).toBe('someone else');
  });

  it('a folder that does not exist: one line', () => {
    const dir = join(tmp.dir, 'missing', 'run');
    expect(errorOf(UserError, () => RunLock.acquire(dir)).message).toBe(
      `${dir}: cannot write in the run folder: no such file or directory (ENOENT, open)`,
    );
  });

  it('six processes racing for one stale lock: exactly one takes it', async () => {
    const dir = folder();
    writeFileSync(join(dir, LOCK_FILE), JSON.stringify({ pid: deadPid(), host: hostname(), started: '2026-01-01T00:00:00.000Z', proc_start: null, token: 'x' }));
    const module = join(ROOT, 'dist/src/output/run-lock.js');
    // Each waits for the same moment, tries once, and holds what it got for 3 s (longer than the others take to try).
    const script = `
      const { RunLock } = await import(${JSON.stringify(module)});
      while (Date.now() < ${Date.now() + 1500});
      try { RunLock.acquire(${JSON.stringify(dir)}); console.log('won'); } catch (e) { console.log('refused: ' + e.message); }
      await new Promise((r) => setTimeout(r, 3000));`;
    const outs = await Promise.all(
      Array.from({ length: 6 }, () => new Promise<string>((resolve, reject) => {
        const child = spawn(process.execPath, ['--input-type=module', '-e', script]);
        let out = '';
        child.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
        child.on('error', reject);
        child.on('close', () => resolve(out.trim()));
      })),
    );
    expect(outs.filter((o) => o === 'won')).toHaveLength(1);
    for (const o of outs.filter((o) => o !== 'won')) expect(o).toMatch(/^refused: .*: in use by another mlp-train run \(pid \d+, started .*\); wait for it to end or stop it first$/);
  });
});
