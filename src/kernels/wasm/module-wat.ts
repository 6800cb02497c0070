// The one WebAssembly module of the kernels, in text: the dense product
// (gemm-wat.ts), the narrow layers' forward product (dot-wat.ts), the sparse
// first layer (sparse-wat.ts), the element-wise work of a step
// (elementwise-wat.ts), the L2 term (l2-wat.ts), the optimizers' updates
// (optimizers-wat.ts), dropout's masks (dropout-wat.ts) and the max-norm
// constraint (max-norm-wat.ts), on a memory shared with the workers.
import { dotWat } from './dot-wat.js';
import { dropoutWat } from './dropout-wat.js';
import { elementwiseWat } from './elementwise-wat.js';
import { gemmWat } from './gemm-wat.js';
import { maxNormWat } from './max-norm-wat.js';
import { l2Wat } from './l2-wat.js';
import { optimizersWat } from './optimizers-wat.js';
import { sparseWat } from './sparse-wat.js';

export function moduleWat(fma: boolean): string {
  return `(module
  (import "env" "memory" (memory 1 65536 shared))
${gemmWat(fma)}
${dotWat(fma)}
${sparseWat(fma)}
${elementwiseWat(fma)}
${l2Wat()}
${optimizersWat()}
${dropoutWat()}
${maxNormWat()}
)
`;
}
