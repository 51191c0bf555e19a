// Fused optimizer updates over n parameters.

/**
 * Adam (Kingma & Ba 2015, Algorithm 1) at step t >= 1, in place:
 *   m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2
 *   p -= lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)
 * The bias corrections are passed in as c1 = 1 - b1^t and c2 = 1 - b2^t.
 */
export function adamStep(n: i32, lr: f32, beta1: f32, beta2: f32, epsilon: f32, c1: f32, c2: f32,
  param: usize, grad: usize, m: usize, v: usize): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const b1 = f32x4.splat(beta1), b2 = f32x4.splat(beta2);
    const ob1 = f32x4.splat(1 - beta1), ob2 = f32x4.splat(1 - beta2);
    const ic1 = f32x4.splat(1 / c1), ic2 = f32x4.splat(1 / c2);
    const rate = f32x4.splat(lr), eps = f32x4.splat(epsilon);
    for (; i + 4 <= n; i += 4) {
      const o = <usize>i << 2;
      const g = v128.load(grad + o);
      const mi = f32x4.add(f32x4.mul(b1, v128.load(m + o)), f32x4.mul(ob1, g));
      const vi = f32x4.add(f32x4.mul(b2, v128.load(v + o)), f32x4.mul(ob2, f32x4.mul(g, g)));
      v128.store(m + o, mi);
      v128.store(v + o, vi);
      const denom = f32x4.add(f32x4.sqrt(f32x4.mul(vi, ic2)), eps);
      const stepv = f32x4.div(f32x4.mul(rate, f32x4.mul(mi, ic1)), denom);
      v128.store(param + o, f32x4.sub(v128.load(param + o), stepv));
    }
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const g = load<f32>(grad + o);
    const mi = beta1 * load<f32>(m + o) + (1 - beta1) * g;
    const vi = beta2 * load<f32>(v + o) + (1 - beta2) * g * g;
    store<f32>(m + o, mi);
    store<f32>(v + o, vi);
    store<f32>(param + o, load<f32>(param + o) - (lr * (mi / c1)) / (Mathf.sqrt(vi / c2) + epsilon));
  }
}
