// The kernels module of the threaded backend: the closed list of exports every thread
// (the main thread and each worker) instantiates over one shared memory. Each export computes
// one block of an output: elementwise, row and plane kernels take a sub-range through their
// pointers and counts, the others a [start, end) range of output rows, columns or channels.
// A block never splits a sum: every output element is computed by the same instructions in
// the same order whatever the blocks, so any number of threads gives the same bits.
//
// Built with --runtime stub and no allocator: this module never allocates, never grows
// memory and holds no mutable state (no mutable globals, no start function); its static data
// is constants only, placed below the main module's --memoryBase, so that instantiating it
// again in another thread rewrites the same bytes and nothing else. Scratch memory comes in
// as a pointer, one block per thread, allocated by the main thread.
import { gemmScratchBytes, gemmWith, isVectorShape } from "./kernels/matmul";

export {
  convForwardPreparedBytes, convForwardScratchBytes, convForwardPrepare, convForwardRows,
  convBackwardInputByForward, convBackwardInputScratchBytes, convBackwardInputImages,
  convBackwardWeightsScratchBytes, convBackwardWeightsRows, convFillPhasePlanes, biasAdd, biasGradChannels,
} from "./kernels/conv";
export * from "./kernels/pool";
export * from "./kernels/elementwise";
export * from "./kernels/activations";
export { rowSum, rowMax, argmaxRows } from "./kernels/reductions";
export * from "./kernels/softmax";
export * from "./kernels/optimizers";

/** Scratch bytes one thread needs for any block of an M x N x K matmul. */
export function matmulScratchBytes(M: i32, N: i32, K: i32): usize {
  return gemmScratchBytes(isVectorShape(M, N), M, N, K);
}

/**
 * Rows [start, end) of C (or its columns, with splitColumns) of
 * C[M,N] = alpha * op(A) * op(B) + beta * C, as assembly/kernels/matmul.ts's matmul computes
 * them: the path (matrix-vector or packed) is the whole product's, and K is never split.
 */
export function matmulBlock(transA: i32, transB: i32, M: i32, N: i32, K: i32, alpha: f32,
  a: usize, b: usize, beta: f32, c: usize, splitColumns: i32, start: i32, end: i32, scratch: usize): void {
  const lda = transA ? M : K;
  const ldb = transB ? K : N;
  const vectorShape = isVectorShape(M, N);
  if (splitColumns) {
    const bBlock = b + ((transB ? <usize>start * ldb : <usize>start) << 2);
    gemmWith(vectorShape, transA != 0, transB != 0, M, end - start, K, alpha, a, lda, bBlock, ldb, beta,
      c + (<usize>start << 2), N, scratch);
  } else {
    const aBlock = a + ((transA ? <usize>start : <usize>start * lda) << 2);
    gemmWith(vectorShape, transA != 0, transB != 0, end - start, N, K, alpha, aBlock, lda, b, ldb, beta,
      c + ((<usize>start * N) << 2), N, scratch);
  }
}

/**
 * Products [start, end) of matmulBatched: C_i = alpha * op(A_i) * op(B_i) + beta * C_i with
 * A_i = a + i * strideA floats (and so on), each computed whole.
 */
export function matmulBatchedItems(batch: i32, transA: i32, transB: i32, M: i32, N: i32, K: i32, alpha: f32,
  a: usize, strideA: i32, b: usize, strideB: i32, beta: f32, c: usize, strideC: i32,
  start: i32, end: i32, scratch: usize): void {
  const vectorShape = isVectorShape(M, N);
  for (let i = start; i < end; i++) {
    gemmWith(vectorShape, transA != 0, transB != 0, M, N, K, alpha,
      a + ((<usize>i * strideA) << 2), transA ? M : K, b + ((<usize>i * strideB) << 2), transB ? K : N,
      beta, c + ((<usize>i * strideC) << 2), N, scratch);
  }
}
