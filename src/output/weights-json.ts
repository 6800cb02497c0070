// The weights as readable JSON (mlp-export --weights-json): layer widths, activations
// (and maxout_pieces for maxout hidden units, whose weights have H*k rows)
// and every tensor as nested arrays in PyTorch's names and [out, in] layout.
// Each number is the float32 value printed as JavaScript prints it, so
// Math.fround (or numpy.float32) of it gives the stored value back exactly.
// "input_format" and "output_format" say how to feed the weights, as the ONNX export does.
import type { Mlp } from '../model/mlp.js';
import { inputFormat, outputFormat } from './onnx.js';

export function weightsJson(model: Mlp): string {
  const tensors: Record<string, { shape: number[]; data: number[] | number[][] }> = {};
  for (const [name, t] of model.namedTensors()) {
    const flat = Array.from(t.data);
    const data = t.shape.length === 2 ? Array.from({ length: t.shape[0] }, (_, r) => flat.slice(r * t.shape[1], (r + 1) * t.shape[1])) : flat;
    tensors[name] = { shape: t.shape, data };
  }
  const { layers, hidden, output } = model.spec;
  const io = { input_format: inputFormat(model.inputs), output_format: outputFormat(output, model.outputs) };
  const k = hidden === 'maxout' ? { maxout_pieces: model.pieces } : {};
  const forward =
    hidden === 'maxout'
      ? 'a = f(a W^T + b) per layer; hidden layers (maxout): z = a W^T + b has H*k columns, a[h] = max over j < k of z[h*k + j]'
      : 'a = f(a W^T + b) per layer';
  return `${JSON.stringify({ format: 'mlp-mnist weights', version: 1, layers, hidden, ...k, output, forward, ...io, tensors })}\n`;
}
