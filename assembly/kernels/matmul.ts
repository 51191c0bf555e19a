// Matrix multiply C = alpha * op(A) * op(B) + beta * C (row-major).
// Correct but slow placeholder version; replaced by the packed, register-tiled kernel.

/**
 * The general form used by other kernels (conv): leading dimensions lda, ldb, ldc in
 * elements. op(A) is M x K: A[i*lda + p], or A[p*lda + i] when transA.
 * op(B) is K x N: B[p*ldb + j], or B[j*ldb + p] when transB.
 */
export function gemm(transA: bool, transB: bool, M: i32, N: i32, K: i32, alpha: f32,
  a: usize, lda: i32, b: usize, ldb: i32, beta: f32, c: usize, ldc: i32): void {
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let total: f32 = 0;
      for (let p = 0; p < K; p++) {
        const av = transA ? load<f32>(a + ((<usize>p * lda + i) << 2)) : load<f32>(a + ((<usize>i * lda + p) << 2));
        const bv = transB ? load<f32>(b + ((<usize>j * ldb + p) << 2)) : load<f32>(b + ((<usize>p * ldb + j) << 2));
        total += av * bv;
      }
      const cp = c + ((<usize>i * ldc + j) << 2);
      store<f32>(cp, alpha * total + (beta == 0 ? <f32>0 : beta * load<f32>(cp)));
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
