// Writing the report from a command, with its time in the log.
import { join } from 'node:path';
import { REPORT_FILE, writeReport, type ReportParts } from '../report/report.js';
import type { Log } from './log.js';

/**
 * mlp-train's report step. It runs after the weights, metrics and summary are
 * on disk, so if it fails the run keeps everything else: the failure is a
 * warning (with the stack under --debug), not an exit code.
 */
export async function writeReportSafely(log: Log, dir: string, parts: ReportParts, debug: boolean): Promise<void> {
  const t0 = performance.now();
  try {
    await writeReport(dir, parts);
  } catch (err) {
    log.warn(`report not written: ${err instanceof Error ? err.message : String(err)}`);
    if (debug && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
    return;
  }
  log.info(`report     ${join(dir, REPORT_FILE)} (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
}
