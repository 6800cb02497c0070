// A temp folder for the files of one describe block (or file), removed after it.
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll } from 'vitest';
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
