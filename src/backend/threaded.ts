// The threaded wasm backend ("wasm-simd-threads"): one shared WebAssembly.Memory, the main
// module (allocator and every kernel) on the calling thread, and a pool of workers that each
// run the kernels module (assembly/threads.ts). Large kernels are cut into blocks of their
// output (src/backend/threads/split.ts) that the calling thread and the workers compute
// together; small ones, reductions and everything else run on the calling thread through the
// main module exactly as on "wasm-simd". Both modules are built from the same kernel sources,
// and a block computes each of its elements as the whole call would, so results are the same
// bits for any number of threads, and the same bits as "wasm-simd".
import {
  conv2dOutputShape, convOutputSize, pool2dOutputShape, type Address, type Conv2dGeometry, type Pool2dGeometry,
} from "./kernels.js";
import { InvalidArgumentError } from "./errors.js";
import { ThreadPool, type PoolStats } from "./threads/pool.js";

export type { PoolStats };
import { hardwareThreads } from "./threads/spawn.js";
import {
  blockCount, DEFAULT_PARALLEL_THRESHOLD_NS, ELEMENT_ALIGN, NS_PER_UNIT, OVERSUBSCRIBED_PARALLEL_THRESHOLD_NS, splitUnits,
  STREAM_THRESHOLD_SCALE,
} from "./threads/split.js";
import { WasmBackend, type WasmExports } from "./wasm.js";
import type { WasmInstanceExports, WasmModule } from "./wasm-memory.js";

/** The kernels module's exports the pool runs, by operation number. */
const OPERATIONS = [
  "matmulBlock", "matmulBatchedItems", "convForwardRows", "convBackwardInputImages", "convBackwardWeightsRows", "convFillPhasePlanes",
  "biasGradChannels", "biasAdd", "maxPool2d", "maxPool2dBackward", "avgPool2d", "avgPool2dBackward",
  "add", "sub", "mul", "div", "scale", "axpy", "axpby", "fill", "copy", "copy2d", "clamp",
  "relu", "reluGrad", "leakyRelu", "leakyReluGrad", "tanh", "tanhGrad", "sigmoid", "sigmoidGrad",
  "softplus", "softplusGrad", "gelu", "geluGrad", "exp", "expGrad", "log", "logGrad",
  "rowSum", "rowMax", "argmaxRows", "softmaxRows", "logSoftmaxRows", "adamStep",
] as const;
type Operation = (typeof OPERATIONS)[number];
const OP = Object.fromEntries(OPERATIONS.map((name, index) => [name, index])) as Record<Operation, number>;

/** The kernels module's sizing and preparation exports, called on the main thread. */
interface KernelsExports {
  matmulScratchBytes(m: number, n: number, k: number): number;
  convForwardPreparedBytes(inChannels: number, outChannels: number, kH: number, kW: number, groups: number): number;
  convForwardScratchBytes(inChannels: number, h: number, w: number, sH: number, sW: number, pH: number, pW: number): number;
  convForwardPrepare(...args: number[]): void;
  convBackwardInputByForward(...args: number[]): number;
  convBackwardInputScratchBytes(...args: number[]): number;
  convBackwardWeightsScratchBytes(...args: number[]): number;
}

/** The thread count and the size below which kernels stay on the calling thread (`setBackend("wasm-simd-threads", options)`). */
export interface ThreadOptions {
  /**
   * Threads that share each large kernel, the calling thread included: a number >= 1, or
   * "auto" for the machine's hardware threads (the default).
   */
  threads?: number | "auto";
  /**
   * Estimated single-thread nanoseconds below which a kernel stays on the calling thread
   * (default: measured, see src/backend/threads/split.ts). 0 splits every call, even while
   * the machine is so busy that splitting is slower (otherwise the pool then pauses it).
   */
  parallelThreshold?: number;
}

/** What the threaded backend reports about its threads (`threadInfo()`). */
export interface ThreadInfo {
  /** Threads asked for, the calling thread included. */
  threads: number;
  /** Workers started and taking blocks now (threads - 1 once all have started). */
  readyWorkers: number;
  parallelThresholdNs: number;
  stats: PoolStats;
}

/**
 * How long an idle worker polls for the next kernel before it sleeps, in microseconds: long
 * enough to span the gaps between the kernels of a training step (a few µs of JavaScript
 * each), short enough that a worker does not hold a core other processes want: on a busy
 * machine, polling for milliseconds made split kernels slower than one thread.
 */
const WORKER_SPIN_MICROS = 200;

const P = (address: Address): number => address * 4;

function convArgs(g: Conv2dGeometry): number[] {
  return [g.batch, g.inChannels, g.inHeight, g.inWidth, g.outChannels, g.kernelHeight, g.kernelWidth,
    g.strideHeight, g.strideWidth, g.padHeight, g.padWidth, g.dilationHeight, g.dilationWidth, g.groups];
}

/** Pooling over `planes` independent planes: batch * channels planes of one channel each. */
function planeArgs(g: Pool2dGeometry): number[] {
  return [g.batch * g.channels, 1, g.inHeight, g.inWidth, g.kernelHeight, g.kernelWidth,
    g.strideHeight, g.strideWidth, g.padHeight, g.padWidth];
}

/** Scratch blocks in backend memory, grown when too small (and never moved while a job runs). */
class ScratchBlock {
  address = 0;
  bytes = 0;

  constructor(private readonly backend: WasmBackend) {}

  /** Byte address of a block of at least `bytes` bytes. */
  ensure(bytes: number): number {
    if (bytes > this.bytes) {
      this.release();
      this.address = this.backend.alloc(Math.ceil(bytes / 4));
      this.bytes = bytes;
    }
    return P(this.address);
  }

  release(): void {
    if (this.bytes > 0) this.backend.free(this.address);
    this.address = 0;
    this.bytes = 0;
  }
}

/** The machine's hardware threads, looked up once. */
let hardware: Promise<number> | undefined;
const hardwareOnce = (): Promise<number> => (hardware ??= hardwareThreads());

export class ThreadedBackend extends WasmBackend {
  private pool: ThreadPool | undefined;
  private threads = 1;
  private cores = 1;
  private request = 0;
  /** The threshold asked for (parallelThreshold), or undefined for the default. */
  private requestedThresholdNs: number | undefined;
  private readonly threadScratch = new ScratchBlock(this);
  private readonly sharedScratch = new ScratchBlock(this);
  private readonly kernels: KernelsExports;
  private started: Promise<void> = Promise.resolve();
  private callerTakesBlocks = true;

  constructor(
    main: WasmExports,
    private readonly kernelsInstance: WasmInstanceExports,
    private readonly kernelsModule: WasmModule,
    private readonly workerSource: string,
    options: ThreadOptions = {},
  ) {
    super(main, "wasm-simd-threads");
    this.kernels = kernelsInstance as unknown as KernelsExports;
    void this.configure({ threads: "auto", ...options });
  }

  /**
   * Sets the thread count and the threshold. Workers start in the background and join the
   * kernels as soon as they are up (until then the calling thread does all the work); the
   * promise resolves when every worker asked for has started.
   */
  configure(options: ThreadOptions): Promise<void> {
    if (options.parallelThreshold !== undefined) {
      if (!(options.parallelThreshold >= 0))
        throw new InvalidArgumentError(`parallelThreshold must be a number >= 0, got ${options.parallelThreshold}`);
      this.requestedThresholdNs = options.parallelThreshold;
      if (this.pool) this.pool.adaptive = this.thresholdNs > 0;
    }
    const requested = options.threads;
    if (requested === undefined) return this.started;
    if (requested !== "auto" && !(Number.isInteger(requested) && requested >= 1 && requested <= 32))
      throw new InvalidArgumentError(`threads must be an integer from 1 to 32 or "auto", got ${String(requested)}`);
    const request = ++this.request;
    const applied = requested === "auto" ? undefined : this.applyThreads(requested);
    this.started = (async () => {
      const cores = await hardwareOnce();
      if (request !== this.request) return; // a later request won
      this.cores = cores;
      await (requested === "auto" ? this.applyThreads(Math.min(cores, 32)) : this.applyThreads(requested));
      await applied;
    })();
    return this.started;
  }

  /** The effective threshold: the one asked for, else the default for polling or sleeping workers. */
  private get thresholdNs(): number {
    if (this.requestedThresholdNs !== undefined) return this.requestedThresholdNs;
    return this.threads <= this.cores ? DEFAULT_PARALLEL_THRESHOLD_NS : OVERSUBSCRIBED_PARALLEL_THRESHOLD_NS;
  }

  private applyThreads(threads: number): Promise<void> {
    this.threads = threads;
    if (threads === 1) {
      this.stopWorkers();
      return Promise.resolve();
    }
    if (!this.pool) {
      this.pool = new ThreadPool({
        memory: this.wasm.memory,
        kernels: this.kernelsModule,
        mainKernels: this.kernelsInstance,
        workerSource: this.workerSource,
        operations: OPERATIONS,
      });
      this.pool.callerTakesBlocks = this.callerTakesBlocks;
      this.pool.adaptive = this.thresholdNs > 0;
    }
    // Polling while idle pays only when every thread has a core of its own.
    return this.pool.resize(threads - 1, threads <= this.cores ? WORKER_SPIN_MICROS : 0);
  }

  /**
   * Resolves when the workers asked for have started (or failed to); workers stopped after
   * idling (see ThreadPool.IDLE_MS) are started again first.
   */
  async whenStarted(): Promise<void> {
    if (this.pool?.isParked) this.pool.wake();
    await this.started;
    await this.pool?.whenStarted();
  }

  private stopWorkers(): void {
    this.pool?.dispose();
    this.pool = undefined;
    this.threadScratch.release();
    this.sharedScratch.release();
  }

  /**
   * Stops the workers and frees their scratch memory; the backend goes on working on the
   * calling thread (tensors stay valid), and `configure({ threads })` starts workers again.
   */
  dispose(): void {
    this.request++;
    this.threads = 1;
    this.stopWorkers();
    this.started = Promise.resolve();
  }

  /**
   * With false, the calling thread only hands out blocks and waits, so that every block of a
   * split kernel runs in a worker (tests and diagnostics; slower). Default true.
   */
  setCallerTakesBlocks(takes: boolean): void {
    this.callerTakesBlocks = takes;
    if (this.pool) this.pool.callerTakesBlocks = takes;
  }

  threadInfo(): ThreadInfo {
    const stats = this.pool?.stats() ?? { readyWorkers: 0, workers: 0, blocksRun: [0], jobs: 0, workersStarted: 0, pauses: 0, stopsWhenIdle: false, parked: false };
    return { threads: this.threads, readyWorkers: stats.readyWorkers, parallelThresholdNs: this.thresholdNs, stats };
  }

  /**
   * Blocks to cut a call into: 1 (stay on this thread) unless it is worth sharing, judged
   * against the threshold times `thresholdScale` (STREAM_THRESHOLD_SCALE for streaming kernels).
   */
  private blocks(estimatedNs: number, thresholdScale = 1): number {
    if (!this.pool || this.threads < 2) return 1;
    const threshold = this.thresholdNs * thresholdScale;
    if (this.pool.isParked) {
      // Workers stopped after idling: start them; this call stays on the calling thread.
      if (estimatedNs >= threshold) this.pool.wake();
      return 1;
    }
    const participants = 1 + Math.min(this.pool.readyWorkers, this.threads - 1);
    const blocks = blockCount(estimatedNs, participants, threshold);
    return blocks > 1 && this.pool.splitAllowed() ? blocks : 1;
  }

  /**
   * Scratch for a range job: [base, stride] in bytes, one block per participant (whichever
   * blocks each happens to claim), participant p using base + p * stride.
   */
  private scratchPerThread(bytes: number): [number, number] {
    const stride = Math.ceil(bytes / 64) * 64;
    return [stride === 0 ? 0 : this.threadScratch.ensure(stride * (1 + this.pool!.workerCount)), stride];
  }

  private runRange(kernel: string, op: Operation, args: number[], bounds: number[], bytesPerThread: number): void {
    const [base, stride] = this.scratchPerThread(bytesPerThread);
    this.pool!.runRange(kernel, OP[op], args, bounds, base, stride);
  }

  /**
   * An elementwise kernel over n elements, split when large and when every output either is
   * an input or overlaps none (a partial overlap would race between blocks).
   */
  private elementwise(op: Operation, n: number, nsPerElement: number, args: number[], pointers: number[],
    outputs: number[], serial: () => void): void {
    const bounds = splitUnits(n, this.blocks(n * nsPerElement, nsPerElement === NS_PER_UNIT.stream ? STREAM_THRESHOLD_SCALE : 1), ELEMENT_ALIGN);
    if (bounds.length < 3 || !separate(args, pointers, outputs, n)) return serial();
    const strides = args.map((_, i) => (pointers.includes(i) ? 4 : 0));
    this.pool!.runAffine(op, OP[op], args, strides, 0, bounds);
  }

  /**
   * A kernel over independent rows (or planes): args[0] is the count; strides in bytes per row.
   * Row kernels are streaming ones (bias, pooling, copies, row reductions) unless the caller
   * says otherwise (softmax passes 1), hence the default threshold scale.
   */
  private rows(op: Operation, rows: number, estimatedNs: number, args: number[], strides: number[], serial: () => void,
    thresholdScale = STREAM_THRESHOLD_SCALE): void {
    const bounds = splitUnits(rows, this.blocks(estimatedNs, thresholdScale));
    if (bounds.length < 3) return serial();
    this.pool!.runAffine(op, OP[op], args, strides, 0, bounds);
  }

  // ---- matmul ---------------------------------------------------------------------------

  override matmul(transA: boolean, transB: boolean, m: number, n: number, k: number, alpha: number,
    a: Address, b: Address, beta: number, c: Address): void {
    const blocks = this.blocks(2 * m * n * k * NS_PER_UNIT.flop);
    if (blocks < 2 || m * n === 0) return super.matmul(transA, transB, m, n, k, alpha, a, b, beta, c);
    // Split the longer side of C: each block packs the whole of the other operand, so this
    // repeats the smaller packing. A vector-shaped product splits its only long side.
    const splitColumns = m === 1 || (n !== 1 && n > m);
    const bounds = splitColumns ? splitUnits(n, blocks, 8) : splitUnits(m, blocks, 4);
    this.runRange("matmul", "matmulBlock", [+transA, +transB, m, n, k, alpha, P(a), P(b), beta, P(c), +splitColumns],
      bounds, this.kernels.matmulScratchBytes(m, n, k));
  }

  override matmulBatched(batch: number, transA: boolean, transB: boolean, m: number, n: number, k: number,
    alpha: number, a: Address, strideA: number, b: Address, strideB: number,
    beta: number, c: Address, strideC: number): void {
    const blocks = this.blocks(2 * batch * m * n * k * NS_PER_UNIT.flop);
    if (blocks < 2) return super.matmulBatched(batch, transA, transB, m, n, k, alpha, a, strideA, b, strideB, beta, c, strideC);
    if (batch < blocks) {
      // Few large products: split each one.
      for (let i = 0; i < batch; i++) this.matmul(transA, transB, m, n, k, alpha, a + i * strideA, b + i * strideB, beta, c + i * strideC);
      return;
    }
    this.runRange("matmulBatched", "matmulBatchedItems",
      [batch, +transA, +transB, m, n, k, alpha, P(a), strideA, P(b), strideB, beta, P(c), strideC],
      splitUnits(batch, blocks), this.kernels.matmulScratchBytes(m, n, k));
  }

  // ---- convolution ------------------------------------------------------------------------

  override conv2d(g: Conv2dGeometry, x: Address, w: Address, beta: number, y: Address): void {
    const [, , oh, ow] = conv2dOutputShape(g);
    const flops = 2 * g.batch * g.outChannels * oh * ow * (g.inChannels / g.groups) * g.kernelHeight * g.kernelWidth;
    const blocks = this.blocks(flops * NS_PER_UNIT.flop);
    if (blocks < 2 || oh <= 0 || ow <= 0) return super.conv2d(g, x, w, beta, y);
    this.convForward("conv2d", convArgs(g), oh, P(x), P(w), false, beta, P(y), blocks);
  }

  /** A forward convolution (or the input derivative as one, with flip) by blocks of output rows. */
  private convForward(kernel: string, geometry: number[], outHeight: number, x: number, w: number, flip: boolean,
    beta: number, y: number, blocks: number): void {
    const [batch, inChannels, h, wd, outChannels, kH, kW, sH, sW, pH, pW, dH, dW, groups] = geometry;
    const k = this.kernels;
    const prepared = this.sharedScratch.ensure(k.convForwardPreparedBytes(inChannels, outChannels, kH, kW, groups));
    k.convForwardPrepare(inChannels, h, wd, outChannels, kH, kW, sH, sW, pH, pW, dH, dW, groups, w, +flip, prepared);
    // Whole images per block when there are enough of them (each block fills the phase
    // planes of the images it touches), else rows of one image.
    const bounds = splitUnits(batch * outHeight, blocks, batch >= blocks ? outHeight : 1);
    this.runRange(kernel, "convForwardRows", [...geometry, x, prepared, beta, y], bounds,
      k.convForwardScratchBytes(inChannels, h, wd, sH, sW, pH, pW));
  }

  override conv2dBackwardInput(g: Conv2dGeometry, dy: Address, w: Address, beta: number, dx: Address): void {
    const [, , oh, ow] = conv2dOutputShape(g);
    const flops = 2 * g.batch * g.outChannels * oh * ow * (g.inChannels / g.groups) * g.kernelHeight * g.kernelWidth;
    const blocks = this.blocks(flops * NS_PER_UNIT.flop);
    if (blocks < 2 || oh <= 0 || ow <= 0) return super.conv2dBackwardInput(g, dy, w, beta, dx);
    const geometry = convArgs(g);
    const [batch, inChannels, h, wd, outChannels, kH, kW, sH, sW, pH, pW, dH, dW, groups] = geometry;
    if (this.kernels.convBackwardInputByForward(h, wd, kH, kW, sH, sW, pH, pW, dH, dW)) {
      // The forward convolution of dy with the flipped kernel (see assembly/kernels/conv.ts).
      const flipPadH = dH * (kH - 1) - pH;
      const flipPadW = dW * (kW - 1) - pW;
      const transposed = [batch, outChannels, oh, ow, inChannels, kH, kW, 1, 1, flipPadH, flipPadW, dH, dW, groups];
      this.convForward("conv2dBackwardInput", transposed, convOutputSize(oh, kH, 1, flipPadH, dH), P(dy), P(w), true,
        beta, P(dx), blocks);
      return;
    }
    this.runRange("conv2dBackwardInput", "convBackwardInputImages", [...geometry, P(dy), P(w), beta, P(dx)],
      splitUnits(batch, blocks), this.kernels.convBackwardInputScratchBytes(...geometry.slice(1)));
  }

  override conv2dBackwardWeights(g: Conv2dGeometry, x: Address, dy: Address, beta: number, dw: Address): void {
    const [, , oh, ow] = conv2dOutputShape(g);
    const flops = 2 * g.batch * g.outChannels * oh * ow * (g.inChannels / g.groups) * g.kernelHeight * g.kernelWidth;
    const blocks = this.blocks(flops * NS_PER_UNIT.flop);
    if (blocks < 2 || g.outChannels < 2) return super.conv2dBackwardWeights(g, x, dy, beta, dw);
    // Output channels are split; the batch, the sum of this derivative, never is. Every block
    // reads every image, so padded or strided inputs are laid out in phase planes once, for
    // all of them, by a first job split over images.
    const geometry = convArgs(g);
    const k = this.kernels;
    const imagePlaneBytes = k.convForwardScratchBytes(g.inChannels, g.inHeight, g.inWidth, g.strideHeight, g.strideWidth,
      g.padHeight, g.padWidth);
    let filled = 0;
    if (imagePlaneBytes > 0) {
      filled = this.sharedScratch.ensure(imagePlaneBytes * g.batch);
      this.runRange("conv2dBackwardWeights", "convFillPhasePlanes", [g.inChannels, g.inHeight, g.inWidth, g.strideHeight,
        g.strideWidth, g.padHeight, g.padWidth, P(x), filled], splitUnits(g.batch, blocks), 0);
    }
    this.runRange("conv2dBackwardWeights", "convBackwardWeightsRows", [...geometry, P(x), P(dy), beta, P(dw), filled],
      splitUnits(g.outChannels, blocks, 4), k.convBackwardWeightsScratchBytes(...geometry.slice(1)));
  }

  override biasAdd(outer: number, channels: number, inner: number, bias: Address, y: Address): void {
    this.rows("biasAdd", outer, outer * channels * inner * NS_PER_UNIT.stream, [outer, channels, inner, P(bias), P(y)],
      [0, 0, 0, 0, channels * inner * 4], () => super.biasAdd(outer, channels, inner, bias, y));
  }

  override biasGrad(outer: number, channels: number, inner: number, dy: Address, beta: number, db: Address): void {
    const blocks = this.blocks(outer * channels * inner * NS_PER_UNIT.stream, STREAM_THRESHOLD_SCALE);
    if (blocks < 2 || channels < 2) return super.biasGrad(outer, channels, inner, dy, beta, db);
    // Channels are split; the sum over `outer` is not.
    this.runRange("biasGrad", "biasGradChannels", [outer, channels, inner, P(dy), beta, P(db)],
      splitUnits(channels, blocks, 4), 0);
  }

  // ---- pooling: independent planes --------------------------------------------------------

  override maxPool2d(g: Pool2dGeometry, x: Address, y: Address): void {
    const [, , oh, ow] = pool2dOutputShape(g);
    const planes = g.batch * g.channels;
    this.rows("maxPool2d", planes, planes * g.inHeight * g.inWidth * NS_PER_UNIT.stream, [...planeArgs(g), P(x), P(y)],
      [...planeArgs(g).map(() => 0), g.inHeight * g.inWidth * 4, oh * ow * 4], () => super.maxPool2d(g, x, y));
  }

  override maxPool2dBackward(g: Pool2dGeometry, x: Address, dy: Address, beta: number, dx: Address): void {
    const [, , oh, ow] = pool2dOutputShape(g);
    const planes = g.batch * g.channels;
    const plane = g.inHeight * g.inWidth * 4;
    this.rows("maxPool2dBackward", planes, planes * g.inHeight * g.inWidth * NS_PER_UNIT.stream,
      [...planeArgs(g), P(x), P(dy), beta, P(dx)], [...planeArgs(g).map(() => 0), plane, oh * ow * 4, 0, plane],
      () => super.maxPool2dBackward(g, x, dy, beta, dx));
  }

  override avgPool2d(g: Pool2dGeometry, x: Address, y: Address): void {
    const [, , oh, ow] = pool2dOutputShape(g);
    const planes = g.batch * g.channels;
    this.rows("avgPool2d", planes, planes * g.inHeight * g.inWidth * NS_PER_UNIT.stream, [...planeArgs(g), P(x), P(y)],
      [...planeArgs(g).map(() => 0), g.inHeight * g.inWidth * 4, oh * ow * 4], () => super.avgPool2d(g, x, y));
  }

  override avgPool2dBackward(g: Pool2dGeometry, dy: Address, beta: number, dx: Address): void {
    const [, , oh, ow] = pool2dOutputShape(g);
    const planes = g.batch * g.channels;
    this.rows("avgPool2dBackward", planes, planes * g.inHeight * g.inWidth * NS_PER_UNIT.stream,
      [...planeArgs(g), P(dy), beta, P(dx)], [...planeArgs(g).map(() => 0), oh * ow * 4, 0, g.inHeight * g.inWidth * 4],
      () => super.avgPool2dBackward(g, dy, beta, dx));
  }

  // ---- elementwise ----------------------------------------------------------------------------

  override add(n: number, a: Address, b: Address, out: Address): void {
    this.elementwise("add", n, NS_PER_UNIT.stream, [n, P(a), P(b), P(out)], [1, 2, 3], [3], () => super.add(n, a, b, out));
  }
  override sub(n: number, a: Address, b: Address, out: Address): void {
    this.elementwise("sub", n, NS_PER_UNIT.stream, [n, P(a), P(b), P(out)], [1, 2, 3], [3], () => super.sub(n, a, b, out));
  }
  override mul(n: number, a: Address, b: Address, out: Address): void {
    this.elementwise("mul", n, NS_PER_UNIT.stream, [n, P(a), P(b), P(out)], [1, 2, 3], [3], () => super.mul(n, a, b, out));
  }
  override div(n: number, a: Address, b: Address, out: Address): void {
    this.elementwise("div", n, NS_PER_UNIT.stream, [n, P(a), P(b), P(out)], [1, 2, 3], [3], () => super.div(n, a, b, out));
  }
  override scale(n: number, alpha: number, x: Address, out: Address): void {
    this.elementwise("scale", n, NS_PER_UNIT.stream, [n, alpha, P(x), P(out)], [2, 3], [3], () => super.scale(n, alpha, x, out));
  }
  override axpy(n: number, alpha: number, x: Address, y: Address): void {
    this.elementwise("axpy", n, NS_PER_UNIT.stream, [n, alpha, P(x), P(y)], [2, 3], [3], () => super.axpy(n, alpha, x, y));
  }
  override axpby(n: number, alpha: number, x: Address, beta: number, y: Address): void {
    this.elementwise("axpby", n, NS_PER_UNIT.stream, [n, alpha, P(x), beta, P(y)], [2, 4], [4],
      () => super.axpby(n, alpha, x, beta, y));
  }
  override fill(n: number, value: number, out: Address): void {
    this.elementwise("fill", n, NS_PER_UNIT.stream, [n, value, P(out)], [2], [2], () => super.fill(n, value, out));
  }
  override copy(n: number, src: Address, dst: Address): void {
    this.elementwise("copy", n, NS_PER_UNIT.stream, [n, P(src), P(dst)], [1, 2], [2], () => super.copy(n, src, dst));
  }
  override copy2d(rows: number, cols: number, src: Address, srcStride: number, dst: Address, dstStride: number): void {
    const overlap = src < dst + rows * dstStride && dst < src + rows * srcStride;
    if (overlap) return super.copy2d(rows, cols, src, srcStride, dst, dstStride);
    this.rows("copy2d", rows, rows * cols * NS_PER_UNIT.stream, [rows, cols, P(src), srcStride, P(dst), dstStride],
      [0, 0, srcStride * 4, 0, dstStride * 4, 0], () => super.copy2d(rows, cols, src, srcStride, dst, dstStride));
  }
  override clamp(n: number, lo: number, hi: number, x: Address, out: Address): void {
    this.elementwise("clamp", n, NS_PER_UNIT.stream, [n, lo, hi, P(x), P(out)], [3, 4], [4], () => super.clamp(n, lo, hi, x, out));
  }

  // ---- activations ----------------------------------------------------------------------------

  private unary(op: Operation, n: number, cost: number, x: Address, out: Address, serial: () => void): void {
    this.elementwise(op, n, cost, [n, P(x), P(out)], [1, 2], [2], serial);
  }
  private gradient(op: Operation, n: number, cost: number, x: Address, dy: Address, dx: Address, serial: () => void): void {
    this.elementwise(op, n, cost, [n, P(x), P(dy), P(dx)], [1, 2, 3], [3], serial);
  }

  override relu(n: number, x: Address, out: Address): void {
    this.unary("relu", n, NS_PER_UNIT.stream, x, out, () => super.relu(n, x, out));
  }
  override reluGrad(n: number, x: Address, dy: Address, dx: Address): void {
    this.gradient("reluGrad", n, NS_PER_UNIT.stream, x, dy, dx, () => super.reluGrad(n, x, dy, dx));
  }
  override leakyRelu(n: number, slope: number, x: Address, out: Address): void {
    this.elementwise("leakyRelu", n, NS_PER_UNIT.stream, [n, slope, P(x), P(out)], [2, 3], [3],
      () => super.leakyRelu(n, slope, x, out));
  }
  override leakyReluGrad(n: number, slope: number, x: Address, dy: Address, dx: Address): void {
    this.elementwise("leakyReluGrad", n, NS_PER_UNIT.stream, [n, slope, P(x), P(dy), P(dx)], [2, 3, 4], [4],
      () => super.leakyReluGrad(n, slope, x, dy, dx));
  }
  override tanh(n: number, x: Address, out: Address): void {
    this.unary("tanh", n, NS_PER_UNIT.transcendental, x, out, () => super.tanh(n, x, out));
  }
  override tanhGrad(n: number, x: Address, dy: Address, dx: Address): void {
    this.gradient("tanhGrad", n, NS_PER_UNIT.transcendental, x, dy, dx, () => super.tanhGrad(n, x, dy, dx));
  }
  override sigmoid(n: number, x: Address, out: Address): void {
    this.unary("sigmoid", n, NS_PER_UNIT.transcendental, x, out, () => super.sigmoid(n, x, out));
  }
  override sigmoidGrad(n: number, x: Address, dy: Address, dx: Address): void {
    this.gradient("sigmoidGrad", n, NS_PER_UNIT.transcendental, x, dy, dx, () => super.sigmoidGrad(n, x, dy, dx));
  }
  override softplus(n: number, x: Address, out: Address): void {
    this.unary("softplus", n, NS_PER_UNIT.transcendental, x, out, () => super.softplus(n, x, out));
  }
  override softplusGrad(n: number, x: Address, dy: Address, dx: Address): void {
    this.gradient("softplusGrad", n, NS_PER_UNIT.transcendental, x, dy, dx, () => super.softplusGrad(n, x, dy, dx));
  }
  override gelu(n: number, x: Address, out: Address): void {
    this.unary("gelu", n, NS_PER_UNIT.transcendental, x, out, () => super.gelu(n, x, out));
  }
  override geluGrad(n: number, x: Address, dy: Address, dx: Address): void {
    this.gradient("geluGrad", n, NS_PER_UNIT.transcendental, x, dy, dx, () => super.geluGrad(n, x, dy, dx));
  }
  override exp(n: number, x: Address, out: Address): void {
    this.unary("exp", n, NS_PER_UNIT.transcendental, x, out, () => super.exp(n, x, out));
  }
  override expGrad(n: number, x: Address, dy: Address, dx: Address): void {
    this.gradient("expGrad", n, NS_PER_UNIT.transcendental, x, dy, dx, () => super.expGrad(n, x, dy, dx));
  }
  override log(n: number, x: Address, out: Address): void {
    this.unary("log", n, NS_PER_UNIT.transcendental, x, out, () => super.log(n, x, out));
  }
  override logGrad(n: number, x: Address, dy: Address, dx: Address): void {
    this.gradient("logGrad", n, NS_PER_UNIT.stream, x, dy, dx, () => super.logGrad(n, x, dy, dx));
  }

  // ---- rows: each row is independent; sums along a row are never split ------------------------

  override rowSum(rows: number, cols: number, x: Address, out: Address): void {
    this.rows("rowSum", rows, rows * cols * NS_PER_UNIT.stream, [rows, cols, P(x), P(out)], [0, 0, cols * 4, 4],
      () => super.rowSum(rows, cols, x, out));
  }
  override rowMax(rows: number, cols: number, x: Address, out: Address): void {
    this.rows("rowMax", rows, rows * cols * NS_PER_UNIT.stream, [rows, cols, P(x), P(out)], [0, 0, cols * 4, 4],
      () => super.rowMax(rows, cols, x, out));
  }
  override argmaxRows(rows: number, cols: number, x: Address, out: Address): void {
    this.rows("argmaxRows", rows, rows * cols * NS_PER_UNIT.stream, [rows, cols, P(x), P(out)], [0, 0, cols * 4, 4],
      () => super.argmaxRows(rows, cols, x, out));
  }
  override softmaxRows(rows: number, cols: number, x: Address, out: Address): void {
    if (!separate([rows, cols, P(x), P(out)], [2, 3], [3], rows * cols)) return super.softmaxRows(rows, cols, x, out);
    this.rows("softmaxRows", rows, rows * cols * NS_PER_UNIT.transcendental, [rows, cols, P(x), P(out)],
      [0, 0, cols * 4, cols * 4], () => super.softmaxRows(rows, cols, x, out), 1);
  }
  override logSoftmaxRows(rows: number, cols: number, x: Address, out: Address): void {
    if (!separate([rows, cols, P(x), P(out)], [2, 3], [3], rows * cols)) return super.logSoftmaxRows(rows, cols, x, out);
    this.rows("logSoftmaxRows", rows, rows * cols * NS_PER_UNIT.transcendental, [rows, cols, P(x), P(out)],
      [0, 0, cols * 4, cols * 4], () => super.logSoftmaxRows(rows, cols, x, out), 1);
  }

  override adamStep(n: number, lr: number, beta1: number, beta2: number, epsilon: number, c1: number, c2: number,
    param: Address, grad: Address, m: Address, v: Address): void {
    this.elementwise("adamStep", n, NS_PER_UNIT.transcendental, [n, lr, beta1, beta2, epsilon, c1, c2, P(param), P(grad), P(m), P(v)],
      [7, 8, 9, 10], [7, 9, 10], () => super.adamStep(n, lr, beta1, beta2, epsilon, c1, c2, param, grad, m, v));
  }
}

/**
 * True when every output range either is an input range or overlaps none: then blocks of
 * the same elements never read what another block writes.
 */
function separate(args: number[], pointers: number[], outputs: number[], n: number): boolean {
  const bytes = n * 4;
  for (const o of outputs) {
    for (const i of pointers) {
      if (i === o) continue;
      const out = args[o], other = args[i];
      if (out !== other && out < other + bytes && other < out + bytes) return false;
    }
  }
  return true;
}
