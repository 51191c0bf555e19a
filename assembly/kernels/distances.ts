// Distances between a batch of queries Q [batch, d] and the rows of a memory M [n, d]:
// out[b, i] = distance(q_b, m_i), written row-major as [batch, n]. They are the similarity
// scores of associative memories (Universal Hopfield Networks, Millidge et al. 2022); every
// output row depends on one query only, so a caller may split the batch into row ranges.
//
// Squared Euclidean distances use the matmul identity |q - m|^2 = |q|^2 + |m|^2 - 2 q.m, so
// the bulk of the work is one GEMM. The identity cancels when q is near m: its absolute
// error is about (d + 10) 2^-24 (|q|^2 + |m|^2), which is unbounded relative to a small
// distance. Every entry below an eighth of |q|^2 + |m|^2 is therefore recomputed directly
// as sum (q - m)^2 (relative error (d + 6) 2^-24). Each distance is then accurate to
// 8 (d + 12) 2^-24 of itself (3.8e-4 at d = 784, a worst case; typical errors are about
// sqrt(d) 2^-24 of |q|^2 + |m|^2, 1e-5 of a distance), and a query equal to a memory row is
// at distance exactly 0. (An eighth: far below the 1/4 that independent uniform data sits
// at and the 1/3 to 1/2 of a noisy digit from its own image, so the direct pass only runs
// for near matches.)
//
// Manhattan distances sum |q - m| directly over a register tile of 4 queries x 2 memory
// rows, visiting the memory in blocks of rows that stay in cache while every query passes
// over them. All terms are >= 0, so the f32 sum is accurate to (d + 6) 2^-24 of itself.
//
// Masked variants weight term k of query b by w[b, k] >= 0: a 0/1 mask (1 = the entry is
// known) gives the distance over the known entries only. Masks advance by maskStride
// floats per query; 0 gives every query the same mask.
import { DISTANCE_SCRATCH, scratchBlock } from "./common";
import { gemm } from "./matmul";
import { sumSquares } from "./reductions";

/** Byte offset of element i. */
// @ts-ignore: decorator
@inline function at(i: i32): usize {
  return <usize>i << 2;
}

/** Identity results below this fraction of |q|^2 + |m|^2 are recomputed directly. */
const REFINE: f64 = 0.125;

/** Memory rows per cache block: about 128 KiB of them, at least 2. */
// @ts-ignore: decorator
@inline function blockRows(d: i32): i32 {
  const rows = 32768 / (d > 0 ? d : 1);
  return rows < 2 ? 2 : rows;
}

// @ts-ignore: decorator
@inline function laneSum(v: v128): f32 {
  return (f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1)) + (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3));
}

// ---- squared Euclidean -----------------------------------------------------------------------

/** sum_k w_k (q_k - m_k)^2, with every w_k = 1 when not `masked`. */
// @ts-ignore: decorator
@inline function directSquared(d: i32, q: usize, w: usize, masked: bool, m: usize): f32 {
  let k = 0;
  let total: f32 = 0;
  if (ASC_FEATURE_SIMD) {
    let s0 = f32x4.splat(0);
    let s1 = f32x4.splat(0);
    for (; k + 8 <= d; k += 8) {
      const o = at(k);
      let e0 = f32x4.sub(v128.load(q + o), v128.load(m + o));
      let e1 = f32x4.sub(v128.load(q + o, 16), v128.load(m + o, 16));
      e0 = f32x4.mul(e0, e0);
      e1 = f32x4.mul(e1, e1);
      if (masked) {
        e0 = f32x4.mul(e0, v128.load(w + o));
        e1 = f32x4.mul(e1, v128.load(w + o, 16));
      }
      s0 = f32x4.add(s0, e0);
      s1 = f32x4.add(s1, e1);
    }
    total = laneSum(f32x4.add(s0, s1));
  }
  for (; k < d; k++) {
    const e = load<f32>(q + at(k)) - load<f32>(m + at(k));
    total += masked ? load<f32>(w + at(k)) * (e * e) : e * e;
  }
  return total;
}

/**
 * out[b, i] = |q_b - m_i|^2. memoryNorms[i] must hold |m_i|^2 (rowSumSquares of the memory,
 * computed once when the memory is stored).
 */
export function squaredDistances(batch: i32, n: i32, d: i32, queries: usize, memory: usize, memoryNorms: usize,
  out: usize): void {
  if (batch <= 0 || n <= 0) return;
  gemm(false, true, batch, n, d, -2, queries, d, memory, d, 0, out, n);
  for (let b = 0; b < batch; b++) {
    const q = queries + at(b * d);
    const queryNorm = sumSquares(d, q);
    const row = out + at(b * n);
    for (let i = 0; i < n; i++) {
      const scale = queryNorm + <f64>load<f32>(memoryNorms + at(i));
      let r = scale + <f64>load<f32>(row + at(i));
      if (r < REFINE * scale) r = <f64>directSquared(d, q, 0, false, memory + at(i * d));
      store<f32>(row + at(i), <f32>r);
    }
  }
}

/**
 * out[b, i] = sum_k w[b, k] (q[b, k] - m[i, k])^2 with w[b, k] = masks[b * maskStride + k].
 * memorySquares[i, k] must hold m[i, k]^2 (the memory squared entrywise, computed once).
 */
export function maskedSquaredDistances(batch: i32, n: i32, d: i32, queries: usize, masks: usize, maskStride: i32,
  memory: usize, memorySquares: usize, out: usize): void {
  if (batch <= 0 || n <= 0) return;
  const maskRows = maskStride == 0 ? 1 : batch;
  const scratch = scratchBlock(DISTANCE_SCRATCH, <usize>(batch * d + maskRows * n) << 2);
  const weighted = scratch;
  const maskedNorms = scratch + at(batch * d);
  // w * q, then out = -2 (w * q) M^T and maskedNorms = W (M * M)^T: sum_k w m^2 per pair.
  for (let b = 0; b < batch; b++) {
    const q = queries + at(b * d);
    const w = masks + at(b * maskStride);
    const wq = weighted + at(b * d);
    let k = 0;
    if (ASC_FEATURE_SIMD) {
      for (; k + 4 <= d; k += 4) v128.store(wq + at(k), f32x4.mul(v128.load(w + at(k)), v128.load(q + at(k))));
    }
    for (; k < d; k++) store<f32>(wq + at(k), load<f32>(w + at(k)) * load<f32>(q + at(k)));
  }
  gemm(false, true, batch, n, d, -2, weighted, d, memory, d, 0, out, n);
  gemm(false, true, maskRows, n, d, 1, masks, maskStride == 0 ? d : maskStride, memorySquares, d, 0, maskedNorms, n);
  for (let b = 0; b < batch; b++) {
    const q = queries + at(b * d);
    const w = masks + at(b * maskStride);
    const wq = weighted + at(b * d);
    let queryNorm: f64 = 0;
    for (let k = 0; k < d; k++) queryNorm += <f64>load<f32>(wq + at(k)) * <f64>load<f32>(q + at(k));
    const norms = maskedNorms + at(maskStride == 0 ? 0 : b * n);
    const row = out + at(b * n);
    for (let i = 0; i < n; i++) {
      const scale = queryNorm + <f64>load<f32>(norms + at(i));
      let r = scale + <f64>load<f32>(row + at(i));
      if (r < REFINE * scale) r = <f64>directSquared(d, q, w, true, memory + at(i * d));
      store<f32>(row + at(i), <f32>r);
    }
  }
}

// ---- Manhattan ----------------------------------------------------------------------------------

/** sum_k w_k |q_k - m_k| for one pair (every w_k = 1 when not `masked`). */
// @ts-ignore: decorator
@inline function manhattanPair(d: i32, q: usize, w: usize, masked: bool, m: usize): f32 {
  let k = 0;
  let total: f32 = 0;
  if (ASC_FEATURE_SIMD) {
    let s0 = f32x4.splat(0);
    let s1 = f32x4.splat(0);
    for (; k + 8 <= d; k += 8) {
      const o = at(k);
      let e0 = f32x4.abs(f32x4.sub(v128.load(q + o), v128.load(m + o)));
      let e1 = f32x4.abs(f32x4.sub(v128.load(q + o, 16), v128.load(m + o, 16)));
      if (masked) {
        e0 = f32x4.mul(e0, v128.load(w + o));
        e1 = f32x4.mul(e1, v128.load(w + o, 16));
      }
      s0 = f32x4.add(s0, e0);
      s1 = f32x4.add(s1, e1);
    }
    total = laneSum(f32x4.add(s0, s1));
  }
  for (; k < d; k++) {
    const e = Mathf.abs(load<f32>(q + at(k)) - load<f32>(m + at(k)));
    total += masked ? load<f32>(w + at(k)) * e : e;
  }
  return total;
}

/** One weighted |q - m| lane step: acc + w |x - v| (w ignored when not masked). */
// @ts-ignore: decorator
@inline function step(acc: v128, x: v128, v: v128, w: v128, masked: bool): v128 {
  const e = f32x4.abs(f32x4.sub(x, v));
  return f32x4.add(acc, masked ? f32x4.mul(w, e) : e);
}

/** Scalar tail of one pair from entry k on, added to `partial`. */
// @ts-ignore: decorator
@inline function tail(k: i32, d: i32, partial: f32, q: usize, w: usize, masked: bool, m: usize): f32 {
  let total = partial;
  for (; k < d; k++) {
    const e = Mathf.abs(load<f32>(q + at(k)) - load<f32>(m + at(k)));
    total += masked ? load<f32>(w + at(k)) * e : e;
  }
  return total;
}

/**
 * SIMD build: 4 queries (q + r * ldq bytes, masks w + r * ldw bytes) against memory rows m0
 * and m1; writes out[r * ldo bytes + c] for r < 4, c < 2. Eight accumulators, two memory
 * vectors and one query vector stay in registers.
 */
// @ts-ignore: decorator
@inline function manhattanTile(d: i32, q: usize, ldq: usize, w: usize, ldw: usize, masked: bool,
  m0: usize, m1: usize, out: usize, ldo: usize): void {
  let a00 = f32x4.splat(0), a01 = f32x4.splat(0), a10 = f32x4.splat(0), a11 = f32x4.splat(0);
  let a20 = f32x4.splat(0), a21 = f32x4.splat(0), a30 = f32x4.splat(0), a31 = f32x4.splat(0);
  const zero = f32x4.splat(0);
  let k = 0;
  for (; k + 4 <= d; k += 4) {
    const o = at(k);
    const v0 = v128.load(m0 + o);
    const v1 = v128.load(m1 + o);
    let x = v128.load(q + o);
    let u = masked ? v128.load(w + o) : zero;
    a00 = step(a00, x, v0, u, masked);
    a01 = step(a01, x, v1, u, masked);
    x = v128.load(q + ldq + o);
    if (masked) u = v128.load(w + ldw + o);
    a10 = step(a10, x, v0, u, masked);
    a11 = step(a11, x, v1, u, masked);
    x = v128.load(q + 2 * ldq + o);
    if (masked) u = v128.load(w + 2 * ldw + o);
    a20 = step(a20, x, v0, u, masked);
    a21 = step(a21, x, v1, u, masked);
    x = v128.load(q + 3 * ldq + o);
    if (masked) u = v128.load(w + 3 * ldw + o);
    a30 = step(a30, x, v0, u, masked);
    a31 = step(a31, x, v1, u, masked);
  }
  store<f32>(out, tail(k, d, laneSum(a00), q, w, masked, m0));
  store<f32>(out, tail(k, d, laneSum(a01), q, w, masked, m1), 4);
  store<f32>(out + ldo, tail(k, d, laneSum(a10), q + ldq, w + ldw, masked, m0));
  store<f32>(out + ldo, tail(k, d, laneSum(a11), q + ldq, w + ldw, masked, m1), 4);
  store<f32>(out + 2 * ldo, tail(k, d, laneSum(a20), q + 2 * ldq, w + 2 * ldw, masked, m0));
  store<f32>(out + 2 * ldo, tail(k, d, laneSum(a21), q + 2 * ldq, w + 2 * ldw, masked, m1), 4);
  store<f32>(out + 3 * ldo, tail(k, d, laneSum(a30), q + 3 * ldq, w + 3 * ldw, masked, m0));
  store<f32>(out + 3 * ldo, tail(k, d, laneSum(a31), q + 3 * ldq, w + 3 * ldw, masked, m1), 4);
}

// @ts-ignore: decorator
@inline function manhattan(batch: i32, n: i32, d: i32, queries: usize, masks: usize, maskStride: i32, masked: bool,
  memory: usize, out: usize): void {
  if (batch <= 0 || n <= 0) return;
  const ldq = at(d);
  const ldw = at(maskStride);
  const ldo = at(n);
  const block = blockRows(d);
  for (let i0 = 0; i0 < n; i0 += block) {
    const i1 = i0 + block < n ? i0 + block : n;
    let b = 0;
    if (ASC_FEATURE_SIMD) {
      for (; b + 4 <= batch; b += 4) {
        const q = queries + at(b * d);
        const w = masks + at(b * maskStride);
        const o = out + at(b * n);
        let i = i0;
        for (; i + 2 <= i1; i += 2) manhattanTile(d, q, ldq, w, ldw, masked, memory + at(i * d), memory + at((i + 1) * d), o + at(i), ldo);
        for (; i < i1; i++) {
          for (let r = 0; r < 4; r++)
            store<f32>(o + r * ldo + at(i), manhattanPair(d, q + r * ldq, w + r * ldw, masked, memory + at(i * d)));
        }
      }
    }
    for (; b < batch; b++) {
      const q = queries + at(b * d);
      const w = masks + at(b * maskStride);
      for (let i = i0; i < i1; i++) store<f32>(out + at(b * n + i), manhattanPair(d, q, w, masked, memory + at(i * d)));
    }
  }
}

/** out[b, i] = sum_k |q[b, k] - m[i, k]|. */
export function manhattanDistances(batch: i32, n: i32, d: i32, queries: usize, memory: usize, out: usize): void {
  manhattan(batch, n, d, queries, 0, 0, false, memory, out);
}

/** out[b, i] = sum_k w[b, k] |q[b, k] - m[i, k]| with w[b, k] = masks[b * maskStride + k]. */
export function maskedManhattanDistances(batch: i32, n: i32, d: i32, queries: usize, masks: usize, maskStride: i32,
  memory: usize, out: usize): void {
  manhattan(batch, n, d, queries, masks, maskStride, true, memory, out);
}
