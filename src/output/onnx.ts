// Export to ONNX: the MLP as a graph of standard operators, opset 13,
// IR version 7 (ONNX 1.8+; onnxruntime, PyTorch's onnx loader, netron).
//
//   input [batch, I_0] -> Gemm(W_0, b_0, transB=1) -> Sigmoid|Tanh|Relu|Softplus -> ...
//                      -> Gemm(W_{L-1}, b_{L-1}, transB=1) -> Sigmoid|Softmax(axis=1) -> output [batch, O]
//
// Gemm computes Y = A B^T + C with transB = 1, i.e. Z = X W^T + b with W as
// stored ([out, in], nn.Linear's layout): the trainer's forward pass exactly.
// A maxout layer of H units and k pieces (W [H k, in]) is
//   Gemm -> z [batch, H k] -> Reshape([-1, H, k]) -> ReduceMax(axes=[2], keepdims=0) -> [batch, H]
// (pieces fastest, as src/model/shape.ts), the shape an int64 initializer.
// Initializers keep the safetensors names (layers.0.weight, ...), float32
// little-endian raw_data. Field numbers: onnx/onnx.proto (ONNX 1.8+).
// How to feed the model is said three times: doc_string of the graph's input
// and output, and metadata_props "input_format" and "output_format" (beside "config").
import type { Config, OutputActivation } from '../config/schema.js';
import type { Mlp } from '../model/mlp.js';
import { ProtoWriter } from './protobuf.js';

export const ONNX_OPSET = 13;
export const ONNX_IR_VERSION = 7;
const FLOAT = 1; // TensorProto.DataType.FLOAT
const INT64 = 7; // TensorProto.DataType.INT64
const ATTR_INT = 2; // AttributeProto.AttributeType.INT
const ATTR_INTS = 7; // AttributeProto.AttributeType.INTS

/**
 * What an exported model takes: the trainer's own input scaling
 * (src/data/batches.ts, PIXEL[v] = v / 255), images flattened row by row.
 */
export function inputFormat(inputs: number): string {
  return inputs === 28 * 28
    ? 'float32 [batch, 784]: each image row-major 28x28 (784 floats, row 0 first), pixel/255 in [0, 1], 0 = background, 1 = ink (MNIST: light digit on black)'
    : `float32 [batch, ${inputs}]: the ${inputs} input features scaled as in training (pixel/255 in [0, 1])`;
}

/** What an exported model gives: one score per class, the predicted class their argmax. */
export function outputFormat(output: OutputActivation, outputs: number): string {
  return output === 'softmax'
    ? `float32 [batch, ${outputs}]: class probabilities (softmax, summing to 1); the predicted class is the argmax`
    : `float32 [batch, ${outputs}]: class scores in (0, 1), one sigmoid per class (they need not sum to 1); the predicted class is the argmax`;
}

const OP: Record<string, string> = { sigmoid: 'Sigmoid', tanh: 'Tanh', relu: 'Relu', softplus: 'Softplus', softmax: 'Softmax' };

/** A TensorProto with float32 (or int64) little-endian raw_data. */
function tensor(name: string, dims: number[], data: ArrayLike<number>, type = FLOAT): ProtoWriter {
  const bytes = type === INT64 ? 8 : 4;
  const raw = new Uint8Array(bytes * data.length);
  const view = new DataView(raw.buffer);
  for (let k = 0; k < data.length; k++) {
    if (type === INT64) view.setBigInt64(8 * k, BigInt(data[k]), true);
    else view.setFloat32(4 * k, data[k], true);
  }
  const t = new ProtoWriter();
  for (const d of dims) t.varint(1, d); // dims
  return t.varint(2, type).string(8, name).bytes(9, raw); // data_type, name, raw_data
}

function intAttribute(name: string, value: number): ProtoWriter {
  return new ProtoWriter().string(1, name).varint(3, value).varint(20, ATTR_INT); // name, i, type
}

function intsAttribute(name: string, values: number[]): ProtoWriter {
  const a = new ProtoWriter().string(1, name);
  for (const v of values) a.varint(8, v); // ints (non-negative here)
  return a.varint(20, ATTR_INTS); // type
}

function node(op: string, inputs: string[], output: string, name: string, attributes: ProtoWriter[] = []): ProtoWriter {
  const n = new ProtoWriter();
  for (const i of inputs) n.string(1, i); // input
  n.string(2, output).string(3, name).string(4, op); // output, name, op_type
  for (const a of attributes) n.message(5, a); // attribute
  return n;
}

/** ValueInfoProto of a float tensor [batch, width], the batch dimension symbolic. */
function floatMatrix(name: string, width: number, doc: string): ProtoWriter {
  const shape = new ProtoWriter()
    .message(1, new ProtoWriter().string(2, 'batch')) // dim { dim_param }
    .message(1, new ProtoWriter().varint(1, width)); // dim { dim_value }
  const tensorType = new ProtoWriter().varint(1, FLOAT).message(2, shape); // elem_type, shape
  return new ProtoWriter().string(1, name).message(2, new ProtoWriter().message(1, tensorType)).string(3, doc); // name, type { tensor_type }, doc_string
}

/** Layer l's nodes and initializers into `graph`: input `prev`, output returned. */
function addLayer(graph: ProtoWriter, model: Mlp, l: number, prev: string): string {
  const { I, O, units } = model.slots[l];
  const W = `layers.${l}.weight`;
  const b = `layers.${l}.bias`;
  const z = `layers.${l}.z`;
  const last = l === model.L - 1;
  const act = last ? model.spec.output : model.spec.hidden;
  const a = last ? 'output' : `layers.${l}.a`;
  graph.message(1, node('Gemm', [prev, W, b], z, `gemm_${l}`, [intAttribute('transB', 1)]));
  if (act === 'maxout') {
    const shape = `layers.${l}.pieces_shape`;
    const pieces = `layers.${l}.pieces`;
    graph.message(1, node('Reshape', [z, shape], pieces, `reshape_${l}`));
    graph.message(1, node('ReduceMax', [pieces], a, `maxout_${l}`, [intsAttribute('axes', [2]), intAttribute('keepdims', 0)]));
    graph.message(5, tensor(shape, [3], [-1, units, O / units], INT64));
  } else {
    graph.message(1, node(OP[act], [z], a, `${act}_${l}`, act === 'softmax' ? [intAttribute('axis', 1)] : []));
  }
  graph.message(5, tensor(W, [O, I], model.W[l])); // initializer
  graph.message(5, tensor(b, [O], model.b[l]));
  return a;
}

/** The ONNX model bytes of `model`; `config` goes into metadata_props for the record. */
export function onnxModel(model: Mlp, config: Config): Uint8Array {
  const graph = new ProtoWriter();
  let prev = 'input';
  for (let l = 0; l < model.L; l++) prev = addLayer(graph, model, l, prev);
  graph
    .string(2, 'mlp') // name
    .string(10, `${model.spec.layers.join('-')} MLP, ${model.hiddenText()}, ${model.spec.output} output`) // doc_string
    .message(11, floatMatrix('input', model.inputs, inputFormat(model.inputs))) // input
    .message(12, floatMatrix('output', model.outputs, outputFormat(model.spec.output, model.outputs))); // output
  const property = (key: string, value: string): ProtoWriter => new ProtoWriter().string(1, key).string(2, value); // StringStringEntryProto

  return new ProtoWriter()
    .varint(1, ONNX_IR_VERSION) // ir_version
    .string(2, 'mlp-mnist') // producer_name
    .message(7, graph) // graph
    .message(8, new ProtoWriter().string(1, '').varint(2, ONNX_OPSET)) // opset_import { domain "", version }
    .message(14, property('input_format', inputFormat(model.inputs))) // metadata_props
    .message(14, property('output_format', outputFormat(model.spec.output, model.outputs)))
    .message(14, property('config', JSON.stringify(config)))
    .finish();
}
