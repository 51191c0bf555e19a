// Helpers shared by kernel families (not exported from the module).

/** out = beta * out over n floats, where beta = 0 clears (ignoring NaN contents). */
export function scaleBy(n: usize, beta: f32, out: usize): void {
  if (beta == 0) {
    memory.fill(out, 0, n << 2);
    return;
  }
  if (beta == 1) return;
  for (let i: usize = 0; i < n; i++) {
    const p = out + (i << 2);
    store<f32>(p, beta * load<f32>(p));
  }
}
