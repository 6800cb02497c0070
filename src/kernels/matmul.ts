// TEMPORARY naive kernels (lead), to be replaced by the kernels helper's file.
export type Vec = Float32Array | Float64Array;

// Z[N,O] = X[N,I] · W[O,I]^T + b[O]
export function matmulForwardNaive(Z: Vec, X: Vec, W: Vec, b: Vec, N: number, I: number, O: number): void {
  for (let n = 0; n < N; n++) {
    for (let o = 0; o < O; o++) {
      let s = b[o];
      for (let i = 0; i < I; i++) s += X[n * I + i] * W[o * I + i];
      Z[n * O + o] = s;
    }
  }
}

// dX[N,I] = dZ · W ;  dW[O,I] = dZ^T · X ;  db[O] = Σ_n dZ
export function matmulBackwardNaive(dX: Vec | null, dW: Vec, db: Vec, dZ: Vec, X: Vec, W: Vec, N: number, I: number, O: number): void {
  if (dX) {
    for (let n = 0; n < N; n++) {
      for (let i = 0; i < I; i++) {
        let s = 0;
        for (let o = 0; o < O; o++) s += dZ[n * O + o] * W[o * I + i];
        dX[n * I + i] = s;
      }
    }
  }
  for (let o = 0; o < O; o++) {
    for (let i = 0; i < I; i++) {
      let s = 0;
      for (let n = 0; n < N; n++) s += dZ[n * O + o] * X[n * I + i];
      dW[o * I + i] = s;
    }
    let s = 0;
    for (let n = 0; n < N; n++) s += dZ[n * O + o];
    db[o] = s;
  }
}

export const matmulForward = matmulForwardNaive;
export const matmulBackward = matmulBackwardNaive;
export interface MatmulKernels {
  forward: typeof matmulForward;
  backward: typeof matmulBackward;
}
export const KERNELS: Record<'naive' | 'blocked', MatmulKernels> = {
  naive: { forward: matmulForwardNaive, backward: matmulBackwardNaive },
  blocked: { forward: matmulForward, backward: matmulBackward },
};
