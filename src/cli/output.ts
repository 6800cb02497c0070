// The two streams of every command, one writer for each: results on stdout
// (--json, tables, predictions), logs on stderr. What goes wrong with them:
//
//   stdout closed by its reader (`| head -1`, EPIPE)   the command ends quietly, exit code unchanged
//   stdout cannot take the results (`> /dev/full`)     one line on stderr, exit 1
//   stderr failing (`2>/dev/full`)                     logs are dropped; the command goes on
//
// Node reports a failed write on a stream as an 'error' event, which kills the
// process with "Unhandled 'error' event" unless someone listens: guardStreams()
// (called by runCli) listens, and stdoutStatus() tells runCli what happened.
import chalk, { Chalk, type ChalkInstance } from 'chalk';
import { describe } from '../output/atomic.js';

/** The longest error line printed; the rest is cut with a note of how much. */
export const MAX_LINE = 1000;

let guarded = false;
let stdoutError: NodeJS.ErrnoException | null = null;
let stderrFailed = false;

/** Listen for write errors on stdout and stderr (once per process). */
export function guardStreams(): void {
  if (guarded) return;
  guarded = true;
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    stdoutError ??= err;
  });
  process.stderr.on('error', () => {
    stderrFailed = true;
  });
}

/** Results: stdout. Nothing more is written once stdout has failed. */
export function writeResult(text: string): void {
  if (stdoutError === null) process.stdout.write(text);
}

/** Logs and error lines: stderr, dropped when stderr fails. */
export function writeLog(text: string): void {
  if (!stderrFailed) process.stderr.write(text);
}

/**
 * After the command: wait until stdout has taken everything, then say how it
 * went: 'ok', 'closed' (the reader went away: EPIPE, not an error) or the
 * one line describing why the results could not be written.
 */
export async function stdoutStatus(): Promise<{ status: 'ok' | 'closed' } | { status: 'failed'; line: string }> {
  if (stdoutError === null && !process.stdout.destroyed) {
    await new Promise<void>((resolve) => process.stdout.write('', () => resolve()));
  }
  await new Promise((resolve) => setImmediate(resolve)); // the 'error' event follows the failed write's callback
  if (stdoutError === null) return { status: 'ok' };
  if (stdoutError.code === 'EPIPE') return { status: 'closed' };
  return { status: 'failed', line: `stdout: cannot write the results: ${describe(stdoutError)}` };
}

/** Colours for results: on when stdout is a terminal (chalk's default instance looks at stdout), off with NO_COLOR. */
export function resultColours(): ChalkInstance {
  return process.stdout.isTTY && process.env.NO_COLOR === undefined ? chalk : new Chalk({ level: 0 });
}

/** `text` cut to `max` characters, saying how many were cut. */
export function clip(text: string, max = MAX_LINE): string {
  if (text.length <= max) return text;
  return `${text.slice(0, max)}... [${(text.length - max).toLocaleString('en-US')} more characters cut]`;
}

/** Every line of `text` clipped (commander's messages can echo a whole argument). */
export function clipLines(text: string, max = MAX_LINE): string {
  return text
    .split('\n')
    .map((line) => clip(line, max))
    .join('\n');
}
