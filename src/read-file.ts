// Reading an input file whole, with the failure as one line naming the file.
import { readFileSync, statSync, type Stats } from 'node:fs';
import type { UserError } from './errors.js';

/**
 * The bytes of `file`, at most `maxBytes` of them; a missing file, a folder, a
 * file over the limit or an unreadable file becomes `makeError(file, problem)`.
 * `what` names the expected content ("an IDX file"). The size is checked
 * before anything is allocated.
 */
export function readInputFile(
  file: string,
  what: string,
  maxBytes: number,
  makeError: (file: string, problem: string) => UserError,
): Uint8Array {
  const systemError = (err: unknown): UserError => {
    const code = (err as NodeJS.ErrnoException).code;
    return makeError(file, code === 'ENOENT' ? 'no such file' : `cannot read (${code ?? String(err)})`);
  };
  let st: Stats;
  try {
    st = statSync(file);
  } catch (err) {
    throw systemError(err);
  }
  if (st.isDirectory()) throw makeError(file, `is a directory, expected ${what}`);
  if (st.size > maxBytes) throw makeError(file, `${st.size} bytes is more than the ${maxBytes}-byte limit for ${what}`);
  try {
    return readFileSync(file);
  } catch (err) {
    throw systemError(err);
  }
}
