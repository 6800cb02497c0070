// Model <-> model.safetensors. Tensor names follow PyTorch's nn.Sequential of
// Linear layers (layers.0.weight [out, in], layers.0.bias [out], ...), so
// `safetensors.torch.load_file` hands a Python user the usual state dict.
// __metadata__ holds the resolved config (JSON) and the format version.
import type { Config } from '../config/schema.js';
import { WeightsFileError } from '../errors.js';
import { Mlp, type FloatArrayConstructor, type MlpSpec } from '../model/mlp.js';
import { readSafetensors, writeSafetensors, type Tensor } from './safetensors.js';

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
  /** Layer widths read from the tensor shapes. */
  layers: number[];
  /** The config stored by mlp-train, parsed as JSON but not validated; null for foreign files. */
  storedConfig: unknown;
  /** Build the model with the given activations, filled with the file's weights. */
  build(spec: Omit<MlpSpec, 'layers'>, Float?: FloatArrayConstructor): Mlp;
}

/** Read and check a weights file: consecutive layers.{l}.weight [O, I] / layers.{l}.bias [O] with matching widths. */
export function loadWeights(file: string): LoadedWeights {
  const { tensors, metadata } = readSafetensors(file);
  const fail = (problem: string): never => {
    throw new WeightsFileError(file, problem);
  };

  const weights: Tensor[] = [];
  const biases: Tensor[] = [];
  for (let l = 0; tensors.has(`layers.${l}.weight`) || tensors.has(`layers.${l}.bias`); l++) {
    const W = tensors.get(`layers.${l}.weight`) ?? fail(`missing tensor layers.${l}.weight`);
    const b = tensors.get(`layers.${l}.bias`) ?? fail(`missing tensor layers.${l}.bias`);
    if (W.shape.length !== 2) fail(`tensor layers.${l}.weight: expected 2 dimensions [out, in], found [${W.shape}]`);
    if (b.shape.length !== 1 || b.shape[0] !== W.shape[0]) {
      fail(`tensor layers.${l}.bias: expected shape [${W.shape[0]}], found [${b.shape}]`);
    }
    if (l > 0 && W.shape[1] !== weights[l - 1].shape[0]) {
      fail(`tensor layers.${l}.weight: expected ${weights[l - 1].shape[0]} inputs (the outputs of layer ${l - 1}), found ${W.shape[1]}`);
    }
    weights.push(W);
    biases.push(b);
  }
  if (weights.length === 0) {
    const names = [...tensors.keys()].slice(0, 6).join(', ');
    fail(`no tensors named layers.0.weight, layers.0.bias, ... (found: ${names || 'none'})`);
  }
  const expected = 2 * weights.length;
  if (tensors.size !== expected) {
    const extra = [...tensors.keys()].filter((k) => !/^layers\.\d+\.(weight|bias)$/.test(k) || Number(k.split('.')[1]) >= weights.length);
    fail(`unexpected tensors: ${extra.slice(0, 6).join(', ')}`);
  }
  const layers = [weights[0].shape[1], ...weights.map((W) => W.shape[0])];

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
    storedConfig,
    build(spec, Float = Float32Array) {
      const model = new Mlp({ ...spec, layers }, Float);
      for (let l = 0; l < weights.length; l++) {
        model.W[l].set(weights[l].data);
        model.b[l].set(biases[l].data);
      }
      return model;
    },
  };
}
