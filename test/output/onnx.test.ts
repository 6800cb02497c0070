// ONNX export, checked by running the model in a real ONNX runtime
// (onnxruntime-web: the WebAssembly build of onnxruntime, in Node) against the
// trainer's own forward pass on real MNIST test images.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-web';
import { describe, expect, it } from 'vitest';
import { defaultConfig, type Config } from '../../src/config/schema.js';
import { loadSplit } from '../../src/data/mnist.js';
import { Mlp } from '../../src/model/mlp.js';
import { Pass } from '../../src/model/pass.js';
import { inputFormat, ONNX_OPSET, onnxModel, outputFormat } from '../../src/output/onnx.js';
import { saveWeights } from '../../src/output/weights.js';
import { cli, ROOT } from '../helpers/cli.js';
import { useTempFiles } from '../helpers/files.js';
import { expectClose } from '../helpers/gradcheck.js';

ort.env.wasm.numThreads = 1; // no worker threads inside the test process

const N = 64;
const test = loadSplit({ images: null, labels: null }, 'test', 10);
const X = Float32Array.from(test.images.subarray(0, N * 784), (v) => v / 255);

function configFor(layers: number[], hidden: Config['model']['hidden'], output: Config['model']['output'], pieces = 2): Config {
  const config = defaultConfig();
  config.model = { ...config.model, layers, hidden, output, maxout_pieces: pieces };
  return config;
}

function seededModel(config: Config, seed: number): Mlp {
  const model = new Mlp(config.model);
  model.init(config.model.init, seed, config.model.output_bias);
  // Biases are 0 after init (but the output prior): give every one a value, so a dropped bias would show.
  for (let l = 0; l < model.L; l++) model.b[l].forEach((_, j, b) => (b[j] += 0.01 * (((j * 7 + l) % 11) - 5)));
  return model;
}

async function runOnnx(bytes: Uint8Array, input: Float32Array, n: number, width: number): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(bytes);
  expect(session.inputNames).toEqual(['input']);
  expect(session.outputNames).toEqual(['output']);
  const out = await session.run({ input: new ort.Tensor('float32', input, [n, width]) });
  await session.release();
  return out.output.data as Float32Array;
}

describe('ONNX export: the same outputs in onnxruntime', () => {
  it.each<[number[], Config['model']['hidden'], Config['model']['output'], number?]>([
    [[784, 64, 10], 'sigmoid', 'sigmoid'],
    [[784, 100, 10], 'tanh', 'softmax'],
    [[784, 48, 32, 10], 'relu', 'softmax'],
    [[784, 30, 20, 10], 'sigmoid', 'sigmoid'],
    [[784, 48, 10], 'softplus', 'sigmoid'],
    [[784, 40, 10], 'maxout', 'softmax'], // Gemm [N, 80] -> Reshape [N, 40, 2] -> ReduceMax
    [[784, 30, 20, 10], 'maxout', 'sigmoid', 3],
  ])('%j %s hidden, %s output: |onnx - forward| <= 1e-5', async (layers, hidden, output, pieces = 2) => {
    const config = configFor([...layers], hidden, output, pieces);
    const model = seededModel(config, 7);
    const expected = new Pass(model, N, 'naive', false).forward(N, X).slice(0, N * model.outputs);
    const actual = await runOnnx(onnxModel(model, config), X, N, 784);
    // Both float32; Gemm sums 784 products in another order than our kernel: differences of a few 1e-7 on outputs in [0, 1].
    expectClose(actual, expected, { atol: 1e-5, rtol: 0 }, 'output');
    // and not trivially: the outputs differ between samples
    expect(new Set(Array.from(expected.subarray(0, 10 * model.outputs), (v) => v.toFixed(3))).size).toBeGreaterThan(10);
  });
});

describe('mlp-export', () => {
  const files = useTempFiles('mlp-mnist-export-');
  const config = configFor([784, 40, 10], 'sigmoid', 'sigmoid');
  const model = seededModel(config, 3);
  const weights = join(files.dir, 'model.safetensors');
  saveWeights(weights, model, config);

  it('--onnx and --weights-json write both files; the ONNX model runs and matches mlp-mnist', async () => {
    const onnxFile = join(files.dir, 'model.onnx');
    const jsonFile = join(files.dir, 'weights.json');
    const r = cli('mlp-export', ['--weights', weights, '--onnx', onnxFile, '--weights-json', jsonFile]);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`wrote ${onnxFile}: ONNX opset ${ONNX_OPSET}, IR 7, 784-40-10 (sigmoid hidden, sigmoid output)`);
    const expected = new Pass(model, N, 'naive', false).forward(N, X).slice(0, N * 10);
    expectClose(await runOnnx(readFileSync(onnxFile), X, N, 784), expected, { atol: 1e-5, rtol: 0 }, 'output');

    const json = JSON.parse(readFileSync(jsonFile, 'utf8'));
    expect(json).toMatchObject({ layers: [784, 40, 10], hidden: 'sigmoid', output: 'sigmoid' });
    expect(Object.keys(json.tensors)).toEqual(['layers.0.weight', 'layers.0.bias', 'layers.1.weight', 'layers.1.bias']);
    for (const [name, t] of model.namedTensors()) {
      expect(json.tensors[name].shape).toEqual(t.shape);
      // float32 printed by JavaScript reads back bit for bit
      expect(Float32Array.from(json.tensors[name].data.flat())).toEqual(Float32Array.from(t.data));
    }
  });

  it.each([
    ['nothing to write', [], 'nothing to write: give --onnx FILE and/or --weights-json FILE'],
    ['a folder that does not exist', ['--onnx', '/nonexistent-dir/model.onnx'], '/nonexistent-dir/model.onnx: cannot write: no such file or directory (ENOENT, open)'],
  ])('%s: one line, exit 1', (_what, args, message) => {
    const r = cli('mlp-export', ['--weights', weights, ...args]);
    expect(r.stderr).toBe(`error: ${message}\n`);
    expect(r.status).toBe(1);
  });

  it('a path under a file: one line naming it, exit 1', () => {
    const blocker = files.write('blocker', 'x');
    const r = cli('mlp-export', ['--weights', weights, '--weights-json', join(blocker, 'w.json')]);
    expect(r.stderr).toBe(`error: ${join(blocker, 'w.json')}: cannot write: not a directory (ENOTDIR, open)\n`);
    expect(r.status).toBe(1);
  });
});

/** The length-delimited fields `field` of a protobuf message, in order (varint and fixed fields skipped). */
function protoFields(buf: Uint8Array, field: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  let i = 0;
  const varint = (): number => {
    let v = 0;
    for (let shift = 0; ; shift += 7) {
      const b = buf[i++];
      v += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return v;
    }
  };
  while (i < buf.length) {
    const key = varint();
    const wire = key % 8;
    if (wire === 0) varint();
    else if (wire === 1) i += 8;
    else if (wire === 5) i += 4;
    else {
      const len = varint();
      if (Math.floor(key / 8) === field) out.push(buf.subarray(i, i + len));
      i += len;
    }
  }
  return out;
}
const text = (b: Uint8Array): string => Buffer.from(b).toString('utf8');

describe('the exports say how to feed them', () => {
  it('the formats, word for word', () => {
    expect(inputFormat(784)).toBe(
      'float32 [batch, 784]: each image row-major 28x28 (784 floats, row 0 first), pixel/255 in [0, 1], 0 = background, 1 = ink (MNIST: light digit on black)',
    );
    expect(outputFormat('sigmoid', 10)).toBe(
      'float32 [batch, 10]: class scores in (0, 1), one sigmoid per class (they need not sum to 1); the predicted class is the argmax',
    );
    expect(outputFormat('softmax', 10)).toBe('float32 [batch, 10]: class probabilities (softmax, summing to 1); the predicted class is the argmax');
  });

  it('ONNX: metadata_props input_format, output_format and config; doc_string of the graph input and output', () => {
    const config = configFor([784, 30, 10], 'relu', 'softmax');
    const bytes = onnxModel(seededModel(config, 1), config);
    const props = Object.fromEntries(protoFields(bytes, 14).map((p) => [text(protoFields(p, 1)[0]), text(protoFields(p, 2)[0])]));
    expect(Object.keys(props)).toEqual(['input_format', 'output_format', 'config']);
    expect(props.input_format).toBe(inputFormat(784));
    expect(props.output_format).toBe(outputFormat('softmax', 10));
    expect(JSON.parse(props.config)).toEqual(config);
    const graph = protoFields(bytes, 7)[0];
    const [input] = protoFields(graph, 11);
    const [output] = protoFields(graph, 12);
    expect(text(protoFields(input, 3)[0])).toBe(inputFormat(784));
    expect(text(protoFields(output, 3)[0])).toBe(outputFormat('softmax', 10));
  });
});

describe('mlp-export: --json, refused outputs, Ctrl-C', () => {
  const files = useTempFiles('mlp-mnist-export2-');
  const config = configFor([784, 40, 10], 'sigmoid', 'sigmoid');
  const weights = join(files.dir, 'model.safetensors');
  saveWeights(weights, seededModel(config, 5), config);
  const original = readFileSync(weights);

  it('--json prints what was written, on stdout; the weights JSON says how to feed them', () => {
    const onnxFile = join(files.dir, 'm.onnx');
    const jsonFile = join(files.dir, 'm.json');
    const r = cli('mlp-export', ['--weights', weights, '--onnx', onnxFile, '--weights-json', jsonFile, '--json', '--quiet']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      weights,
      layers: [784, 40, 10],
      hidden: 'sigmoid',
      output: 'sigmoid',
      input_format: inputFormat(784),
      output_format: outputFormat('sigmoid', 10),
      written: [
        { file: onnxFile, format: 'onnx', bytes: readFileSync(onnxFile).length },
        { file: jsonFile, format: 'weights-json', bytes: readFileSync(jsonFile).length },
      ],
    });
    const json = JSON.parse(readFileSync(jsonFile, 'utf8'));
    expect(json.input_format).toBe(inputFormat(784));
    expect(json.output_format).toBe(outputFormat('sigmoid', 10));
  });

  it.each([
    ['--onnx onto the weights', () => ['--onnx', weights], `--onnx ${weights}: the same file as --weights ${weights}; an output must not replace an input`],
    [
      '--weights-json onto the weights, by another spelling',
      () => ['--weights-json', join(files.dir, '.', 'model.safetensors')],
      `--weights-json ${join(files.dir, '.', 'model.safetensors')}: the same file as --weights ${weights}; an output must not replace an input`,
    ],
    [
      '--onnx and --weights-json onto one new file',
      () => ['--onnx', join(files.dir, 'same.out'), '--weights-json', join(files.dir, 'same.out')],
      `--weights-json ${join(files.dir, 'same.out')}: the same file as --onnx ${join(files.dir, 'same.out')}; each output needs its own file`,
    ],
    [
      'the old --json FILE',
      () => ['--json', join(files.dir, 'w.json')],
      `unexpected argument ${JSON.stringify(join(files.dir, 'w.json'))} (--json takes no file: it prints a summary on stdout; write the weights as JSON with --weights-json FILE)`,
    ],
  ])('%s: one line, exit 1, the weights untouched', (_what, args, message) => {
    const r = cli('mlp-export', ['--weights', weights, ...args()]);
    expect(r.stderr).toBe(`error: ${message}\n`);
    expect(r.status).toBe(1);
    expect(readFileSync(weights).equals(original)).toBe(true);
    expect(existsSync(join(files.dir, 'same.out'))).toBe(false);
  });

  // MLP_MNIST_WRITE_DELAY_MS stands for a slow disk: the write waits between chunks, and the signal comes while it waits.
  it.each(['SIGINT', 'SIGTERM'] as const)('%s during the write: exit 130, one line, no temp file, no target', async (signal) => {
    const target = join(files.dir, `killed-${signal}.json`);
    const child = spawn(process.execPath, [join(ROOT, 'bin', 'mlp-export.js'), '--weights', weights, '--weights-json', target], {
      env: { ...process.env, NO_COLOR: '1', MLP_MNIST_WRITE_DELAY_MS: '2000' },
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const temps = (): string[] => readdirSync(files.dir).filter((f) => f.startsWith(`killed-${signal}.json.tmp-`));
    for (let t = 0; temps().length === 0; t++) {
      if (t > 400) throw new Error('no temp file appeared');
      await new Promise((r) => setTimeout(r, 25));
    }
    child.kill(signal);
    expect(await exited).toBe(130);
    expect(stderr).toBe(`\n${signal}: stopped; ${target} not written (its temp file removed)\n`);
    expect(temps()).toEqual([]);
    expect(existsSync(target)).toBe(false);
  });
});
