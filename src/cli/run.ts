// The top of every command: run it, turn a UserError into one line on stderr
// (clipped to MAX_LINE characters) and exit code 1, keep the stack of anything
// else (a bug). `--debug` shows the stack of user errors too. A signal during an
// output write (Interrupted) is exit 130. Then stdout: a reader that went away
// (EPIPE) changes nothing, a stdout that could not take the results is one line
// and exit 1 (src/cli/output.ts). Only bin/ calls process.exit, with the code returned here.
import { CommanderError } from 'commander';
import { Interrupted, UserError } from '../errors.js';
import { PARENT_PID_ENV } from '../runs/children.js';
import { clipLines, guardStreams, stdoutStatus, writeLog } from './output.js';

export const EXIT_OK = 0;
export const EXIT_USER_ERROR = 1;
export const EXIT_INTERRUPTED = 130; // 128 + SIGINT, as shells report it

export async function runCli(main: (argv: string[]) => Promise<number>, argv: string[]): Promise<number> {
  guardStreams();
  const debug = argv.includes('--debug');
  let code: number;
  try {
    code = await main(argv);
  } catch (err) {
    // commander has printed its own message (or the help, or the version) already
    if (err instanceof CommanderError) code = err.exitCode;
    else if (err instanceof Interrupted) {
      writeLog(`\n${err.message}\n`);
      code = EXIT_INTERRUPTED;
    } else if (err instanceof UserError) {
      writeLog(`error: ${clipLines(err.message)}\n`); // a config's problems come one per line
      if (debug && err.stack) writeLog(`${err.stack}\n`);
      code = EXIT_USER_ERROR;
    } else throw err;
  }
  const out = await stdoutStatus();
  if (out.status !== 'failed') return code; // 'closed': the reader has what it wanted (`| head -1`)
  writeLog(`error: ${out.line}\n`);
  return code === EXIT_OK ? EXIT_USER_ERROR : code;
}

const PARENT_POLL_MS = 500;

/**
 * Ctrl-C / SIGTERM: the first one asks the run to stop after the current batch
 * (polled through `requested`); a second one restores the default action and
 * re-raises the signal, which ends the process at once. A child of a runner
 * (MLP_PARENT_PID set) also stops that way when its parent is gone (killed
 * outright: its runs must not go on unwatched, so that a queue can hand them
 * to another worker, which resumes from the checkpoint written here).
 */
export class Interrupt {
  requested: string | null = null;
  private readonly watch: NodeJS.Timeout | null = null;
  private readonly onSignal = (signal: NodeJS.Signals): void => {
    if (this.requested !== null) {
      this.dispose();
      process.kill(process.pid, signal);
      return;
    }
    this.requested = signal;
    writeLog(`\n${signal}: stopping after this batch (press Ctrl-C again to quit at once)\n`);
  };

  constructor() {
    process.on('SIGINT', this.onSignal);
    process.on('SIGTERM', this.onSignal);
    const parent = Number(process.env[PARENT_PID_ENV]);
    if (Number.isInteger(parent) && parent > 1) {
      this.watch = setInterval(() => {
        if (process.ppid === parent || this.requested !== null) return;
        this.requested = 'parent exited';
        writeLog(`\nthe parent process (pid ${parent}) is gone: stopping after this batch\n`);
      }, PARENT_POLL_MS);
      this.watch.unref();
    }
  }

  dispose(): void {
    if (this.watch !== null) clearInterval(this.watch);
    process.off('SIGINT', this.onSignal);
    process.off('SIGTERM', this.onSignal);
  }
}
