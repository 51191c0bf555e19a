// 2-D convolution (NCHW) with its two vector-Jacobian products, and the bias kernels.
//
// Implicit GEMM: each image is copied once into zero-padded planes split by stride phase,
// so that for every kernel tap the input pixels read by consecutive output columns are
// consecutive in memory. A tap k = (ic, ky, kx) is then just a byte offset offs[k] into those
// planes, and one output row of all output channels is a small GEMM over taps computed
// straight from the planes (no im2col matrix), with weights packed in panels of 4 channels:
//   forward            y[oc, oy, ox]  = sum_k w[oc, k] * planes[offs[k] + oy*Wq + ox]
//   backward weights   dw[oc, k]     += sum_{oy,ox} dy[oc, oy, ox] * planes[offs[k] + oy*Wq + ox]
//   backward input     (stride 1) the forward pass of dy with the flipped, transposed kernel;
//                      otherwise gemm (W^T dy) followed by col2im.
import { gemmScratchBytes, gemmWith, isVectorShape } from "./matmul";
import { CONV_SCRATCH, scaleBy, scratchBlock } from "./common";

// ---- scratch memory ---------------------------------------------------------------------

/** One scratch block of at least `bytes`, kept between calls and grown when too small. */
@inline function scratch(bytes: usize): usize {
  return scratchBlock(CONV_SCRATCH, bytes);
}

@inline function align16(bytes: usize): usize {
  return (bytes + 15) & ~(<usize>15);
}

/** Output length of a convolution axis (0 when the dilated kernel does not fit). */
@inline function outSize(input: i32, kernel: i32, stride: i32, pad: i32, dilation: i32): i32 {
  const span = input + 2 * pad - dilation * (kernel - 1) - 1;
  return span < 0 ? 0 : span / stride + 1;
}


@inline function storeBeta(p: usize, value: f32, beta: f32): void {
  store<f32>(p, beta == 0 ? value : value + beta * load<f32>(p));
}

// ---- layout helpers ---------------------------------------------------------------------

/** Copies n floats (a short row: a plain loop beats a memory.copy call). */
@inline function copyRow(dst: usize, src: usize, n: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    for (; i + 4 <= n; i += 4) v128.store(dst + (<usize>i << 2), v128.load(src + (<usize>i << 2)));
  }
  for (; i < n; i++) store<f32>(dst + (<usize>i << 2), load<f32>(src + (<usize>i << 2)));
}

/**
 * Copies `channels` planes of H x W into padded planes split by stride phase: for channel c
 * and phase (py, px), row qy / column qx holds the padded pixel (qy*sH + py, qx*sW + px),
 * i.e. input pixel (qy*sH + py - pH, qx*sW + px - pW). Only pixels of the image are written,
 * always to the same places, so the padding zeroed by zeroPhases stays zero between images.
 */
function fillPhases(src: usize, channels: i32, H: i32, W: i32, sH: i32, sW: i32, pH: i32, pW: i32,
  Hq: i32, Wq: i32, dst: usize): void {
  for (let c = 0; c < channels; c++) {
    for (let iy = 0; iy < H; iy++) {
      const ry = iy + pH;
      const rowSrc = src + ((<usize>(c * H + iy) * W) << 2);
      const planeRow = (c * sH + ry % sH) * sW; // phase index without the column phase
      if (sW == 1) {
        copyRow(dst + ((<usize>(planeRow * Hq + ry / sH) * Wq + pW) << 2), rowSrc, W);
      } else {
        for (let ix = 0; ix < W; ix++) {
          const rx = ix + pW;
          const at = (<usize>((planeRow + rx % sW) * Hq + ry / sH) * Wq + rx / sW) << 2;
          store<f32>(dst + at, load<f32>(rowSrc + (<usize>ix << 2)));
        }
      }
    }
  }
}

/** Zeroes the phase planes of `channels` channels once per call (their padding). */
@inline function zeroPhases(channels: i32, sH: i32, sW: i32, Hq: i32, Wq: i32, dst: usize): void {
  memory.fill(dst, 0, (<usize>channels * sH * sW * Hq * Wq) << 2);
}

/** Byte offset of every tap k = (ic, ky, kx) into the phase planes of fillPhases. */
function tapOffsets(inPerGroup: i32, kH: i32, kW: i32, sH: i32, sW: i32, dH: i32, dW: i32,
  Hq: i32, Wq: i32, offs: usize): void {
  let k = 0;
  for (let ic = 0; ic < inPerGroup; ic++) {
    for (let ky = 0; ky < kH; ky++) {
      const ry = ky * dH;
      for (let kx = 0; kx < kW; kx++) {
        const rx = kx * dW;
        const phase = (ic * sH + ry % sH) * sW + rx % sW;
        store<i32>(offs + (<usize>k << 2), ((phase * Hq + ry / sH) * Wq + rx / sW) << 2);
        k++;
      }
    }
  }
}

/**
 * Packs each group's weights [rows, K] into panels of 4 rows, tap-major:
 * panel t holds weight(4t + i, k) at [k*4 + i]; rows past the end are zero.
 * With `flip`, the weights are those of the transposed problem of the input derivative:
 * weight(r, k) for k = (o, ky, kx) is w[o, r, kH-1-ky, kW-1-kx] of the original kernel,
 * which has `inner` = K / taps output channels per group and `rows` input channels.
 */
function packWeights(w: usize, groups: i32, rows: i32, K: i32, taps: i32, flip: bool, dst: usize): void {
  const panels = (rows + 3) >> 2;
  memory.fill(dst, 0, (<usize>groups * panels * K * 4) << 2);
  for (let g = 0; g < groups; g++) {
    for (let r = 0; r < rows; r++) {
      const panel = dst + ((<usize>((g * panels + (r >> 2)) * K * 4 + (r & 3))) << 2);
      for (let k = 0; k < K; k++) {
        let index: i32;
        if (flip) {
          const o = k / taps;
          index = ((g * (K / taps) + o) * rows + r) * taps + (taps - 1 - k % taps);
        } else {
          index = (g * rows + r) * K + k;
        }
        store<f32>(panel + (<usize>k << 4), load<f32>(w + (<usize>index << 2)));
      }
    }
  }
}

// ---- forward micro-kernels --------------------------------------------------------------

/** sum_k weight[k] * src[offs[k]], weights `wStride` bytes apart. */
function dotTaps(pw: usize, wStride: usize, K: i32, src: usize, offs: usize): f32 {
  let total: f32 = 0;
  for (let k = 0; k < K; k++) {
    total += load<f32>(pw) * load<f32>(src + <usize>load<i32>(offs + (<usize>k << 2)));
    pw += wStride;
  }
  return total;
}

/** 4 output channels x 8 columns; `pa` is a packed panel. */
@inline function tile4x8(pa: usize, K: i32, src: usize, offs: usize, y: usize, ys: usize, beta: f32): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0), c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0), c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  const end = offs + (<usize>K << 2);
  while (offs < end) {
    const pb = src + <usize>load<i32>(offs);
    const b0 = v128.load(pb);
    const b1 = v128.load(pb, 16);
    let a = v128.load32_splat(pa);
    c00 = f32x4.add(c00, f32x4.mul(a, b0));
    c01 = f32x4.add(c01, f32x4.mul(a, b1));
    a = v128.load32_splat(pa, 4);
    c10 = f32x4.add(c10, f32x4.mul(a, b0));
    c11 = f32x4.add(c11, f32x4.mul(a, b1));
    a = v128.load32_splat(pa, 8);
    c20 = f32x4.add(c20, f32x4.mul(a, b0));
    c21 = f32x4.add(c21, f32x4.mul(a, b1));
    a = v128.load32_splat(pa, 12);
    c30 = f32x4.add(c30, f32x4.mul(a, b0));
    c31 = f32x4.add(c31, f32x4.mul(a, b1));
    pa += 16;
    offs += 4;
  }
  if (beta != 0) {
    const vb = f32x4.splat(beta);
    c00 = f32x4.add(c00, f32x4.mul(vb, v128.load(y)));
    c01 = f32x4.add(c01, f32x4.mul(vb, v128.load(y, 16)));
    c10 = f32x4.add(c10, f32x4.mul(vb, v128.load(y + ys)));
    c11 = f32x4.add(c11, f32x4.mul(vb, v128.load(y + ys, 16)));
    c20 = f32x4.add(c20, f32x4.mul(vb, v128.load(y + 2 * ys)));
    c21 = f32x4.add(c21, f32x4.mul(vb, v128.load(y + 2 * ys, 16)));
    c30 = f32x4.add(c30, f32x4.mul(vb, v128.load(y + 3 * ys)));
    c31 = f32x4.add(c31, f32x4.mul(vb, v128.load(y + 3 * ys, 16)));
  }
  v128.store(y, c00);
  v128.store(y, c01, 16);
  v128.store(y + ys, c10);
  v128.store(y + ys, c11, 16);
  v128.store(y + 2 * ys, c20);
  v128.store(y + 2 * ys, c21, 16);
  v128.store(y + 3 * ys, c30);
  v128.store(y + 3 * ys, c31, 16);
}

/** 4 output channels x 4 columns. */
@inline function tile4x4(pa: usize, K: i32, src: usize, offs: usize, y: usize, ys: usize, beta: f32): void {
  let c0 = f32x4.splat(0), c1 = f32x4.splat(0), c2 = f32x4.splat(0), c3 = f32x4.splat(0);
  const end = offs + (<usize>K << 2);
  while (offs < end) {
    const b = v128.load(src + <usize>load<i32>(offs));
    c0 = f32x4.add(c0, f32x4.mul(v128.load32_splat(pa), b));
    c1 = f32x4.add(c1, f32x4.mul(v128.load32_splat(pa, 4), b));
    c2 = f32x4.add(c2, f32x4.mul(v128.load32_splat(pa, 8), b));
    c3 = f32x4.add(c3, f32x4.mul(v128.load32_splat(pa, 12), b));
    pa += 16;
    offs += 4;
  }
  if (beta != 0) {
    const vb = f32x4.splat(beta);
    c0 = f32x4.add(c0, f32x4.mul(vb, v128.load(y)));
    c1 = f32x4.add(c1, f32x4.mul(vb, v128.load(y + ys)));
    c2 = f32x4.add(c2, f32x4.mul(vb, v128.load(y + 2 * ys)));
    c3 = f32x4.add(c3, f32x4.mul(vb, v128.load(y + 3 * ys)));
  }
  v128.store(y, c0);
  v128.store(y + ys, c1);
  v128.store(y + 2 * ys, c2);
  v128.store(y + 3 * ys, c3);
}

/** 1 output channel x 16 columns; weights 16 bytes apart (a panel lane). */
@inline function tile1x16(pa: usize, K: i32, src: usize, offs: usize, y: usize, beta: f32): void {
  let c0 = f32x4.splat(0), c1 = f32x4.splat(0), c2 = f32x4.splat(0), c3 = f32x4.splat(0);
  const end = offs + (<usize>K << 2);
  while (offs < end) {
    const pb = src + <usize>load<i32>(offs);
    const a = v128.load32_splat(pa);
    c0 = f32x4.add(c0, f32x4.mul(a, v128.load(pb)));
    c1 = f32x4.add(c1, f32x4.mul(a, v128.load(pb, 16)));
    c2 = f32x4.add(c2, f32x4.mul(a, v128.load(pb, 32)));
    c3 = f32x4.add(c3, f32x4.mul(a, v128.load(pb, 48)));
    pa += 16;
    offs += 4;
  }
  if (beta != 0) {
    const vb = f32x4.splat(beta);
    c0 = f32x4.add(c0, f32x4.mul(vb, v128.load(y)));
    c1 = f32x4.add(c1, f32x4.mul(vb, v128.load(y, 16)));
    c2 = f32x4.add(c2, f32x4.mul(vb, v128.load(y, 32)));
    c3 = f32x4.add(c3, f32x4.mul(vb, v128.load(y, 48)));
  }
  v128.store(y, c0);
  v128.store(y, c1, 16);
  v128.store(y, c2, 32);
  v128.store(y, c3, 48);
}

/** 1 output channel x 12 columns. */
@inline function tile1x12(pa: usize, K: i32, src: usize, offs: usize, y: usize, beta: f32): void {
  let c0 = f32x4.splat(0), c1 = f32x4.splat(0), c2 = f32x4.splat(0);
  const end = offs + (<usize>K << 2);
  while (offs < end) {
    const pb = src + <usize>load<i32>(offs);
    const a = v128.load32_splat(pa);
    c0 = f32x4.add(c0, f32x4.mul(a, v128.load(pb)));
    c1 = f32x4.add(c1, f32x4.mul(a, v128.load(pb, 16)));
    c2 = f32x4.add(c2, f32x4.mul(a, v128.load(pb, 32)));
    pa += 16;
    offs += 4;
  }
  if (beta != 0) {
    const vb = f32x4.splat(beta);
    c0 = f32x4.add(c0, f32x4.mul(vb, v128.load(y)));
    c1 = f32x4.add(c1, f32x4.mul(vb, v128.load(y, 16)));
    c2 = f32x4.add(c2, f32x4.mul(vb, v128.load(y, 32)));
  }
  v128.store(y, c0);
  v128.store(y, c1, 16);
  v128.store(y, c2, 32);
}

/** 1 output channel x 8 columns. */
@inline function tile1x8(pa: usize, K: i32, src: usize, offs: usize, y: usize, beta: f32): void {
  let c0 = f32x4.splat(0), c1 = f32x4.splat(0);
  const end = offs + (<usize>K << 2);
  while (offs < end) {
    const pb = src + <usize>load<i32>(offs);
    const a = v128.load32_splat(pa);
    c0 = f32x4.add(c0, f32x4.mul(a, v128.load(pb)));
    c1 = f32x4.add(c1, f32x4.mul(a, v128.load(pb, 16)));
    pa += 16;
    offs += 4;
  }
  if (beta != 0) {
    const vb = f32x4.splat(beta);
    c0 = f32x4.add(c0, f32x4.mul(vb, v128.load(y)));
    c1 = f32x4.add(c1, f32x4.mul(vb, v128.load(y, 16)));
  }
  v128.store(y, c0);
  v128.store(y, c1, 16);
}

/** 1 output channel x 4 columns. */
@inline function tile1x4(pa: usize, K: i32, src: usize, offs: usize, y: usize, beta: f32): void {
  let c0 = f32x4.splat(0);
  const end = offs + (<usize>K << 2);
  while (offs < end) {
    c0 = f32x4.add(c0, f32x4.mul(v128.load32_splat(pa), v128.load(src + <usize>load<i32>(offs))));
    pa += 16;
    offs += 4;
  }
  if (beta != 0) c0 = f32x4.add(c0, f32x4.mul(f32x4.splat(beta), v128.load(y)));
  v128.store(y, c0);
}

/**
 * One output row (`width` columns) of `rows` output channels:
 * y[r, j] = sum_k weight(r, k) * src[offs[k] + j] + beta * y[r, j], with weights in packed
 * panels at `pw` and output channels `ys` bytes apart.
 */
function convRow(pw: usize, K: i32, rows: i32, src: usize, offs: usize, width: i32, y: usize, ys: usize, beta: f32): void {
  const panelBytes = <usize>K << 4;
  let r = 0;
  if (ASC_FEATURE_SIMD) {
    for (; r + 4 <= rows; r += 4) {
      const pa = pw + <usize>(r >> 2) * panelBytes;
      const yr = y + <usize>r * ys;
      let j = 0;
      for (; j + 8 <= width; j += 8) tile4x8(pa, K, src + (<usize>j << 2), offs, yr + (<usize>j << 2), ys, beta);
      for (; j + 4 <= width; j += 4) tile4x4(pa, K, src + (<usize>j << 2), offs, yr + (<usize>j << 2), ys, beta);
      for (; j < width; j++) {
        for (let i = 0; i < 4; i++) {
          const value = dotTaps(pa + (<usize>i << 2), 16, K, src + (<usize>j << 2), offs);
          storeBeta(yr + <usize>i * ys + (<usize>j << 2), value, beta);
        }
      }
    }
  }
  for (; r < rows; r++) {
    const pa = pw + <usize>(r >> 2) * panelBytes + (<usize>(r & 3) << 2);
    const yr = y + <usize>r * ys;
    let j = 0;
    if (ASC_FEATURE_SIMD) {
      for (; j + 16 <= width; j += 16) tile1x16(pa, K, src + (<usize>j << 2), offs, yr + (<usize>j << 2), beta);
      const left = width - j;
      if (left >= 12) tile1x12(pa, K, src + (<usize>j << 2), offs, yr + (<usize>j << 2), beta);
      else if (left >= 8) tile1x8(pa, K, src + (<usize>j << 2), offs, yr + (<usize>j << 2), beta);
      else if (left >= 4) tile1x4(pa, K, src + (<usize>j << 2), offs, yr + (<usize>j << 2), beta);
      j += left & ~3;
    }
    for (; j < width; j++) {
      storeBeta(yr + (<usize>j << 2), dotTaps(pa, 16, K, src + (<usize>j << 2), offs), beta);
    }
  }
}

/**
 * The forward convolution of the given geometry. With `flip`, `w` holds the kernel of the
 * original problem whose input derivative this is (see packWeights).
 */
function forwardCore(batch: i32, IC: i32, H: i32, W: i32, OC: i32, kH: i32, kW: i32, sH: i32, sW: i32,
  pH: i32, pW: i32, dH: i32, dW: i32, groups: i32, x: usize, w: usize, flip: bool, beta: f32, y: usize): void {
  const OH = outSize(H, kH, sH, pH, dH);
  const OW = outSize(W, kW, sW, pW, dW);
  if (OH <= 0 || OW <= 0) return;
  const preparedBytes = convForwardPreparedBytes(IC, OC, kH, kW, groups);
  const prepared = scratch(preparedBytes + convForwardScratchBytes(IC, H, W, sH, sW, pH, pW));
  convForwardPrepare(IC, H, W, OC, kH, kW, sH, sW, pH, pW, dH, dW, groups, w, flip, prepared);
  convForwardRows(batch, IC, H, W, OC, kH, kW, sH, sW, pH, pW, dH, dW, groups, x, prepared, beta, y,
    0, batch * OH, prepared + preparedBytes);
}

/** A 1x1-style case with no padding and stride 1 reads the input directly (no phase planes). */
@inline function readsDirectly(sH: i32, sW: i32, pH: i32, pW: i32): bool {
  return sH == 1 && sW == 1 && pH == 0 && pW == 0;
}

/** Bytes of the tap offsets and packed weights convForwardPrepare writes. */
export function convForwardPreparedBytes(IC: i32, OC: i32, kH: i32, kW: i32, groups: i32): usize {
  const K = IC / groups * kH * kW;
  const panels = (OC / groups + 3) >> 2;
  return align16(<usize>K << 2) + ((<usize>groups * panels * K) << 4);
}

/** Bytes of the phase planes one caller of convForwardRows needs (0 when it reads the input directly). */
export function convForwardScratchBytes(IC: i32, H: i32, W: i32, sH: i32, sW: i32, pH: i32, pW: i32): usize {
  if (readsDirectly(sH, sW, pH, pW)) return 0;
  const Hq = (H + 2 * pH + sH - 1) / sH;
  const Wq = (W + 2 * pW + sW - 1) / sW;
  return (<usize>IC * sH * sW * Hq * Wq) << 2;
}

/** Writes the tap offsets and the packed weights every block of output rows reads. */
export function convForwardPrepare(IC: i32, H: i32, W: i32, OC: i32, kH: i32, kW: i32, sH: i32, sW: i32,
  pH: i32, pW: i32, dH: i32, dW: i32, groups: i32, w: usize, flip: bool, prepared: usize): void {
  const inPerGroup = IC / groups;
  const K = inPerGroup * kH * kW;
  const direct = readsDirectly(sH, sW, pH, pW);
  const Hq = direct ? H : (H + 2 * pH + sH - 1) / sH;
  const Wq = direct ? W : (W + 2 * pW + sW - 1) / sW;
  tapOffsets(inPerGroup, kH, kW, sH, sW, dH, dW, Hq, Wq, prepared);
  packWeights(w, groups, OC / groups, K, kH * kW, flip, prepared + align16(<usize>K << 2));
}

/**
 * Output rows u in [rowStart, rowEnd) of the forward convolution, counting the rows of all
 * images in turn (u = n * OH + oy), from the prepared weights; `planes` is this caller's
 * scratch (convForwardScratchBytes). Every output element is summed in the same order
 * whatever the range.
 */
export function convForwardRows(batch: i32, IC: i32, H: i32, W: i32, OC: i32, kH: i32, kW: i32, sH: i32, sW: i32,
  pH: i32, pW: i32, dH: i32, dW: i32, groups: i32, x: usize, prepared: usize, beta: f32, y: usize,
  rowStart: i32, rowEnd: i32, planes: usize): void {
  const OH = outSize(H, kH, sH, pH, dH);
  const OW = outSize(W, kW, sW, pW, dW);
  if (OH <= 0 || OW <= 0 || rowStart >= rowEnd) return;
  const inPerGroup = IC / groups;
  const outPerGroup = OC / groups;
  const K = inPerGroup * kH * kW;
  const panels = (outPerGroup + 3) >> 2;
  const direct = readsDirectly(sH, sW, pH, pW);
  const Hq = direct ? H : (H + 2 * pH + sH - 1) / sH;
  const Wq = direct ? W : (W + 2 * pW + sW - 1) / sW;
  const channelBytes = (<usize>sH * sW * Hq * Wq) << 2;
  const offs = prepared;
  const packed = prepared + align16(<usize>K << 2);

  const P = <usize>OH * OW;
  const ys = P << 2;
  if (!direct) zeroPhases(IC, sH, sW, Hq, Wq, planes);
  for (let n = rowStart / OH; n <= (rowEnd - 1) / OH; n++) {
    const first = max(rowStart - n * OH, 0);
    const last = min(rowEnd - n * OH, OH);
    const image = x + ((<usize>n * IC * H * W) << 2);
    let src = image;
    if (!direct) {
      fillPhases(image, IC, H, W, sH, sW, pH, pW, Hq, Wq, planes);
      src = planes;
    }
    for (let g = 0; g < groups; g++) {
      const gsrc = src + <usize>(g * inPerGroup) * channelBytes;
      const gw = packed + ((<usize>g * panels * K) << 4);
      const gy = y + <usize>(n * OC + g * outPerGroup) * ys;
      for (let oy = first; oy < last; oy++) {
        convRow(gw, K, outPerGroup, gsrc + ((<usize>oy * Wq) << 2), offs, OW, gy + ((<usize>oy * OW) << 2), ys, beta);
      }
    }
  }
}

// ---- weight-derivative micro-kernels ----------------------------------------------------

/** sum over oy < OH, x0 <= ox < OW of dy[oy*OW + ox] * src[oy*Wq + ox]. */
function dotRows(dy: usize, src: usize, OH: i32, OW: i32, Wq: i32, x0: i32): f32 {
  let total: f32 = 0;
  for (let oy = 0; oy < OH; oy++) {
    const d = dy + ((<usize>oy * OW) << 2);
    const s = src + ((<usize>oy * Wq) << 2);
    for (let ox = x0; ox < OW; ox++) total += load<f32>(d + (<usize>ox << 2)) * load<f32>(s + (<usize>ox << 2));
  }
  return total;
}

@inline function hsum(v: v128): f32 {
  return (f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1)) + (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3));
}

/**
 * Interleaves 4 rows of dy (rows past `rows` repeat the last one) for the vector part of each
 * output row: tile[((oy * vectors + v) * 4 + i) * 4 + lane] = dy[r + i, oy, 4v + lane].
 */
function packGradRows(dy: usize, rowBytes: usize, rows: i32, r: i32, OH: i32, OW: i32, vectors: i32, tile: usize): void {
  for (let i = 0; i < 4; i++) {
    const src = dy + <usize>min(r + i, rows - 1) * rowBytes;
    let out = tile + (<usize>i << 4);
    for (let oy = 0; oy < OH; oy++) {
      const row = src + ((<usize>oy * OW) << 2);
      for (let v = 0; v < vectors; v++) {
        v128.store(out, v128.load(row + (<usize>v << 4)));
        out += 64;
      }
    }
  }
}

/**
 * dw[r, k] += sum_{oy,ox} dy[r, oy, ox] * src[offs[k] + oy*Wq + ox] for one image and group;
 * `tile` is scratch for 4 interleaved dy rows (OH * (OW / 4) * 16 floats).
 */
function gradImage(dy: usize, P: usize, src: usize, offs: usize, K: i32, rows: i32, OH: i32, OW: i32, Wq: i32,
  tile: usize, dw: usize): void {
  const rowBytes = P << 2;
  if (ASC_FEATURE_SIMD) {
    const vectors = OW >> 2;
    const OW4 = vectors << 2;
    const srcRowBytes = <usize>Wq << 2;
    // Tiles of 4 output channels x 2 taps; rows or taps past the end repeat the last one
    // and their sums are dropped.
    for (let r = 0; r < rows; r += 4) {
      if (vectors > 0) packGradRows(dy, rowBytes, rows, r, OH, OW, vectors, tile);
      for (let k = 0; k < K; k += 2) {
        const k1 = min(k + 1, K - 1);
        let b0row = src + <usize>load<i32>(offs + (<usize>k << 2));
        let b1row = src + <usize>load<i32>(offs + (<usize>k1 << 2));
        let a00 = f32x4.splat(0), a01 = f32x4.splat(0), a10 = f32x4.splat(0), a11 = f32x4.splat(0);
        let a20 = f32x4.splat(0), a21 = f32x4.splat(0), a30 = f32x4.splat(0), a31 = f32x4.splat(0);
        let pd = tile;
        for (let oy = 0; oy < OH; oy++) {
          let pb0 = b0row, pb1 = b1row;
          const pdEnd = pd + (<usize>vectors << 6);
          while (pd < pdEnd) {
            const b0 = v128.load(pb0);
            const b1 = v128.load(pb1);
            let d = v128.load(pd);
            a00 = f32x4.add(a00, f32x4.mul(d, b0));
            a01 = f32x4.add(a01, f32x4.mul(d, b1));
            d = v128.load(pd, 16);
            a10 = f32x4.add(a10, f32x4.mul(d, b0));
            a11 = f32x4.add(a11, f32x4.mul(d, b1));
            d = v128.load(pd, 32);
            a20 = f32x4.add(a20, f32x4.mul(d, b0));
            a21 = f32x4.add(a21, f32x4.mul(d, b1));
            d = v128.load(pd, 48);
            a30 = f32x4.add(a30, f32x4.mul(d, b0));
            a31 = f32x4.add(a31, f32x4.mul(d, b1));
            pb0 += 16;
            pb1 += 16;
            pd += 64;
          }
          b0row += srcRowBytes;
          b1row += srcRowBytes;
        }
        addTile(dw, K, rows, r, k, k1, hsum(a00), hsum(a01), dy, rowBytes, src, offs, OH, OW, Wq, OW4);
        addTile(dw, K, rows, r + 1, k, k1, hsum(a10), hsum(a11), dy, rowBytes, src, offs, OH, OW, Wq, OW4);
        addTile(dw, K, rows, r + 2, k, k1, hsum(a20), hsum(a21), dy, rowBytes, src, offs, OH, OW, Wq, OW4);
        addTile(dw, K, rows, r + 3, k, k1, hsum(a30), hsum(a31), dy, rowBytes, src, offs, OH, OW, Wq, OW4);
      }
    }
    return;
  }
  for (let r = 0; r < rows; r++) {
    for (let k = 0; k < K; k++) {
      const o = src + <usize>load<i32>(offs + (<usize>k << 2));
      const p = dw + ((<usize>(r * K + k)) << 2);
      store<f32>(p, load<f32>(p) + dotRows(dy + <usize>r * rowBytes, o, OH, OW, Wq, 0));
    }
  }
}

/** Adds one row's pair of tap sums (plus the columns past the last full vector) into dw. */
@inline function addTile(dw: usize, K: i32, rows: i32, r: i32, k: i32, k1: i32, s0: f32, s1: f32,
  dy: usize, rowBytes: usize, src: usize, offs: usize, OH: i32, OW: i32, Wq: i32, OW4: i32): void {
  if (r >= rows) return;
  const d = dy + <usize>r * rowBytes;
  if (OW4 < OW) {
    s0 += dotRows(d, src + <usize>load<i32>(offs + (<usize>k << 2)), OH, OW, Wq, OW4);
    if (k1 != k) s1 += dotRows(d, src + <usize>load<i32>(offs + (<usize>k1 << 2)), OH, OW, Wq, OW4);
  }
  const p = dw + ((<usize>(r * K + k)) << 2);
  store<f32>(p, load<f32>(p) + s0);
  if (k1 != k) store<f32>(p + 4, load<f32>(p + 4) + s1);
}

// ---- input derivative, general case: gemm then col2im -----------------------------------

/** dx[ic, iy, ix] += col[(ic, ky, kx), (oy, ox)] for every tap that reads a real pixel. */
function col2im(col: usize, inPerGroup: i32, H: i32, W: i32, kH: i32, kW: i32, sH: i32, sW: i32,
  pH: i32, pW: i32, dH: i32, dW: i32, OH: i32, OW: i32, dx: usize): void {
  let row = col;
  for (let ic = 0; ic < inPerGroup; ic++) {
    const plane = dx + ((<usize>ic * H * W) << 2);
    for (let ky = 0; ky < kH; ky++) {
      for (let kx = 0; kx < kW; kx++) {
        for (let oy = 0; oy < OH; oy++) {
          const iy = oy * sH - pH + ky * dH;
          if (iy < 0 || iy >= H) continue;
          const colRow = row + ((<usize>oy * OW) << 2);
          const dxRow = plane + ((<usize>iy * W) << 2);
          for (let ox = 0; ox < OW; ox++) {
            const ix = ox * sW - pW + kx * dW;
            if (ix < 0 || ix >= W) continue;
            const p = dxRow + (<usize>ix << 2);
            store<f32>(p, load<f32>(p) + load<f32>(colRow + (<usize>ox << 2)));
          }
        }
        row += (<usize>OH * OW) << 2;
      }
    }
  }
}

// ---- exports ----------------------------------------------------------------------------

/** y = conv2d(x, w) + beta * y. */
export function conv2d(batch: i32, inChannels: i32, inHeight: i32, inWidth: i32, outChannels: i32,
  kernelHeight: i32, kernelWidth: i32, strideHeight: i32, strideWidth: i32, padHeight: i32, padWidth: i32,
  dilationHeight: i32, dilationWidth: i32, groups: i32, x: usize, w: usize, beta: f32, y: usize): void {
  forwardCore(batch, inChannels, inHeight, inWidth, outChannels, kernelHeight, kernelWidth,
    strideHeight, strideWidth, padHeight, padWidth, dilationHeight, dilationWidth, groups, x, w, false, beta, y);
}

/** dx = conv2d_transpose(dy, w) + beta * dx. */
export function conv2dBackwardInput(batch: i32, inChannels: i32, inHeight: i32, inWidth: i32, outChannels: i32,
  kernelHeight: i32, kernelWidth: i32, strideHeight: i32, strideWidth: i32, padHeight: i32, padWidth: i32,
  dilationHeight: i32, dilationWidth: i32, groups: i32, dy: usize, w: usize, beta: f32, dx: usize): void {
  if (convBackwardInputByForward(inHeight, inWidth, kernelHeight, kernelWidth, strideHeight, strideWidth,
    padHeight, padWidth, dilationHeight, dilationWidth)) {
    const OH = outSize(inHeight, kernelHeight, strideHeight, padHeight, dilationHeight);
    const OW = outSize(inWidth, kernelWidth, strideWidth, padWidth, dilationWidth);
    forwardCore(batch, outChannels, OH, OW, inChannels, kernelHeight, kernelWidth, 1, 1,
      dilationHeight * (kernelHeight - 1) - padHeight, dilationWidth * (kernelWidth - 1) - padWidth,
      dilationHeight, dilationWidth, groups, dy, w, true, beta, dx);
    return;
  }
  const bytes = convBackwardInputScratchBytes(inChannels, inHeight, inWidth, outChannels, kernelHeight, kernelWidth,
    strideHeight, strideWidth, padHeight, padWidth, dilationHeight, dilationWidth, groups);
  convBackwardInputImages(batch, inChannels, inHeight, inWidth, outChannels, kernelHeight, kernelWidth,
    strideHeight, strideWidth, padHeight, padWidth, dilationHeight, dilationWidth, groups, dy, w, beta, dx,
    0, batch, bytes == 0 ? 0 : scratch(bytes));
}

/**
 * True when the input derivative is a forward convolution: with stride 1, dx is the
 * correlation of dy, padded by dilation*(k-1) - pad, with the flipped, transposed kernel
 * (a forward convolution from outChannels to inChannels), and needs an output to exist.
 */
export function convBackwardInputByForward(inHeight: i32, inWidth: i32, kernelHeight: i32, kernelWidth: i32,
  strideHeight: i32, strideWidth: i32, padHeight: i32, padWidth: i32, dilationHeight: i32, dilationWidth: i32): bool {
  const OH = outSize(inHeight, kernelHeight, strideHeight, padHeight, dilationHeight);
  const OW = outSize(inWidth, kernelWidth, strideWidth, padWidth, dilationWidth);
  return OH > 0 && OW > 0 && strideHeight == 1 && strideWidth == 1 &&
    dilationHeight * (kernelHeight - 1) - padHeight >= 0 && dilationWidth * (kernelWidth - 1) - padWidth >= 0;
}

/** Scratch bytes of convBackwardInputImages: one column matrix [K, OH*OW] and gemm's packing. */
export function convBackwardInputScratchBytes(inChannels: i32, inHeight: i32, inWidth: i32, outChannels: i32,
  kernelHeight: i32, kernelWidth: i32, strideHeight: i32, strideWidth: i32, padHeight: i32, padWidth: i32,
  dilationHeight: i32, dilationWidth: i32, groups: i32): usize {
  const OH = outSize(inHeight, kernelHeight, strideHeight, padHeight, dilationHeight);
  const OW = outSize(inWidth, kernelWidth, strideWidth, padWidth, dilationWidth);
  if (OH <= 0 || OW <= 0) return 0;
  const K = inChannels / groups * kernelHeight * kernelWidth;
  const P = OH * OW;
  return align16((<usize>K * P) << 2) + gemmScratchBytes(isVectorShape(K, P), K, P, outChannels / groups);
}

/**
 * The general input derivative (gemm then col2im) for images [imageStart, imageEnd), each
 * written in full: dx_n = beta dx_n + col2im(W^T dy_n). `scratch` holds
 * convBackwardInputScratchBytes.
 */
export function convBackwardInputImages(batch: i32, inChannels: i32, inHeight: i32, inWidth: i32, outChannels: i32,
  kernelHeight: i32, kernelWidth: i32, strideHeight: i32, strideWidth: i32, padHeight: i32, padWidth: i32,
  dilationHeight: i32, dilationWidth: i32, groups: i32, dy: usize, w: usize, beta: f32, dx: usize,
  imageStart: i32, imageEnd: i32, scratch: usize): void {
  const OH = outSize(inHeight, kernelHeight, strideHeight, padHeight, dilationHeight);
  const OW = outSize(inWidth, kernelWidth, strideWidth, padWidth, dilationWidth);
  const imageCount = <usize>inChannels * inHeight * inWidth;
  scaleBy(<usize>(imageEnd - imageStart) * imageCount, beta, dx + ((<usize>imageStart * imageCount) << 2));
  if (OH <= 0 || OW <= 0) return;
  const inPerGroup = inChannels / groups;
  const outPerGroup = outChannels / groups;
  const K = inPerGroup * kernelHeight * kernelWidth;
  const P = <usize>OH * OW;
  const col = scratch;
  const packing = scratch + align16((<usize>K * P) << 2);
  const vectorShape = isVectorShape(K, <i32>P);
  for (let n = imageStart; n < imageEnd; n++) {
    for (let g = 0; g < groups; g++) {
      // col[K, P] = W_g^T [K, outPerGroup] * dy_g [outPerGroup, P]
      gemmWith(vectorShape, true, false, K, <i32>P, outPerGroup, 1, w + ((<usize>g * outPerGroup * K) << 2), K,
        dy + ((<usize>(n * outChannels + g * outPerGroup) * P) << 2), <i32>P, 0, col, <i32>P, packing);
      col2im(col, inPerGroup, inHeight, inWidth, kernelHeight, kernelWidth, strideHeight, strideWidth,
        padHeight, padWidth, dilationHeight, dilationWidth, OH, OW,
        dx + ((<usize>(n * inChannels + g * inPerGroup) * inHeight * inWidth) << 2));
    }
  }
}

/** dw = (d y / d w)^T dy + beta * dw. */
export function conv2dBackwardWeights(batch: i32, inChannels: i32, inHeight: i32, inWidth: i32, outChannels: i32,
  kernelHeight: i32, kernelWidth: i32, strideHeight: i32, strideWidth: i32, padHeight: i32, padWidth: i32,
  dilationHeight: i32, dilationWidth: i32, groups: i32, x: usize, dy: usize, beta: f32, dw: usize): void {
  const bytes = convBackwardWeightsScratchBytes(inChannels, inHeight, inWidth, outChannels, kernelHeight, kernelWidth,
    strideHeight, strideWidth, padHeight, padWidth, dilationHeight, dilationWidth, groups);
  convBackwardWeightsRows(batch, inChannels, inHeight, inWidth, outChannels, kernelHeight, kernelWidth,
    strideHeight, strideWidth, padHeight, padWidth, dilationHeight, dilationWidth, groups, x, dy, beta, dw,
    0, 0, outChannels, bytes == 0 ? 0 : scratch(bytes));
}

/**
 * The zero-padded phase planes of images [imageStart, imageEnd) (see fillPhases), image n at
 * planes + n * convForwardScratchBytes: filled once, then read by every block of rows of
 * convBackwardWeightsRows. `_scratch` is unused (the planes are the output).
 */
export function convFillPhasePlanes(inChannels: i32, inHeight: i32, inWidth: i32, strideHeight: i32, strideWidth: i32,
  padHeight: i32, padWidth: i32, x: usize, planes: usize, imageStart: i32, imageEnd: i32, _scratch: usize): void {
  const sH = strideHeight, sW = strideWidth, pH = padHeight, pW = padWidth;
  const Hq = (inHeight + 2 * pH + sH - 1) / sH;
  const Wq = (inWidth + 2 * pW + sW - 1) / sW;
  const imagePlaneBytes = convForwardScratchBytes(inChannels, inHeight, inWidth, sH, sW, pH, pW);
  for (let n = imageStart; n < imageEnd; n++) {
    const dst = planes + <usize>n * imagePlaneBytes;
    zeroPhases(inChannels, sH, sW, Hq, Wq, dst);
    fillPhases(x + ((<usize>n * inChannels * inHeight * inWidth) << 2), inChannels, inHeight, inWidth, sH, sW, pH, pW, Hq, Wq, dst);
  }
}

/** Scratch bytes of convBackwardWeightsRows: tap offsets, phase planes and the dy tile. */
export function convBackwardWeightsScratchBytes(inChannels: i32, inHeight: i32, inWidth: i32, outChannels: i32,
  kernelHeight: i32, kernelWidth: i32, strideHeight: i32, strideWidth: i32, padHeight: i32, padWidth: i32,
  dilationHeight: i32, dilationWidth: i32, groups: i32): usize {
  const OH = outSize(inHeight, kernelHeight, strideHeight, padHeight, dilationHeight);
  const OW = outSize(inWidth, kernelWidth, strideWidth, padWidth, dilationWidth);
  if (OH <= 0 || OW <= 0) return 0;
  const K = inChannels / groups * kernelHeight * kernelWidth;
  return align16(<usize>K << 2) +
    convForwardScratchBytes(inChannels, inHeight, inWidth, strideHeight, strideWidth, padHeight, padWidth) +
    ((<usize>OH * (OW >> 2)) << 6);
}

/**
 * Rows [rowStart, rowEnd) of dw (output channels), each summed over every image:
 * dw[r] = beta dw[r] + sum_n (d y_n / d w[r])^T dy_n. The batch is the reduction, so it is
 * never split; any split of the rows gives the same bits. `scratch` holds
 * convBackwardWeightsScratchBytes. `filled`, when not 0, holds every image's phase planes
 * already (convFillPhasePlanes; image n at n * convForwardScratchBytes), so that callers
 * splitting the rows do not each fill them again.
 */
export function convBackwardWeightsRows(batch: i32, inChannels: i32, inHeight: i32, inWidth: i32, outChannels: i32,
  kernelHeight: i32, kernelWidth: i32, strideHeight: i32, strideWidth: i32, padHeight: i32, padWidth: i32,
  dilationHeight: i32, dilationWidth: i32, groups: i32, x: usize, dy: usize, beta: f32, dw: usize, filled: usize,
  rowStart: i32, rowEnd: i32, scratch: usize): void {
  const inPerGroup = inChannels / groups;
  const outPerGroup = outChannels / groups;
  const K = inPerGroup * kernelHeight * kernelWidth;
  scaleBy(<usize>(rowEnd - rowStart) * K, beta, dw + ((<usize>rowStart * K) << 2));
  const OH = outSize(inHeight, kernelHeight, strideHeight, padHeight, dilationHeight);
  const OW = outSize(inWidth, kernelWidth, strideWidth, padWidth, dilationWidth);
  if (OH <= 0 || OW <= 0 || rowStart >= rowEnd) return;
  const sH = strideHeight, sW = strideWidth, pH = padHeight, pW = padWidth;
  const direct = readsDirectly(sH, sW, pH, pW);
  const Hq = direct ? inHeight : (inHeight + 2 * pH + sH - 1) / sH;
  const Wq = direct ? inWidth : (inWidth + 2 * pW + sW - 1) / sW;
  const channelBytes = (<usize>sH * sW * Hq * Wq) << 2;
  const offs = scratch;
  const planes = offs + align16(<usize>K << 2);
  const tile = planes + convForwardScratchBytes(inChannels, inHeight, inWidth, sH, sW, pH, pW);
  tapOffsets(inPerGroup, kernelHeight, kernelWidth, sH, sW, dilationHeight, dilationWidth, Hq, Wq, offs);
  const P = <usize>OH * OW;
  const imagePlaneBytes = <usize>inChannels * channelBytes;
  if (!direct && filled == 0) zeroPhases(inChannels, sH, sW, Hq, Wq, planes);
  const firstGroup = rowStart / outPerGroup;
  const lastGroup = (rowEnd - 1) / outPerGroup;
  for (let n = 0; n < batch; n++) {
    const image = x + ((<usize>n * inChannels * inHeight * inWidth) << 2);
    let src = image;
    if (!direct && filled != 0) {
      src = filled + <usize>n * imagePlaneBytes;
    } else if (!direct) {
      fillPhases(image, inChannels, inHeight, inWidth, sH, sW, pH, pW, Hq, Wq, planes);
      src = planes;
    }
    for (let g = firstGroup; g <= lastGroup; g++) {
      const r0 = max(rowStart, g * outPerGroup);
      const r1 = min(rowEnd, (g + 1) * outPerGroup);
      gradImage(dy + ((<usize>(n * outChannels + r0) * P) << 2), P,
        src + <usize>(g * inPerGroup) * channelBytes, offs, K, r1 - r0, OH, OW, Wq, tile,
        dw + ((<usize>r0 * K) << 2));
    }
  }
}

/** y[o, c, i] += bias[c] for y viewed as [outer, channels, inner]. */
export function biasAdd(outer: i32, channels: i32, inner: i32, bias: usize, y: usize): void {
  let p = y;
  if (inner == 1) {
    // Dense layout: each row of y gets the whole bias vector.
    for (let o = 0; o < outer; o++) {
      let c = 0;
      if (ASC_FEATURE_SIMD) {
        for (; c + 4 <= channels; c += 4) {
          const q = p + (<usize>c << 2);
          v128.store(q, f32x4.add(v128.load(q), v128.load(bias + (<usize>c << 2))));
        }
      }
      for (; c < channels; c++) {
        const q = p + (<usize>c << 2);
        store<f32>(q, load<f32>(q) + load<f32>(bias + (<usize>c << 2)));
      }
      p += <usize>channels << 2;
    }
    return;
  }
  for (let o = 0; o < outer; o++) {
    for (let c = 0; c < channels; c++) {
      const b = load<f32>(bias + (<usize>c << 2));
      let i = 0;
      if (ASC_FEATURE_SIMD) {
        const vb = f32x4.splat(b);
        for (; i + 4 <= inner; i += 4) {
          const q = p + (<usize>i << 2);
          v128.store(q, f32x4.add(v128.load(q), vb));
        }
      }
      for (; i < inner; i++) {
        const q = p + (<usize>i << 2);
        store<f32>(q, load<f32>(q) + b);
      }
      p += <usize>inner << 2;
    }
  }
}

/** db[c] = sum over o, i of dy[o, c, i] + beta * db[c]. */
export function biasGrad(outer: i32, channels: i32, inner: i32, dy: usize, beta: f32, db: usize): void {
  biasGradChannels(outer, channels, inner, dy, beta, db, 0, channels);
}

/**
 * biasGrad for channels [channelStart, channelEnd) only: the sum over `outer` is never split,
 * and each channel's sum is the same whatever the range.
 */
export function biasGradChannels(outer: i32, channels: i32, inner: i32, dy: usize, beta: f32, db: usize,
  channelStart: i32, channelEnd: i32): void {
  const rowBytes = (<usize>channels * inner) << 2;
  if (inner == 1) {
    let c = channelStart;
    if (ASC_FEATURE_SIMD) {
      // Column sums of a dense [outer, channels] matrix, 4 channels at a time.
      for (; c + 4 <= channelEnd; c += 4) {
        let acc = f32x4.splat(0);
        let p = dy + (<usize>c << 2);
        for (let o = 0; o < outer; o++) {
          acc = f32x4.add(acc, v128.load(p));
          p += rowBytes;
        }
        const q = db + (<usize>c << 2);
        if (beta != 0) acc = f32x4.add(acc, f32x4.mul(f32x4.splat(beta), v128.load(q)));
        v128.store(q, acc);
      }
    }
    for (; c < channelEnd; c++) {
      let total: f32 = 0;
      let p = dy + (<usize>c << 2);
      for (let o = 0; o < outer; o++) {
        total += load<f32>(p);
        p += rowBytes;
      }
      storeBeta(db + (<usize>c << 2), total, beta);
    }
    return;
  }
  for (let c = channelStart; c < channelEnd; c++) {
    let total: f32 = 0;
    for (let o = 0; o < outer; o++) {
      const p = dy + <usize>o * rowBytes + ((<usize>c * inner) << 2);
      let i = 0;
      if (ASC_FEATURE_SIMD) {
        let acc = f32x4.splat(0);
        for (; i + 4 <= inner; i += 4) acc = f32x4.add(acc, v128.load(p + (<usize>i << 2)));
        total += hsum(acc);
      }
      for (; i < inner; i++) total += load<f32>(p + (<usize>i << 2));
    }
    storeBeta(db + (<usize>c << 2), total, beta);
  }
}
