// Row-wise softmax and log-softmax of a rows x cols matrix (out may alias x).
// Numerically stable: with m the row maximum, softmax = e^(x - m) / sum e^(x - m) and
// log-softmax = (x - m) - ln(sum e^(x - m)); every exponent is <= 0, so nothing overflows
// and the sum is >= 1. The sum accumulates in f64.
// Softmax skips the shift where the row allows it (every entry in [-87.33, 64]): then
// e^x / sum e^x has every e^x normal and the sum far from overflow, and it is the more
// accurate form, since x - m rounds to 2^-24 |x - m| and exp turns that into a relative error
// of the same size (up to 4.5e-6 across that range), where e^x is within 2.1e-7. Log-softmax
// keeps the shift: x - ln(sum e^x) would cancel for the largest entries.
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
 * The largest bit pattern of the row's entries read as signed, and as unsigned, 32-bit
 * integers, in one u64 (signed in the low half; see softmaxRows). Read as signed integers,
 * the entries with the sign bit clear order as their values and lie above all the others, so
 * the signed largest is the row's maximum when some entry is >= +0 (a NaN with the sign clear
 * counts as largest). Read as unsigned, the entries with the sign bit set order by magnitude
 * and lie above all the others, so the unsigned largest is the row's minimum when some entry
 * has its sign set (-Infinity, or a NaN with the sign set, comes out largest). Integer maxima
 * leave the floating-point units to the exp pass that follows.
 */
// @ts-ignore: decorator
@inline function rowBitExtremes(n: i32, x: usize): u64 {
  let i = 0;
  let signedLargest: i32 = i32.MIN_VALUE;
  let unsignedLargest: u32 = 0;
  if (ASC_FEATURE_SIMD) {
    if (n >= 16) {
      let s0 = i32x4.splat(i32.MIN_VALUE), s1 = s0, s2 = s0, s3 = s0;
      let u0 = i32x4.splat(0), u1 = u0;
      for (; i + 16 <= n; i += 16) {
        const p = x + at(i);
        const a = v128.load(p), b = v128.load(p, 16), c = v128.load(p, 32), d = v128.load(p, 48);
        s0 = i32x4.max_s(s0, a);
        s1 = i32x4.max_s(s1, b);
        s2 = i32x4.max_s(s2, c);
        s3 = i32x4.max_s(s3, d);
        u0 = i32x4.max_u(u0, i32x4.max_u(a, b));
        u1 = i32x4.max_u(u1, i32x4.max_u(c, d));
      }
      const s = i32x4.max_s(i32x4.max_s(s0, s1), i32x4.max_s(s2, s3));
      signedLargest = max<i32>(max<i32>(i32x4.extract_lane(s, 0), i32x4.extract_lane(s, 1)),
        max<i32>(i32x4.extract_lane(s, 2), i32x4.extract_lane(s, 3)));
      const u = i32x4.max_u(u0, u1);
      unsignedLargest = max<u32>(max<u32>(<u32>i32x4.extract_lane(u, 0), <u32>i32x4.extract_lane(u, 1)),
        max<u32>(<u32>i32x4.extract_lane(u, 2), <u32>i32x4.extract_lane(u, 3)));
    }
  }
  for (; i < n; i++) {
    const v = load<u32>(x + at(i));
    signedLargest = max<i32>(signedLargest, <i32>v);
    unsignedLargest = max<u32>(unsignedLargest, v);
  }
  return (<u64>unsignedLargest << 32) | <u64><u32>signedLargest;
}

/** The row's maximum from rowBitExtremes, when some entry has its sign bit clear (signedLargestOf >= 0). */
// @ts-ignore: decorator
@inline function signedLargestOf(bits: u64): i32 {
  return <i32><u32>bits;
}

/** The row's minimum from rowBitExtremes when some entry has its sign bit set, else 0 (a lower bound: every entry is >= +0). */
// @ts-ignore: decorator
@inline function leastBoundOf(bits: u64): f32 {
  const unsignedLargest = <u32>(bits >>> 32);
  return unsignedLargest >>> 31 ? reinterpret<f32>(unsignedLargest) : 0;
}

// The largest entry for which softmax skips the shift: e^64 = 6.2e27, so a row's sum stays
// below 1.4e37 (fewer than 2^31 columns) and its f32 reciprocal is normal.
const UNSHIFTED_LARGEST: f32 = 64;

/** Whether softmax may skip the shift: every entry in [expNormalLowest, UNSHIFTED_LARGEST] (no NaN, no infinity). */
// @ts-ignore: decorator
@inline function unshiftedFits(bits: u64): bool {
  const signedLargest = signedLargestOf(bits);
  return (signedLargest < 0 || reinterpret<f32>(signedLargest) <= UNSHIFTED_LARGEST) &&
    leastBoundOf(bits) >= expNormalLowest();
}

/**
 * sum over c of e^(x[c] - shift); writes each term to out when `keep` is set. `checkLow`
 * false: no x[c] - shift is below exp's normal range (inNormalRange), so the vector loop
 * skips that test. `finishing` (with checkLow false): the vector loop also finishes the
 * previous row over its first finishedBy(n) elements (see shiftedExpSumV). `shifted` false:
 * shift is 0 and the vector loop skips the subtraction (x - 0 is x). `termsInF64`: each term
 * is added in f64, not in f32 first (see shiftedExpSumV).
 */
// @ts-ignore: decorator
@inline function sumShiftedExp(n: i32, x: usize, shift: f32, out: usize, keep: bool, checkLow: bool,
  finishing: i32 = 0, previousIn: usize = 0, previousOut: usize = 0, previousA: f32 = 0, previousB: f32 = 0,
  shifted: bool = true, termsInF64: bool = false): f64 {
  let i = 0;
  let total: f64 = 0;
  if (ASC_FEATURE_SIMD) {
    total = shiftedExpSumV(n, x, shift, out, keep, checkLow, finishing, previousIn, previousOut, previousA, previousB,
      shifted, termsInF64);
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

/**
 * softmax's exp pass over one row, finishing the previous row (scaling it by previousScale)
 * during it when `pending` and the pass needs no range test, else before it.
 */
// @ts-ignore: decorator
@inline function softmaxExpPass(cols: i32, row: usize, dst: usize, shift: f32, shifted: bool, checkLow: bool,
  pending: bool, previous: usize, previousScale: f32): f64 {
  let total: f64;
  if (pending && !checkLow) {
    total = sumShiftedExp(cols, row, shift, dst, true, false, 1, previous, previous, previousScale, 0, shifted);
    const done = finishedBy(cols);
    scaleRow(cols - done, previousScale, previous + at(done), previous + at(done));
  } else {
    if (pending) scaleRow(cols, previousScale, previous, previous);
    total = sumShiftedExp(cols, row, shift, dst, true, checkLow, 0, 0, 0, 0, 0, shifted);
  }
  return total;
}

export function softmaxRows(rows: i32, cols: i32, x: usize, out: usize): void {
  let pending = false; // whether the previous row waits to be scaled
  let previous: usize = 0;
  let previousScale: f32 = 0;
  for (let r = 0; r < rows; r++) {
    const row = x + at(r * cols);
    const dst = out + at(r * cols);
    const bits = rowBitExtremes(cols, row);
    let total: f64;
    if (unshiftedFits(bits)) {
      total = softmaxExpPass(cols, row, dst, 0, false, false, pending, previous, previousScale);
    } else {
      // The shift: the maximum read from the bits when some entry is >= +0, else from a
      // floating-point pass (every entry negative, and some below exp's normal range).
      let m: f32, least: f32;
      if (signedLargestOf(bits) >= 0) {
        m = reinterpret<f32>(signedLargestOf(bits));
        least = leastBoundOf(bits);
      } else {
        const extremes = rowExtremes(cols, row);
        m = largestOf(extremes);
        least = leastOf(extremes);
      }
      if (inNormalRange(least, m)) {
        total = softmaxExpPass(cols, row, dst, m, true, false, pending, previous, previousScale);
      } else {
        total = softmaxExpPass(cols, row, dst, m, true, true, pending, previous, previousScale);
      }
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
      total = sumShiftedExp(cols, row, m, 0, false, true, 0, 0, 0, 0, 0, true, true);
    } else if (pending) {
      total = sumShiftedExp(cols, row, m, 0, false, false, 2, previousRow, previous, previousShift, previousLogTotal, true, true);
      const done = finishedBy(cols);
      shiftRow(cols - done, previousShift, previousLogTotal, previousRow + at(done), previous + at(done));
    } else {
      total = sumShiftedExp(cols, row, m, 0, false, false, 0, 0, 0, 0, 0, true, true);
    }
    pending = true;
    previousRow = row;
    previous = out + at(r * cols);
    previousShift = m;
    previousLogTotal = <f32>Math.log(total);
  }
  if (pending) shiftRow(cols, previousShift, previousLogTotal, previousRow, previous);
}
