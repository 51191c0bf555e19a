// The wasm backend: binds the AssemblyScript exports (byte pointers, f32 scalars) to the
// `Backend` interface (element addresses). This file, src/backend/threaded.ts and
// src/backend/load.ts are the only code that touches wasm memory or exports.
//
// Addresses are unsigned: wasm returns pointers as i32, so a block above 2 GiB comes back
// negative and is read with `>>> 0`; going in, a number up to 2^32 becomes the same i32 bits.
// Sizes are checked here before they reach wasm, where a byte count of 4 GiB would wrap.
import { InvalidArgumentError, OutOfMemoryError } from "./errors.js";
import type { Address, Backend, Conv2dGeometry, Pool2dGeometry } from "./kernels.js";
import type { WasmMemory } from "./wasm-memory.js";

/** The raw exports of assembly/index.ts. Pointers are byte offsets into `memory`. */
export interface WasmExports {
  memory: WasmMemory;
  alloc(bytes: number): number;
  free(ptr: number): void;
  memoryBytes(): number;
  maxAllocationBytes(): number;
  simdEnabled(): number;
  matmul(transA: number, transB: number, m: number, n: number, k: number, alpha: number,
    a: number, b: number, beta: number, c: number): void;
  matmulBatched(batch: number, transA: number, transB: number, m: number, n: number, k: number,
    alpha: number, a: number, strideA: number, b: number, strideB: number,
    beta: number, c: number, strideC: number): void;
  conv2d(...args: number[]): void;
  conv2dBackwardInput(...args: number[]): void;
  conv2dBackwardWeights(...args: number[]): void;
  biasAdd(outer: number, channels: number, inner: number, bias: number, y: number): void;
  biasGrad(outer: number, channels: number, inner: number, dy: number, beta: number, db: number): void;
  maxPool2d(...args: number[]): void;
  maxPool2dBackward(...args: number[]): void;
  avgPool2d(...args: number[]): void;
  avgPool2dBackward(...args: number[]): void;
  add(n: number, a: number, b: number, out: number): void;
  sub(n: number, a: number, b: number, out: number): void;
  mul(n: number, a: number, b: number, out: number): void;
  div(n: number, a: number, b: number, out: number): void;
  scale(n: number, alpha: number, x: number, out: number): void;
  axpy(n: number, alpha: number, x: number, y: number): void;
  axpby(n: number, alpha: number, x: number, beta: number, y: number): void;
  fill(n: number, value: number, out: number): void;
  copy(n: number, src: number, dst: number): void;
  copy2d(rows: number, cols: number, src: number, srcStride: number, dst: number, dstStride: number): void;
  clamp(n: number, lo: number, hi: number, x: number, out: number): void;
  relu(n: number, x: number, out: number): void;
  reluGrad(n: number, x: number, dy: number, dx: number): void;
  leakyRelu(n: number, slope: number, x: number, out: number): void;
  leakyReluGrad(n: number, slope: number, x: number, dy: number, dx: number): void;
  tanh(n: number, x: number, out: number): void;
  tanhGrad(n: number, x: number, dy: number, dx: number): void;
  sigmoid(n: number, x: number, out: number): void;
  sigmoidGrad(n: number, x: number, dy: number, dx: number): void;
  softplus(n: number, x: number, out: number): void;
  softplusGrad(n: number, x: number, dy: number, dx: number): void;
  gelu(n: number, x: number, out: number): void;
  geluGrad(n: number, x: number, dy: number, dx: number): void;
  exp(n: number, x: number, out: number): void;
  expGrad(n: number, x: number, dy: number, dx: number): void;
  log(n: number, x: number, out: number): void;
  logGrad(n: number, x: number, dy: number, dx: number): void;
  sum(n: number, x: number): number;
  sumSquares(n: number, x: number): number;
  countNonFinite(n: number, x: number): number;
  maxAbs(n: number, x: number): number;
  rowSum(rows: number, cols: number, x: number, out: number): void;
  rowMax(rows: number, cols: number, x: number, out: number): void;
  argmaxRows(rows: number, cols: number, x: number, out: number): void;
  softmaxRows(rows: number, cols: number, x: number, out: number): void;
  logSoftmaxRows(rows: number, cols: number, x: number, out: number): void;
  rowSumSquares(rows: number, cols: number, x: number, out: number): void;
  squaredDistances(batch: number, n: number, d: number, queries: number, memory: number, memoryNorms: number, out: number): void;
  maskedSquaredDistances(batch: number, n: number, d: number, queries: number, masks: number, maskStride: number,
    memory: number, memorySquares: number, out: number): void;
  manhattanDistances(batch: number, n: number, d: number, queries: number, memory: number, out: number): void;
  maskedManhattanDistances(batch: number, n: number, d: number, queries: number, masks: number, maskStride: number,
    memory: number, out: number): void;
  adamStep(n: number, lr: number, beta1: number, beta2: number, epsilon: number, c1: number, c2: number,
    param: number, grad: number, m: number, v: number): void;
}

function convArgs(g: Conv2dGeometry): number[] {
  return [g.batch, g.inChannels, g.inHeight, g.inWidth, g.outChannels, g.kernelHeight, g.kernelWidth,
    g.strideHeight, g.strideWidth, g.padHeight, g.padWidth, g.dilationHeight, g.dilationWidth, g.groups];
}

function poolArgs(g: Pool2dGeometry): number[] {
  return [g.batch, g.channels, g.inHeight, g.inWidth, g.kernelHeight, g.kernelWidth,
    g.strideHeight, g.strideWidth, g.padHeight, g.padWidth];
}

/** Element address -> byte pointer. */
const P = (address: Address): number => address * 4;

/** Bytes a wasm32 memory can hold: 65536 pages of 64 KiB. */
export const WASM_MEMORY_LIMIT_BYTES = 2 ** 32;

const GiB = 2 ** 30;
const formatBytes = (bytes: number): string =>
  bytes >= GiB / 2 ? `${(bytes / GiB).toFixed(2)} GiB` : `${(bytes / 2 ** 20).toFixed(1)} MiB`;

export class WasmBackend implements Backend {
  readonly dtype = "float32" as const;
  readonly bytesPerElement = 4;
  readonly name: string;
  readonly simd: boolean;
  /** The largest block the allocator can return, in bytes. */
  readonly maxAllocationBytes: number;

  constructor(protected readonly wasm: WasmExports, name?: string) {
    this.simd = wasm.simdEnabled() === 1;
    this.name = name ?? (this.simd ? "wasm-simd" : "wasm-scalar");
    this.maxAllocationBytes = wasm.maxAllocationBytes() >>> 0;
  }

  /**
   * Reserves `length` floats. Throws OutOfMemoryError (naming the size and the limit) when
   * the allocator cannot hold one block that large or the memory cannot grow enough; the
   * backend stays usable after that.
   */
  alloc(length: number): Address {
    if (!Number.isSafeInteger(length) || length < 0)
      throw new InvalidArgumentError(`${this.name}: cannot allocate ${length} elements (a count is an integer >= 0)`);
    const bytes = Math.max(16, length * 4);
    if (bytes > this.maxAllocationBytes)
      throw new OutOfMemoryError(
        `${this.name}: cannot allocate ${length} floats (${formatBytes(bytes)}): one buffer is limited to ` +
          `${formatBytes(this.maxAllocationBytes)} (${this.maxAllocationBytes} bytes) by the wasm allocator`,
        bytes, this.maxAllocationBytes);
    let ptr: number;
    try {
      ptr = this.wasm.alloc(bytes) >>> 0;
    } catch {
      // The allocator traps (before it changes anything) when memory cannot grow enough.
      const reserved = this.wasm.memory.buffer.byteLength;
      throw new OutOfMemoryError(
        `${this.name}: cannot allocate ${length} floats (${formatBytes(bytes)}): wasm memory is limited to ` +
          `${formatBytes(WASM_MEMORY_LIMIT_BYTES)} and ${formatBytes(reserved)} of it is reserved`,
        bytes, WASM_MEMORY_LIMIT_BYTES);
    }
    return ptr / 4;
  }
  free(address: Address): void {
    this.wasm.free(P(address));
  }
  view(address: Address, length: number): Float32Array {
    // A fresh view each call: memory.grow detaches the previous buffer.
    return new Float32Array(this.wasm.memory.buffer, P(address), length);
  }
  read(address: Address, length: number): Float32Array {
    return this.view(address, length).slice();
  }
  write(address: Address, data: ArrayLike<number>): void {
    this.view(address, data.length).set(data);
  }
  reservedBytes(): number {
    return this.wasm.memory.buffer.byteLength;
  }

  matmul(transA: boolean, transB: boolean, m: number, n: number, k: number, alpha: number,
    a: Address, b: Address, beta: number, c: Address): void {
    this.wasm.matmul(+transA, +transB, m, n, k, alpha, P(a), P(b), beta, P(c));
  }
  matmulBatched(batch: number, transA: boolean, transB: boolean, m: number, n: number, k: number,
    alpha: number, a: Address, strideA: number, b: Address, strideB: number,
    beta: number, c: Address, strideC: number): void {
    this.wasm.matmulBatched(batch, +transA, +transB, m, n, k, alpha, P(a), strideA, P(b), strideB, beta, P(c), strideC);
  }
  conv2d(g: Conv2dGeometry, x: Address, w: Address, beta: number, y: Address): void {
    this.wasm.conv2d(...convArgs(g), P(x), P(w), beta, P(y));
  }
  conv2dBackwardInput(g: Conv2dGeometry, dy: Address, w: Address, beta: number, dx: Address): void {
    this.wasm.conv2dBackwardInput(...convArgs(g), P(dy), P(w), beta, P(dx));
  }
  conv2dBackwardWeights(g: Conv2dGeometry, x: Address, dy: Address, beta: number, dw: Address): void {
    this.wasm.conv2dBackwardWeights(...convArgs(g), P(x), P(dy), beta, P(dw));
  }
  biasAdd(outer: number, channels: number, inner: number, bias: Address, y: Address): void {
    this.wasm.biasAdd(outer, channels, inner, P(bias), P(y));
  }
  biasGrad(outer: number, channels: number, inner: number, dy: Address, beta: number, db: Address): void {
    this.wasm.biasGrad(outer, channels, inner, P(dy), beta, P(db));
  }
  maxPool2d(g: Pool2dGeometry, x: Address, y: Address): void {
    this.wasm.maxPool2d(...poolArgs(g), P(x), P(y));
  }
  maxPool2dBackward(g: Pool2dGeometry, x: Address, dy: Address, beta: number, dx: Address): void {
    this.wasm.maxPool2dBackward(...poolArgs(g), P(x), P(dy), beta, P(dx));
  }
  avgPool2d(g: Pool2dGeometry, x: Address, y: Address): void {
    this.wasm.avgPool2d(...poolArgs(g), P(x), P(y));
  }
  avgPool2dBackward(g: Pool2dGeometry, dy: Address, beta: number, dx: Address): void {
    this.wasm.avgPool2dBackward(...poolArgs(g), P(dy), beta, P(dx));
  }
  add(n: number, a: Address, b: Address, out: Address): void { this.wasm.add(n, P(a), P(b), P(out)); }
  sub(n: number, a: Address, b: Address, out: Address): void { this.wasm.sub(n, P(a), P(b), P(out)); }
  mul(n: number, a: Address, b: Address, out: Address): void { this.wasm.mul(n, P(a), P(b), P(out)); }
  div(n: number, a: Address, b: Address, out: Address): void { this.wasm.div(n, P(a), P(b), P(out)); }
  scale(n: number, alpha: number, x: Address, out: Address): void { this.wasm.scale(n, alpha, P(x), P(out)); }
  axpy(n: number, alpha: number, x: Address, y: Address): void { this.wasm.axpy(n, alpha, P(x), P(y)); }
  axpby(n: number, alpha: number, x: Address, beta: number, y: Address): void { this.wasm.axpby(n, alpha, P(x), beta, P(y)); }
  fill(n: number, value: number, out: Address): void { this.wasm.fill(n, value, P(out)); }
  copy(n: number, src: Address, dst: Address): void { this.wasm.copy(n, P(src), P(dst)); }
  copy2d(rows: number, cols: number, src: Address, srcStride: number, dst: Address, dstStride: number): void {
    this.wasm.copy2d(rows, cols, P(src), srcStride, P(dst), dstStride);
  }
  clamp(n: number, lo: number, hi: number, x: Address, out: Address): void { this.wasm.clamp(n, lo, hi, P(x), P(out)); }
  relu(n: number, x: Address, out: Address): void { this.wasm.relu(n, P(x), P(out)); }
  reluGrad(n: number, x: Address, dy: Address, dx: Address): void { this.wasm.reluGrad(n, P(x), P(dy), P(dx)); }
  leakyRelu(n: number, slope: number, x: Address, out: Address): void { this.wasm.leakyRelu(n, slope, P(x), P(out)); }
  leakyReluGrad(n: number, slope: number, x: Address, dy: Address, dx: Address): void {
    this.wasm.leakyReluGrad(n, slope, P(x), P(dy), P(dx));
  }
  tanh(n: number, x: Address, out: Address): void { this.wasm.tanh(n, P(x), P(out)); }
  tanhGrad(n: number, x: Address, dy: Address, dx: Address): void { this.wasm.tanhGrad(n, P(x), P(dy), P(dx)); }
  sigmoid(n: number, x: Address, out: Address): void { this.wasm.sigmoid(n, P(x), P(out)); }
  sigmoidGrad(n: number, x: Address, dy: Address, dx: Address): void { this.wasm.sigmoidGrad(n, P(x), P(dy), P(dx)); }
  softplus(n: number, x: Address, out: Address): void { this.wasm.softplus(n, P(x), P(out)); }
  softplusGrad(n: number, x: Address, dy: Address, dx: Address): void { this.wasm.softplusGrad(n, P(x), P(dy), P(dx)); }
  gelu(n: number, x: Address, out: Address): void { this.wasm.gelu(n, P(x), P(out)); }
  geluGrad(n: number, x: Address, dy: Address, dx: Address): void { this.wasm.geluGrad(n, P(x), P(dy), P(dx)); }
  exp(n: number, x: Address, out: Address): void { this.wasm.exp(n, P(x), P(out)); }
  expGrad(n: number, x: Address, dy: Address, dx: Address): void { this.wasm.expGrad(n, P(x), P(dy), P(dx)); }
  log(n: number, x: Address, out: Address): void { this.wasm.log(n, P(x), P(out)); }
  logGrad(n: number, x: Address, dy: Address, dx: Address): void { this.wasm.logGrad(n, P(x), P(dy), P(dx)); }
  sum(n: number, x: Address): number { return this.wasm.sum(n, P(x)); }
  sumSquares(n: number, x: Address): number { return this.wasm.sumSquares(n, P(x)); }
  countNonFinite(n: number, x: Address): number { return this.wasm.countNonFinite(n, P(x)); }
  maxAbs(n: number, x: Address): number { return this.wasm.maxAbs(n, P(x)); }
  rowSum(rows: number, cols: number, x: Address, out: Address): void { this.wasm.rowSum(rows, cols, P(x), P(out)); }
  rowMax(rows: number, cols: number, x: Address, out: Address): void { this.wasm.rowMax(rows, cols, P(x), P(out)); }
  argmaxRows(rows: number, cols: number, x: Address, out: Address): void { this.wasm.argmaxRows(rows, cols, P(x), P(out)); }
  softmaxRows(rows: number, cols: number, x: Address, out: Address): void { this.wasm.softmaxRows(rows, cols, P(x), P(out)); }
  logSoftmaxRows(rows: number, cols: number, x: Address, out: Address): void {
    this.wasm.logSoftmaxRows(rows, cols, P(x), P(out));
  }
  rowSumSquares(rows: number, cols: number, x: Address, out: Address): void { this.wasm.rowSumSquares(rows, cols, P(x), P(out)); }
  squaredDistances(batch: number, n: number, d: number, queries: Address, memory: Address, memoryNorms: Address,
    out: Address): void {
    this.wasm.squaredDistances(batch, n, d, P(queries), P(memory), P(memoryNorms), P(out));
  }
  maskedSquaredDistances(batch: number, n: number, d: number, queries: Address, masks: Address, maskStride: number,
    memory: Address, memorySquares: Address, out: Address): void {
    this.wasm.maskedSquaredDistances(batch, n, d, P(queries), P(masks), maskStride, P(memory), P(memorySquares), P(out));
  }
  manhattanDistances(batch: number, n: number, d: number, queries: Address, memory: Address, out: Address): void {
    this.wasm.manhattanDistances(batch, n, d, P(queries), P(memory), P(out));
  }
  maskedManhattanDistances(batch: number, n: number, d: number, queries: Address, masks: Address, maskStride: number,
    memory: Address, out: Address): void {
    this.wasm.maskedManhattanDistances(batch, n, d, P(queries), P(masks), maskStride, P(memory), P(out));
  }
  adamStep(n: number, lr: number, beta1: number, beta2: number, epsilon: number, c1: number, c2: number,
    param: Address, grad: Address, m: Address, v: Address): void {
    this.wasm.adamStep(n, lr, beta1, beta2, epsilon, c1, c2, P(param), P(grad), P(m), P(v));
  }
}
