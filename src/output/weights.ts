// Model <-> model.safetensors. Tensor names follow PyTorch's nn.Sequential of
// Linear layers (layers.0.weight [out, in], layers.0.bias [out], ...), so
// `safetensors.torch.load_file` hands a Python user the usual state dict.
// __metadata__ holds the resolved config (JSON) and the format version.
import type { Config } from '../config/schema.js';
import { WeightsFileError } from '../errors.js';
import { EVAL_CHUNK } from '../eval/evaluate.js';
import { loadMemoryProblem } from '../model/memory.js';
import { Mlp, type FloatArrayConstructor, type MlpSpec } from '../model/mlp.js';
import { hiddenPieces, shapePieces } from '../model/shape.js';
import { readSafetensors, writeSafetensors, type Tensor, type TensorInfo } from './safetensors.js';

export const FORMAT = 'mlp-mnist';
export const FORMAT_VERSION = '1';

export function saveWeights(file: string, model: Mlp, config: Config, params = model.params): void {
  const tensors: Array<[string, Tensor]> = [];
  for (const [name, t] of model.namedTensors()) {
    // `params` may be another buffer with the same layout (the best epoch's copy).
    const offset = t.data.byteOffset / t.data.BYTES_PER_ELEMENT;
    tensors.push([name, { shape: t.shape, data: Float32Array.from(params.subarray(offset, offset + t.data.length)) }]);
  }
  writeSafetensors(file, tensors, {
    format: FORMAT,
    format_version: FORMAT_VERSION,
    config: JSON.stringify(config),
  });
}

export interface LoadedWeights {
  /** Layer widths (units) read from the tensor shapes. */
  layers: number[];
  /**
   * k of maxout hidden layers, read from the shapes: layers.0.weight has k times
   * as many rows as layers.1.weight has inputs (shape.ts); 1 when they are equal.
   */
  pieces: number;
  /** The config stored by mlp-train, parsed as JSON but not validated; null for foreign files. */
  storedConfig: unknown;
  /** Build the model with the given activations, filled with the file's weights. */
  build(spec: Omit<MlpSpec, 'layers'>, Float?: FloatArrayConstructor): Mlp;
}

/**
 * Read and check a weights file: consecutive layers.{l}.weight [O, I] / layers.{l}.bias [O] with
 * matching widths. The shapes are checked, and the memory a model of those widths needs to load
 * and evaluate (src/model/memory.ts), before any value is decoded.
 */
export function loadWeights(file: string): LoadedWeights {
  const fail = (problem: string): never => {
    throw new WeightsFileError(file, problem);
  };
  let layers: number[] = [];
  let pieces = 1;
  let fileBytes = 0;
  const { tensors, metadata } = readSafetensors(file, (header, _metadata, bytes) => {
    ({ layers, pieces } = layerWidths(header, fail));
    fileBytes = bytes;
    const problem = loadMemoryProblem(layers, fileBytes, 4, EVAL_CHUNK, pieces);
    if (problem !== null) fail(problem);
  });
  const L = layers.length - 1;
  const weights = Array.from({ length: L }, (_, l) => tensors.get(`layers.${l}.weight`)!);
  const biases = Array.from({ length: L }, (_, l) => tensors.get(`layers.${l}.bias`)!);

  let storedConfig: unknown = null;
  if (metadata.config !== undefined) {
    try {
      storedConfig = JSON.parse(metadata.config);
    } catch (err) {
      fail(`metadata config is not valid JSON (${(err as Error).message})`);
    }
  }

  return {
    layers,
    pieces,
    storedConfig,
    build(spec, Float = Float32Array) {
      if (shapePieces(layers, hiddenPieces(spec)) !== pieces) fail(piecesProblem(spec, layers, pieces));
      // A float64 model (mlp-grad) takes twice the bytes the first check assumed.
      const problem = loadMemoryProblem(layers, fileBytes, Float.BYTES_PER_ELEMENT, EVAL_CHUNK, pieces);
      if (problem !== null) fail(problem);
      const model = new Mlp({ ...spec, layers }, Float);
      for (let l = 0; l < weights.length; l++) {
        model.W[l].set(weights[l].data);
        model.b[l].set(biases[l].data);
      }
      return model;
    },
  };
}

/** Why a model of `spec` cannot take weights whose shapes give maxout units of `pieces` pieces (1: no maxout). */
export function piecesProblem(spec: Pick<MlpSpec, 'hidden' | 'maxout_pieces'>, layers: readonly number[], pieces: number): string {
  const shapes = pieces > 1 ? `those of maxout units of ${pieces} pieces` : 'those of one pre-activation per unit';
  const model = spec.hidden === 'maxout' ? `maxout units of ${spec.maxout_pieces} pieces` : `${spec.hidden} units`;
  return `the tensor shapes of layers [${layers}] are ${shapes}, not ${model}`;
}

/**
 * The layer widths (units) the header's tensors describe, input first, and k
 * of maxout hidden layers (shape.ts): layers.0.weight with k >= 2 times as
 * many rows as layers.1.weight has inputs fixes k, and every later hidden
 * layer must have k rows per input of the next. Anything else is an error.
 */
function layerWidths(header: ReadonlyMap<string, TensorInfo>, fail: (problem: string) => never): { layers: number[]; pieces: number } {
  const weights: TensorInfo[] = [];
  let pieces = 1;
  for (let l = 0; header.has(`layers.${l}.weight`) || header.has(`layers.${l}.bias`); l++) {
    const W = header.get(`layers.${l}.weight`) ?? fail(`missing tensor layers.${l}.weight`);
    const b = header.get(`layers.${l}.bias`) ?? fail(`missing tensor layers.${l}.bias`);
    if (W.shape.length !== 2) fail(`tensor layers.${l}.weight: expected 2 dimensions [out, in], found [${W.shape}]`);
    if (b.shape.length !== 1 || b.shape[0] !== W.shape[0]) {
      fail(`tensor layers.${l}.bias: expected shape [${W.shape[0]}], found [${b.shape}]`);
    }
    if (l > 0) {
      const rows = weights[l - 1].shape[0];
      const inputs = W.shape[1];
      if (l === 1 && inputs > 0 && rows > inputs && rows % inputs === 0) pieces = rows / inputs;
      if (rows !== inputs * pieces) {
        const as = pieces > 1 ? `${rows / pieces} inputs (the ${rows} outputs of layer ${l - 1} as maxout units of ${pieces} pieces)` : `${rows} inputs (the outputs of layer ${l - 1})`;
        fail(`tensor layers.${l}.weight: expected ${as}, found ${inputs}`);
      }
    }
    weights.push(W);
  }
  if (weights.length === 0) {
    const names = [...header.keys()].slice(0, 6).join(', ');
    fail(`no tensors named layers.0.weight, layers.0.bias, ... (found: ${names || 'none'})`);
  }
  if (header.size !== 2 * weights.length) {
    const extra = [...header.keys()].filter((k) => !/^layers\.\d+\.(weight|bias)$/.test(k) || Number(k.split('.')[1]) >= weights.length);
    fail(`unexpected tensors: ${extra.slice(0, 6).join(', ')}`);
  }
  const L = weights.length;
  return { layers: [weights[0].shape[1], ...weights.map((W, l) => (l < L - 1 ? W.shape[0] / pieces : W.shape[0]))], pieces };
}
