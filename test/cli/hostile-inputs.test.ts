// Issue 17, classes B and C for inputs: the real commands, spawned as a user
// would, on hostile or unusual inputs. Each case pins the exact line on stderr
// and the exit code. Nothing here may crash with a stack trace (B) or grow
// without bound or hang (C): every input goes through the bounded reader
// (src/read-file.ts), every image side is bounded, and every model size is
// checked against the memory limit before anything is allocated
// (src/model/memory.ts).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeSafetensors } from '../../src/output/safetensors.js';
import { cli, ROOT, type Run } from '../helpers/cli.js';
import { useTempFiles } from '../helpers/files.js';
import { pngHeader } from '../helpers/png.js';

type Command = Parameters<typeof cli>[0];

const files = useTempFiles('mlp-hostile-');
const { dir } = files;
chmodSync(dir, 0o755); // the EACCES case runs a command as another user, who must reach the other files

/** Like cli(), with stdin (through a socket as Node makes it, or a real pipe from `cat` in a shell) and the user to run as. */
function run(command: Command, args: string[], o: { input?: string; viaShellPipe?: boolean; uid?: number } = {}): Run {
  const argv = [process.execPath, join(ROOT, 'bin', `${command}.js`), ...args];
  const quote = (a: string): string => `'${a.replaceAll("'", "'\\''")}'`;
  const [exe, ...rest] = o.viaShellPipe ? ['sh', '-c', `cat | ${argv.map(quote).join(' ')}`] : argv;
  const r = spawnSync(exe, rest, {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1' },
    timeout: 120_000,
    input: o.input,
    ...(o.uid !== undefined ? { uid: o.uid, gid: o.uid } : {}),
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The result of a refusal: exactly one line on stderr, nothing on stdout, exit 1. */
function expectRefusal(r: Run, line: string): void {
  expect(r.stderr).toBe(`error: ${line}\n`);
  expect(r.stdout).toBe('');
  expect(r.status).toBe(1);
}

// A FIFO (mkfifo) fed by a writer process; writers still blocked or writing are killed at the end.
const writers: ChildProcess[] = [];
afterAll(() => writers.forEach((w) => w.kill('SIGKILL')));
let fifos = 0;
function fifoFedBy(command: string): string {
  const fifo = join(dir, `fifo-${fifos++}`);
  expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
  writers.push(spawn('sh', ['-c', `${command} > '${fifo}'`], { stdio: 'ignore' }));
  return fifo;
}

/** A foreign weights file (no metadata) of the given widths, zero weights. */
function weightsFile(name: string, layers: number[]): string {
  const tensors: Array<[string, { shape: number[]; data: Float32Array }]> = [];
  for (let l = 0; l + 1 < layers.length; l++) {
    const [I, O] = [layers[l], layers[l + 1]];
    tensors.push([`layers.${l}.weight`, { shape: [O, I], data: new Float32Array(O * I) }], [`layers.${l}.bias`, { shape: [O], data: new Float32Array(O) }]);
  }
  const file = join(dir, name);
  writeSafetensors(file, tensors);
  return file;
}

/** loop.png -> loop.png, made once. */
let looped = false;
function symlinkLoop(): void {
  if (looped) return;
  symlinkSync(join(dir, 'loop.png'), join(dir, 'loop.png'));
  looped = true;
}

const weights = weightsFile('w.safetensors', [784, 10]); // 31 KB: a foreign file, layers from its shapes
const samples = files.write('samples.json', JSON.stringify({ x: [new Array<number>(784).fill(0.5)], labels: [3] }));
const train = (...sets: string[]): string[] => ['--config', 'configs/default.yaml', '--out', join(dir, 'run'), ...sets.flatMap((s) => ['--set', s])];

describe('class B: a one-line refusal where there was a stack trace', () => {
  it.each<[string, string[], string]>([
    // issue 17: "RangeError: Invalid typed array length"
    ['model.layers=[784,1000000000,10]', ['model.layers=[784,1000000000,10]'], 'model 784-1000000000-10: its 795,000,000,010 parameters alone need 2961.61 GiB (float32), more than the 2 GiB memory limit'],
    // issue 17: grew to 3.2 GB and died in WebAssembly.Memory.grow()
    ['model.layers=[784,1000000,10]', ['model.layers=[784,1000000,10]'], 'model 784-1000000-10: its 795,000,010 parameters alone need 2.96 GiB (float32), more than the 2 GiB memory limit'],
    // a model that fits, a run that does not: the parameters' copies (the trainer's check)
    [
      'model.layers=[784,100000,10]',
      ['model.layers=[784,100000,10]', 'training.threads=2'],
      'model 784-100000-10, batch 100: training needs about 2.27 GiB, more than the 2 GiB memory limit (79,500,010 parameters and their copies 2.07 GiB, batch buffers 158.2 MiB, data 45.1 MiB)',
    ],
    // a small model, a full batch of 60,000 rows through 4,000 units: the activations
    [
      'a full batch through 4000 units',
      ['model.layers=[784,4000,10]', 'training.batch_size=full', 'training.threads=2'],
      'model 784-4000-10, batch 60000: training needs about 3.89 GiB, more than the 2 GiB memory limit (3,180,010 parameters and their copies 84.9 MiB, batch buffers 3.76 GiB, data 45.1 MiB)',
    ],
  ])('mlp-train %s', (_name, sets, line) => {
    expectRefusal(cli('mlp-train', train(...sets)), line);
  });

  // issue 17: "A 48 KB PNG of 50,000,000 x 1 pixels kills mlp-predict with 'JavaScript heap out of memory' after 5.5 GB"
  it.each<[number, number, string]>([
    [50_000_000, 1, '50000000x1 pixels: a side of 50000000 is more than the 16384-pixel limit per side'],
    [1, 50_000_000, '1x50000000 pixels: a side of 50000000 is more than the 16384-pixel limit per side'],
    [16_385, 3_000, '16385x3000 pixels: a side of 16385 is more than the 16384-pixel limit per side'],
  ])('mlp-predict on a PNG of %i x %i pixels', (w, h, problem) => {
    const png = files.write(`${w}x${h}.png`, pngHeader(w, h));
    expectRefusal(cli('mlp-predict', ['--weights', weights, png]), `${png}: ${problem}`);
  });

  it('mlp-eval and mlp-export on a 2.13 GB weights file (sparse): refused from its size, before it is read', () => {
    const big = join(dir, 'big.safetensors');
    writeFileSync(big, '');
    truncateSync(big, 2_130_000_000);
    const line = `${big}: 2130000000 bytes is more than the 1073741824-byte limit for a safetensors file`;
    expectRefusal(cli('mlp-eval', ['--weights', big]), line);
    expectRefusal(cli('mlp-export', ['--weights', big, '--onnx', join(dir, 'big.onnx')]), line);
  });

  it('mlp-eval on 16,800 layers of 16 units: a 20 MB file whose evaluation needs 2 GiB of activations', () => {
    const deep = weightsFile('deep.safetensors', [784, ...new Array<number>(16_800).fill(16), 10]);
    expectRefusal(
      cli('mlp-eval', ['--weights', deep]),
      `${deep}: a 784-16-16-...-16-10 (16802 widths) model needs about 2.06 GiB to load and evaluate, more than the 2 GiB memory limit ` +
        '(file 20.2 MiB, 4,582,058 values decoded 17.5 MiB, model 17.5 MiB, 1000 rows of activations 2.01 GiB)',
    );
  });

  it('mlp-grad (float64) on 10,000 layers of 16 units, which mlp-eval (float32) could load', () => {
    const deep = weightsFile('deep10k.safetensors', [784, ...new Array<number>(10_000).fill(16), 10]);
    expectRefusal(
      cli('mlp-grad', ['--weights', deep, '--input', samples]),
      `${deep}: a 784-16-16-...-16-10 (10002 widths) model needs about 2.43 GiB to load and evaluate, more than the 2 GiB memory limit ` +
        '(file 12.0 MiB, 2,732,458 values decoded 10.4 MiB, model 20.8 MiB, 1000 rows of activations 2.39 GiB)',
    );
  });

  it.each<[string, Command, (d: string) => string[], (d: string) => string]>([
    ['a folder as the weights', 'mlp-eval', (d) => ['--weights', d], (d) => `${d}: is a directory, expected a safetensors file`],
    ['a folder as the samples', 'mlp-grad', (d) => ['--weights', weights, '--input', d], (d) => `${d}: is a directory, expected a JSON samples file`],
    ['a folder as an image', 'mlp-predict', (d) => ['--weights', weights, d], (d) => `${d}: is a directory, expected a PNG image`],
    ['a folder as training images', 'mlp-train', (d) => train(`data.train.images=${d}`), (d) => `${d}: is a directory, expected an IDX file`],
    [
      'a file used as a folder (ENOTDIR)',
      'mlp-grad',
      () => ['--weights', weights, '--input', join(samples, 'x.json')],
      () => `${join(samples, 'x.json')}: no such file (a part of the path is not a folder)`,
    ],
    ['a symbolic link loop (ELOOP)', 'mlp-predict', (d) => ['--weights', weights, join(d, 'loop.png')], (d) => `${join(d, 'loop.png')}: cannot read: too many levels of symbolic links (ELOOP)`],
    [
      'a file name of 300 characters (ENAMETOOLONG)',
      'mlp-eval',
      (d) => ['--weights', join(d, `${'w'.repeat(300)}.safetensors`)],
      (d) => `${join(d, `${'w'.repeat(300)}.safetensors`)}: cannot read: file name too long (ENAMETOOLONG)`,
    ],
  ])('%s', (_name, command, args, line) => {
    symlinkLoop();
    expectRefusal(cli(command, args(dir)), line(dir));
  });

  it('an unreadable weights file (EACCES; as root, the command runs as uid 65534, for whom mode 000 is unreadable)', () => {
    const secret = weightsFile('secret.safetensors', [784, 10]);
    chmodSync(secret, 0o000);
    const asRoot = process.getuid?.() === 0;
    expectRefusal(run('mlp-eval', ['--weights', secret], asRoot ? { uid: 65534 } : {}), `${secret}: cannot read: permission denied (EACCES)`);
  });
});

describe('class C: pipes and devices are read to a bound, never without one', () => {
  it.each<[string, Command, string[], string]>([
    ['--weights /dev/zero', 'mlp-eval', ['--weights', '/dev/zero'], '/dev/zero: header length is 0'],
    ['--weights /dev/null', 'mlp-export', ['--weights', '/dev/null', '--onnx', join(dir, 'null.onnx')], '/dev/null: too short for a safetensors file: 0 bytes, need at least 8'],
    ['data.train.images=/dev/zero', 'mlp-train', train('data.train.images=/dev/zero'), '/dev/zero: unsupported data type 0x00; expected 0x08 (unsigned byte)'],
    ['data.train.labels=/dev/null', 'mlp-train', train('data.train.labels=/dev/null'), '/dev/null: empty file, expected an IDX file'],
    ['an image /dev/zero', 'mlp-predict', ['--weights', weights, '/dev/zero'], '/dev/zero: not a PNG image (the file does not start with the PNG signature)'],
    [
      '--input /dev/zero',
      'mlp-grad',
      ['--weights', weights, '--input', '/dev/zero'],
      '/dev/zero: more than the 16777216-byte limit for a JSON samples file: read 16777217 bytes from this character device and stopped',
    ],
  ])('%s', (_name, command, args, line) => {
    expectRefusal(cli(command, args), line);
  });

  it('a FIFO of valid weights: mlp-eval reads it as it reads the file', () => {
    const fromFile = cli('mlp-eval', ['--weights', weights, '--json']);
    const fifo = fifoFedBy(`cat '${weights}'`);
    const fromPipe = cli('mlp-eval', ['--weights', fifo, '--json']);
    expect(fromPipe.stderr).toBe('');
    expect(fromPipe.status).toBe(0);
    const strip = (text: string): unknown => ({ ...(JSON.parse(text) as Record<string, unknown>), weights: null });
    expect(strip(fromPipe.stdout)).toEqual(strip(fromFile.stdout));
  });

  it.each<[string, (input: string) => Run]>([
    // a real pipe from the shell: /dev/stdin opens as the pipe
    ['a shell pipe', (input) => run('mlp-grad', ['--weights', weights, '--input', '/dev/stdin', '--json'], { input, viaShellPipe: true })],
    // Node's own stdin for a child is a socket, which /dev/stdin cannot open (ENXIO): read from descriptor 0
    ['a socket (spawnSync input)', (input) => run('mlp-grad', ['--weights', weights, '--input', '/dev/stdin', '--json'], { input })],
  ])('samples on stdin through %s: mlp-grad reads them', (_name, go) => {
    const r = go(JSON.stringify({ x: [new Array<number>(784).fill(0)], labels: [0] }));
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect((JSON.parse(r.stdout) as { loss: { data: number } }).loss.data).toBe(0.5 * (0.25 + 9 * 0.25)); // zero weights: every output 0.5
  });

  it('training images from a FIFO whose IDX header claims 2000000x28x28, then endless zeros: refused on the header', () => {
    const head = Buffer.alloc(16);
    head.writeUInt32BE(0x0803, 0);
    [2_000_000, 28, 28].forEach((d, k) => head.writeUInt32BE(d, 4 + 4 * k));
    const headFile = files.write('head-idx3', head);
    const fifo = fifoFedBy(`cat '${headFile}' /dev/zero`);
    expectRefusal(cli('mlp-train', train(`data.train.images=${fifo}`)), `${fifo}: header says 2000000x28x28 (1568000016 bytes), more than the 1073741824-byte limit for an IDX file`);
  });

  it('samples from an endless FIFO (`yes`): refused after 16 MiB + 1 byte, not read for ever', () => {
    const fifo = fifoFedBy('yes');
    expectRefusal(
      cli('mlp-grad', ['--weights', weights, '--input', fifo]),
      `${fifo}: more than the 16777216-byte limit for a JSON samples file: read 16777217 bytes from this pipe and stopped`,
    );
  });

  it('an image from a FIFO: a 50,000,000 x 1 header then endless zeros, refused on the header', () => {
    const headFile = files.write('head.png', pngHeader(50_000_000, 1).subarray(0, 33));
    const fifo = fifoFedBy(`cat '${headFile}' /dev/zero`);
    expectRefusal(cli('mlp-predict', ['--weights', weights, fifo]), `${fifo}: 50000000x1 pixels: a side of 50000000 is more than the 16384-pixel limit per side`);
  });

  it('weights from an endless FIFO of random bytes: refused on the header length, not after 1 GiB', () => {
    // 8 bytes of 0xff then endless zeros: the header length field is 2^64 - 1
    const headFile = files.write('ff', new Uint8Array(8).fill(0xff));
    const fifo = fifoFedBy(`cat '${headFile}' /dev/zero`);
    expectRefusal(cli('mlp-eval', ['--weights', fifo]), `${fifo}: header length 18446744073709551615 exceeds the limit of 104857600 bytes`);
  });
});

describe('the inputs the tests use are sound', () => {
  it('the weights and samples files work', () => {
    const r = cli('mlp-grad', ['--weights', weights, '--input', samples, '--json']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});
