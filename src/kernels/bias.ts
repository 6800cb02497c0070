// The bias gradient of a dense layer, shared by the fast TypeScript-side kernels
// (the naive kernel keeps its own textbook loop as the reference).
//
// db[O] = Σ_n dZ[n, O], each sum in ascending n from 0, in float64.
type Vec = Float32Array | Float64Array;

export function biasGradient(db: Vec, dZ: Vec, N: number, O: number): void {
  for (let o = 0; o < O; o++) {
    let s = 0;
    for (let n = 0; n < N; n++) s += dZ[n * O + o];
    db[o] = s;
  }
}
