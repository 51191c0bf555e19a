// The narrow boundary between pcgraph and its numeric backends.
//
// A backend owns one flat, growable memory of numbers (f32 for wasm, f64 for the
// reference) and a closed list of kernels over it. Buffers are addressed by an `Address`:
// the index of their first *element* in that memory, so `address + k` is element k and a
// sub-range of a buffer is just an address. Nothing outside src/backend/ reads or writes
// backend memory except through `read`, `write` and `view`.
//
// Conventions shared by every kernel:
// - every array is row-major and contiguous unless a stride is given;
// - `beta` means the kernel computes `out = result + beta * out` (beta = 0 overwrites, and
//   then `out` may hold garbage, even NaN, on entry);
// - outputs may alias inputs only where a kernel says so (elementwise kernels allow
//   `out === x`).

/** Where a buffer starts in a backend's memory, counted in elements (not bytes); `address + k` is its element k. */
export type Address = number;
/** The element type of a backend's memory: float32 for the wasm builds, float64 for the reference. */
export type DType = "float32" | "float64";

/** Geometry of a 2-D convolution in NCHW layout; weights are [outChannels, inChannels/groups, kernelH, kernelW]. */
export interface Conv2dGeometry {
  batch: number;
  inChannels: number;
  inHeight: number;
  inWidth: number;
  outChannels: number;
  kernelHeight: number;
  kernelWidth: number;
  strideHeight: number;
  strideWidth: number;
  padHeight: number;
  padWidth: number;
  dilationHeight: number;
  dilationWidth: number;
  groups: number;
}

/** Geometry of 2-D pooling in NCHW layout. */
export interface Pool2dGeometry {
  batch: number;
  channels: number;
  inHeight: number;
  inWidth: number;
  kernelHeight: number;
  kernelWidth: number;
  strideHeight: number;
  strideWidth: number;
  padHeight: number;
  padWidth: number;
}

export function convOutputSize(input: number, kernel: number, stride: number, pad: number, dilation: number): number {
  return Math.floor((input + 2 * pad - dilation * (kernel - 1) - 1) / stride) + 1;
}

export function conv2dOutputShape(g: Conv2dGeometry): [number, number, number, number] {
  return [
    g.batch,
    g.outChannels,
    convOutputSize(g.inHeight, g.kernelHeight, g.strideHeight, g.padHeight, g.dilationHeight),
    convOutputSize(g.inWidth, g.kernelWidth, g.strideWidth, g.padWidth, g.dilationWidth),
  ];
}

export function pool2dOutputShape(g: Pool2dGeometry): [number, number, number, number] {
  return [
    g.batch,
    g.channels,
    convOutputSize(g.inHeight, g.kernelHeight, g.strideHeight, g.padHeight, 1),
    convOutputSize(g.inWidth, g.kernelWidth, g.strideWidth, g.padWidth, 1),
  ];
}

/** Names of the unary activations; each has a forward kernel and a gradient kernel. */
export type Activation = "relu" | "tanh" | "sigmoid" | "softplus" | "gelu" | "exp" | "log";

/**
 * The closed list of kernels every backend implements, on addresses into its own memory (see the
 * conventions at the top of this file).
 */
export interface Kernels {
  // ---- matmul -------------------------------------------------------------------------
  /**
   * C[M,N] = alpha * op(A) * op(B) + beta * C, where op(A) is A[M,K] or, when transA,
   * the transpose of A stored as [K,M]; op(B) is B[K,N] or, when transB, B stored as [N,K].
   */
  matmul(transA: boolean, transB: boolean, m: number, n: number, k: number, alpha: number,
    a: Address, b: Address, beta: number, c: Address): void;
  /** `batch` independent matmuls; strides are in elements between consecutive matrices (0 broadcasts). */
  matmulBatched(batch: number, transA: boolean, transB: boolean, m: number, n: number, k: number,
    alpha: number, a: Address, strideA: number, b: Address, strideB: number,
    beta: number, c: Address, strideC: number): void;

  // ---- convolution (NCHW) ------------------------------------------------------------------
  /** y = conv2d(x, w) + beta * y. */
  conv2d(g: Conv2dGeometry, x: Address, w: Address, beta: number, y: Address): void;
  /** dx = conv2d_transpose(dy, w) + beta * dx: the vector-Jacobian product with respect to the input. */
  conv2dBackwardInput(g: Conv2dGeometry, dy: Address, w: Address, beta: number, dx: Address): void;
  /** dw = (d y / d w)^T dy + beta * dw: the vector-Jacobian product with respect to the weights. */
  conv2dBackwardWeights(g: Conv2dGeometry, x: Address, dy: Address, beta: number, dw: Address): void;
  /** y[o, c, i] += bias[c] for y viewed as [outer, channels, inner] (dense: inner = 1; NCHW: inner = H*W). */
  biasAdd(outer: number, channels: number, inner: number, bias: Address, y: Address): void;
  /** db[c] = sum over o, i of dy[o, c, i] + beta * db[c]. */
  biasGrad(outer: number, channels: number, inner: number, dy: Address, beta: number, db: Address): void;

  // ---- pooling (NCHW) ----------------------------------------------------------------------
  /** Max over each window; padding never wins (it counts as -Infinity). */
  maxPool2d(g: Pool2dGeometry, x: Address, y: Address): void;
  /** dx = beta * dx + dy routed to the first maximum of each window (recomputed from x). */
  maxPool2dBackward(g: Pool2dGeometry, x: Address, dy: Address, beta: number, dx: Address): void;
  /** Mean over each window, divided by kernelHeight * kernelWidth (padding counts as zeros). */
  avgPool2d(g: Pool2dGeometry, x: Address, y: Address): void;
  /** dx = beta * dx + dy spread evenly over each window, divided by kernelHeight * kernelWidth. */
  avgPool2dBackward(g: Pool2dGeometry, dy: Address, beta: number, dx: Address): void;

  // ---- elementwise (n elements; out may alias an input) -------------------------------------
  /** out = a + b */
  add(n: number, a: Address, b: Address, out: Address): void;
  /** out = a - b */
  sub(n: number, a: Address, b: Address, out: Address): void;
  /** out = a * b (elementwise) */
  mul(n: number, a: Address, b: Address, out: Address): void;
  /** out = a / b (elementwise) */
  div(n: number, a: Address, b: Address, out: Address): void;
  /** out = alpha * x */
  scale(n: number, alpha: number, x: Address, out: Address): void;
  /** y += alpha * x */
  axpy(n: number, alpha: number, x: Address, y: Address): void;
  /** y = alpha * x + beta * y */
  axpby(n: number, alpha: number, x: Address, beta: number, y: Address): void;
  /** out = value in every element. */
  fill(n: number, value: number, out: Address): void;
  /** Copies n elements from src to dst (the ranges must not overlap). */
  copy(n: number, src: Address, dst: Address): void;
  /** Copies a rows x cols block between buffers with row strides (in elements). */
  copy2d(rows: number, cols: number, src: Address, srcStride: number, dst: Address, dstStride: number): void;
  /** out = min(max(x, lo), hi) */
  clamp(n: number, lo: number, hi: number, x: Address, out: Address): void;

  // ---- activations: forward out = f(x); gradient dx = f'(x) * dy ------------------------------
  /** max(x, 0) */
  relu(n: number, x: Address, out: Address): void;
  /** dx = dy where x > 0, else 0. */
  reluGrad(n: number, x: Address, dy: Address, dx: Address): void;
  /** x for x > 0, slope * x otherwise. */
  leakyRelu(n: number, slope: number, x: Address, out: Address): void;
  /** dx = dy where x > 0, else slope * dy. */
  leakyReluGrad(n: number, slope: number, x: Address, dy: Address, dx: Address): void;
  /** tanh(x) */
  tanh(n: number, x: Address, out: Address): void;
  /** dx = (1 - tanh(x)^2) * dy */
  tanhGrad(n: number, x: Address, dy: Address, dx: Address): void;
  /** 1 / (1 + exp(-x)), computed without overflow. */
  sigmoid(n: number, x: Address, out: Address): void;
  /** dx = s (1 - s) * dy with s = sigmoid(x). */
  sigmoidGrad(n: number, x: Address, dy: Address, dx: Address): void;
  /** log(1 + exp(x)), computed without overflow. */
  softplus(n: number, x: Address, out: Address): void;
  /** dx = sigmoid(x) * dy */
  softplusGrad(n: number, x: Address, dy: Address, dx: Address): void;
  /** GELU, tanh form: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))). */
  gelu(n: number, x: Address, out: Address): void;
  /** dx = GELU'(x) * dy, the derivative of the tanh form above. */
  geluGrad(n: number, x: Address, dy: Address, dx: Address): void;
  /** exp(x) */
  exp(n: number, x: Address, out: Address): void;
  /** dx = exp(x) * dy */
  expGrad(n: number, x: Address, dy: Address, dx: Address): void;
  /** Natural logarithm. */
  log(n: number, x: Address, out: Address): void;
  /** dx = dy / x */
  logGrad(n: number, x: Address, dy: Address, dx: Address): void;

  // ---- reductions ------------------------------------------------------------------------
  /** Sum of the n elements. */
  sum(n: number, x: Address): number;
  /** sum of x^2: twice the energy of an error vector. */
  sumSquares(n: number, x: Address): number;
  /** Count of NaN and infinite entries. */
  countNonFinite(n: number, x: Address): number;
  /** max |x_i| (0 when n = 0); NaN when any entry is NaN. */
  maxAbs(n: number, x: Address): number;
  /** out[r] = sum over c of x[r, c]. */
  rowSum(rows: number, cols: number, x: Address, out: Address): void;
  /** out[r] = max over c of x[r, c]. */
  rowMax(rows: number, cols: number, x: Address, out: Address): void;
  /** out[r] = index of the first maximum of row r, stored as a number. */
  argmaxRows(rows: number, cols: number, x: Address, out: Address): void;
  /** Numerically stable softmax of each row. */
  softmaxRows(rows: number, cols: number, x: Address, out: Address): void;
  /** log(softmax) of each row, computed as x - max - log(sum exp(x - max)). */
  logSoftmaxRows(rows: number, cols: number, x: Address, out: Address): void;
  /** out[r] = sum over c of x[r, c]^2. */
  rowSumSquares(rows: number, cols: number, x: Address, out: Address): void;

  // ---- distances: queries Q [batch, d] against memory rows M [n, d]; out is [batch, n] ------
  // Each output row depends on its own query only. Masks weight entry k of query b by
  // w = masks[b * maskStride + k] >= 0 (a 0/1 mask: distance over the known entries);
  // maskStride 0 gives every query the same mask.
  /**
   * out[b, i] = |q_b - m_i|^2, with memoryNorms[i] = |m_i|^2 (rowSumSquares of M). The f32
   * kernels use |q|^2 + |m|^2 - 2 q.m (one GEMM) and recompute directly every entry the
   * identity would cancel in: accurate to 8 (d + 12) 2^-24 of each distance; an exact match
   * is exactly 0.
   */
  squaredDistances(batch: number, n: number, d: number, queries: Address, memory: Address, memoryNorms: Address,
    out: Address): void;
  /** out[b, i] = sum_k w[b, k] (q[b, k] - m[i, k])^2, with memorySquares = M * M entrywise. */
  maskedSquaredDistances(batch: number, n: number, d: number, queries: Address, masks: Address, maskStride: number,
    memory: Address, memorySquares: Address, out: Address): void;
  /** out[b, i] = sum_k |q[b, k] - m[i, k]|. */
  manhattanDistances(batch: number, n: number, d: number, queries: Address, memory: Address, out: Address): void;
  /** out[b, i] = sum_k w[b, k] |q[b, k] - m[i, k]|. */
  maskedManhattanDistances(batch: number, n: number, d: number, queries: Address, masks: Address, maskStride: number,
    memory: Address, out: Address): void;

  // ---- optimizers ------------------------------------------------------------------------
  /**
   * Adam in place at step t: m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2;
   * p -= lr (m / c1) / (sqrt(v / c2) + eps), with c1 = 1 - b1^t, c2 = 1 - b2^t.
   */
  adamStep(n: number, lr: number, beta1: number, beta2: number, epsilon: number, c1: number, c2: number,
    param: Address, grad: Address, m: Address, v: Address): void;
}

/** A backend: memory plus kernels. */
export interface Backend extends Kernels {
  /** "wasm-simd-threads", "wasm-simd", "wasm-scalar" or "reference-f64". */
  readonly name: string;
  readonly dtype: DType;
  readonly bytesPerElement: number;
  /** Reserves `length` elements (16-byte aligned); contents are unspecified. */
  alloc(length: number): Address;
  /** Returns a buffer from `alloc` to the backend. */
  free(address: Address): void;
  /**
   * A typed array over backend memory. It is invalidated by the next `alloc` (memory may
   * grow and detach it): use it at once, never keep it.
   */
  view(address: Address, length: number): Float32Array | Float64Array;
  /** A copy of `length` elements. */
  read(address: Address, length: number): Float32Array | Float64Array;
  /** Copies `data` into backend memory starting at `address` (rounded to the backend's element type). */
  write(address: Address, data: ArrayLike<number>): void;
  /** Bytes of memory the backend has reserved from its host. */
  reservedBytes(): number;
  /** Releases what the backend holds besides memory (worker threads); it stays usable. */
  dispose?(): void;
}
