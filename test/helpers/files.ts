// A temp folder for the files of one describe block (or file), removed after
// it, and FIFOs in it.
import { spawn, spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, expect } from 'vitest';
import { tempDir } from './cli.js';

export interface TempFiles {
  readonly dir: string;
  /** Write `data` to `name` in the folder; returns the path. */
  write(name: string, data: string | Uint8Array): string;
}

/** Call at the top of a describe block or file: the folder exists at once and is removed by afterAll. */
export function useTempFiles(prefix: string): TempFiles {
  const dir = tempDir(prefix);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return {
    dir,
    write(name, data) {
      const file = join(dir, name);
      writeFileSync(file, data);
      return file;
    },
  };
}

/**
 * A FIFO `name` in `dir` fed by a writer process (`sh -c COMMAND > fifo`):
 * a pipe, whose stat size is 0, for the bounded readers. The writer is killed
 * afterwards (it may be blocked on a pipe nobody reads to the end).
 */
export function withFifo<T>(dir: string, name: string, command: string, fn: (fifo: string) => T): T {
  const fifo = join(dir, name);
  expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
  const writer = spawn('sh', ['-c', `${command} > '${fifo}'`], { stdio: 'ignore' });
  try {
    return fn(fifo);
  } finally {
    writer.kill('SIGKILL');
  }
}
