// The queue for real: a redis-server from the Debian package on a free port,
// two mlp-worker processes, a sweep submitted with --queue, and one worker
// killed outright (SIGKILL) while it trains. Every point must complete, the
// killed worker's run must be resumed by the other worker from its checkpoint,
// and every model's weights must equal, byte for byte, those of the same
// sweep run locally. Run by `npm run test:queue` (and .ci/run), not `npm test`.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alive, cli, ROOT, startCli } from '../helpers/cli.js';
import { useTempFiles } from '../helpers/files.js';
import { startRedis, type RedisServer } from './redis.js';

/** sha256 of a safetensors file's tensor bytes (after the 8-byte length and the header, which names the run). */
function tensorSha(file: string): string {
  const b = readFileSync(file);
  const n = Number(b.readBigUInt64LE(0));
  return createHash('sha256').update(b.subarray(8 + n)).digest('hex');
}

interface Worker {
  child: ChildProcess;
  log: () => string;
  exited: Promise<number | null>;
}

function startWorker(url: string): Worker {
  const child = spawn(process.execPath, [join(ROOT, 'bin', 'mlp-worker.js'), '--queue', url, '--lock', '2', '--threads', '1'], {
    cwd: ROOT,
    env: { ...process.env, NO_COLOR: '1' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let text = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (c: string) => (text += c));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { child, log: () => text, exited };
}

const until = async (what: string, ok: () => boolean, ms = 60_000): Promise<void> => {
  const t0 = Date.now();
  while (!ok()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
};

// Three points of about 2.5 s each on one thread: long enough to be killed mid-run (the orphaned
// mlp-train notices its parent gone within half a second: most of its 30 epochs are left then).
const SWEEP = ['--set', 'data.limit=5000', '--set', 'training.epochs=30', '--grid', 'model.seed=1,2,3'];
const POINTS = ['seed-1', 'seed-2', 'seed-3'];

describe('mlp-worker on a real Redis: two workers, one killed mid-run', () => {
  const tmp = useTempFiles('mlp-queue-');
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis.stop();
  });

  it('every point completes, the killed run is resumed elsewhere, and the weights equal the local run', async () => {
    const local = join(tmp.dir, 'local');
    const here = cli('mlp-sweep', [...SWEEP, '--out', local, '--jobs', '2', '--threads', '1', '--quiet']);
    expect(here.stderr).toBe('');
    expect(here.status).toBe(0);

    const queued = join(tmp.dir, 'queued');
    const a = startWorker(redis.url);
    const b = startWorker(redis.url);
    const t0 = Date.now();
    const submit = startCli('mlp-sweep', [...SWEEP, '--out', queued, '--queue', redis.url]);
    // Kill worker A once its first run has written a checkpoint (it is mid-run then).
    let victim = '';
    let trainPid = 0;
    await until('worker A to checkpoint a run', () => {
      const m = /(seed-\d): started \(attempt 1\), pid (\d+)/.exec(a.log());
      if (m === null) return false;
      [victim, trainPid] = [m[1], Number(m[2])];
      return existsSync(join(queued, victim, 'checkpoint.safetensors'));
    });
    a.child.kill('SIGKILL');
    expect(await a.exited).toBe(null);
    // its mlp-train sees its parent gone, stops after the batch and checkpoints
    await until('the orphaned mlp-train to stop', () => !alive(trainPid), 30_000);
    // As if worker A's machine had died outright: its run's lock stays behind, naming that host.
    // The queue hands the job on only after the 2 s lock, so nothing holds the folder yet.
    expect(b.log()).not.toMatch(new RegExp(`${victim}: resumed`));
    const lock = { pid: trainPid, host: 'a-machine-that-died', started: new Date().toISOString(), proc_start: null, token: 'gone' };
    writeFileSync(join(queued, victim, '.mlp-run.lock'), JSON.stringify(lock), { flag: 'wx' });

    const done = await submit;
    const wall = (Date.now() - t0) / 1000;
    expect(done.code, done.stderr).toBe(0);
    expect(b.log()).toMatch(new RegExp(`${victim}: resumed \\(attempt \\d\\)`));
    for (const p of POINTS) {
      expect(existsSync(join(queued, p, 'summary.json')), p).toBe(true);
      expect(tensorSha(join(queued, p, 'model.safetensors')), p).toBe(tensorSha(join(local, p, 'model.safetensors')));
    }
    const comparison = JSON.parse(readFileSync(join(queued, 'comparison.json'), 'utf8')) as { rows: Array<{ name: string; status: string }> };
    expect(comparison.rows.map((r) => r.name).sort()).toEqual(POINTS);
    expect(comparison.rows.every((r) => r.status === 'finished')).toBe(true);
    process.stderr.write(`queue run: 3 points on 2 workers, one killed, ${wall.toFixed(1)} s wall time\n`);

    b.child.kill('SIGTERM');
    expect(await b.exited).toBe(130);
  });

  it('a second submission of a finished sweep reads its folders and queues nothing', () => {
    const queued = join(tmp.dir, 'queued');
    const again = cli('mlp-sweep', [...SWEEP, '--out', queued, '--queue', redis.url]);
    expect(again.status, again.stderr).toBe(0);
    expect(again.stderr).not.toMatch(/queued as job/);
    expect(again.stderr.match(/finished before/g)?.length).toBe(3);
  });

  it('mlp-reproduce --queue: the rows run on a worker, the table is written as from local runs', async () => {
    tmp.write('tiny.yaml', 'model:\n  layers: [784, 8, 10]\ndata:\n  limit: 500\ntraining:\n  epochs: 2\n  threads: 1\n');
    const table = tmp.write('table.yaml', 'rows:\n  - name: tiny\n    config: tiny.yaml\n');
    const w = startWorker(redis.url);
    const remote = join(tmp.dir, 'repro-queue');
    const r = await startCli('mlp-reproduce', ['--table', table, '--seeds', '2', '--out', remote, '--queue', redis.url]);
    expect(r.code, r.stderr).toBe(0);
    w.child.kill('SIGTERM');
    expect(await w.exited).toBe(130);
    expect(w.log()).toMatch(/tiny seed 2: started \(attempt 1\)/);
    const local = join(tmp.dir, 'repro-local');
    expect(cli('mlp-reproduce', ['--table', table, '--seeds', '2', '--out', local, '--quiet']).status).toBe(0);
    type T = { rows: Array<{ runs: Array<{ seed: number; test_accuracy: number }> }> };
    const read = (d: string): T => JSON.parse(readFileSync(join(d, 'table.json'), 'utf8')) as T;
    expect(read(remote).rows[0].runs.map((x) => [x.seed, x.test_accuracy])).toEqual(read(local).rows[0].runs.map((x) => [x.seed, x.test_accuracy]));
    for (const s of [1, 2]) {
      expect(tensorSha(join(remote, 'tiny', `seed-${s}`, 'model.safetensors'))).toBe(tensorSha(join(local, 'tiny', `seed-${s}`, 'model.safetensors')));
    }
  });

  it("a run that fails for good fails its job once, and the submitter says why in one line", async () => {
    const w = startWorker(redis.url);
    // valid config, but the dataset is not on the worker: mlp-train exits 1 there
    const out = join(tmp.dir, 'failing');
    const r = await startCli('mlp-sweep', ['--set', 'data.preset=kmnist', '--grid', 'model.seed=1', '--out', out, '--queue', redis.url, '--quiet']);
    w.child.kill('SIGTERM');
    expect(await w.exited).toBe(130);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: job run-[0-9a-f]{24} \(seed-1\) failed: seed-1: mlp-train failed \(exit 1\): error: .*kmnist is not installed/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(w.log().match(/seed-1: started/g)).toHaveLength(1); // not retried: another try would fail the same way
  });

  it('an unreachable queue is one line and exit 1', () => {
    const r = cli('mlp-sweep', [...SWEEP, '--out', join(tmp.dir, 'nowhere'), '--queue', 'redis://127.0.0.1:1', '--quiet']);
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toMatch(/^error: --queue redis:\/\/127\.0\.0\.1:1: cannot reach Redis: .*ECONNREFUSED/);
  });
});
