// Row-wise softmax and log-softmax of a rows x cols matrix (out may alias x).
// Numerically stable: with m the row maximum, softmax = e^(x - m) / sum e^(x - m) and
// log-softmax = (x - m) - ln(sum e^(x - m)); every exponent is <= 0, so nothing overflows
// and the sum is >= 1. The sum accumulates in f64.
import { expNormalLowest, shiftedExpSumV } from "./activations";

/** Byte offset of element i. */
// @ts-ignore: decorator
@inline function at(i: i32): usize {
  return <usize>i << 2;
}

/**
 * The largest entry (or -Infinity) and the smallest (or +Infinity), skipping NaN, as the bits
 * of two f32 in one u64 (largest in the low half; see largestOf, leastOf): the kernels module holds no
 * mutable global to pass a second result in. A NaN entry makes its own e^(x - m) NaN, so the
 * row's sum and then every output come out NaN whatever m is, as they would with a NaN
 * maximum; skipping saves the NaN tracking of reductions' maxOf. When x - m stays in exp's
 * normal range for the smallest entry, it does for the whole row.
 */
// @ts-ignore: decorator
@inline function rowExtremes(n: i32, x: usize): u64 {
  let i = 0;
  let best: f32 = -Infinity;
  let least: f32 = Infinity;
  if (ASC_FEATURE_SIMD) {
    if (n >= 16) {
      // pmax(m, a) = m < a ? a : m keeps m when a is NaN; pmin likewise.
      let m0 = f32x4.splat(-Infinity), m1 = m0, m2 = m0, m3 = m0;
      let l0 = f32x4.splat(Infinity), l1 = l0;
      for (; i + 16 <= n; i += 16) {
        const p = x + at(i);
        const a = v128.load(p), b = v128.load(p, 16), c = v128.load(p, 32), d = v128.load(p, 48);
        m0 = f32x4.pmax(m0, a);
        m1 = f32x4.pmax(m1, b);
        m2 = f32x4.pmax(m2, c);
        m3 = f32x4.pmax(m3, d);
        l0 = f32x4.pmin(l0, f32x4.pmin(a, b));
        l1 = f32x4.pmin(l1, f32x4.pmin(c, d));
      }
      const m = f32x4.pmax(f32x4.pmax(m0, m1), f32x4.pmax(m2, m3));
      best = max<f32>(max<f32>(f32x4.extract_lane(m, 0), f32x4.extract_lane(m, 1)),
        max<f32>(f32x4.extract_lane(m, 2), f32x4.extract_lane(m, 3)));
      const l = f32x4.pmin(l0, l1);
      least = min<f32>(min<f32>(f32x4.extract_lane(l, 0), f32x4.extract_lane(l, 1)),
        min<f32>(f32x4.extract_lane(l, 2), f32x4.extract_lane(l, 3)));
    }
  }
  for (; i < n; i++) {
    const v = load<f32>(x + at(i));
    if (v > best) best = v;
    if (v < least) least = v;
  }
  return (<u64>reinterpret<u32>(least) << 32) | <u64>reinterpret<u32>(best);
}

// @ts-ignore: decorator
@inline function largestOf(extremes: u64): f32 {
  return reinterpret<f32>(<u32>extremes);
}

// @ts-ignore: decorator
@inline function leastOf(extremes: u64): f32 {
  return reinterpret<f32>(<u32>(extremes >>> 32));
}

/** Whether x - shift is at or above exp's normal range for every x of a row whose smallest entry is `least`. */
// @ts-ignore: decorator
@inline function inNormalRange(least: f32, shift: f32): bool {
  return least - shift >= expNormalLowest();
}

/**
 * sum over c of e^(x[c] - shift); writes each term to out when `keep` is set. `checkLow`
 * false: no x[c] - shift is below exp's normal range (inNormalRange), so the vector loop
 * skips that test. `finishing` (with checkLow false): the vector loop also finishes the
 * previous row over its first finishedBy(n) elements (see shiftedExpSumV).
 */
// @ts-ignore: decorator
@inline function sumShiftedExp(n: i32, x: usize, shift: f32, out: usize, keep: bool, checkLow: bool,
  finishing: i32 = 0, previousIn: usize = 0, previousOut: usize = 0, previousA: f32 = 0, previousB: f32 = 0): f64 {
  let i = 0;
  let total: f64 = 0;
  if (ASC_FEATURE_SIMD) {
    total = shiftedExpSumV(n, x, shift, out, keep, checkLow, finishing, previousIn, previousOut, previousA, previousB);
    i = n & ~3;
  }
  for (; i < n; i++) {
    const e = Mathf.exp(load<f32>(x + at(i)) - shift);
    if (keep) store<f32>(out + at(i), e);
    total += e;
  }
  return total;
}

/** Elements of the previous row that sumShiftedExp finishes (its vector loop's 16-element steps). */
// @ts-ignore: decorator
@inline function finishedBy(n: i32): i32 {
  return ASC_FEATURE_SIMD ? n & ~15 : 0;
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

// Each row is finished (scaled, or shifted) during the next row's exp pass where that row's
// exponents are all in exp's normal range (the common case), else on its own; the last row
// on its own. Every element gets the same operations either way.

export function softmaxRows(rows: i32, cols: i32, x: usize, out: usize): void {
  let pending = false; // whether the previous row waits to be scaled
  let previous: usize = 0;
  let previousScale: f32 = 0;
  for (let r = 0; r < rows; r++) {
    const row = x + at(r * cols);
    const dst = out + at(r * cols);
    const extremes = rowExtremes(cols, row);
    const m = largestOf(extremes);
    let total: f64;
    if (!inNormalRange(leastOf(extremes), m)) {
      if (pending) scaleRow(cols, previousScale, previous, previous);
      total = sumShiftedExp(cols, row, m, dst, true, true);
    } else if (pending) {
      total = sumShiftedExp(cols, row, m, dst, true, false, 1, previous, previous, previousScale);
      const done = finishedBy(cols);
      scaleRow(cols - done, previousScale, previous + at(done), previous + at(done));
    } else {
      total = sumShiftedExp(cols, row, m, dst, true, false);
    }
    pending = true;
    previous = dst;
    previousScale = <f32>(1.0 / total);
  }
  if (pending) scaleRow(cols, previousScale, previous, previous);
}

export function logSoftmaxRows(rows: i32, cols: i32, x: usize, out: usize): void {
  let pending = false; // whether the previous row waits to be written
  let previousRow: usize = 0;
  let previous: usize = 0;
  let previousShift: f32 = 0;
  let previousLogTotal: f32 = 0;
  for (let r = 0; r < rows; r++) {
    const row = x + at(r * cols);
    const extremes = rowExtremes(cols, row);
    const m = largestOf(extremes);
    let total: f64;
    if (!inNormalRange(leastOf(extremes), m)) {
      if (pending) shiftRow(cols, previousShift, previousLogTotal, previousRow, previous);
      total = sumShiftedExp(cols, row, m, 0, false, true);
    } else if (pending) {
      total = sumShiftedExp(cols, row, m, 0, false, false, 2, previousRow, previous, previousShift, previousLogTotal);
      const done = finishedBy(cols);
      shiftRow(cols - done, previousShift, previousLogTotal, previousRow + at(done), previous + at(done));
    } else {
      total = sumShiftedExp(cols, row, m, 0, false, false);
    }
    pending = true;
    previousRow = row;
    previous = out + at(r * cols);
    previousShift = m;
    previousLogTotal = <f32>Math.log(total);
  }
  if (pending) shiftRow(cols, previousShift, previousLogTotal, previousRow, previous);
}
