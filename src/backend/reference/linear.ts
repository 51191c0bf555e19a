// Reference matmul: the textbook triple loop in float64.
import type { Address } from "../kernels.js";

export function matmul(mem: Float64Array, transA: boolean, transB: boolean, m: number, n: number, k: number,
  alpha: number, a: Address, b: Address, beta: number, c: Address): void {
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let total = 0;
      for (let p = 0; p < k; p++) {
        const aij = transA ? mem[a + p * m + i] : mem[a + i * k + p];
        const bij = transB ? mem[b + j * k + p] : mem[b + p * n + j];
        total += aij * bij;
      }
      const previous = beta === 0 ? 0 : beta * mem[c + i * n + j];
      mem[c + i * n + j] = alpha * total + previous;
    }
  }
}
