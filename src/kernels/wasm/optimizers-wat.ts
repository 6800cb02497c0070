// The WebAssembly text of the optimizers' updates: the same equations as the
// reference updates of src/model/optimizer.ts (read the derivations there),
// in float32, on the elements [u0, u1) of the working parameters P, their
// summed gradient G and the state tensors (one layout for all). Every
// element gets the same operations in the 4-lane body and in the tail
// (overElements), so any split over threads gives the same bits. Float
// arguments arrive as their i32 bits; the per-step constants (1/d, adam's
// alpha and sqrt(1 - b2^t), 1 - lr weight_decay) are computed once in float64
// by the caller and rounded to float32 on the way in. Plain mul and add, no
// fused multiply-add: the updates round the same on every engine.
import { overElements } from './elementwise-wat.js';

/** WAT: an f32 argument splatted to 4 lanes. */
const arg = (name: string): string => `(f32x4.splat (f32.reinterpret_i32 (local.get $${name})))`;
const ZERO = '(v128.const f32x4 0 0 0 0)';

export function optimizersWat(): string {
  return `
  ;; sgd: gradient descent with momentum on elements [u0, u1):
  ;; mu > 0: V = mu V + scale G, P = P - lr V;  mu = 0: P = P - (lr scale) G
  ${overElements('sgd',
    '(local $muv v128) (local $sv v128) (local $lv v128) (local $vv v128)', ['P', 'V', 'G'],
    (store) => `(local.set $lv (f32x4.splat (f32.reinterpret_i32 (local.get $lr))))
        (local.set $sv (f32x4.splat (f32.reinterpret_i32 (local.get $scale))))
        (if (local.get $mu)
          (then
            (local.set $muv (f32x4.splat (f32.reinterpret_i32 (local.get $mu))))
            (local.set $vv (f32x4.add (f32x4.mul (local.get $muv) (local.get $Vv)) (f32x4.mul (local.get $sv) (local.get $Gv))))
            ${store('$V', '(local.get $vv)')}
            ${store('$P', '(f32x4.sub (local.get $Pv) (f32x4.mul (local.get $lv) (local.get $vv)))')})
          (else
            ${store('$P', '(f32x4.sub (local.get $Pv) (f32x4.mul (f32x4.mul (local.get $lv) (local.get $sv)) (local.get $Gv)))')}))`)}

  ;; nesterov: g = scale G, V = mu V + g, P = P - lr (g + mu V)
  ${overElements('nesterov', '(local $g v128) (local $mu4 v128) (local $v v128)', ['P', 'V', 'G'],
    (store) => `(local.set $mu4 ${arg('mu')})
        (local.set $g (f32x4.mul ${arg('scale')} (local.get $Gv)))
        (local.set $v (f32x4.add (f32x4.mul (local.get $mu4) (local.get $Vv)) (local.get $g)))
        ${store('$V', '(local.get $v)')}
        ${store('$P', `(f32x4.sub (local.get $Pv) (f32x4.mul ${arg('lr')} (f32x4.add (local.get $g) (f32x4.mul (local.get $mu4) (local.get $v)))))`)}`)}

  ;; adam: g = scale G, M = beta1 M + c1 g, V = beta2 V + c2 g g (c = 1 - beta),
  ;; P = P - (alpha M) / (sqrt(V) / bc2 + eps)   (alpha = lr / (1 - beta1^t), bc2 = sqrt(1 - beta2^t))
  ${overElements('adam', '(local $g v128) (local $m v128) (local $v v128)', ['P', 'M', 'V', 'G'],
    (store) => `(local.set $g (f32x4.mul ${arg('scale')} (local.get $Gv)))
        (local.set $m (f32x4.add (f32x4.mul ${arg('beta1')} (local.get $Mv)) (f32x4.mul ${arg('c1')} (local.get $g))))
        (local.set $v (f32x4.add (f32x4.mul ${arg('beta2')} (local.get $Vv)) (f32x4.mul (f32x4.mul ${arg('c2')} (local.get $g)) (local.get $g))))
        ${store('$M', '(local.get $m)')}
        ${store('$V', '(local.get $v)')}
        ${store('$P', `(f32x4.sub (local.get $Pv) (f32x4.div (f32x4.mul ${arg('alpha')} (local.get $m))
          (f32x4.add (f32x4.div (f32x4.sqrt (local.get $v)) ${arg('bc2')}) ${arg('eps')})))`)}`)}

  ;; X = factor X (adamw's decay of the weights: factor = 1 - lr weight_decay)
  ${overElements('decay', '', ['X'], (store) => store('$X', `(f32x4.mul (local.get $Xv) ${arg('factor')})`))}

  ;; rprop: s = sign(G) (0 for 0), c = s sign (sign: the stored sign of the last gradient);
  ;; step = c > 0: min(step eta_plus, step_max);  c < 0: max(step eta_minus, step_min);  else step;
  ;; move = c < 0: (revert ? -delta : 0);  else -(s step);  P += move, delta = move, sign = c < 0 ? 0 : s.
  ;; The products s sign and s step are exact (s in {-1, 0, 1}); pmin/pmax are min/max of finite values.
  ${overElements('rprop', '(local $s v128) (local $c v128) (local $dec v128) (local $size v128) (local $move v128)',
    ['P', 'G', 'sign', 'step', 'delta'],
    (store) => `(local.set $s (f32x4.convert_i32x4_s (i32x4.sub (f32x4.lt (local.get $Gv) ${ZERO}) (f32x4.gt (local.get $Gv) ${ZERO}))))
        (local.set $c (f32x4.mul (local.get $s) (local.get $signv)))
        (local.set $dec (f32x4.lt (local.get $c) ${ZERO}))
        (local.set $size (v128.bitselect
          (f32x4.pmin (f32x4.mul (local.get $stepv) ${arg('eta_plus')}) ${arg('step_max')})
          (v128.bitselect (f32x4.pmax (f32x4.mul (local.get $stepv) ${arg('eta_minus')}) ${arg('step_min')}) (local.get $stepv) (local.get $dec))
          (f32x4.gt (local.get $c) ${ZERO})))
        (local.set $move (v128.bitselect
          (if (result v128) (local.get $revert) (then (f32x4.neg (local.get $deltav))) (else ${ZERO}))
          (f32x4.neg (f32x4.mul (local.get $s) (local.get $size)))
          (local.get $dec)))
        ${store('$step', '(local.get $size)')}
        ${store('$delta', '(local.get $move)')}
        ${store('$sign', '(v128.andnot (local.get $s) (local.get $dec))')}
        ${store('$P', '(f32x4.add (local.get $Pv) (local.get $move))')}`)}
`;
}
