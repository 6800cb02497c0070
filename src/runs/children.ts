// The mlp-train processes of a sweep, a reproduction or a queue worker. Each child starts in its own
// process group (detached: setsid on POSIX), so a terminal's Ctrl-C, sent to
// the foreground group, reaches the parent only; the parent passes it on
// once, to each child's whole group, and waits for them. Without that, a
// signal to the parent alone left its children running with parent PID 1,
// and a terminal Ctrl-C reached parent and children both, so a forwarded
// copy would be the children's second signal (quit at once, no checkpoint).
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable } from 'node:stream';

/** Set in every child: the parent's PID. mlp-train stops (checkpoint, exit 130) once that parent is gone (src/cli/run.ts). */
export const PARENT_PID_ENV = 'MLP_PARENT_PID';

type Child = ChildProcessByStdio<null, Readable, Readable>;

export class ChildGroup {
  private readonly live = new Set<Child>();
  /** The signal the group was stopped with (the first one), or null while the runs go on. */
  stopping: NodeJS.Signals | null = null;

  /** Start `node args...` in a new process group, stdout and stderr piped. */
  spawn(args: readonly string[]): Child {
    const child = spawn(process.execPath, args, {
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NO_COLOR: '1', [PARENT_PID_ENV]: String(process.pid) },
    });
    this.live.add(child);
    // 'close' comes after the exit and after the pipes drained: the child has been reaped.
    child.on('close', () => this.live.delete(child));
    child.on('error', () => this.live.delete(child));
    return child;
  }

  /** Children started and not yet reaped. */
  get running(): number {
    return this.live.size;
  }

  /** Send `signal` to every running child's process group; the first call marks the group as stopping. */
  stop(signal: NodeJS.Signals): void {
    this.stopping ??= signal;
    for (const child of this.live) {
      if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) continue;
      try {
        process.kill(-child.pid, signal); // the child leads its group: -pid reaches it and anything it started
      } catch (err) {
        // ESRCH: it exited between the check and the kill; anything else is a bug
        if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
      }
    }
  }
}
