// The float64 reference backend: plain TypeScript loops over a Float64Array heap. It is the
// oracle the wasm kernels are tested against and the backend on which Z-IL = BP is checked
// to ~1e-12, separating the algorithm's exactness from f32 rounding.
import type { Address, Backend, Conv2dGeometry, Pool2dGeometry } from "../kernels.js";
import { Float64Heap } from "./heap.js";
import { matmul } from "./linear.js";
import * as conv from "./conv.js";
import * as pool from "./pool.js";
import { distances } from "./distances.js";
import { activations, leakyRelu, type ScalarActivation } from "./activations.js";

export class ReferenceBackend implements Backend {
  readonly name = "reference-f64";
  readonly dtype = "float64" as const;
  readonly bytesPerElement = 8;
  private readonly heap = new Float64Heap();

  private get mem(): Float64Array {
    return this.heap.array;
  }

  alloc(length: number): Address {
    return this.heap.alloc(length);
  }
  free(address: Address): void {
    this.heap.release(address);
  }
  view(address: Address, length: number): Float64Array {
    return this.mem.subarray(address, address + length);
  }
  read(address: Address, length: number): Float64Array {
    return this.mem.slice(address, address + length);
  }
  write(address: Address, data: ArrayLike<number>): void {
    this.mem.set(data, address);
  }
  reservedBytes(): number {
    return this.mem.byteLength;
  }

  matmul(transA: boolean, transB: boolean, m: number, n: number, k: number, alpha: number,
    a: Address, b: Address, beta: number, c: Address): void {
    matmul(this.mem, transA, transB, m, n, k, alpha, a, b, beta, c);
  }
  matmulBatched(batch: number, transA: boolean, transB: boolean, m: number, n: number, k: number,
    alpha: number, a: Address, strideA: number, b: Address, strideB: number,
    beta: number, c: Address, strideC: number): void {
    for (let i = 0; i < batch; i++)
      matmul(this.mem, transA, transB, m, n, k, alpha, a + i * strideA, b + i * strideB, beta, c + i * strideC);
  }

  conv2d(g: Conv2dGeometry, x: Address, w: Address, beta: number, y: Address): void {
    conv.conv2d(this.mem, g, x, w, beta, y);
  }
  conv2dBackwardInput(g: Conv2dGeometry, dy: Address, w: Address, beta: number, dx: Address): void {
    conv.conv2dBackwardInput(this.mem, g, dy, w, beta, dx);
  }
  conv2dBackwardWeights(g: Conv2dGeometry, x: Address, dy: Address, beta: number, dw: Address): void {
    conv.conv2dBackwardWeights(this.mem, g, x, dy, beta, dw);
  }
  biasAdd(outer: number, channels: number, inner: number, bias: Address, y: Address): void {
    conv.biasAdd(this.mem, outer, channels, inner, bias, y);
  }
  biasGrad(outer: number, channels: number, inner: number, dy: Address, beta: number, db: Address): void {
    conv.biasGrad(this.mem, outer, channels, inner, dy, beta, db);
  }

  maxPool2d(g: Pool2dGeometry, x: Address, y: Address): void {
    pool.maxPool2d(this.mem, g, x, y);
  }
  maxPool2dBackward(g: Pool2dGeometry, x: Address, dy: Address, beta: number, dx: Address): void {
    pool.maxPool2dBackward(this.mem, g, x, dy, beta, dx);
  }
  avgPool2d(g: Pool2dGeometry, x: Address, y: Address): void {
    pool.avgPool2d(this.mem, g, x, y);
  }
  avgPool2dBackward(g: Pool2dGeometry, dy: Address, beta: number, dx: Address): void {
    pool.avgPool2dBackward(this.mem, g, dy, beta, dx);
  }

  private map2(n: number, a: Address, b: Address, out: Address, f: (a: number, b: number) => number): void {
    const mem = this.mem;
    for (let i = 0; i < n; i++) mem[out + i] = f(mem[a + i], mem[b + i]);
  }
  add(n: number, a: Address, b: Address, out: Address): void {
    this.map2(n, a, b, out, (p, q) => p + q);
  }
  sub(n: number, a: Address, b: Address, out: Address): void {
    this.map2(n, a, b, out, (p, q) => p - q);
  }
  mul(n: number, a: Address, b: Address, out: Address): void {
    this.map2(n, a, b, out, (p, q) => p * q);
  }
  div(n: number, a: Address, b: Address, out: Address): void {
    this.map2(n, a, b, out, (p, q) => p / q);
  }
  scale(n: number, alpha: number, x: Address, out: Address): void {
    this.map2(n, x, x, out, (p) => alpha * p);
  }
  axpy(n: number, alpha: number, x: Address, y: Address): void {
    this.map2(n, x, y, y, (p, q) => q + alpha * p);
  }
  axpby(n: number, alpha: number, x: Address, beta: number, y: Address): void {
    this.map2(n, x, y, y, (p, q) => alpha * p + (beta === 0 ? 0 : beta * q));
  }
  fill(n: number, value: number, out: Address): void {
    this.mem.fill(value, out, out + n);
  }
  copy(n: number, src: Address, dst: Address): void {
    this.mem.copyWithin(dst, src, src + n);
  }
  copy2d(rows: number, cols: number, src: Address, srcStride: number, dst: Address, dstStride: number): void {
    for (let r = 0; r < rows; r++) this.copy(cols, src + r * srcStride, dst + r * dstStride);
  }
  clamp(n: number, lo: number, hi: number, x: Address, out: Address): void {
    this.map2(n, x, x, out, (p) => Math.min(Math.max(p, lo), hi));
  }

  private forward(f: ScalarActivation, n: number, x: Address, out: Address): void {
    this.map2(n, x, x, out, (p) => f.forward(p));
  }
  private gradient(f: ScalarActivation, n: number, x: Address, dy: Address, dx: Address): void {
    this.map2(n, x, dy, dx, (p, q) => f.derivative(p) * q);
  }
  relu(n: number, x: Address, out: Address): void { this.forward(activations.relu, n, x, out); }
  reluGrad(n: number, x: Address, dy: Address, dx: Address): void { this.gradient(activations.relu, n, x, dy, dx); }
  leakyRelu(n: number, slope: number, x: Address, out: Address): void { this.forward(leakyRelu(slope), n, x, out); }
  leakyReluGrad(n: number, slope: number, x: Address, dy: Address, dx: Address): void {
    this.gradient(leakyRelu(slope), n, x, dy, dx);
  }
  tanh(n: number, x: Address, out: Address): void { this.forward(activations.tanh, n, x, out); }
  tanhGrad(n: number, x: Address, dy: Address, dx: Address): void { this.gradient(activations.tanh, n, x, dy, dx); }
  sigmoid(n: number, x: Address, out: Address): void { this.forward(activations.sigmoid, n, x, out); }
  sigmoidGrad(n: number, x: Address, dy: Address, dx: Address): void { this.gradient(activations.sigmoid, n, x, dy, dx); }
  softplus(n: number, x: Address, out: Address): void { this.forward(activations.softplus, n, x, out); }
  softplusGrad(n: number, x: Address, dy: Address, dx: Address): void { this.gradient(activations.softplus, n, x, dy, dx); }
  gelu(n: number, x: Address, out: Address): void { this.forward(activations.gelu, n, x, out); }
  geluGrad(n: number, x: Address, dy: Address, dx: Address): void { this.gradient(activations.gelu, n, x, dy, dx); }
  exp(n: number, x: Address, out: Address): void { this.forward(activations.exp, n, x, out); }
  expGrad(n: number, x: Address, dy: Address, dx: Address): void { this.gradient(activations.exp, n, x, dy, dx); }
  log(n: number, x: Address, out: Address): void { this.forward(activations.log, n, x, out); }
  logGrad(n: number, x: Address, dy: Address, dx: Address): void { this.gradient(activations.log, n, x, dy, dx); }

  sum(n: number, x: Address): number {
    let total = 0;
    for (let i = 0; i < n; i++) total += this.mem[x + i];
    return total;
  }
  sumSquares(n: number, x: Address): number {
    let total = 0;
    for (let i = 0; i < n; i++) total += this.mem[x + i] ** 2;
    return total;
  }
  countNonFinite(n: number, x: Address): number {
    let count = 0;
    for (let i = 0; i < n; i++) if (!Number.isFinite(this.mem[x + i])) count++;
    return count;
  }
  maxAbs(n: number, x: Address): number {
    let best = 0;
    for (let i = 0; i < n; i++) {
      const v = Math.abs(this.mem[x + i]);
      if (Number.isNaN(v)) return NaN;
      if (v > best) best = v;
    }
    return best;
  }
  rowSum(rows: number, cols: number, x: Address, out: Address): void {
    for (let r = 0; r < rows; r++) this.mem[out + r] = this.sum(cols, x + r * cols);
  }
  rowMax(rows: number, cols: number, x: Address, out: Address): void {
    for (let r = 0; r < rows; r++) {
      let best = -Infinity;
      for (let c = 0; c < cols; c++) best = Math.max(best, this.mem[x + r * cols + c]);
      this.mem[out + r] = best;
    }
  }
  argmaxRows(rows: number, cols: number, x: Address, out: Address): void {
    for (let r = 0; r < rows; r++) {
      let best = 0;
      for (let c = 1; c < cols; c++) if (this.mem[x + r * cols + c] > this.mem[x + r * cols + best]) best = c;
      this.mem[out + r] = best;
    }
  }
  softmaxRows(rows: number, cols: number, x: Address, out: Address): void {
    const mem = this.mem;
    for (let r = 0; r < rows; r++) {
      const row = x + r * cols;
      let max = -Infinity;
      for (let c = 0; c < cols; c++) max = Math.max(max, mem[row + c]);
      let total = 0;
      for (let c = 0; c < cols; c++) total += Math.exp(mem[row + c] - max);
      for (let c = 0; c < cols; c++) mem[out + r * cols + c] = Math.exp(mem[row + c] - max) / total;
    }
  }
  logSoftmaxRows(rows: number, cols: number, x: Address, out: Address): void {
    const mem = this.mem;
    for (let r = 0; r < rows; r++) {
      const row = x + r * cols;
      let max = -Infinity;
      for (let c = 0; c < cols; c++) max = Math.max(max, mem[row + c]);
      let total = 0;
      for (let c = 0; c < cols; c++) total += Math.exp(mem[row + c] - max);
      const logTotal = Math.log(total);
      for (let c = 0; c < cols; c++) mem[out + r * cols + c] = mem[row + c] - max - logTotal;
    }
  }
  rowSumSquares(rows: number, cols: number, x: Address, out: Address): void {
    for (let r = 0; r < rows; r++) this.mem[out + r] = this.sumSquares(cols, x + r * cols);
  }

  squaredDistances(batch: number, n: number, d: number, queries: Address, memory: Address, _memoryNorms: Address,
    out: Address): void {
    distances(this.mem, 2, batch, n, d, queries, null, 0, memory, out);
  }
  maskedSquaredDistances(batch: number, n: number, d: number, queries: Address, masks: Address, maskStride: number,
    memory: Address, _memorySquares: Address, out: Address): void {
    distances(this.mem, 2, batch, n, d, queries, masks, maskStride, memory, out);
  }
  manhattanDistances(batch: number, n: number, d: number, queries: Address, memory: Address, out: Address): void {
    distances(this.mem, 1, batch, n, d, queries, null, 0, memory, out);
  }
  maskedManhattanDistances(batch: number, n: number, d: number, queries: Address, masks: Address, maskStride: number,
    memory: Address, out: Address): void {
    distances(this.mem, 1, batch, n, d, queries, masks, maskStride, memory, out);
  }

  adamStep(n: number, lr: number, beta1: number, beta2: number, epsilon: number, c1: number, c2: number,
    param: Address, grad: Address, m: Address, v: Address): void {
    const mem = this.mem;
    for (let i = 0; i < n; i++) {
      const g = mem[grad + i];
      mem[m + i] = beta1 * mem[m + i] + (1 - beta1) * g;
      mem[v + i] = beta2 * mem[v + i] + (1 - beta2) * g * g;
      mem[param + i] -= (lr * (mem[m + i] / c1)) / (Math.sqrt(mem[v + i] / c2) + epsilon);
    }
  }
}
