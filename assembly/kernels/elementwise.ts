// Elementwise kernels over f32 arrays of n elements. Pointers are byte offsets; every
// kernel reads element i before writing it, so `out` may alias an input.
// Vector main loop of 4 lanes (SIMD build only), scalar tail (and whole loop in the
// scalar build).

/** Byte offset of element i. */
// @ts-ignore: decorator
@inline function at(i: i32): usize {
  return <usize>i << 2;
}

export function add(n: i32, a: usize, b: usize, out: usize): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    for (; i + 4 <= n; i += 4) v128.store(out + at(i), f32x4.add(v128.load(a + at(i)), v128.load(b + at(i))));
  }
  for (; i < n; i++) store<f32>(out + at(i), load<f32>(a + at(i)) + load<f32>(b + at(i)));
}

export function sub(n: i32, a: usize, b: usize, out: usize): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    for (; i + 4 <= n; i += 4) v128.store(out + at(i), f32x4.sub(v128.load(a + at(i)), v128.load(b + at(i))));
  }
  for (; i < n; i++) store<f32>(out + at(i), load<f32>(a + at(i)) - load<f32>(b + at(i)));
}

export function mul(n: i32, a: usize, b: usize, out: usize): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    for (; i + 4 <= n; i += 4) v128.store(out + at(i), f32x4.mul(v128.load(a + at(i)), v128.load(b + at(i))));
  }
  for (; i < n; i++) store<f32>(out + at(i), load<f32>(a + at(i)) * load<f32>(b + at(i)));
}

export function div(n: i32, a: usize, b: usize, out: usize): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    for (; i + 4 <= n; i += 4) v128.store(out + at(i), f32x4.div(v128.load(a + at(i)), v128.load(b + at(i))));
  }
  for (; i < n; i++) store<f32>(out + at(i), load<f32>(a + at(i)) / load<f32>(b + at(i)));
}

/** out = alpha * x */
export function scale(n: i32, alpha: f32, x: usize, out: usize): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const va = f32x4.splat(alpha);
    for (; i + 4 <= n; i += 4) v128.store(out + at(i), f32x4.mul(va, v128.load(x + at(i))));
  }
  for (; i < n; i++) store<f32>(out + at(i), alpha * load<f32>(x + at(i)));
}

/** y += alpha * x */
export function axpy(n: i32, alpha: f32, x: usize, y: usize): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const va = f32x4.splat(alpha);
    for (; i + 8 <= n; i += 8) {
      const p = at(i);
      v128.store(y + p, f32x4.add(v128.load(y + p), f32x4.mul(va, v128.load(x + p))));
      v128.store(y + p + 16, f32x4.add(v128.load(y + p + 16), f32x4.mul(va, v128.load(x + p + 16))));
    }
    for (; i + 4 <= n; i += 4) v128.store(y + at(i), f32x4.add(v128.load(y + at(i)), f32x4.mul(va, v128.load(x + at(i)))));
  }
  for (; i < n; i++) store<f32>(y + at(i), load<f32>(y + at(i)) + alpha * load<f32>(x + at(i)));
}

/** y = alpha * x + beta * y; with beta = 0 the old y is never read (it may hold NaN). */
export function axpby(n: i32, alpha: f32, x: usize, beta: f32, y: usize): void {
  if (beta == 0) {
    scale(n, alpha, x, y);
    return;
  }
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const va = f32x4.splat(alpha);
    const vb = f32x4.splat(beta);
    for (; i + 4 <= n; i += 4) {
      v128.store(y + at(i), f32x4.add(f32x4.mul(va, v128.load(x + at(i))), f32x4.mul(vb, v128.load(y + at(i)))));
    }
  }
  for (; i < n; i++) store<f32>(y + at(i), alpha * load<f32>(x + at(i)) + beta * load<f32>(y + at(i)));
}

export function fill(n: i32, value: f32, out: usize): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const v = f32x4.splat(value);
    for (; i + 4 <= n; i += 4) v128.store(out + at(i), v);
  }
  for (; i < n; i++) store<f32>(out + at(i), value);
}

/** dst = src for n elements (overlapping ranges are handled like memmove). */
export function copy(n: i32, src: usize, dst: usize): void {
  if (n > 0) memory.copy(dst, src, at(n));
}

/** Copies a rows x cols block; strides are in elements. */
export function copy2d(rows: i32, cols: i32, src: usize, srcStride: i32, dst: usize, dstStride: i32): void {
  if (cols <= 0) return;
  for (let r = 0; r < rows; r++) {
    memory.copy(dst + at(r * dstStride), src + at(r * srcStride), at(cols));
  }
}

/** out = min(max(x, lo), hi); NaN in x stays NaN, as with Math.min/Math.max. */
export function clamp(n: i32, lo: f32, hi: f32, x: usize, out: usize): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const vlo = f32x4.splat(lo);
    const vhi = f32x4.splat(hi);
    for (; i + 4 <= n; i += 4) v128.store(out + at(i), f32x4.min(f32x4.max(v128.load(x + at(i)), vlo), vhi));
  }
  for (; i < n; i++) store<f32>(out + at(i), min<f32>(max<f32>(load<f32>(x + at(i)), lo), hi));
}
