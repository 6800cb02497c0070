// Spawning the real commands (bin/ -> dist/), as a user would.
import { spawnSync } from 'node:child_process';
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

export function cli(command: 'mlp-train' | 'mlp-eval' | 'mlp-grad' | 'mlp-predict' | 'mlp-export' | 'mlp-reproduce', args: string[], cwd = ROOT): Run {
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
