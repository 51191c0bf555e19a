// Reductions over f32 arrays. Sums accumulate in f64 (each f32 lane is widened before it
// is added), so the result of a long sum is accurate to about n * 2^-53 relative instead of
// n * 2^-24; squares of f32 values are exact in f64.

/** Byte offset of element i. */
// @ts-ignore: decorator
@inline function at(i: i32): usize {
  return <usize>i << 2;
}

/** Upper two f32 lanes moved to the lower half, ready for f64x2.promote_low_f32x4. */
// @ts-ignore: decorator
@inline function highHalf(v: v128): v128 {
  return i32x4.shuffle(v, v, 2, 3, 2, 3);
}

// @ts-ignore: decorator
@inline function sumF64(n: i32, x: usize, squares: bool): f64 {
  let i = 0;
  let total: f64 = 0;
  if (ASC_FEATURE_SIMD) {
    // Four f64x2 accumulators (8 elements per step) to hide the add latency.
    let s0 = f64x2.splat(0);
    let s1 = f64x2.splat(0);
    let s2 = f64x2.splat(0);
    let s3 = f64x2.splat(0);
    for (; i + 8 <= n; i += 8) {
      const a = v128.load(x + at(i));
      const b = v128.load(x + at(i) + 16);
      let a0 = f64x2.promote_low_f32x4(a);
      let a1 = f64x2.promote_low_f32x4(highHalf(a));
      let b0 = f64x2.promote_low_f32x4(b);
      let b1 = f64x2.promote_low_f32x4(highHalf(b));
      if (squares) {
        a0 = f64x2.mul(a0, a0);
        a1 = f64x2.mul(a1, a1);
        b0 = f64x2.mul(b0, b0);
        b1 = f64x2.mul(b1, b1);
      }
      s0 = f64x2.add(s0, a0);
      s1 = f64x2.add(s1, a1);
      s2 = f64x2.add(s2, b0);
      s3 = f64x2.add(s3, b1);
    }
    const s = f64x2.add(f64x2.add(s0, s1), f64x2.add(s2, s3));
    total = f64x2.extract_lane(s, 0) + f64x2.extract_lane(s, 1);
  } else {
    let t0: f64 = 0, t1: f64 = 0, t2: f64 = 0, t3: f64 = 0;
    for (; i + 4 <= n; i += 4) {
      const a = <f64>load<f32>(x + at(i));
      const b = <f64>load<f32>(x + at(i) + 4);
      const c = <f64>load<f32>(x + at(i) + 8);
      const d = <f64>load<f32>(x + at(i) + 12);
      t0 += squares ? a * a : a;
      t1 += squares ? b * b : b;
      t2 += squares ? c * c : c;
      t3 += squares ? d * d : d;
    }
    total = (t0 + t1) + (t2 + t3);
  }
  for (; i < n; i++) {
    const v = <f64>load<f32>(x + at(i));
    total += squares ? v * v : v;
  }
  return total;
}

export function sum(n: i32, x: usize): f64 {
  return sumF64(n, x, false);
}

/** Sum of x^2. */
export function sumSquares(n: i32, x: usize): f64 {
  return sumF64(n, x, true);
}

/** Number of NaN and infinite entries: those whose exponent bits are all ones. */
export function countNonFinite(n: i32, x: usize): i32 {
  let i = 0;
  let count = 0;
  if (ASC_FEATURE_SIMD) {
    const exponent = i32x4.splat(0x7f800000);
    // Each lane counts down by one (mask = -1) per non-finite entry.
    let lanes = i32x4.splat(0);
    for (; i + 4 <= n; i += 4) {
      const v = v128.load(x + at(i));
      lanes = i32x4.add(lanes, i32x4.eq(v128.and(v, exponent), exponent));
    }
    count = -(i32x4.extract_lane(lanes, 0) + i32x4.extract_lane(lanes, 1) +
      i32x4.extract_lane(lanes, 2) + i32x4.extract_lane(lanes, 3));
  }
  for (; i < n; i++) {
    if ((load<u32>(x + at(i)) & 0x7f800000) == 0x7f800000) count++;
  }
  return count;
}

/** max |x_i| (0 for n = 0); NaN when any entry is NaN. */
export function maxAbs(n: i32, x: usize): f32 {
  let i = 0;
  let best: f32 = 0;
  let nan = false;
  if (ASC_FEATURE_SIMD) {
    let lanes = f32x4.splat(0);
    // f32x4.max returns NaN when either operand is NaN, so a NaN stays in its lane.
    for (; i + 4 <= n; i += 4) lanes = f32x4.max(lanes, f32x4.abs(v128.load(x + at(i))));
    for (let l = 0; l < 4; l++) {
      const v = f32x4.extract_lane(lanes, 0);
      if (v != v) nan = true;
      else if (v > best) best = v;
      lanes = i32x4.shuffle(lanes, lanes, 1, 2, 3, 0);
    }
  }
  for (; i < n; i++) {
    const v = abs<f32>(load<f32>(x + at(i)));
    if (v != v) nan = true;
    else if (v > best) best = v;
  }
  return nan ? NaN : best;
}

/** out[r] = sum over c of x[r, c] (accumulated in f64, stored as f32). */
export function rowSum(rows: i32, cols: i32, x: usize, out: usize): void {
  for (let r = 0; r < rows; r++) {
    store<f32>(out + at(r), <f32>sumF64(cols, x + at(r * cols), false));
  }
}

/** out[r] = sum over c of x[r, c]^2 (squares exact and accumulated in f64, stored as f32). */
export function rowSumSquares(rows: i32, cols: i32, x: usize, out: usize): void {
  for (let r = 0; r < rows; r++) {
    store<f32>(out + at(r), <f32>sumF64(cols, x + at(r * cols), true));
  }
}

/**
 * Maximum of n elements; -Infinity when n = 0, NaN when one of them is NaN (as Math.max).
 * Between equal zeros of both signs it may return -0 where Math.max returns +0.
 * Generic only so that the `export *` of this file does not make it a module export;
 * softmax.ts imports it.
 */
export function maxOf<T = f32>(n: i32, x: usize): f32 {
  let i = 0;
  let best: f32 = -Infinity;
  if (ASC_FEATURE_SIMD) {
    if (n >= 8) {
      // pmax is one instruction but drops NaN, so NaN lanes are tracked on the side.
      let m0 = f32x4.splat(-Infinity);
      let m1 = f32x4.splat(-Infinity);
      let nan = i32x4.splat(0);
      for (; i + 8 <= n; i += 8) {
        const a = v128.load(x + at(i));
        const b = v128.load(x + at(i) + 16);
        m0 = f32x4.pmax(m0, a);
        m1 = f32x4.pmax(m1, b);
        nan = v128.or(nan, v128.or(f32x4.ne(a, a), f32x4.ne(b, b)));
      }
      if (v128.any_true(nan)) return NaN;
      const m = f32x4.max(m0, m1);
      best = max<f32>(max<f32>(f32x4.extract_lane(m, 0), f32x4.extract_lane(m, 1)),
        max<f32>(f32x4.extract_lane(m, 2), f32x4.extract_lane(m, 3)));
    }
  }
  // f32.max propagates NaN, like Math.max.
  for (; i < n; i++) best = max<f32>(best, load<f32>(x + at(i)));
  return best;
}

/** out[r] = max over c of x[r, c]. */
export function rowMax(rows: i32, cols: i32, x: usize, out: usize): void {
  for (let r = 0; r < rows; r++) store<f32>(out + at(r), maxOf(cols, x + at(r * cols)));
}

/** Index of the first maximum: the first c with x[c] > every earlier entry (NaN never wins). */
function argmaxScalar(n: i32, x: usize): i32 {
  let best = 0;
  for (let c = 1; c < n; c++) if (load<f32>(x + at(c)) > load<f32>(x + at(best))) best = c;
  return best;
}

/**
 * Index of the first maximum of a row: find the maximum, then the first entry equal to it.
 * A row holding a NaN (its maximum is NaN) takes the plain scan, which defines the result.
 */
function argmaxOf(n: i32, x: usize): i32 {
  if (n <= 1) return 0;
  const best = maxOf(n, x);
  if (isNaN(best)) return argmaxScalar(n, x);
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const target = f32x4.splat(best);
    for (; i + 4 <= n; i += 4) {
      const hits = i32x4.bitmask(f32x4.eq(v128.load(x + at(i)), target));
      if (hits != 0) return i + ctz(hits);
    }
  }
  for (; i < n; i++) if (load<f32>(x + at(i)) == best) return i;
  return 0;
}

/** out[r] = index of the first maximum of row r, stored as f32. */
export function argmaxRows(rows: i32, cols: i32, x: usize, out: usize): void {
  for (let r = 0; r < rows; r++) store<f32>(out + at(r), <f32>argmaxOf(cols, x + at(r * cols)));
}
