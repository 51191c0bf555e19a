// Elementwise kernels over f32 arrays (n elements). Vector main loop of 4 lanes, scalar tail.

export function fill(n: i32, value: f32, out: usize): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const v = f32x4.splat(value);
    for (; i + 4 <= n; i += 4) v128.store(out + (<usize>i << 2), v);
  }
  for (; i < n; i++) store<f32>(out + (<usize>i << 2), value);
}
