// Distances between query rows and memory rows in float64, computed directly from their
// definitions (never through the matmul identity the f32 kernels use), so they serve as
// the oracle for those kernels. `masks` null means every weight is 1.

/** out[b, i] = sum_k w[b, k] |q[b, k] - m[i, k]|^power for power 1 or 2. */
export function distances(mem: Float64Array, power: 1 | 2, batch: number, n: number, d: number, queries: number,
  masks: number | null, maskStride: number, memory: number, out: number): void {
  for (let b = 0; b < batch; b++) {
    const q = queries + b * d;
    const w = masks === null ? -1 : masks + b * maskStride;
    for (let i = 0; i < n; i++) {
      const m = memory + i * d;
      let total = 0;
      for (let k = 0; k < d; k++) {
        const e = Math.abs(mem[q + k] - mem[m + k]);
        const term = power === 1 ? e : e * e;
        total += w < 0 ? term : mem[w + k] * term;
      }
      mem[out + b * n + i] = total;
    }
  }
}
