// The threaded backend splits outputs, never sums: every kernel gives the same bits with 1, 2
// and 3 threads, with blocks computed by the calling thread or only by workers, and the same
// bits as the single-threaded wasm-simd build. Oracle: wasm-simd itself (an independent
// module and memory); the claim is bit equality, so there is no tolerance.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import fc from "fast-check";
import { KernelError } from "../../src/backend/errors.js";
import { conv2dOutputShape, pool2dOutputShape, type Backend, type Pool2dGeometry } from "../../src/backend/kernels.js";
import { createBackend, getBackendByName } from "../../src/backend/load.js";
import type { ThreadedBackend } from "../../src/backend/threaded.js";
import { ThreadPool } from "../../src/backend/threads/pool.js";
import { canBlock } from "../../src/backend/threads/spawn.js";
import {
  ARG_COUNT, ARGS, BOUNDS, CLAIM, CONTROL_BYTES, controlViews, COUNT_ARG, DONE, OPERATION, runBlocks, SCRATCH_BASE,
  SCRATCH_STRIDE, generationOf, serveJobs, SHUTDOWN, slotWord, STATE, stateOf, STRIDES, WORKER_EXITED, WORKER_FAILED, WORKER_READY,
  WORKER_STARTING, WORKER_STOPPED,
} from "../../src/backend/threads/protocol.js";
import { decodeBase64 } from "../../src/backend/base64.js";
import { threadWorkerSourceBase64 } from "../../src/backend/wasm-binaries.generated.js";
import { splitUnits } from "../../src/backend/threads/split.js";
import { awkwardSize, convGeometry, randomArray, seed } from "../arbitraries.js";
import { runKernel } from "../util/backends.js";

const threads = suite("threaded backend");

const simd = getBackendByName("wasm-simd");
// Backends of their own, splitting every call (threshold 0): one thread; two threads, the
// calling thread and a worker taking blocks at the same time; three threads where the two
// workers compute every block, side by side (more threads than this machine's cores, in general).
const one = createBackend("wasm-simd-threads", { threads: 1, parallelThreshold: 0 }) as ThreadedBackend;
const two = createBackend("wasm-simd-threads", { threads: 2, parallelThreshold: 0 }) as ThreadedBackend;
const three = createBackend("wasm-simd-threads", { threads: 3, parallelThreshold: 0 }) as ThreadedBackend;
three.setCallerTakesBlocks(false);
const variants: [string, ThreadedBackend][] = [["1 thread", one], ["2 threads", two], ["3 threads, workers only", three]];

/** One kernel call with its inputs, run the same way on any backend. */
interface Call {
  label: string;
  run(backend: Backend): Float64Array[];
}

/** A call that prints as its label in a counterexample. */
const call = (label: string, run: (backend: Backend) => Float64Array[]): Call =>
  ({ label, run, [fc.toStringMethod]: () => label }) as Call;

/** Exact comparison: same value, same sign of zero, NaN where NaN. */
function sameBits(label: string, actual: Float64Array, expected: Float64Array): void {
  assert.is(actual.length, expected.length, `${label}: length`);
  for (let i = 0; i < expected.length; i++)
    if (!Object.is(actual[i], expected[i])) assert.unreachable(`${label}: element ${i} is ${actual[i]}, wasm-simd gives ${expected[i]}`);
}

const values = (length: number, s: number, range = 3) => Float32Array.from(randomArray(length, s, range));

const matmulCall = fc
  .record({ transA: fc.boolean(), transB: fc.boolean(), m: awkwardSize(70), n: awkwardSize(70), k: fc.integer({ min: 0, max: 90 }),
    alpha: fc.constantFrom(1, -0.5, 2), beta: fc.constantFrom(0, 1, 0.25), seed })
  .map((p): Call => call(`matmul ${JSON.stringify(p)}`, (b) => [runKernel(b, { a: values(p.m * p.k, p.seed), bm: values(p.k * p.n, p.seed + 1) },
      { c: p.beta === 0 ? p.m * p.n : values(p.m * p.n, p.seed + 2) },
      (be, at) => be.matmul(p.transA, p.transB, p.m, p.n, p.k, p.alpha, at.a, at.bm, p.beta, at.c)).outputs.c]));

const batchedCall = fc
  .record({ batch: fc.integer({ min: 1, max: 5 }), m: awkwardSize(20), n: awkwardSize(20), k: awkwardSize(20), transB: fc.boolean(), seed })
  .map((p): Call => call(`matmulBatched ${JSON.stringify(p)}`, (b) => [runKernel(b, { a: values(p.batch * p.m * p.k, p.seed), bm: values(p.batch * p.k * p.n, p.seed + 1) },
      { c: p.batch * p.m * p.n },
      (be, at) => be.matmulBatched(p.batch, false, p.transB, p.m, p.n, p.k, 1, at.a, p.m * p.k, at.bm, p.k * p.n, 0, at.c, p.m * p.n)).outputs.c]));

const convCall = fc.record({ g: convGeometry(4, 12), beta: fc.constantFrom(0, 1, 0.5), seed }).map(({ g, beta, seed: s }): Call => {
  const [, , oh, ow] = conv2dOutputShape(g);
  const xLength = g.batch * g.inChannels * g.inHeight * g.inWidth;
  const wLength = g.outChannels * (g.inChannels / g.groups) * g.kernelHeight * g.kernelWidth;
  const yLength = g.batch * g.outChannels * oh * ow;
  const initial = (length: number, offset: number) => (beta === 0 ? length : values(length, s + offset));
  return call(`conv2d and derivatives, beta ${beta}, ${JSON.stringify(g)}`, (b) => [
      runKernel(b, { x: values(xLength, s), w: values(wLength, s + 1) }, { y: initial(yLength, 2) },
        (be, at) => be.conv2d(g, at.x, at.w, beta, at.y)).outputs.y,
      runKernel(b, { dy: values(yLength, s + 3), w: values(wLength, s + 1) }, { dx: initial(xLength, 4) },
        (be, at) => be.conv2dBackwardInput(g, at.dy, at.w, beta, at.dx)).outputs.dx,
      runKernel(b, { x: values(xLength, s), dy: values(yLength, s + 3) }, { dw: initial(wLength, 5) },
        (be, at) => be.conv2dBackwardWeights(g, at.x, at.dy, beta, at.dw)).outputs.dw,
      runKernel(b, { dy: values(yLength, s + 3) }, { db: initial(g.outChannels, 6) },
        (be, at) => be.biasGrad(g.batch, g.outChannels, oh * ow, at.dy, beta, at.db)).outputs.db,
    ]);
});

const poolCall = fc
  .record({ batch: fc.integer({ min: 1, max: 3 }), channels: fc.integer({ min: 1, max: 4 }), inHeight: awkwardSize(13), inWidth: awkwardSize(19),
    kernel: fc.integer({ min: 1, max: 3 }), stride: fc.integer({ min: 1, max: 3 }), pad: fc.integer({ min: 0, max: 1 }), seed })
  .filter((r) => r.pad < r.kernel && r.inHeight + 2 * r.pad >= r.kernel && r.inWidth + 2 * r.pad >= r.kernel)
  .map((r): Call => {
    const g: Pool2dGeometry = { batch: r.batch, channels: r.channels, inHeight: r.inHeight, inWidth: r.inWidth,
      kernelHeight: r.kernel, kernelWidth: r.kernel, strideHeight: r.stride, strideWidth: r.stride, padHeight: r.pad, padWidth: r.pad };
    const [, , oh, ow] = pool2dOutputShape(g);
    const xLength = r.batch * r.channels * r.inHeight * r.inWidth;
    const yLength = r.batch * r.channels * oh * ow;
    return call(`pooling ${JSON.stringify(g)}`, (b) => [
        runKernel(b, { x: values(xLength, r.seed) }, { y: yLength }, (be, at) => be.maxPool2d(g, at.x, at.y)).outputs.y,
        runKernel(b, { x: values(xLength, r.seed), dy: values(yLength, r.seed + 1) }, { dx: values(xLength, r.seed + 2) },
          (be, at) => be.maxPool2dBackward(g, at.x, at.dy, 0.5, at.dx)).outputs.dx,
        runKernel(b, { x: values(xLength, r.seed) }, { y: yLength }, (be, at) => be.avgPool2d(g, at.x, at.y)).outputs.y,
        runKernel(b, { dy: values(yLength, r.seed + 1) }, { dx: xLength }, (be, at) => be.avgPool2dBackward(g, at.dy, 0, at.dx)).outputs.dx,
      ]);
  });

// Lengths from 1 to past several 16-element blocks, so blocks end in vector loops and tails.
const length = fc.oneof(awkwardSize(67), fc.integer({ min: 64, max: 400 }));

const UNARY = ["relu", "tanh", "sigmoid", "softplus", "gelu", "exp", "log"] as const;
const GRADIENTS = ["reluGrad", "tanhGrad", "sigmoidGrad", "softplusGrad", "geluGrad", "expGrad", "logGrad"] as const;

const elementwiseCall = fc.record({ n: length, seed, inPlace: fc.boolean() }).map(({ n, seed: s, inPlace }): Call => {
  const x = values(n, s, 6);
  // A few specials: NaN, infinities and zeros of both signs go through the same paths.
  if (n > 8) x.set([NaN, Infinity, -Infinity, -0], n - 6);
  const y = values(n, s + 1, 2);
  const unaries = UNARY.map((op) => (b: Backend) =>
    runKernel(b, { x }, { out: inPlace ? x : n }, (be, at) => be[op](n, at.x, inPlace ? at.out : at.out)).outputs.out);
  return call(`elementwise n ${n}, seed ${s}${inPlace ? ", in place" : ""}`, (b) => [
      ...unaries.map((f) => f(b)),
      ...GRADIENTS.map((op) => runKernel(b, { x, dy: y }, { dx: n }, (be, at) => be[op](n, at.x, at.dy, at.dx)).outputs.dx),
      runKernel(b, { a: x, c: y }, { out: n }, (be, at) => be.add(n, at.a, at.c, at.out)).outputs.out,
      runKernel(b, { a: x, c: y }, { out: n }, (be, at) => be.div(n, at.a, at.c, at.out)).outputs.out,
      runKernel(b, { x }, { y }, (be, at) => be.axpy(n, 0.75, at.x, at.y)).outputs.y,
      runKernel(b, { x }, { y }, (be, at) => be.axpby(n, 0.75, at.x, -1.5, at.y)).outputs.y,
      runKernel(b, { x }, { out: n }, (be, at) => be.clamp(n, -1, 2, at.x, at.out)).outputs.out,
      runKernel(b, { x }, { out: n }, (be, at) => be.leakyRelu(n, 0.1, at.x, at.out)).outputs.out,
      runKernel(b, {}, { out: n }, (be, at) => be.fill(n, 2.5, at.out)).outputs.out,
      runKernel(b, { x }, { out: n }, (be, at) => be.copy(n, at.x, at.out)).outputs.out,
      ...(() => {
        const r = runKernel(b, { g: y }, { p: x, m: values(n, s + 2, 1), v: Float32Array.from(values(n, s + 3, 1), Math.abs) },
          (be, at) => be.adamStep(n, 1e-3, 0.9, 0.999, 1e-8, 0.1, 0.001, at.p, at.g, at.m, at.v));
        return [r.outputs.p, r.outputs.m, r.outputs.v];
      })(),
    ]);
});

const rowsCall = fc.record({ rows: awkwardSize(40), cols: awkwardSize(70), seed }).map(({ rows, cols, seed: s }): Call => {
  const x = values(rows * cols, s, 20);
  return call(`rows ${rows} x ${cols}`, (b) => [
      runKernel(b, { x }, { out: rows * cols }, (be, at) => be.softmaxRows(rows, cols, at.x, at.out)).outputs.out,
      runKernel(b, { x }, { out: rows * cols }, (be, at) => be.logSoftmaxRows(rows, cols, at.x, at.out)).outputs.out,
      runKernel(b, { x }, { out: rows }, (be, at) => be.rowSum(rows, cols, at.x, at.out)).outputs.out,
      runKernel(b, { x }, { out: rows }, (be, at) => be.rowMax(rows, cols, at.x, at.out)).outputs.out,
      runKernel(b, { x }, { out: rows }, (be, at) => be.argmaxRows(rows, cols, at.x, at.out)).outputs.out,
      runKernel(b, { bias: values(cols, s + 1) }, { y: x }, (be, at) => be.biasAdd(rows, cols, 1, at.bias, at.y)).outputs.y,
      runKernel(b, { x }, { out: rows * cols }, (be, at) => be.copy2d(rows, cols, at.x, cols, at.out, cols)).outputs.out,
    ]);
});

const anyCall = fc.oneof(matmulCall, batchedCall, convCall, poolCall, elementwiseCall, rowsCall);

/** Waits until every pool has its workers. */
const started = () => Promise.all(variants.map(([, backend]) => backend.whenStarted()));

threads("block boundaries cover the range, in order, on aligned units", () => {
  fc.assert(fc.property(fc.integer({ min: 0, max: 5000 }), fc.integer({ min: 1, max: 64 }), fc.constantFrom(1, 4, 8, 16), (units, blocks, align) => {
    const bounds = splitUnits(units, blocks, align);
    assert.is(bounds[0], 0);
    assert.is(bounds[bounds.length - 1], units);
    assert.ok(bounds.length - 1 <= blocks && bounds.length >= 2);
    for (let b = 1; b < bounds.length - 1; b++) {
      assert.is(bounds[b] % align, 0, `boundary ${bounds[b]} not a multiple of ${align}`);
      assert.ok(bounds[b] > bounds[b - 1], `empty block before ${bounds[b]}`);
    }
  }), { includeErrorInReport: true });
});

threads("each participant gets its own scratch block, and an affine job moves every pointer by its units", () => {
  // The protocol on its own, one thread playing every participant in turn.
  const views = controlViews(new SharedArrayBuffer(CONTROL_BYTES));
  const seen: number[][] = [];
  const record = (...args: number[]) => void seen.push(args);
  const post = (count: number, bounds: number[], args: number[], countArg: number, strides: number[] = []) => {
    views.ints[OPERATION] = 0;
    views.ints[ARG_COUNT] = args.length;
    views.ints[COUNT_ARG] = countArg;
    args.forEach((a, i) => (views.floats[ARGS + i] = a));
    strides.forEach((a, i) => (views.floats[STRIDES + i] = a));
    bounds.forEach((b, i) => (views.ints[BOUNDS + i] = b));
    Atomics.store(views.ints, DONE, 0);
    Atomics.store(views.ints, CLAIM, count << 10);
  };
  views.floats[SCRATCH_BASE] = 1 << 20;
  views.floats[SCRATCH_STRIDE] = 4096;
  // A range job: the kernel gets its arguments, the block's range and this participant's scratch.
  for (const participant of [2, 0, 1]) {
    post(1, [5, 9], [7, 8], -1);
    assert.is(runBlocks(views, [record], participant, []), 1);
  }
  assert.equal(seen, [[7, 8, 5, 9, (1 << 20) + 2 * 4096], [7, 8, 5, 9, 1 << 20], [7, 8, 5, 9, (1 << 20) + 4096]]);
  post(3, [0, 5, 9, 12], [7, 8], -1);
  assert.is(runBlocks(views, [record], 1, []), 3, "one participant runs every block left");
  assert.is(views.ints[DONE], 3);
  seen.length = 0;
  post(2, [0, 16, 20], [20, 1000, 3.5, 2000], 0, [0, 4, 0, 8]);
  assert.is(runBlocks(views, [record], 0, []), 2);
  assert.equal(seen, [[16, 1000, 3.5, 2000], [4, 1064, 3.5, 2128]]);
});

threads("every kernel gives the same bits with 1, 2 and 3 threads, and the same as wasm-simd", async () => {
  await started();
  assert.is(two.threadInfo().readyWorkers, 1, "the two-thread pool has its worker");
  assert.is(three.threadInfo().readyWorkers, 2, "the three-thread pool has its workers");
  fc.assert(fc.property(anyCall, (call) => {
    const expected = call.run(simd);
    for (const [name, backend] of variants) {
      const actual = call.run(backend);
      actual.forEach((output, i) => sameBits(`${call.label}, output ${i}, ${name}`, output, expected[i]));
    }
  }), { numRuns: 150, includeErrorInReport: true });
  // The workers did compute: with the caller taking no blocks, all of three's blocks are theirs.
  const [mainBlocks, ...workerBlocks] = three.threadInfo().stats.blocksRun;
  assert.is(mainBlocks, 0, "blocks run by the calling thread of the workers-only pool");
  assert.ok(workerBlocks[0] + workerBlocks[1] > 100, `blocks run by the workers: ${workerBlocks}`);
  assert.ok(two.threadInfo().stats.blocksRun[0] > 0, "the calling thread of the two-thread pool took blocks");
});

threads("a kernel that traps in a worker throws a KernelError naming it, and the pool stays usable", async () => {
  await started();
  const n = 1 << 12;
  const x = three.alloc(n);
  three.fill(n, 1, x);
  const beyond = three.reservedBytes() / 4 + 1024; // an address past the end of memory
  let error: unknown;
  try {
    three.relu(n, x, beyond);
  } catch (e) {
    error = e;
  }
  assert.instance(error, KernelError);
  assert.is((error as KernelError).kernel, "relu");
  assert.match((error as KernelError).thread, /^worker \d+$/);
  assert.match((error as Error).message, /relu failed in the worker \d+: RuntimeError: .*out of bounds/i);
  // The same pool computes the next call, in its workers, correctly.
  const workerBlocks = () => three.threadInfo().stats.blocksRun.slice(1).reduce((a, b) => a + b, 0);
  const before = workerBlocks();
  const y = three.alloc(n);
  three.scale(n, 3, x, y);
  assert.ok(three.read(y, n).every((v) => v === 3));
  assert.ok(workerBlocks() > before, "the workers ran the next call");
  three.free(x);
  three.free(y);
});

threads("a trap on the calling thread's block is a KernelError too", async () => {
  await started();
  const n = 1 << 12;
  const x = two.alloc(n);
  let error: unknown;
  try {
    two.tanh(n, x, two.reservedBytes() / 4 + 1024);
  } catch (e) {
    error = e;
  }
  assert.instance(error, KernelError);
  assert.match((error as Error).message, /^tanh failed in the (main thread|worker \d+): /);
  two.free(x);
});

threads("a worker that cannot start does not fail the kernel the calling thread is running, and its reason is kept", async () => {
  // The worker gets bytes that are no wasm module; its failure lands while the calling thread
  // runs a job (whose one block waits for that failure): the job succeeds, and the reason is
  // reported. A browser's main thread (which may not block) cannot watch a worker start while
  // it spins, so there the failure lands between jobs instead.
  const memory = new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });
  const workerSource = new TextDecoder().decode(decodeBase64(threadWorkerSourceBase64));
  let workerState = () => WORKER_STARTING;
  const waitForStart = () => {
    for (const until = performance.now() + 10_000; workerState() === WORKER_STARTING && performance.now() < until; );
  };
  const pool = new ThreadPool({ memory, kernels: new Uint8Array([0, 1, 2, 3]), mainKernels: { waitForStart }, workerSource,
    operations: ["waitForStart"] });
  const ints = new Int32Array((pool as unknown as { views: { ints: Int32Array } }).views.ints.buffer);
  workerState = () => stateOf(Atomics.load(ints, STATE));
  const starting = pool.resize(1, 0);
  const handles = (pool as unknown as { handles: unknown[] }).handles;
  while (handles[0] === undefined) await new Promise((resolve) => setTimeout(resolve, 0));
  if (canBlock()) {
    pool.runRange("waitForStart", 0, [], [0, 1], 0, 0);
    assert.is(workerState(), WORKER_FAILED, "the worker failed during the job");
  }
  await starting;
  assert.is(pool.readyWorkers, 0);
  assert.match(pool.stats().startFailure ?? "", /CompileError/, `start failure: ${JSON.stringify(pool.stats().startFailure)}`);
  const [callerBlocks] = pool.stats().blocksRun;
  pool.runRange("waitForStart", 0, [], [0, 1, 2], 0, 0);
  assert.equal(pool.stats().blocksRun, [callerBlocks + 2, 0], "the calling thread ran every block");
  pool.dispose();
});

threads("a worker whose slot was started again while it was starting leaves the slot to the new worker", async () => {
  // serveJobs as a worker of an earlier start of slot 0 runs it: the slot already holds a
  // later generation, so it must not become ready (it would serve as the same participant,
  // with the same scratch, as the new worker) nor touch the slot's word. With SHUTDOWN set, a
  // worker that did wrongly become ready leaves its loop at once instead of waiting for jobs.
  const memory = new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });
  const kernels = await WebAssembly.compile(new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]));
  const control = new SharedArrayBuffer(CONTROL_BYTES);
  const ints = controlViews(control).ints;
  Atomics.store(ints, SHUTDOWN, 1);
  for (const [state, expected] of [[WORKER_STARTING, WORKER_STARTING], [WORKER_READY, WORKER_READY], [WORKER_STOPPED, WORKER_STOPPED]]) {
    Atomics.store(ints, STATE, slotWord(8, state));
    await serveJobs({ index: 0, generation: 7, memory, kernels, control, operations: [] });
    assert.is(Atomics.load(ints, STATE), slotWord(8, expected), `slot of generation 8 in state ${state}`);
  }
  // Its own generation: stopped while starting, it reports that it has left; else it serves
  // (here: leaves at once for the shutdown) and reports the same.
  for (const state of [WORKER_STOPPED, WORKER_STARTING]) {
    Atomics.store(ints, STATE, slotWord(7, state));
    await serveJobs({ index: 0, generation: 7, memory, kernels, control, operations: [] });
    assert.is(Atomics.load(ints, STATE), slotWord(7, WORKER_EXITED), `own slot in state ${state}`);
  }
});

threads("a serving worker has left its job loop before it is terminated", async () => {
  // Terminated in the middle of a block it had just claimed, a worker would leave that job
  // unfinished; stopping one therefore waits until it reports that it claims no more blocks.
  // Whether the worker would have got there first anyway depends on the scheduler, so the
  // stop is repeated.
  const backend = createBackend("wasm-simd-threads", { threads: 3, parallelThreshold: 0 }) as ThreadedBackend;
  const n = 1 << 12;
  const x = backend.alloc(n);
  backend.fill(n, 1, x);
  let lastGeneration = 0;
  for (let round = 0; round < 6; round++) {
    await backend.configure({ threads: 3 });
    await backend.whenStarted();
    const pool = (backend as unknown as { pool: { views: { ints: Int32Array }; handles: { terminate(): void }[] } }).pool;
    const ints = pool.views.ints;
    assert.is(stateOf(Atomics.load(ints, STATE + 1)), WORKER_READY);
    // Every start of a slot is a new generation (see the test above).
    const generation = generationOf(Atomics.load(ints, STATE + 1));
    assert.ok(generation > lastGeneration, `round ${round}: slot 1 restarted as generation ${generation}, after ${lastGeneration}`);
    lastGeneration = generation;
    backend.scale(n, 1, x, x);
    // The state worker 1 is in when it is terminated.
    const handle = pool.handles[1];
    const terminate = handle.terminate.bind(handle);
    let stateAtTerminate = -1;
    handle.terminate = () => {
      stateAtTerminate = stateOf(Atomics.load(ints, STATE + 1));
      terminate();
    };
    await new Promise((resolve) => setTimeout(resolve, 5)); // the workers fall asleep
    await backend.configure({ threads: 2 }); // stops worker 1, the pool goes on
    assert.is(stateAtTerminate, WORKER_EXITED, `round ${round}: the worker had left its loop when it was terminated`);
  }
  backend.scale(n, 2, x, x);
  assert.ok(backend.read(x, n).every((v) => v === 2));
  backend.free(x);
  backend.dispose();
});

threads("dispose stops the workers; the backend goes on, on one thread, and can start them again", async () => {
  const backend = createBackend("wasm-simd-threads", { threads: 2, parallelThreshold: 0 }) as ThreadedBackend;
  await backend.whenStarted();
  assert.is(backend.threadInfo().readyWorkers, 1);
  const n = 1000;
  const x = backend.alloc(n);
  backend.fill(n, -2, x);
  backend.dispose();
  assert.equal([backend.threadInfo().threads, backend.threadInfo().readyWorkers, backend.threadInfo().stats.workers], [1, 0, 0]);
  backend.relu(n, x, x);
  assert.ok(backend.read(x, n).every((v) => v === 0));
  await backend.configure({ threads: 2 });
  assert.is(backend.threadInfo().readyWorkers, 1);
  backend.dispose();
  backend.free(x);
});

threads("where running workers would keep the process alive, idle ones stop and start again on demand", async () => {
  const backend = createBackend("wasm-simd-threads", { threads: 2, parallelThreshold: 0 }) as ThreadedBackend;
  await backend.whenStarted();
  const { stopsWhenIdle } = backend.threadInfo().stats;
  await new Promise((resolve) => setTimeout(resolve, ThreadPool.IDLE_MS + 400));
  // Node and Bun unreference their workers, which then simply wait; Deno and browsers stop them.
  assert.is(backend.threadInfo().stats.parked, stopsWhenIdle);
  assert.is(backend.threadInfo().readyWorkers, stopsWhenIdle ? 0 : 1);
  const n = 1 << 12;
  const x = backend.alloc(n);
  backend.fill(n, 2, x); // on the calling thread while parked; starts the workers again
  await backend.whenStarted();
  assert.is(backend.threadInfo().readyWorkers, 1);
  backend.setCallerTakesBlocks(false);
  backend.scale(n, 0.5, x, x);
  assert.ok(backend.read(x, n).every((v) => v === 1));
  assert.is(backend.threadInfo().stats.workersStarted, stopsWhenIdle ? 2 : 1);
  backend.free(x);
  backend.dispose();
});

threads("a split call that had to wake a sleeping worker is not taken for contention", async () => {
  // The pool stops splitting for a while when workers come late (a busy machine). A worker
  // idle past its polling window sleeps, and waking it takes tens of microseconds, so a small
  // call finishes on the calling thread before the worker joins: that is not contention, and
  // calls spaced out like this must go on being split.
  // Such a call is not judged at all (a spy on the pool's judge counts the calls judged).
  const backend = createBackend("wasm-simd-threads", { threads: 2, parallelThreshold: 1 }) as ThreadedBackend;
  await backend.whenStarted();
  const governor = (backend as unknown as { pool: { governor: { judge: (...args: number[]) => void } } }).pool.governor;
  let judged = 0;
  const judge = governor.judge.bind(governor);
  governor.judge = (...args: number[]) => {
    judged++;
    judge(...args);
  };
  const n = 1 << 12;
  const x = backend.alloc(n);
  backend.fill(n, 1, x);
  const jobsBefore = backend.threadInfo().stats.jobs;
  for (let i = 0; i < 12; i++) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    backend.scale(n, 1, x, x);
  }
  const { jobs, pauses } = backend.threadInfo().stats;
  assert.is(jobs - jobsBefore, 12, "every call was split");
  assert.is(pauses, 0, "no pause");
  // (A call can find the worker awake, say after a spurious wake-up, and be judged: a few at most.)
  assert.ok(judged <= 3, `${judged} of 12 calls that woke the worker were judged`);
  backend.free(x);
  backend.dispose();
});

threads("streaming kernels split only from twice the threshold; exp-bound ones from the threshold", async () => {
  // At a 20 µs threshold: the SGD update of a 784x256 layer (200,704 floats, ~30 µs) stays on
  // the calling thread (its weights are hot in the caller's cache, see split.ts); 2^20 floats
  // are split; a sigmoid over the same 200,704 floats (~320 µs) is split.
  const backend = createBackend("wasm-simd-threads", { threads: 2, parallelThreshold: 20_000 }) as ThreadedBackend;
  await backend.whenStarted();
  const jobs = () => backend.threadInfo().stats.jobs;
  const layer = 784 * 256, large = 1 << 20;
  const x = backend.alloc(large), y = backend.alloc(large);
  backend.fill(large, 0.5, x);
  backend.fill(large, 0.25, y);
  let before = jobs();
  backend.axpy(layer, -1e-3, x, y);
  assert.is(jobs() - before, 0, "the update of a 784x256 layer stays on one thread");
  before = jobs();
  backend.axpy(large, -1e-3, x, y);
  assert.is(jobs() - before, 1, "an update of 2^20 parameters is split");
  before = jobs();
  backend.sigmoid(layer, x, y);
  assert.is(jobs() - before, 1, "a sigmoid over 200,704 elements is split");
  backend.free(x);
  backend.free(y);
  backend.dispose();
});

threads("workers instantiate the calling thread's compiled kernels module, not a copy of their own", async () => {
  // One compiled module shares its code, and the tier-up of hot kernels, with every thread:
  // workers that compiled their own copy ran kernels they had seldom run up to 2x slower.
  const backend = createBackend("wasm-simd-threads", { threads: 2 }) as ThreadedBackend;
  await backend.whenStarted();
  const setup = (backend as unknown as { pool: { setup: { kernels: unknown } } }).pool.setup;
  assert.ok(setup.kernels instanceof WebAssembly.Module, "the pool hands workers a WebAssembly.Module");
  assert.is(backend.threadInfo().readyWorkers, 1);
  backend.dispose();
});

threads("thread options are checked", () => {
  assert.throws(() => one.configure({ threads: 0 }), /threads must be an integer from 1 to 32/);
  assert.throws(() => one.configure({ threads: 2.5 }), /threads must be/);
  assert.throws(() => one.configure({ parallelThreshold: -1 }), /parallelThreshold/);
  assert.throws(() => createBackend("wasm-simd", { threads: 2 }), /takes no options/);
});

threads("dispose stops every pool of this suite", () => {
  for (const [, backend] of variants) backend.dispose();
  for (const [name, backend] of variants) assert.is(backend.threadInfo().stats.workers, 0, name);
});

threads.run();
