// Max and average pooling (NCHW) and their vector-Jacobian products.
// Windows are clipped to the image: padding never wins a max and adds zero to a mean (the
// mean still divides by kernelHeight * kernelWidth). The max is the FIRST maximum in
// row-major window order, compared with `>`, so that forward and backward agree; the SIMD
// path uses f32x4.pmax (b if a < b, else a), which keeps the same first-wins rule.
import { scaleBy } from "./common";

@inline function outSize(input: i32, kernel: i32, stride: i32, pad: i32): i32 {
  const span = input + 2 * pad - kernel;
  return span < 0 ? 0 : span / stride + 1;
}


/** True for 2x2 windows with stride 2 and no padding: the SIMD fast path. */
@inline function isPair(kH: i32, kW: i32, sH: i32, sW: i32, pH: i32, pW: i32): bool {
  return kH == 2 && kW == 2 && sH == 2 && sW == 2 && pH == 0 && pW == 0;
}

/** Byte offset of the first maximum of the 2x2 window at (2*oy, 2*ox) (no clipping needed). */
@inline function pairMaxOffset(plane: usize, W: i32, oy: i32, ox: i32): i32 {
  const at = ((2 * oy) * W + 2 * ox) << 2;
  let best = at;
  let bestValue = load<f32>(plane + <usize>at);
  let v = load<f32>(plane + <usize>at, 4);
  if (v > bestValue) { bestValue = v; best = at + 4; }
  v = load<f32>(plane + <usize>(at + (W << 2)));
  if (v > bestValue) { bestValue = v; best = at + (W << 2); }
  v = load<f32>(plane + <usize>(at + (W << 2)), 4);
  if (v > bestValue) best = at + (W << 2) + 4;
  return best;
}

/**
 * Byte offset (into one plane) of the first maximum of window (oy, ox), or -1 when the window
 * holds no pixel. The window is clipped to the image.
 */
@inline function firstMaxOffset(plane: usize, H: i32, W: i32, kH: i32, kW: i32, sH: i32, sW: i32,
  pH: i32, pW: i32, oy: i32, ox: i32): i32 {
  const y0 = max(oy * sH - pH, 0), y1 = min(oy * sH - pH + kH, H);
  const x0 = max(ox * sW - pW, 0), x1 = min(ox * sW - pW + kW, W);
  if (y0 >= y1 || x0 >= x1) return -1;
  let best = (y0 * W + x0) << 2;
  let bestValue = load<f32>(plane + <usize>best);
  for (let iy = y0; iy < y1; iy++) {
    for (let ix = x0; ix < x1; ix++) {
      const at = (iy * W + ix) << 2;
      const v = load<f32>(plane + <usize>at);
      if (v > bestValue) {
        bestValue = v;
        best = at;
      }
    }
  }
  return best;
}

export function maxPool2d(batch: i32, channels: i32, inHeight: i32, inWidth: i32, kernelHeight: i32,
  kernelWidth: i32, strideHeight: i32, strideWidth: i32, padHeight: i32, padWidth: i32, x: usize, y: usize): void {
  const H = inHeight, W = inWidth;
  const OH = outSize(H, kernelHeight, strideHeight, padHeight);
  const OW = outSize(W, kernelWidth, strideWidth, padWidth);
  const planes = batch * channels;
  const pair = isPair(kernelHeight, kernelWidth, strideHeight, strideWidth, padHeight, padWidth);
  for (let c = 0; c < planes; c++) {
    const plane = x + ((<usize>c * H * W) << 2);
    const out = y + ((<usize>c * OH * OW) << 2);
    for (let oy = 0; oy < OH; oy++) {
      const yRow = out + ((<usize>oy * OW) << 2);
      let ox = 0;
      if (ASC_FEATURE_SIMD) {
        if (pair) {
          // 4 outputs from 8 columns of two rows: split even and odd columns, then take the
          // max in window order (0,0), (0,1), (1,0), (1,1).
          const r0 = plane + ((<usize>(2 * oy) * W) << 2);
          const r1 = r0 + (<usize>W << 2);
          for (; 2 * ox + 8 <= W && ox + 4 <= OW; ox += 4) {
            const at = <usize>(2 * ox) << 2;
            const a0 = v128.load(r0 + at), a1 = v128.load(r0 + at, 16);
            const b0 = v128.load(r1 + at), b1 = v128.load(r1 + at, 16);
            let m = f32x4.shuffle(a0, a1, 0, 2, 4, 6);
            m = f32x4.pmax(m, f32x4.shuffle(a0, a1, 1, 3, 5, 7));
            m = f32x4.pmax(m, f32x4.shuffle(b0, b1, 0, 2, 4, 6));
            m = f32x4.pmax(m, f32x4.shuffle(b0, b1, 1, 3, 5, 7));
            v128.store(yRow + (<usize>ox << 2), m);
          }
        }
      }
      for (; ox < OW; ox++) {
        const at = pair ? pairMaxOffset(plane, W, oy, ox) : firstMaxOffset(plane, H, W, kernelHeight, kernelWidth,
          strideHeight, strideWidth, padHeight, padWidth, oy, ox);
        store<f32>(yRow + (<usize>ox << 2), at < 0 ? -Infinity : load<f32>(plane + <usize>at));
      }
    }
  }
}

export function maxPool2dBackward(batch: i32, channels: i32, inHeight: i32, inWidth: i32, kernelHeight: i32,
  kernelWidth: i32, strideHeight: i32, strideWidth: i32, padHeight: i32, padWidth: i32,
  x: usize, dy: usize, beta: f32, dx: usize): void {
  const H = inHeight, W = inWidth;
  const OH = outSize(H, kernelHeight, strideHeight, padHeight);
  const OW = outSize(W, kernelWidth, strideWidth, padWidth);
  const planes = batch * channels;
  scaleBy(<usize>planes * H * W, beta, dx);
  const pair = isPair(kernelHeight, kernelWidth, strideHeight, strideWidth, padHeight, padWidth);
  for (let c = 0; c < planes; c++) {
    const plane = x + ((<usize>c * H * W) << 2);
    const grad = dx + ((<usize>c * H * W) << 2);
    const dyPlane = dy + ((<usize>c * OH * OW) << 2);
    for (let oy = 0; oy < OH; oy++) {
      const dyRow = dyPlane + ((<usize>oy * OW) << 2);
      let ox = 0;
      if (ASC_FEATURE_SIMD) {
        if (pair) {
          // Windows do not overlap: each input gets dy where it is the window's first max,
          // else 0, written back interleaved.
          const r0 = (<usize>(2 * oy) * W) << 2;
          const r1 = r0 + (<usize>W << 2);
          for (; 2 * ox + 8 <= W && ox + 4 <= OW; ox += 4) {
            const at = <usize>(2 * ox) << 2;
            const a0 = v128.load(plane + r0 + at), a1 = v128.load(plane + r0 + at, 16);
            const b0 = v128.load(plane + r1 + at), b1 = v128.load(plane + r1 + at, 16);
            const v00 = f32x4.shuffle(a0, a1, 0, 2, 4, 6), v01 = f32x4.shuffle(a0, a1, 1, 3, 5, 7);
            const v10 = f32x4.shuffle(b0, b1, 0, 2, 4, 6), v11 = f32x4.shuffle(b0, b1, 1, 3, 5, 7);
            // Running first max: a later element wins only when strictly greater.
            let m = v00;
            const t01 = f32x4.gt(v01, m);
            m = v128.bitselect(v01, m, t01);
            const t10 = f32x4.gt(v10, m);
            m = v128.bitselect(v10, m, t10);
            const t11 = f32x4.gt(v11, m);
            // Winner masks: each element wins if chosen and not overtaken later.
            const w11 = t11;
            const w10 = v128.andnot(t10, t11);
            const w01 = v128.andnot(v128.andnot(t01, t10), t11);
            const w00 = v128.not(v128.or(v128.or(t01, t10), t11));
            const g = v128.load(dyRow + (<usize>ox << 2));
            const g00 = v128.and(g, w00), g01 = v128.and(g, w01);
            const g10 = v128.and(g, w10), g11 = v128.and(g, w11);
            const p0 = grad + r0 + at, p1 = grad + r1 + at;
            v128.store(p0, f32x4.add(v128.load(p0), f32x4.shuffle(g00, g01, 0, 4, 1, 5)));
            v128.store(p0, f32x4.add(v128.load(p0, 16), f32x4.shuffle(g00, g01, 2, 6, 3, 7)), 16);
            v128.store(p1, f32x4.add(v128.load(p1), f32x4.shuffle(g10, g11, 0, 4, 1, 5)));
            v128.store(p1, f32x4.add(v128.load(p1, 16), f32x4.shuffle(g10, g11, 2, 6, 3, 7)), 16);
          }
        }
      }
      for (; ox < OW; ox++) {
        const at = pair ? pairMaxOffset(plane, W, oy, ox) : firstMaxOffset(plane, H, W, kernelHeight, kernelWidth,
          strideHeight, strideWidth, padHeight, padWidth, oy, ox);
        if (at < 0) continue;
        const p = grad + <usize>at;
        store<f32>(p, load<f32>(p) + load<f32>(dyRow + (<usize>ox << 2)));
      }
    }
  }
}

export function avgPool2d(batch: i32, channels: i32, inHeight: i32, inWidth: i32, kernelHeight: i32,
  kernelWidth: i32, strideHeight: i32, strideWidth: i32, padHeight: i32, padWidth: i32, x: usize, y: usize): void {
  const H = inHeight, W = inWidth, kH = kernelHeight, kW = kernelWidth;
  const sH = strideHeight, sW = strideWidth, pH = padHeight, pW = padWidth;
  const OH = outSize(H, kH, sH, pH);
  const OW = outSize(W, kW, sW, pW);
  const planes = batch * channels;
  const inv: f32 = 1 / <f32>(kH * kW);
  const pair = isPair(kH, kW, sH, sW, pH, pW);
  for (let c = 0; c < planes; c++) {
    const plane = x + ((<usize>c * H * W) << 2);
    const out = y + ((<usize>c * OH * OW) << 2);
    for (let oy = 0; oy < OH; oy++) {
      const yRow = out + ((<usize>oy * OW) << 2);
      let ox = 0;
      if (ASC_FEATURE_SIMD) {
        if (pair) {
          const r0 = plane + ((<usize>(2 * oy) * W) << 2);
          const r1 = r0 + (<usize>W << 2);
          const vinv = f32x4.splat(inv);
          for (; 2 * ox + 8 <= W && ox + 4 <= OW; ox += 4) {
            const at = <usize>(2 * ox) << 2;
            // Adjacent column pairs summed: rows first, then even + odd lanes.
            const s0 = f32x4.add(v128.load(r0 + at), v128.load(r1 + at));
            const s1 = f32x4.add(v128.load(r0 + at, 16), v128.load(r1 + at, 16));
            const sum = f32x4.add(f32x4.shuffle(s0, s1, 0, 2, 4, 6), f32x4.shuffle(s0, s1, 1, 3, 5, 7));
            v128.store(yRow + (<usize>ox << 2), f32x4.mul(sum, vinv));
          }
        }
      }
      if (pair) {
        for (; ox < OW; ox++) {
          const p0 = plane + ((<usize>((2 * oy) * W + 2 * ox)) << 2), p1 = p0 + (<usize>W << 2);
          const total = (load<f32>(p0) + load<f32>(p1)) + (load<f32>(p0, 4) + load<f32>(p1, 4));
          store<f32>(yRow + (<usize>ox << 2), total * inv);
        }
      }
      for (; ox < OW; ox++) {
        const y0 = max(oy * sH - pH, 0), y1 = min(oy * sH - pH + kH, H);
        const x0 = max(ox * sW - pW, 0), x1 = min(ox * sW - pW + kW, W);
        let total: f32 = 0;
        for (let iy = y0; iy < y1; iy++) {
          const row = plane + ((<usize>iy * W) << 2);
          for (let ix = x0; ix < x1; ix++) total += load<f32>(row + (<usize>ix << 2));
        }
        store<f32>(yRow + (<usize>ox << 2), total * inv);
      }
    }
  }
}

export function avgPool2dBackward(batch: i32, channels: i32, inHeight: i32, inWidth: i32, kernelHeight: i32,
  kernelWidth: i32, strideHeight: i32, strideWidth: i32, padHeight: i32, padWidth: i32,
  dy: usize, beta: f32, dx: usize): void {
  const H = inHeight, W = inWidth, kH = kernelHeight, kW = kernelWidth;
  const sH = strideHeight, sW = strideWidth, pH = padHeight, pW = padWidth;
  const OH = outSize(H, kH, sH, pH);
  const OW = outSize(W, kW, sW, pW);
  const planes = batch * channels;
  scaleBy(<usize>planes * H * W, beta, dx);
  const inv: f32 = 1 / <f32>(kH * kW);
  const pair = isPair(kH, kW, sH, sW, pH, pW);
  for (let c = 0; c < planes; c++) {
    const grad = dx + ((<usize>c * H * W) << 2);
    const dyPlane = dy + ((<usize>c * OH * OW) << 2);
    for (let oy = 0; oy < OH; oy++) {
      const dyRow = dyPlane + ((<usize>oy * OW) << 2);
      let ox = 0;
      if (ASC_FEATURE_SIMD) {
        if (pair) {
          const p0row = grad + ((<usize>(2 * oy) * W) << 2);
          const p1row = p0row + (<usize>W << 2);
          const vinv = f32x4.splat(inv);
          for (; 2 * ox + 8 <= W && ox + 4 <= OW; ox += 4) {
            const g = f32x4.mul(v128.load(dyRow + (<usize>ox << 2)), vinv);
            // Each output's share goes to both columns of its window: lanes g0 g0 g1 g1 | g2 g2 g3 g3.
            const lo = f32x4.shuffle(g, g, 0, 0, 1, 1);
            const hi = f32x4.shuffle(g, g, 2, 2, 3, 3);
            const at = <usize>(2 * ox) << 2;
            const p0 = p0row + at, p1 = p1row + at;
            v128.store(p0, f32x4.add(v128.load(p0), lo));
            v128.store(p0, f32x4.add(v128.load(p0, 16), hi), 16);
            v128.store(p1, f32x4.add(v128.load(p1), lo));
            v128.store(p1, f32x4.add(v128.load(p1, 16), hi), 16);
          }
        }
      }
      if (pair) {
        for (; ox < OW; ox++) {
          const share = load<f32>(dyRow + (<usize>ox << 2)) * inv;
          const p0 = grad + ((<usize>((2 * oy) * W + 2 * ox)) << 2), p1 = p0 + (<usize>W << 2);
          store<f32>(p0, load<f32>(p0) + share);
          store<f32>(p0, load<f32>(p0, 4) + share, 4);
          store<f32>(p1, load<f32>(p1) + share);
          store<f32>(p1, load<f32>(p1, 4) + share, 4);
        }
      }
      for (; ox < OW; ox++) {
        const share = load<f32>(dyRow + (<usize>ox << 2)) * inv;
        const y0 = max(oy * sH - pH, 0), y1 = min(oy * sH - pH + kH, H);
        const x0 = max(ox * sW - pW, 0), x1 = min(ox * sW - pW + kW, W);
        for (let iy = y0; iy < y1; iy++) {
          const row = grad + ((<usize>iy * W) << 2);
          for (let ix = x0; ix < x1; ix++) {
            const p = row + (<usize>ix << 2);
            store<f32>(p, load<f32>(p) + share);
          }
        }
      }
    }
  }
}
