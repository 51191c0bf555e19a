// Matrix multiply C = alpha * op(A) * op(B) + beta * C (row-major, f32).
//
// Goto-style blocking. For each NC-wide column block of C and each KC-deep slice of the
// sum, op(B)[KC x NC] is packed into NR-wide column panels; then for each MC-tall row
// block, op(A)[MC x KC] is packed into MR-tall row panels. The packed layouts are the same
// for every transpose combination, so the MR x NR register-tiled micro-kernel only ever
// reads two contiguous streams:
//   packed A panel: for p in 0..kc: A(i .. i+MR-1, p)      (MR floats per step)
//   packed B panel: for p in 0..kc: B(p, j .. j+NR-1)      (NR floats per step)
// Panels past the matrix edge are zero-padded; edge tiles are computed in full into a
// scratch tile and only their valid part is written to C.
import { GEMM_SCRATCH, scratchBlock } from "./common";

// Register tile: MR rows x NR columns (NR = two f32x4 vectors): 8 accumulators, two B
// vectors and one A vector of MR = 4 rows. Each A lane is broadcast with a shuffle, a pure
// op the engine schedules next to its use; broadcast loads are hoisted to the top of the
// loop body instead, and with a taller tile the accumulators then spill to the stack.
const MR: i32 = 4;
const NR: i32 = 8;
// Cache blocks (elements): an MC x KC block of A stays in L2, a KC x NR panel of B in L1.
const KC: i32 = 256;
const MC: i32 = 96;
const NC: i32 = 2048;

// Packing scratch: one block, grown on demand and reused (never leaked).
@inline function ensureScratch(bytes: usize): usize {
  return scratchBlock(GEMM_SCRATCH, bytes);
}

@inline function min32(a: i32, b: i32): i32 {
  return a < b ? a : b;
}

@inline function roundUp(n: i32, to: i32): i32 {
  return (n + to - 1) / to * to;
}

@inline function ptr(base: usize, index: i32): usize {
  return base + (<usize>index << 2);
}

// ---- packing -----------------------------------------------------------------------------

/** Packs op(A)[i0 .. i0+mc, p0 .. p0+kc] into MR-row panels at dst (zero-padded rows). */
function packA(transA: bool, a: usize, lda: i32, i0: i32, p0: i32, mc: i32, kc: i32, dst: usize): void {
  for (let ir = 0; ir < mc; ir += MR) {
    const rows = min32(MR, mc - ir);
    const panel = ptr(dst, ir * kc);
    if (transA) {
      // A stored [K, M]: the MR values of one step are contiguous in memory.
      let src = ptr(a, (p0 * lda) + i0 + ir);
      const step = <usize>lda << 2;
      if (rows == MR) {
        for (let p = 0; p < kc; p++) {
          const out = panel + (<usize>(p * MR) << 2);
          if (ASC_FEATURE_SIMD) {
            v128.store(out, v128.load(src));
          } else {
            store<u64>(out, load<u64>(src));
            store<u64>(out, load<u64>(src, 8), 8);
          }
          src += step;
        }
      } else {
        for (let p = 0; p < kc; p++) {
          const out = panel + (<usize>(p * MR) << 2);
          for (let r = 0; r < MR; r++) store<f32>(ptr(out, r), r < rows ? load<f32>(ptr(src, r)) : 0);
          src += step;
        }
      }
    } else if (ASC_FEATURE_SIMD && rows == MR) {
      // A stored [M, K], SIMD build: 4 x 4 register transposes, then a scalar tail.
      const src = ptr(a, (i0 + ir) * lda + p0);
      const row = <usize>lda << 2;
      let p = 0;
      for (; p + 4 <= kc; p += 4) transpose4x4(ptr(src, p), row, ptr(panel, p * MR), MR * 4);
      for (; p < kc; p++) {
        for (let r = 0; r < MR; r++) store<f32>(ptr(panel, p * MR + r), load<f32>(ptr(src, p) + row * r));
      }
    } else {
      // A stored [M, K]: each row is contiguous along p; scatter it with stride MR.
      for (let r = 0; r < MR; r++) {
        let out = ptr(panel, r);
        const outStep = <usize>MR << 2;
        if (r < rows) {
          const src = ptr(a, (i0 + ir + r) * lda + p0);
          for (let p = 0; p < kc; p++) {
            store<f32>(out, load<f32>(ptr(src, p)));
            out += outStep;
          }
        } else {
          for (let p = 0; p < kc; p++) {
            store<f32>(out, 0);
            out += outStep;
          }
        }
      }
    }
  }
}

/** Packs op(B)[p0 .. p0+kc, j0 .. j0+nc] into NR-column panels at dst (zero-padded columns). */
function packB(transB: bool, b: usize, ldb: i32, p0: i32, j0: i32, kc: i32, nc: i32, dst: usize): void {
  for (let jr = 0; jr < nc; jr += NR) {
    const cols = min32(NR, nc - jr);
    const panel = ptr(dst, jr * kc);
    if (!transB) {
      // B stored [K, N]: the NR values of one step are contiguous in memory.
      let src = ptr(b, p0 * ldb + j0 + jr);
      const step = <usize>ldb << 2;
      if (cols == NR) {
        for (let p = 0; p < kc; p++) {
          const out = panel + (<usize>(p * NR) << 2);
          if (ASC_FEATURE_SIMD) {
            v128.store(out, v128.load(src));
            v128.store(out, v128.load(src, 16), 16);
          } else {
            store<u64>(out, load<u64>(src));
            store<u64>(out, load<u64>(src, 8), 8);
            store<u64>(out, load<u64>(src, 16), 16);
            store<u64>(out, load<u64>(src, 24), 24);
          }
          src += step;
        }
      } else {
        for (let p = 0; p < kc; p++) {
          const out = panel + (<usize>(p * NR) << 2);
          for (let c = 0; c < NR; c++) store<f32>(ptr(out, c), c < cols ? load<f32>(ptr(src, c)) : 0);
          src += step;
        }
      }
    } else {
      // B stored [N, K]: each column of op(B) is contiguous along p.
      if (ASC_FEATURE_SIMD && cols == NR) {
        packTransposedPanel(ptr(b, (j0 + jr) * ldb + p0), ldb, kc, panel);
      } else {
        for (let c = 0; c < NR; c++) {
          let out = ptr(panel, c);
          const outStep = <usize>NR << 2;
          if (c < cols) {
            const src = ptr(b, (j0 + jr + c) * ldb + p0);
            for (let p = 0; p < kc; p++) {
              store<f32>(out, load<f32>(ptr(src, p)));
              out += outStep;
            }
          } else {
            for (let p = 0; p < kc; p++) {
              store<f32>(out, 0);
              out += outStep;
            }
          }
        }
      }
    }
  }
}

/**
 * SIMD build: packs NR = 8 rows of a [N, K] matrix (8 columns of op(B)) by 4 x 4 register
 * transposes, four steps of p at a time, then a scalar tail.
 */
function packTransposedPanel(src: usize, ld: i32, kc: i32, out: usize): void {
  if (ASC_FEATURE_SIMD) {
    const row = <usize>ld << 2;
    let p = 0;
    for (; p + 4 <= kc; p += 4) {
      const s = src + (<usize>p << 2);
      const o = out + (<usize>(p * NR) << 2);
      transpose4x4(s, row, o, NR * 4);
      transpose4x4(s + row * 4, row, o + 16, NR * 4);
    }
    for (; p < kc; p++) {
      const o = out + (<usize>(p * NR) << 2);
      for (let c = 0; c < NR; c++) store<f32>(ptr(o, c), load<f32>(src + row * c + (<usize>p << 2)));
    }
  }
}

/**
 * Reads 4 rows of 4 floats (row stride `row` bytes) and writes the 4 columns as 4 vectors,
 * `step` bytes apart.
 */
@inline function transpose4x4(s: usize, row: usize, o: usize, step: usize): void {
  if (ASC_FEATURE_SIMD) {
    const r0 = v128.load(s);
    const r1 = v128.load(s + row);
    const r2 = v128.load(s + row * 2);
    const r3 = v128.load(s + row * 3);
    const t0 = i32x4.shuffle(r0, r1, 0, 4, 1, 5); // r0[0] r1[0] r0[1] r1[1]
    const t1 = i32x4.shuffle(r2, r3, 0, 4, 1, 5);
    const t2 = i32x4.shuffle(r0, r1, 2, 6, 3, 7);
    const t3 = i32x4.shuffle(r2, r3, 2, 6, 3, 7);
    v128.store(o, i64x2.shuffle(t0, t1, 0, 2));
    v128.store(o + step, i64x2.shuffle(t0, t1, 1, 3));
    v128.store(o + step * 2, i64x2.shuffle(t2, t3, 0, 2));
    v128.store(o + step * 3, i64x2.shuffle(t2, t3, 1, 3));
  }
}

// ---- micro-kernels ------------------------------------------------------------------------

/** Writes one row of 8 results: c = alpha * acc + beta * c (c not read when beta = 0). */
@inline function storeRow8(c: usize, acc0: v128, acc1: v128, alpha: v128, beta: v128, readC: bool): void {
  if (readC) {
    v128.store(c, f32x4.add(f32x4.mul(acc0, alpha), f32x4.mul(v128.load(c), beta)));
    v128.store(c, f32x4.add(f32x4.mul(acc1, alpha), f32x4.mul(v128.load(c, 16), beta)), 16);
  } else {
    v128.store(c, f32x4.mul(acc0, alpha));
    v128.store(c, f32x4.mul(acc1, alpha), 16);
  }
}

/** SIMD: the full MR x NR tile, C[0..4, 0..8] = alpha * Apanel * Bpanel + beta * C. */
function microKernelSimd(kc: i32, ap: usize, bp: usize, alpha: f32, beta: f32, c: usize, ldc: i32): void {
  if (ASC_FEATURE_SIMD) {
    let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
    let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
    let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
    let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
    const aEnd = ap + (<usize>(kc * MR) << 2);
    while (ap < aEnd) {
      const b0 = v128.load(bp);
      const b1 = v128.load(bp, 16);
      const av = v128.load(ap);
      let a = i32x4.shuffle(av, av, 0, 0, 0, 0);
      c00 = f32x4.add(c00, f32x4.mul(a, b0));
      c01 = f32x4.add(c01, f32x4.mul(a, b1));
      a = i32x4.shuffle(av, av, 1, 1, 1, 1);
      c10 = f32x4.add(c10, f32x4.mul(a, b0));
      c11 = f32x4.add(c11, f32x4.mul(a, b1));
      a = i32x4.shuffle(av, av, 2, 2, 2, 2);
      c20 = f32x4.add(c20, f32x4.mul(a, b0));
      c21 = f32x4.add(c21, f32x4.mul(a, b1));
      a = i32x4.shuffle(av, av, 3, 3, 3, 3);
      c30 = f32x4.add(c30, f32x4.mul(a, b0));
      c31 = f32x4.add(c31, f32x4.mul(a, b1));
      ap += MR * 4;
      bp += NR * 4;
    }
    const alphaV = f32x4.splat(alpha);
    const betaV = f32x4.splat(beta);
    const readC = beta != 0;
    const row = <usize>ldc << 2;
    storeRow8(c, c00, c01, alphaV, betaV, readC);
    storeRow8(c + row, c10, c11, alphaV, betaV, readC);
    storeRow8(c + row * 2, c20, c21, alphaV, betaV, readC);
    storeRow8(c + row * 3, c30, c31, alphaV, betaV, readC);
  }
}

/** Scalar: the full MR x NR tile, two rows at a time (16 accumulators). */
function microKernelScalar(kc: i32, ap: usize, bp: usize, alpha: f32, beta: f32, c: usize, ldc: i32): void {
  for (let r = 0; r < MR; r += 2) {
    let x0: f32 = 0, x1: f32 = 0, x2: f32 = 0, x3: f32 = 0, x4: f32 = 0, x5: f32 = 0, x6: f32 = 0, x7: f32 = 0;
    let y0: f32 = 0, y1: f32 = 0, y2: f32 = 0, y3: f32 = 0, y4: f32 = 0, y5: f32 = 0, y6: f32 = 0, y7: f32 = 0;
    let a = ptr(ap, r);
    let b = bp;
    for (let p = 0; p < kc; p++) {
      const u = load<f32>(a), v = load<f32>(a, 4);
      const b0 = load<f32>(b), b1 = load<f32>(b, 4), b2 = load<f32>(b, 8), b3 = load<f32>(b, 12);
      const b4 = load<f32>(b, 16), b5 = load<f32>(b, 20), b6 = load<f32>(b, 24), b7 = load<f32>(b, 28);
      x0 += u * b0; x1 += u * b1; x2 += u * b2; x3 += u * b3;
      x4 += u * b4; x5 += u * b5; x6 += u * b6; x7 += u * b7;
      y0 += v * b0; y1 += v * b1; y2 += v * b2; y3 += v * b3;
      y4 += v * b4; y5 += v * b5; y6 += v * b6; y7 += v * b7;
      a += MR * 4;
      b += NR * 4;
    }
    const cx = c + <usize>(r * ldc) * 4;
    const cy = cx + (<usize>ldc << 2);
    storeScalar(cx, 0, x0, alpha, beta); storeScalar(cx, 1, x1, alpha, beta);
    storeScalar(cx, 2, x2, alpha, beta); storeScalar(cx, 3, x3, alpha, beta);
    storeScalar(cx, 4, x4, alpha, beta); storeScalar(cx, 5, x5, alpha, beta);
    storeScalar(cx, 6, x6, alpha, beta); storeScalar(cx, 7, x7, alpha, beta);
    storeScalar(cy, 0, y0, alpha, beta); storeScalar(cy, 1, y1, alpha, beta);
    storeScalar(cy, 2, y2, alpha, beta); storeScalar(cy, 3, y3, alpha, beta);
    storeScalar(cy, 4, y4, alpha, beta); storeScalar(cy, 5, y5, alpha, beta);
    storeScalar(cy, 6, y6, alpha, beta); storeScalar(cy, 7, y7, alpha, beta);
  }
}

/** c[j] = alpha * acc + beta * c[j], never reading c[j] when beta = 0. */
@inline function storeScalar(c: usize, j: i32, acc: f32, alpha: f32, beta: f32): void {
  const at = ptr(c, j);
  store<f32>(at, beta == 0 ? alpha * acc : alpha * acc + beta * load<f32>(at));
}

@inline function microKernel(kc: i32, ap: usize, bp: usize, alpha: f32, beta: f32, c: usize, ldc: i32): void {
  if (ASC_FEATURE_SIMD) microKernelSimd(kc, ap, bp, alpha, beta, c, ldc);
  else microKernelScalar(kc, ap, bp, alpha, beta, c, ldc);
}

/** All tiles of one packed (mc x kc) * (kc x nc) block, added into C at c (row stride ldc). */
function macroKernel(mc: i32, nc: i32, kc: i32, alpha: f32, pa: usize, pb: usize, beta: f32,
  c: usize, ldc: i32, tile: usize): void {
  for (let jr = 0; jr < nc; jr += NR) {
    const cols = min32(NR, nc - jr);
    const bp = ptr(pb, jr * kc);
    for (let ir = 0; ir < mc; ir += MR) {
      const rows = min32(MR, mc - ir);
      const ap = ptr(pa, ir * kc);
      const cp = ptr(c, ir * ldc + jr);
      if (rows == MR && cols == NR) {
        microKernel(kc, ap, bp, alpha, beta, cp, ldc);
      } else {
        // Edge tile: compute it whole into the scratch tile, then update the valid part.
        microKernel(kc, ap, bp, alpha, 0, tile, NR);
        for (let r = 0; r < rows; r++) {
          for (let j = 0; j < cols; j++) {
            const at = ptr(cp, r * ldc + j);
            const value = load<f32>(ptr(tile, r * NR + j));
            store<f32>(at, beta == 0 ? value : value + beta * load<f32>(at));
          }
        }
      }
    }
  }
}

// ---- vector shapes ------------------------------------------------------------------------------

/**
 * SIMD build, M = 1 or N = 1: y[i * incy] = alpha * sum_p Mat(i, p) x[p] + beta * y[i * incy]
 * with Mat(i, p) at m + (i * rs + p * cs) floats, one of rs, cs being 1, and x contiguous.
 * Packing would cost as much as the product here, so the matrix is streamed directly.
 */
function gemv(rows: i32, K: i32, alpha: f32, m: usize, rs: i32, cs: i32, x: usize, beta: f32, y: usize, incy: i32,
  tile: usize): void {
  if (ASC_FEATURE_SIMD) {
    if (rs == 1) {
      // Rows are contiguous: 16 outputs at a time, one broadcast x[p] per step.
      let i = 0;
      for (; i < rows; i += 16) {
        const live = min32(16, rows - i);
        let acc0 = f32x4.splat(0), acc1 = f32x4.splat(0), acc2 = f32x4.splat(0), acc3 = f32x4.splat(0);
        let col = ptr(m, i);
        const colStep = <usize>cs << 2;
        if (live == 16) {
          for (let p = 0; p < K; p++) {
            const s = v128.load32_splat(ptr(x, p));
            acc0 = f32x4.add(acc0, f32x4.mul(s, v128.load(col)));
            acc1 = f32x4.add(acc1, f32x4.mul(s, v128.load(col, 16)));
            acc2 = f32x4.add(acc2, f32x4.mul(s, v128.load(col, 32)));
            acc3 = f32x4.add(acc3, f32x4.mul(s, v128.load(col, 48)));
            col += colStep;
          }
          v128.store(tile, acc0);
          v128.store(tile, acc1, 16);
          v128.store(tile, acc2, 32);
          v128.store(tile, acc3, 48);
        } else {
          for (let r = 0; r < live; r++) {
            let total: f32 = 0;
            for (let p = 0; p < K; p++) total += load<f32>(ptr(x, p)) * load<f32>(ptr(m, i + r + p * cs));
            store<f32>(ptr(tile, r), total);
          }
        }
        for (let r = 0; r < live; r++) {
          const at = ptr(y, (i + r) * incy);
          const value = alpha * load<f32>(ptr(tile, r));
          store<f32>(at, beta == 0 ? value : value + beta * load<f32>(at));
        }
      }
    } else {
      // Each output is a dot product of a contiguous row with x: 16 terms per step.
      for (let i = 0; i < rows; i++) {
        const row = ptr(m, i * rs);
        let acc0 = f32x4.splat(0), acc1 = f32x4.splat(0), acc2 = f32x4.splat(0), acc3 = f32x4.splat(0);
        let p = 0;
        for (; p + 16 <= K; p += 16) {
          const r = ptr(row, p), v = ptr(x, p);
          acc0 = f32x4.add(acc0, f32x4.mul(v128.load(r), v128.load(v)));
          acc1 = f32x4.add(acc1, f32x4.mul(v128.load(r, 16), v128.load(v, 16)));
          acc2 = f32x4.add(acc2, f32x4.mul(v128.load(r, 32), v128.load(v, 32)));
          acc3 = f32x4.add(acc3, f32x4.mul(v128.load(r, 48), v128.load(v, 48)));
        }
        for (; p + 4 <= K; p += 4) acc0 = f32x4.add(acc0, f32x4.mul(v128.load(ptr(row, p)), v128.load(ptr(x, p))));
        const sum = f32x4.add(f32x4.add(acc0, acc1), f32x4.add(acc2, acc3));
        let total = f32x4.extract_lane(sum, 0) + f32x4.extract_lane(sum, 1) +
          f32x4.extract_lane(sum, 2) + f32x4.extract_lane(sum, 3);
        for (; p < K; p++) total += load<f32>(ptr(row, p)) * load<f32>(ptr(x, p));
        const at = ptr(y, i * incy);
        store<f32>(at, beta == 0 ? alpha * total : alpha * total + beta * load<f32>(at));
      }
    }
  }
}

/** K = 0: C = beta * C (zeros when beta = 0). */
function scaleC(M: i32, N: i32, beta: f32, c: usize, ldc: i32): void {
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      const at = ptr(c, i * ldc + j);
      store<f32>(at, beta == 0 ? <f32>0 : beta * load<f32>(at));
    }
  }
}

// ---- entry points -----------------------------------------------------------------------------

/** True when op(A) op(B) takes the streaming matrix-vector path (SIMD build, M = 1 or N = 1). */
export function isVectorShape(M: i32, N: i32): bool {
  return ASC_FEATURE_SIMD && (M == 1 || N == 1);
}

/**
 * Bytes of scratch gemmWith needs for an M x N x K product (or any block of its rows or
 * columns) on the path `vectorShape` chooses.
 */
export function gemmScratchBytes(vectorShape: bool, M: i32, N: i32, K: i32): usize {
  if (M <= 0 || N <= 0 || K <= 0) return 0;
  if (vectorShape) return <usize>(K + 16) << 2;
  // Split K into equal slices of at most KC so no slice is a sliver.
  const kSlices = (K + KC - 1) / KC;
  const kcMax = (K + kSlices - 1) / kSlices;
  const mcMax = roundUp(min32(M, MC), MR);
  const ncMax = roundUp(min32(N, NC), NR);
  return <usize>(mcMax * kcMax + kcMax * ncMax + MR * NR) << 2;
}

/**
 * The general form used by other kernels (conv): leading dimensions lda, ldb, ldc in
 * elements. op(A) is M x K: A[i*lda + p], or A[p*lda + i] when transA.
 * op(B) is K x N: B[p*ldb + j], or B[j*ldb + p] when transB.
 */
export function gemm(transA: bool, transB: bool, M: i32, N: i32, K: i32, alpha: f32,
  a: usize, lda: i32, b: usize, ldb: i32, beta: f32, c: usize, ldc: i32): void {
  if (M <= 0 || N <= 0) return;
  const vectorShape = isVectorShape(M, N);
  const scratch = K <= 0 ? 0 : ensureScratch(gemmScratchBytes(vectorShape, M, N, K));
  gemmWith(vectorShape, transA, transB, M, N, K, alpha, a, lda, b, ldb, beta, c, ldc, scratch);
}

/**
 * gemm with its scratch given (at least gemmScratchBytes) and the path chosen by the caller:
 * a block of rows or columns of a larger product passes the whole product's `vectorShape`,
 * so that every element of C is summed in the same order however the product is split.
 */
export function gemmWith(vectorShape: bool, transA: bool, transB: bool, M: i32, N: i32, K: i32, alpha: f32,
  a: usize, lda: i32, b: usize, ldb: i32, beta: f32, c: usize, ldc: i32, scratch: usize): void {
  if (M <= 0 || N <= 0) return;
  if (K <= 0) {
    scaleC(M, N, beta, c, ldc);
    return;
  }
  // No separate path for tiny sizes: even at 8 x 8 x 8 packing plus the micro-kernel is
  // several times faster than a direct triple loop.
  if (vectorShape) {
    // Copy the vector operand to contiguous scratch, then stream the matrix operand.
    const base = scratch;
    const x = ptr(base, 16);
    if (M == 1) {
      for (let p = 0; p < K; p++) store<f32>(ptr(x, p), load<f32>(ptr(a, transA ? p * lda : p)));
      gemv(N, K, alpha, b, transB ? ldb : 1, transB ? 1 : ldb, x, beta, c, 1, base);
    } else {
      for (let p = 0; p < K; p++) store<f32>(ptr(x, p), load<f32>(ptr(b, transB ? p : p * ldb)));
      gemv(M, K, alpha, a, transA ? 1 : lda, transA ? lda : 1, x, beta, c, ldc, base);
    }
    return;
  }
  // Split K into equal slices of at most KC so no slice is a sliver.
  const kSlices = (K + KC - 1) / KC;
  const kcMax = (K + kSlices - 1) / kSlices;
  const mcMax = roundUp(min32(M, MC), MR);
  const tileFloats = MR * NR;
  const base = scratch;
  const tile = base;
  const pa = ptr(base, tileFloats);
  const pb = ptr(pa, mcMax * kcMax);

  for (let jc = 0; jc < N; jc += NC) {
    const nc = min32(NC, N - jc);
    for (let pc = 0; pc < K; pc += kcMax) {
      const kc = min32(kcMax, K - pc);
      // Later slices accumulate onto what the first slice wrote.
      const sliceBeta: f32 = pc == 0 ? beta : 1;
      packB(transB, b, ldb, pc, jc, kc, nc, pb);
      for (let ic = 0; ic < M; ic += MC) {
        const mc = min32(MC, M - ic);
        packA(transA, a, lda, ic, pc, mc, kc, pa);
        macroKernel(mc, nc, kc, alpha, pa, pb, sliceBeta, ptr(c, ic * ldc + jc), ldc, tile);
      }
    }
  }
}

export function matmul(transA: i32, transB: i32, M: i32, N: i32, K: i32, alpha: f32,
  a: usize, b: usize, beta: f32, c: usize): void {
  gemm(transA != 0, transB != 0, M, N, K, alpha, a, transA ? M : K, b, transB ? K : N, beta, c, N);
}

export function matmulBatched(batch: i32, transA: i32, transB: i32, M: i32, N: i32, K: i32, alpha: f32,
  a: usize, strideA: i32, b: usize, strideB: i32, beta: f32, c: usize, strideC: i32): void {
  for (let i = 0; i < batch; i++) {
    matmul(transA, transB, M, N, K, alpha,
      a + ((<usize>i * strideA) << 2), b + ((<usize>i * strideB) << 2), beta, c + ((<usize>i * strideC) << 2));
  }
}
