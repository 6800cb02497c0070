// Weight initialisation schemes. fan_in = I (inputs of the layer), fan_out = O,
// the rows of W [O, I] (a maxout layer of H units, k pieces: O = H k).
// Biases start at 0, except (by default) those of sigmoid outputs, which start
// at the class prior: see outputBiasPrior.
//
//   glorot_uniform  U(-a, a),  a = sqrt(6 / (fan_in + fan_out))   Glorot & Bengio 2010, gain 1
//   glorot_normal   N(0, 2 / (fan_in + fan_out))
//   he_uniform      U(-a, a),  a = sqrt(6 / fan_in)               He et al. 2015 (for relu)
//   he_normal       N(0, 2 / fan_in)
//   lecun_uniform   U(-a, a),  a = sqrt(3 / fan_in)               LeCun et al. 1998, "Efficient BackProp"
//   lecun_normal    N(0, 1 / fan_in)
import type { Rng } from '../rng.js';
import type { Vec } from '../kernels/matmul.js';

export type InitScheme =
  | 'glorot_uniform'
  | 'glorot_normal'
  | 'he_uniform'
  | 'he_normal'
  | 'lecun_uniform'
  | 'lecun_normal';

/** Fill W[O, I] in place from `rng`, in row-major order (so the result depends only on the seed). */
export function initWeights(W: Vec, I: number, O: number, scheme: InitScheme, rng: Rng): void {
  const len = I * O;
  const uniform = (a: number): void => {
    for (let k = 0; k < len; k++) W[k] = (2 * rng.uniform() - 1) * a;
  };
  const normal = (variance: number): void => {
    const sd = Math.sqrt(variance);
    for (let k = 0; k < len; k++) W[k] = rng.normal() * sd;
  };
  switch (scheme) {
    case 'glorot_uniform':
      return uniform(Math.sqrt(6 / (I + O)));
    case 'glorot_normal':
      return normal(2 / (I + O));
    case 'he_uniform':
      return uniform(Math.sqrt(6 / I));
    case 'he_normal':
      return normal(2 / I);
    case 'lecun_uniform':
      return uniform(Math.sqrt(3 / I));
    case 'lecun_normal':
      return normal(1 / I);
  }
}

/**
 * The bias that makes a sigmoid output start at the mean of its target:
 * with one-hot targets over K classes that mean is 1/K, so b = logit(1/K) =
 * -ln(K - 1) (-2.197 for K = 10). Karpathy's "init well" ("A Recipe for
 * Training Neural Networks"): at 0, every output starts at 0.5 against a
 * target that is 0 nine times in ten, and the first steps spend themselves
 * pushing all outputs down, with momentum far enough to saturate them
 * (y(1 - y) ~ 0), where squared-error training stalls.
 */
export function outputBiasPrior(classes: number): number {
  return -Math.log(classes - 1);
}
