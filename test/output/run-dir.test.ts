// The run folder as an owner: unique default names, a marker only a run
// writes, --force that removes a run's files by name and nothing else, and
// the lock held while a RunDir lives.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { OutputError, UserError } from '../../src/errors.js';
import { CHECKPOINT_FORMAT } from '../../src/output/checkpoint.js';
import { LOCK_FILE } from '../../src/output/run-lock.js';
import { writeSafetensors } from '../../src/output/safetensors.js';
import { RunDir } from '../../src/output/run-dir.js';
import { MARKER_FILE, readMarker, REPORT_CHARTS } from '../../src/output/run-files.js';
import { METRICS_COLUMNS } from '../../src/train/state.js';
import { errorOf } from '../helpers/errors.js';
import { useTempFiles } from '../helpers/files.js';

const tmp = useTempFiles('mlp-rundir-');
let counter = 0;
const fresh = (): string => join(tmp.dir, `f-${counter++}`);

/** A folder as a finished run leaves it (by name, the content does not matter), plus the user's own files. */
function finishedRun(dir: string, extra: Record<string, string> = {}): void {
  const { run } = RunDir.create(dir, false);
  run.release();
  for (const f of ['config.json', 'model.safetensors', 'best.safetensors', 'checkpoint.safetensors', 'summary.json', 'report.html']) {
    writeFileSync(join(dir, f), 'x');
  }
  mkdirSync(join(dir, 'report'));
  for (const chart of REPORT_CHARTS) writeFileSync(join(dir, 'report', chart), '<svg/>');
  writeFileSync(join(dir, 'model.safetensors.tmp-123-abc'), 'x'); // a write cut short
  for (const [name, text] of Object.entries(extra)) writeFileSync(join(dir, name), text);
}

describe('RunDir.create', () => {
  it('default folders: runs/<date>-<time>-<ms>-<random>, a new one each time, even within one millisecond', () => {
    const cwd = process.cwd();
    process.chdir(tmp.dir);
    try {
      const made = Array.from({ length: 40 }, () => RunDir.create(null, false).run);
      for (const r of made) r.release();
      const names = made.map((r) => r.dir);
      expect(new Set(names).size).toBe(40);
      for (const n of names) expect(n).toMatch(/^runs\/\d{8}-\d{6}-\d{3}-[0-9a-f]{4}$/);
      expect(readdirSync(join(tmp.dir, 'runs'))).toHaveLength(40);
    } finally {
      process.chdir(cwd);
    }
  });

  it('writes the marker and the empty metrics files, and holds the lock until released', () => {
    const dir = fresh();
    const { run, notes } = RunDir.create(dir, false);
    expect(notes).toEqual([]);
    expect(readMarker(dir)).toEqual({ format: 'mlp-mnist-run', id: run.runId, created: expect.any(String) });
    expect(run.runId).toMatch(/^[0-9a-f]{16}$/);
    expect(readFileSync(join(dir, 'metrics.jsonl'), 'utf8')).toBe('');
    expect(readFileSync(join(dir, 'metrics.csv'), 'utf8')).toMatch(/^epoch,lr,loss,/);
    expect(existsSync(join(dir, LOCK_FILE))).toBe(true);
    expect(errorOf(UserError, () => RunDir.create(dir, true)).message).toMatch(
      new RegExp(`^${dir}: in use by another mlp-train run \\(pid ${process.pid}, started [^)]+\\); wait for it to end or stop it first$`),
    );
    run.release();
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
  });

  it('a folder with only the user\'s own files is used as it is', () => {
    const dir = fresh();
    mkdirSync(dir);
    writeFileSync(join(dir, 'notes.txt'), 'mine');
    RunDir.create(dir, false).run.release();
    expect(readFileSync(join(dir, 'notes.txt'), 'utf8')).toBe('mine');
  });

  it('a folder that holds a run is refused without --force', () => {
    const dir = fresh();
    finishedRun(dir);
    expect(errorOf(UserError, () => RunDir.create(dir, false)).message).toBe(
      `${dir}: already holds a run (best.safetensors, checkpoint.safetensors, config.json); resume it with --resume, overwrite it with --force, or choose another --out`,
    );
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false); // the refusal let go of the lock
  });

  it('--force replaces a run: the run\'s files go, by name; the user\'s stay', () => {
    const dir = fresh();
    finishedRun(dir, { 'notes.txt': 'mine', 'config.json.bak': 'mine too' });
    writeFileSync(join(dir, 'report', 'notes.txt'), 'mine as well');
    const before = readMarker(dir)!.id;
    const { run } = RunDir.create(dir, true);
    run.release();
    expect(readdirSync(dir).sort()).toEqual([MARKER_FILE, 'config.json.bak', 'metrics.csv', 'metrics.jsonl', 'notes.txt', 'report'].sort());
    expect(readdirSync(join(dir, 'report'))).toEqual(['notes.txt']);
    expect(readMarker(dir)!.id).not.toBe(before); // a new run
  });

  it('--force removes report/ when only the charts were in it', () => {
    const dir = fresh();
    finishedRun(dir);
    RunDir.create(dir, true).run.release();
    expect(existsSync(join(dir, 'report'))).toBe(false);
  });

  it('--force on a folder no run created (no marker) deletes nothing: one line', () => {
    const dir = fresh();
    mkdirSync(join(dir, 'report'), { recursive: true });
    writeFileSync(join(dir, 'config.json'), '{"mine": true}');
    writeFileSync(join(dir, 'report', 'loss.svg'), '<svg/>');
    expect(errorOf(UserError, () => RunDir.create(dir, true)).message).toBe(
      `${dir}: was not created by mlp-train (no .mlp-run marker), so --force deletes nothing in it (it holds config.json, report); choose another --out`,
    );
    expect(readFileSync(join(dir, 'config.json'), 'utf8')).toBe('{"mine": true}');
    expect(existsSync(join(dir, 'report', 'loss.svg'))).toBe(true);
  });

  it('--force on a folder from before run markers: its checkpoint (this program\'s format) shows a run made it', () => {
    const dir = fresh();
    finishedRun(dir, { 'notes.txt': 'mine' });
    rmSync(join(dir, MARKER_FILE));
    writeSafetensors(join(dir, 'checkpoint.safetensors'), [['params', { shape: [1], data: new Float32Array(1) }]], { format: CHECKPOINT_FORMAT });
    RunDir.create(dir, true).run.release();
    expect(existsSync(join(dir, 'checkpoint.safetensors'))).toBe(false);
    expect(readFileSync(join(dir, 'notes.txt'), 'utf8')).toBe('mine');
  });

  it.each([
    ['a weights file, not a checkpoint', { format: 'mlp-mnist' }],
    ['a file that is not safetensors', null],
  ])('--force on a folder without a marker whose checkpoint.safetensors is %s: refused', (_what, metadata) => {
    const dir = fresh();
    finishedRun(dir);
    rmSync(join(dir, MARKER_FILE));
    if (metadata) writeSafetensors(join(dir, 'checkpoint.safetensors'), [['params', { shape: [1], data: new Float32Array(1) }]], metadata);
    expect(errorOf(UserError, () => RunDir.create(dir, true)).message).toMatch(/: was not created by mlp-train \(no \.mlp-run marker\)/);
  });

  it('a path through a file: one line', () => {
    const file = join(tmp.dir, 'a-file');
    writeFileSync(file, 'x');
    expect(errorOf(OutputError, () => RunDir.create(join(file, 'run'), false)).message).toBe(
      `${join(file, 'run')}: cannot create the folder: not a directory (ENOTDIR, stat)`,
    );
    expect(errorOf(OutputError, () => RunDir.create(file, false)).message).toBe(`${file}: exists and is not a folder`);
  });
});

describe('RunDir.resume', () => {
  it('takes the lock, removes the run\'s leftover temp files (only those), and repairs the metrics files', () => {
    const dir = fresh();
    finishedRun(dir, { 'notes.txt.tmp-1-abc': 'not a run file' });
    const { run, repaired } = RunDir.resume(dir, []);
    expect(repaired).toEqual(['removed model.safetensors.tmp-123-abc']);
    expect(existsSync(join(dir, 'notes.txt.tmp-1-abc'))).toBe(true);
    expect(errorOf(UserError, () => RunDir.resume(dir, [])).message).toMatch(/: in use by another mlp-train run \(pid \d+, started .*\)/);
    run.release();
  });

  it('a folder from before run markers gets one', () => {
    const dir = fresh();
    mkdirSync(dir);
    writeFileSync(join(dir, 'metrics.jsonl'), '');
    writeFileSync(join(dir, 'metrics.csv'), `${METRICS_COLUMNS.join(',')}\n`);
    const { run, repaired } = RunDir.resume(dir, []);
    run.release();
    expect(repaired).toEqual([`wrote the run marker ${MARKER_FILE} (the folder had none)`]);
    expect(readMarker(dir)!.id).toBe(run.runId);
  });

  it('a damaged marker: one line', () => {
    const dir = fresh();
    mkdirSync(dir);
    writeFileSync(join(dir, MARKER_FILE), '{"format": "something else"}');
    expect(errorOf(OutputError, () => readMarker(dir)).message).toBe(
      `${join(dir, MARKER_FILE)}: not a run marker: expected {"format": "mlp-mnist-run", "id": ...}`,
    );
  });
});

describe('RunDir.holdsRun', () => {
  it.each([
    ['a run: yes', (d: string) => finishedRun(d), true],
    ['only the marker: yes', (d: string) => RunDir.create(d, false).run.release(), true],
    ['only user files: no', (d: string) => (mkdirSync(d), writeFileSync(join(d, 'notes.txt'), 'x')), false],
    ['a report/ without charts: no', (d: string) => mkdirSync(join(d, 'report'), { recursive: true }), false],
    ['a folder that does not exist: no', () => undefined, false],
  ])('%s', (_name, make, expected) => {
    const dir = fresh();
    make(dir);
    expect(RunDir.holdsRun(dir)).toBe(expected);
  });
});
