// The top of every command: run it, turn a UserError into one line on stderr
// and exit code 1, keep the stack of anything else (a bug). `--debug` shows the
// stack of user errors too. Only bin/ calls process.exit, with the code returned here.
import { CommanderError } from 'commander';
import { UserError } from '../errors.js';

export const EXIT_OK = 0;
export const EXIT_USER_ERROR = 1;
export const EXIT_INTERRUPTED = 130; // 128 + SIGINT, as shells report it

export async function runCli(main: (argv: string[]) => Promise<number>, argv: string[]): Promise<number> {
  const debug = argv.includes('--debug');
  try {
    return await main(argv);
  } catch (err) {
    // commander has printed its own message (or the help) already
    if (err instanceof CommanderError) return err.exitCode;
    if (err instanceof UserError) {
      process.stderr.write(`error: ${err.message}\n`);
      if (debug && err.stack) process.stderr.write(`${err.stack}\n`);
      return EXIT_USER_ERROR;
    }
    throw err;
  }
}

/**
 * Ctrl-C / SIGTERM: the first one asks the run to stop after the current batch
 * (polled through `requested`); a second one restores the default action and
 * re-raises the signal, which ends the process at once.
 */
export class Interrupt {
  requested: string | null = null;
  private readonly onSignal = (signal: NodeJS.Signals): void => {
    if (this.requested !== null) {
      this.dispose();
      process.kill(process.pid, signal);
      return;
    }
    this.requested = signal;
    process.stderr.write(`\n${signal}: stopping after this batch (press Ctrl-C again to quit at once)\n`);
  };

  constructor() {
    process.on('SIGINT', this.onSignal);
    process.on('SIGTERM', this.onSignal);
  }

  dispose(): void {
    process.off('SIGINT', this.onSignal);
    process.off('SIGTERM', this.onSignal);
  }
}
