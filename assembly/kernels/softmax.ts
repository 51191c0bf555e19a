// Row-wise softmax and log-softmax of a rows x cols matrix (out may alias x).
// Numerically stable: with m the row maximum, softmax = e^(x - m) / sum e^(x - m) and
// log-softmax = (x - m) - ln(sum e^(x - m)); every exponent is <= 0, so nothing overflows
// and the sum is >= 1. The sum accumulates in f64.
import { shiftedExpSumV } from "./activations";
import { maxOf } from "./reductions";

/** Byte offset of element i. */
// @ts-ignore: decorator
@inline function at(i: i32): usize {
  return <usize>i << 2;
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
    const m = maxOf(cols, row);
    const total = sumShiftedExp(cols, row, m, dst, true);
    scaleRow(cols, <f32>(1.0 / total), dst, dst);
  }
}

export function logSoftmaxRows(rows: i32, cols: i32, x: usize, out: usize): void {
  for (let r = 0; r < rows; r++) {
    const row = x + at(r * cols);
    const m = maxOf(cols, row);
    const total = sumShiftedExp(cols, row, m, 0, false);
    shiftRow(cols, m, <f32>Math.log(total), row, out + at(r * cols));
  }
}
