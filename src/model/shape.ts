// The shape of a network, from its unit counts: per weight layer l = 0..L-1
//
//   I      inputs: the units of layer l-1 (I_0 = the input features)
//   O      rows of W_l [O, I] and b_l [O]: the width of Z_l (and of delta_l)
//   units  the width of A_l (and of dA_l): O, but a maxout layer's H = O / k
//
// `model.layers` counts units, [784, H, 10]. A maxout hidden layer of H units
// and k pieces has O = H k pre-activations, and unit h is the largest of
// Z[h k + j], j = 0..k-1 (pieces fastest: PyTorch's Linear(I, H k) followed
// by .view(N, H, k).max(-1)). The output layer is never maxout. With k = 1
// every layer has O = units, the plain MLP.

export interface LayerShape {
  I: number;
  O: number;
  units: number;
}

/** The layers' shapes; `pieces` = k of the maxout hidden layers, 1 for any other hidden unit. */
export function layerShapes(layers: readonly number[], pieces = 1): LayerShape[] {
  const shapes: LayerShape[] = [];
  const L = layers.length - 1;
  for (let l = 0; l < L; l++) {
    const units = layers[l + 1];
    shapes.push({ I: layers[l], O: l < L - 1 ? units * pieces : units, units });
  }
  return shapes;
}

/** k of a model's hidden layers: model.maxout_pieces for maxout units, else 1. */
export function hiddenPieces(model: { hidden: string; maxout_pieces?: number }): number {
  if (model.hidden !== 'maxout') return 1;
  const k = model.maxout_pieces;
  if (k === undefined || !Number.isInteger(k) || k < 2) throw new TypeError(`maxout needs maxout_pieces, an integer >= 2 (got ${k})`);
  return k;
}

/** k as the tensor shapes show it: `pieces`, but 1 for a network without hidden layers (nothing to be maxout). */
export function shapePieces(layers: readonly number[], pieces: number): number {
  return layers.length > 2 ? pieces : 1;
}

/** Parameters of a network of these units (Mlp's layout: W_l [O, I] then b_l [O] per layer). */
export function parameterCount(layers: readonly number[], pieces = 1): number {
  let P = 0;
  for (const { I, O } of layerShapes(layers, pieces)) P += I * O + O;
  return P;
}

/** Floats of one row of every Z_l (Σ O) and of every A_l (Σ units): what a batch row costs per buffer kind. */
export function rowFloats(layers: readonly number[], pieces = 1): { Z: number; A: number } {
  let Z = 0;
  let A = 0;
  for (const s of layerShapes(layers, pieces)) {
    Z += s.O;
    A += s.units;
  }
  return { Z, A };
}
