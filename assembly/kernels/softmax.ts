// Row-wise softmax and log-softmax of a rows x cols matrix (out may alias x).
// Numerically stable: with m the row maximum, softmax = e^(x - m) / sum e^(x - m) and
// log-softmax = (x - m) - ln(sum e^(x - m)); every exponent is <= 0, so nothing overflows
// and the sum is >= 1. The sum accumulates in f64.
import { shiftedExpSumV } from "./activations";

/** Byte offset of element i. */
// @ts-ignore: decorator
@inline function at(i: i32): usize {
  return <usize>i << 2;
}

/**
 * The largest entry, or -Infinity, skipping NaN: a NaN entry makes its own e^(x - m) NaN, so
 * the row's sum and then every output come out NaN whatever m is, as they would with a NaN
 * maximum; skipping saves the NaN tracking of reductions' maxOf.
 */
// @ts-ignore: decorator
@inline function shiftFor(n: i32, x: usize): f32 {
  let i = 0;
  let best: f32 = -Infinity;
  if (ASC_FEATURE_SIMD) {
    if (n >= 16) {
      // pmax(m, a) = m < a ? a : m keeps m when a is NaN.
      let m0 = f32x4.splat(-Infinity), m1 = m0, m2 = m0, m3 = m0;
      for (; i + 16 <= n; i += 16) {
        const p = x + at(i);
        m0 = f32x4.pmax(m0, v128.load(p));
        m1 = f32x4.pmax(m1, v128.load(p, 16));
        m2 = f32x4.pmax(m2, v128.load(p, 32));
        m3 = f32x4.pmax(m3, v128.load(p, 48));
      }
      const m = f32x4.pmax(f32x4.pmax(m0, m1), f32x4.pmax(m2, m3));
      best = max<f32>(max<f32>(f32x4.extract_lane(m, 0), f32x4.extract_lane(m, 1)),
        max<f32>(f32x4.extract_lane(m, 2), f32x4.extract_lane(m, 3)));
    }
  }
  for (; i < n; i++) {
    const v = load<f32>(x + at(i));
    if (v > best) best = v;
  }
  return best;
}

/** sum over c of e^(x[c] - shift); writes each term to out when `keep` is set. */
// @ts-ignore: decorator
@inline function sumShiftedExp(n: i32, x: usize, shift: f32, out: usize, keep: bool): f64 {
  let i = 0;
  let total: f64 = 0;
  if (ASC_FEATURE_SIMD) {
    total = shiftedExpSumV(n, x, shift, out, keep);
    i = n & ~3;
  }
  for (; i < n; i++) {
    const e = Mathf.exp(load<f32>(x + at(i)) - shift);
    if (keep) store<f32>(out + at(i), e);
    total += e;
  }
  return total;
}

/** out = alpha * x over n elements. */
// @ts-ignore: decorator
@inline function scaleRow(n: i32, alpha: f32, x: usize, out: usize): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const va = f32x4.splat(alpha);
    for (; i + 4 <= n; i += 4) v128.store(out + at(i), f32x4.mul(va, v128.load(x + at(i))));
  }
  for (; i < n; i++) store<f32>(out + at(i), alpha * load<f32>(x + at(i)));
}

/** out = (x - m) - logTotal over n elements. */
// @ts-ignore: decorator
@inline function shiftRow(n: i32, m: f32, logTotal: f32, x: usize, out: usize): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const vm = f32x4.splat(m);
    const vl = f32x4.splat(logTotal);
    for (; i + 4 <= n; i += 4) v128.store(out + at(i), f32x4.sub(f32x4.sub(v128.load(x + at(i)), vm), vl));
  }
  for (; i < n; i++) store<f32>(out + at(i), (load<f32>(x + at(i)) - m) - logTotal);
}

export function softmaxRows(rows: i32, cols: i32, x: usize, out: usize): void {
  for (let r = 0; r < rows; r++) {
    const row = x + at(r * cols);
    const dst = out + at(r * cols);
    const m = shiftFor(cols, row);
    const total = sumShiftedExp(cols, row, m, dst, true);
    scaleRow(cols, <f32>(1.0 / total), dst, dst);
  }
}

export function logSoftmaxRows(rows: i32, cols: i32, x: usize, out: usize): void {
  for (let r = 0; r < rows; r++) {
    const row = x + at(r * cols);
    const m = shiftFor(cols, row);
    const total = sumShiftedExp(cols, row, m, 0, false);
    shiftRow(cols, m, <f32>Math.log(total), row, out + at(r * cols));
  }
}
