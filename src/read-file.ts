// Reading an input file whole, with the failure as one line naming the file.
import { readFileSync } from 'node:fs';
import type { UserError } from './errors.js';

/**
 * The bytes of `file`; a missing file, a folder or an unreadable file becomes
 * `makeError(file, problem)`. `what` names the expected content ("an IDX file").
 */
export function readInputFile(file: string, what: string, makeError: (file: string, problem: string) => UserError): Uint8Array {
  try {
    return readFileSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const problem = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? `is a directory, expected ${what}` : `cannot read (${code ?? String(err)})`;
    throw makeError(file, problem);
  }
}
