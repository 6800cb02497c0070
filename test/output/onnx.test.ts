// ONNX export, checked by running the model in a real ONNX runtime
// (onnxruntime-web: the WebAssembly build of onnxruntime, in Node) against the
// trainer's own forward pass on real MNIST test images.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-web';
import { describe, expect, it } from 'vitest';
import { defaultConfig, type Config } from '../../src/config/schema.js';
import { loadSplit } from '../../src/data/mnist.js';
import { Mlp } from '../../src/model/mlp.js';
import { Pass } from '../../src/model/pass.js';
import { ONNX_OPSET, onnxModel } from '../../src/output/onnx.js';
import { saveWeights } from '../../src/output/weights.js';
import { cli } from '../helpers/cli.js';
import { useTempFiles } from '../helpers/files.js';
import { expectClose } from '../helpers/gradcheck.js';

ort.env.wasm.numThreads = 1; // no worker threads inside the test process

const N = 64;
const test = loadSplit({ images: null, labels: null }, 'test', 10);
const X = Float32Array.from(test.images.subarray(0, N * 784), (v) => v / 255);

function configFor(layers: number[], hidden: Config['model']['hidden'], output: Config['model']['output']): Config {
  const config = defaultConfig();
  config.model = { ...config.model, layers, hidden, output };
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
  it.each([
    [[784, 64, 10], 'sigmoid', 'sigmoid'],
    [[784, 100, 10], 'tanh', 'softmax'],
    [[784, 48, 32, 10], 'relu', 'softmax'],
    [[784, 30, 20, 10], 'sigmoid', 'sigmoid'],
  ] as const)('%j %s hidden, %s output: |onnx - forward| <= 1e-5', async (layers, hidden, output) => {
    const config = configFor([...layers], hidden, output);
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

  it('--onnx and --json write both files; the ONNX model runs and matches mlp-mnist', async () => {
    const onnxFile = join(files.dir, 'model.onnx');
    const jsonFile = join(files.dir, 'weights.json');
    const r = cli('mlp-export', ['--weights', weights, '--onnx', onnxFile, '--json', jsonFile]);
    expect(r.status).toBe(0);
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
    ['nothing to write', [], 'nothing to write: give --onnx FILE and/or --json FILE'],
    ['a folder that does not exist', ['--onnx', '/nonexistent-dir/model.onnx'], '/nonexistent-dir/model.onnx: cannot write: no such file or directory (ENOENT, open)'],
  ])('%s: one line, exit 1', (_what, args, message) => {
    const r = cli('mlp-export', ['--weights', weights, ...args]);
    expect(r.stderr).toBe(`error: ${message}\n`);
    expect(r.status).toBe(1);
  });

  it('a path under a file: one line naming it, exit 1', () => {
    const blocker = files.write('blocker', 'x');
    const r = cli('mlp-export', ['--weights', weights, '--json', join(blocker, 'w.json')]);
    expect(r.stderr).toBe(`error: ${join(blocker, 'w.json')}: cannot write: not a directory (ENOTDIR, open)\n`);
    expect(r.status).toBe(1);
  });
});
