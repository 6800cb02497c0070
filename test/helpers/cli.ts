// Spawning the real commands (bin/ -> dist/), as a user would.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function cli(command: 'mlp-train' | 'mlp-eval' | 'mlp-grad' | 'mlp-predict' | 'mlp-export' | 'mlp-reproduce' | 'mlp-sweep' | 'mlp-runs', args: string[], cwd = ROOT): Run {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin', `${command}.js`), ...args], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1' },
    timeout: 600_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

export function tempDir(prefix = 'mlp-mnist-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
  pid: number;
}

/**
 * A command in the background, as a user would start it; `onStderr` sees the
 * stderr so far after each chunk and may signal the child.
 */
export function startCli(
  command: 'mlp-train' | 'mlp-reproduce' | 'mlp-sweep' | 'mlp-worker',
  args: string[],
  o: { cwd?: string; env?: Record<string, string>; onStderr?: (text: string, kill: (s: NodeJS.Signals) => void) => void } = {},
): Promise<Exit> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(ROOT, 'bin', `${command}.js`), ...args], {
      cwd: o.cwd ?? ROOT,
      env: { ...process.env, NO_COLOR: '1', ...o.env },
    });
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      stderr += chunk;
      o.onStderr?.(stderr, (s) => child.kill(s));
    });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stderr, pid: child.pid! }));
  });
}

/** Whether process `pid` still exists (signal 0 checks without signalling; ESRCH: gone). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw err;
  }
}
