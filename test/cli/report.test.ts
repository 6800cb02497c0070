// mlp-train's report step: a report that cannot be written is a warning, never a lost run.
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { Log } from '../../src/cli/log.js';
import { writeReportSafely } from '../../src/cli/report.js';
import { useTempFiles } from '../helpers/files.js';

describe('writeReportSafely', () => {
  const files = useTempFiles('mlp-mnist-report-step-');

  it('turns a failed report into one warning line naming the file, and returns', async () => {
    const blocker = files.write('run-is-a-file', 'x'); // the report folder cannot be made under a file
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      await expect(writeReportSafely(new Log(), blocker, { title: 't' }, false)).resolves.toBeUndefined();
      const written = stderr.mock.calls.map((c) => String(c[0])).join('');
      expect(written).toBe(`warning: report not written: ${join(blocker, 'report')}: cannot create the folder: not a directory (ENOTDIR, stat)\n`);
    } finally {
      stderr.mockRestore();
    }
  });

  it('logs where the report went when it works', async () => {
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      await writeReportSafely(new Log(), files.dir, { title: 't' }, false);
      expect(String(stderr.mock.calls[0][0])).toMatch(new RegExp(`^report {5}${join(files.dir, 'report.html')} \\(\\d+\\.\\d s\\)\\n$`));
    } finally {
      stderr.mockRestore();
    }
  });
});
