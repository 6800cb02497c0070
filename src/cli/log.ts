// Console output of the commands. Logs go to stderr (stdout is for results,
// src/cli/output.ts); `--quiet` hides logs, never results. A stderr that fails
// (2>/dev/full) drops the logs and stops nothing. Colours come from chalk,
// which honours NO_COLOR/FORCE_COLOR and turns itself off when stderr is not a terminal.
import chalk, { Chalk, type ChalkInstance } from 'chalk';
import cliProgress from 'cli-progress';
import { writeLog } from './output.js';

export class Log {
  readonly quiet: boolean;
  readonly tty: boolean;
  readonly c: ChalkInstance;
  private bar: cliProgress.SingleBar | null = null;

  constructor(opts: { quiet?: boolean } = {}) {
    this.quiet = opts.quiet ?? false;
    this.tty = Boolean(process.stderr.isTTY);
    // chalk's default instance looks at stdout; our logs are on stderr.
    this.c = this.tty && process.env.NO_COLOR === undefined ? chalk : new Chalk({ level: 0 });
  }

  info(line: string): void {
    if (!this.quiet) this.write(line);
  }

  warn(line: string): void {
    this.write(this.c.yellow(`warning: ${line}`));
  }

  private write(line: string): void {
    if (this.bar) this.bar.stop();
    this.bar = null;
    writeLog(`${line}\n`);
  }

  /** A progress bar with ETA and live loss, on a terminal only. */
  startProgress(label: string, total: number): void {
    if (this.quiet || !this.tty) return;
    this.bar = new cliProgress.SingleBar(
      {
        stream: process.stderr,
        format: `${label} ${this.c.cyan('{bar}')} {value}/{total}  loss {loss}  ETA {eta_formatted}`,
        barsize: 30,
        hideCursor: true,
        clearOnComplete: true,
        etaBuffer: 50,
        fps: 10,
      },
      cliProgress.Presets.shades_classic,
    );
    this.bar.start(total, 0, { loss: '-' });
  }

  progress(value: number, loss: number): void {
    this.bar?.update(value, { loss: loss.toFixed(4) });
  }

  stopProgress(): void {
    this.bar?.stop();
    this.bar = null;
  }
}

export function pct(x: number | null): string {
  return x === null ? '-' : `${(100 * x).toFixed(2)}%`;
}
