// The process group of mlp-reproduce's children: each child leads its own
// group (so a terminal's Ctrl-C reaches only the parent), and stop() reaches
// every running child, which is then reaped.
import { execFileSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { ChildGroup } from '../../src/runs/children.js';
import { alive } from '../helpers/cli.js';

const pids: number[] = [];
afterAll(() => {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL'); // only if a test failed and left it running
    } catch {
      // ESRCH: gone, as it should be
    }
  }
});


describe('ChildGroup', () => {
  it('starts each child as the leader of its own process group; stop() signals them all and they are reaped', async () => {
    const group = new ChildGroup();
    const children = [0, 1].map(() => group.spawn(['-e', 'setInterval(() => {}, 1000)']));
    for (const c of children) pids.push(c.pid!);
    const closed = children.map((c) => new Promise<string | null>((resolve) => c.on('close', (_code, signal) => resolve(signal))));
    expect(group.running).toBe(2);
    for (const c of children) {
      const pgid = Number(execFileSync('ps', ['-o', 'pgid=', '-p', String(c.pid)], { encoding: 'utf8' }).trim());
      expect(pgid).toBe(c.pid);
      expect(pgid).not.toBe(Number(execFileSync('ps', ['-o', 'pgid=', '-p', String(process.pid)], { encoding: 'utf8' }).trim()));
    }
    group.stop('SIGTERM');
    expect(group.stopping).toBe('SIGTERM');
    expect(await Promise.all(closed)).toEqual(['SIGTERM', 'SIGTERM']);
    expect(group.running).toBe(0);
    expect(children.map((c) => alive(c.pid!))).toEqual([false, false]);
    group.stop('SIGINT'); // nothing left to signal; the first signal stays the reason
    expect(group.stopping).toBe('SIGTERM');
  });
});
