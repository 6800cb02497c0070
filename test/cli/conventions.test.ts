// The conventions every command keeps (DESIGN.md, "Commands"): --version;
// --json a switch for JSON on stdout; results on stdout and logs on stderr;
// --quiet hides logs, never results; a stdout closed by its reader ends
// quietly, a full one is one line and exit 1, a failing stderr stops nothing;
// error lines are clipped.
import { spawnSync } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { defaultConfig } from '../../src/config/schema.js';
import { Mlp } from '../../src/model/mlp.js';
import { saveWeights } from '../../src/output/weights.js';
import { cli, ROOT, type Run } from '../helpers/cli.js';
import { useTempFiles } from '../helpers/files.js';

const COMMANDS = ['mlp-train', 'mlp-eval', 'mlp-grad', 'mlp-predict', 'mlp-export', 'mlp-reproduce'] as const;
type Command = (typeof COMMANDS)[number];
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const bin = (command: Command): string => join(ROOT, 'bin', `${command}.js`);

/** A command with stdout and/or stderr sent to a file (/dev/full, say); the other streams captured. */
function cliTo(command: Command, args: string[], to: { stdout?: string; stderr?: string }): Run {
  const fds = [to.stdout, to.stderr].map((f) => (f === undefined ? 'pipe' : openSync(f, 'w')));
  try {
    const r = spawnSync(process.execPath, [bin(command), ...args], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '1' },
      stdio: ['ignore', fds[0], fds[1]],
      timeout: 600_000,
    });
    return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
  } finally {
    for (const fd of fds) if (typeof fd === 'number') closeSync(fd);
  }
}

/** `command args | reader` in bash: the command's exit code and stderr, the reader's stdout. */
function cliPiped(command: Command, args: string[], reader: string): Run {
  const quoted = [process.execPath, bin(command), ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const r = spawnSync('bash', ['-c', `${quoted} | ${reader}; exit "\${PIPESTATUS[0]}"`], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1' },
    timeout: 600_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const files = useTempFiles('mlp-mnist-conventions-');
const config = defaultConfig();
config.model.layers = [784, 16, 10];
const model = new Mlp(config.model);
model.init(config.model.init, 1, config.model.output_bias);
const weights = join(files.dir, 'w.safetensors');
saveWeights(weights, model, config);

describe('--version and --json mean one thing in every command', () => {
  it.each(COMMANDS)('%s --version: "mlp-mnist <version>" on stdout, exit 0', (command) => {
    expect(cli(command, ['--version'])).toEqual({ status: 0, stdout: `mlp-mnist ${VERSION}\n`, stderr: '' });
  });

  it.each(COMMANDS)('%s --help lists --version; a --json there takes no value', (command) => {
    const r = cli(command, ['--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^ {2}--version {2,}print "mlp-mnist <version>" and exit$/m);
    const json = r.stdout.split('\n').find((l) => /^ {2}--json\b/.test(l));
    if (json !== undefined) expect(json).toMatch(/^ {2}--json {2,}\S/);
  });
});

describe('results on stdout, logs on stderr, --quiet hides only logs', () => {
  let e: { accuracy: number; loss: number; n: number; confusion: number[][] };
  beforeAll(() => {
    e = JSON.parse(cli('mlp-eval', ['--weights', weights, '--json']).stdout);
  });

  it('mlp-eval > file captures the figures; --quiet changes nothing there', () => {
    for (const extra of [[], ['--quiet']]) {
      const r = cli('mlp-eval', ['--weights', weights, ...extra]);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      const lines = r.stdout.split('\n');
      expect(lines.slice(0, 4)).toEqual([
        `weights  ${weights} (784-16-10)`,
        `test set  10000 samples: accuracy ${(100 * e.accuracy).toFixed(2)}%, loss ${e.loss.toFixed(5)} per sample`,
        '',
        'confusion matrix (rows: true digit, columns: predicted)',
      ]);
      expect(lines).toHaveLength(4 + 11 + 2 + 10 + 1);
    }
  });

  it('mlp-eval --predictions FILE: one CSV row per sample, the classes mlp-eval counts; a log line on stderr', () => {
    const csv = join(files.dir, 'predictions.csv');
    const r = cli('mlp-eval', ['--weights', weights, '--json', '--predictions', csv]);
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ weights, split: 'test', ...e, per_class: expect.any(Array) });
    expect(r.stderr).toBe(`predictions  ${csv} (10000 rows)\n`);
    const [header, ...rows] = readFileSync(csv, 'utf8').trimEnd().split('\n');
    expect(header).toBe('index,label,predicted,p0,p1,p2,p3,p4,p5,p6,p7,p8,p9');
    expect(rows).toHaveLength(10000);
    const confusion = Array.from({ length: 10 }, () => new Array<number>(10).fill(0));
    rows.forEach((row, i) => {
      const [index, label, predicted, ...p] = row.split(',').map(Number);
      expect(index).toBe(i);
      expect(p.indexOf(Math.max(...p))).toBe(predicted);
      if (i < 100) expect(p.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 4); // 6 significant digits each
      confusion[label][predicted] += 1;
    });
    expect(confusion).toEqual(e.confusion);
    expect(readdirSync(files.dir).filter((f) => f.includes('.tmp-'))).toEqual([]); // written atomically
  });

  it('mlp-eval --predictions onto an input: one line, exit 1', () => {
    const r = cli('mlp-eval', ['--weights', weights, '--predictions', weights]);
    expect(r.stderr).toBe(`error: --predictions ${weights}: the same file as --weights ${weights}; an output must not replace an input\n`);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
  });
});

describe('a closed or full stdout, a failing stderr', () => {
  const x = Array.from({ length: 50 }, (_, i) => Array.from({ length: 784 }, (_, j) => ((i + j) % 7) / 7));
  const input = files.write('samples.json', JSON.stringify({ x, labels: x.map((_, i) => i % 10) }));
  const png = new PNG({ width: 28, height: 28 });
  for (let p = 0; p < 28 * 28; p++) png.data.set(p % 28 > 10 && p % 28 < 16 ? [0, 0, 0, 255] : [255, 255, 255, 255], 4 * p);
  const digit = files.write('one.png', PNG.sync.write(png));

  it('mlp-grad --json | head -c 100 (megabytes of JSON): the reader gets 100 bytes, exit 0, nothing on stderr', () => {
    const r = cliPiped('mlp-grad', ['--weights', weights, '--input', input, '--json'], 'head -c 100');
    expect(r.stdout).toHaveLength(100);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('mlp-predict on 1000 images | head -1: one line, exit 0, nothing on stderr', () => {
    const r = cliPiped('mlp-predict', ['--weights', weights, ...new Array<string>(1000).fill(digit)], 'head -1');
    expect(r.stdout).toMatch(new RegExp(`^${digit}  \\d +\\d+\\.\\d% +\\d +\\d+\\.\\d% +\\d +\\d+\\.\\d%\\n$`));
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('mlp-eval --json > /dev/full: one line, exit 1', () => {
    const r = cliTo('mlp-eval', ['--weights', weights, '--json'], { stdout: '/dev/full' });
    expect(r.stderr).toBe('error: stdout: cannot write the results: no space left on device (ENOSPC, write)\n');
    expect(r.status).toBe(1);
  });

  it('mlp-eval 2> /dev/full: the results still come, exit 0', () => {
    const r = cliTo('mlp-eval', ['--weights', weights, '--predictions', join(files.dir, 'p2.csv')], { stderr: '/dev/full' });
    expect(r.stdout).toMatch(/^weights {2}.*\ntest set {2}10000 samples: accuracy /);
    expect(r.status).toBe(0);
  });
});

describe('mlp-train: the final line is a result, --json names the run folder, a failing stderr stops nothing', () => {
  const cfg = files.write('tiny.yaml', 'data: {limit: 1000}\nmodel: {layers: [784, 16, 10]}\ntraining: {epochs: 1, batch_size: 10, lr: 0.5, lr_schedule: {warmup_steps: 0}}\n');

  it('--quiet: no logs, the test accuracy line on stdout', () => {
    const dir = join(files.dir, 'run-quiet');
    const r = cli('mlp-train', ['--config', cfg, '--out', dir, '--quiet']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const summary = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8'));
    const pct = `${(100 * summary.test_accuracy).toFixed(2)}%`;
    expect(r.stdout).toMatch(new RegExp(`^test accuracy ${pct.replace('.', '\\.')}  loss ${summary.test_loss.toFixed(4)}  in \\d+\\.\\d s; run folder ${dir}\\n$`));
  });

  it('--json 2> /dev/full: trains to the end; stdout is summary.json with run_dir', () => {
    const dir = join(files.dir, 'run-json');
    const r = cliTo('mlp-train', ['--config', cfg, '--out', dir, '--json'], { stderr: '/dev/full' });
    expect(r.status).toBe(0);
    const summary = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8'));
    expect(JSON.parse(r.stdout)).toEqual({ ...summary, run_dir: dir });
    expect(summary.epochs).toBe(1);
  });
});

describe('error lines are clipped to 1,000 characters', () => {
  const long = 'a'.repeat(100_000);

  it('a user error echoing a 100,000-character argument', () => {
    const r = cli('mlp-export', ['--weights', weights, '--onnx', join(files.dir, 'x.onnx'), long]);
    const full = `unexpected argument "${long}"`;
    expect(r.stderr).toBe(`error: ${full.slice(0, 1000)}... [${(full.length - 1000).toLocaleString('en-US')} more characters cut]\n`);
    expect(r.stderr).toBe(`error: unexpected argument "${'a'.repeat(979)}... [99,022 more characters cut]\n`);
    expect(r.status).toBe(1);
  });

  it("commander's own error for a 100,000-character option", () => {
    const r = cli('mlp-eval', ['--weights', weights, `--${long}`]);
    expect(r.stderr).toBe(`error: unknown option '--${'a'.repeat(975)}... [99,026 more characters cut]\n(run with --help for usage)\n`);
    expect(r.status).toBe(1);
  });
});
