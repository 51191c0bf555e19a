// A pool of worker threads over one shared WebAssembly.Memory, driven synchronously from the
// main thread: `run` posts a job (one kernel split into blocks), takes part in it, waits for
// the blocks the workers claimed and returns. Workers join when they have started; until
// then, or when one is slow to wake, the main thread claims the remaining blocks itself, so
// a job never waits for a worker that has not begun it.
import { KernelError } from "../errors.js";
import {
  ARG_COUNT, ARGS, BLOCKS_RUN, BOUNDS, CLAIM, CONTROL_BYTES, COUNT_ARG, controlViews, type ControlViews, DONE, FAILED,
  failureMessage, generationOf, GENERATIONS, MAX_ARGS, MAX_BLOCKS, MAX_WORKERS, OPERATION, runBlocks, SCRATCH_BASE, SCRATCH_STRIDE, SEQUENCE,
  SHUTDOWN, slotWord, SPIN_MICROS, STATE, stateOf, STRIDES, takeStartFailure, WORKER_EXITED, WORKER_FAILED, WORKER_READY, WORKER_STARTING, WORKER_STOPPED,
  type WorkerStart,
} from "./protocol.js";
import { canBlock, spawnWorker, unreferencedTimeout, type WorkerHandle } from "./spawn.js";
import { SplitGovernor } from "./split-governor.js";
import type { WasmInstanceExports, WasmMemory, WasmModule } from "../wasm-memory.js";

type Kernel = (...args: number[]) => unknown;

export interface PoolSetup {
  memory: WasmMemory;
  /**
   * The kernels module every worker instantiates: compiled, so that all threads run one copy of
   * its code (a kernel the calling thread has made hot is optimised for the workers too, where a
   * worker compiling its own copy ran a kernel it had seldom run up to 2x slower for seconds),
   * or as bytes.
   */
  kernels: WasmModule | Uint8Array<ArrayBuffer>;
  /** The main thread's own instance of that module. */
  mainKernels: WasmInstanceExports;
  /** The worker script (protocol.ts with its bootstrap). */
  workerSource: string;
  /** Export names, indexed by operation number. */
  operations: readonly string[];
}

/** Counters of a thread pool: its workers, the blocks each thread ran, the jobs it shared and its pauses. */
export interface PoolStats {
  /** Workers started and serving jobs. */
  readyWorkers: number;
  /** Workers asked for (started or starting). */
  workers: number;
  /** Blocks run per participant since the pool was made: [main thread, worker 1, ...]. */
  blocksRun: number[];
  /** Jobs posted to the workers (kernels split into blocks). */
  jobs: number;
  /** Workers started since the pool was made (restarts included). */
  workersStarted: number;
  /** Why the last worker that failed to start did (undefined when none failed). */
  startFailure?: string;
  /** Times splitting was paused because workers were late (a contended machine). */
  pauses: number;
  /** Whether idle workers are stopped in this runtime (where they would keep it alive), and now are. */
  stopsWhenIdle: boolean;
  parked: boolean;
}

export class ThreadPool {
  private readonly views: ControlViews;
  private readonly mainKernels: Kernel[];
  private readonly handles: (WorkerHandle | undefined)[] = [];
  private readonly starting: Promise<void>[] = [];
  /** Each slot's generation: bumped by every start (see slotWord in protocol.ts). */
  private readonly generations: number[] = [];
  private readonly mainCanBlock = canBlock();
  private readonly scratchArgs: number[] = [];
  /** How long idle workers may poll (0 when threads outnumber cores). */
  private spinMicros = 0;
  /** When to stop splitting for a while (a contended machine). */
  private readonly governor = new SplitGovernor();
  /** Whether contention pauses splitting (off: every call the backend hands over is split). */
  adaptive = true;
  /** Time of the last job, and whether an idle check is scheduled (see parkWhenIdle). */
  private lastJob = 0;
  private idleCheck = false;
  private stopsWhenIdle = false;
  /** Workers stopped after idling where they would keep the process alive; restarted on demand. */
  private parked = 0;
  /**
   * Whether the calling thread computes blocks too (it always does while no worker is ready).
   * Off, every block runs in a worker: for tests of what workers compute, and diagnostics.
   */
  callerTakesBlocks = true;
  private wanted = 0;
  private jobs = 0;
  private workersStarted = 0;
  private startFailure: string | undefined;
  private disposed = false;

  constructor(private readonly setup: PoolSetup) {
    this.views = controlViews(new SharedArrayBuffer(CONTROL_BYTES));
    this.mainKernels = setup.operations.map((name) => setup.mainKernels[name] as Kernel);
  }

  /**
   * Where a running worker keeps the process alive (Deno) or holds a page's threads (browsers),
   * workers idle for this long are stopped, so that a script whose work is done exits by
   * itself; the next large kernel starts them again (it runs on the calling thread meanwhile).
   */
  static readonly IDLE_MS = 1000;
  /**
   * How long stopping a serving worker waits for it to leave its job loop: far beyond the
   * microseconds that takes, unless the worker's thread gets no core at all.
   */
  static readonly EXIT_WAIT_MS = 200;

  /** True when the workers were stopped for idling: call wake() before splitting. */
  get isParked(): boolean {
    return this.parked > 0;
  }

  /** Starts the workers stopped for idling again (they join as they come up). */
  wake(): void {
    if (this.parked === 0 || this.disposed) return;
    const workers = this.parked;
    this.parked = 0;
    void this.resize(workers, this.spinMicros);
  }

  private scheduleIdleCheck(): void {
    if (this.idleCheck || this.disposed) return;
    this.idleCheck = true;
    const check = (): void => {
      this.idleCheck = false;
      if (this.disposed || this.wanted === 0) return;
      const idle = performance.now() - this.lastJob;
      if (idle < ThreadPool.IDLE_MS) {
        this.idleCheck = true;
        unreferencedTimeout(check, ThreadPool.IDLE_MS - idle + 1);
        return;
      }
      this.parked = this.wanted;
      while (this.wanted > 0) this.stopWorker(--this.wanted);
    };
    unreferencedTimeout(check, ThreadPool.IDLE_MS);
  }

  /** Workers started and serving jobs now; with the main thread they split each job. */
  get readyWorkers(): number {
    let ready = 0;
    for (let w = 0; w < this.wanted; w++) if (stateOf(Atomics.load(this.views.ints, STATE + w)) === WORKER_READY) ready++;
    return ready;
  }

  get workerCount(): number {
    return this.wanted;
  }

  /**
   * Grows or shrinks the pool to `workers` workers (besides the main thread). Idle workers poll
   * for `spinMicros` before they sleep (0 when threads outnumber cores, where polling would
   * take the core a working thread needs).
   */
  resize(workers: number, spinMicros: number): Promise<void> {
    if (this.disposed) throw new KernelError("the thread pool was disposed", "resize", "main thread");
    workers = Math.max(0, Math.min(MAX_WORKERS, Math.floor(workers)));
    // The count asked for now replaces that of workers stopped for idling (wake() would restore it).
    this.parked = 0;
    this.spinMicros = spinMicros;
    Atomics.store(this.views.ints, SPIN_MICROS, spinMicros);
    while (this.wanted > workers) this.stopWorker(--this.wanted);
    while (this.wanted < workers) this.startWorker(this.wanted++);
    return this.whenStarted();
  }

  /** Resolves once every worker asked for has started (or failed to start). */
  async whenStarted(): Promise<void> {
    await Promise.all(this.starting.slice(0, this.wanted));
  }

  private startWorker(index: number): void {
    const { ints } = this.views;
    this.workersStarted++;
    const generation = (this.generations[index] = ((this.generations[index] ?? 0) + 1) % GENERATIONS);
    Atomics.store(ints, STATE + index, slotWord(generation, WORKER_STARTING));
    const fail = (reason: unknown): void => {
      // The failure of a start given up on (its slot started again) concerns nobody now.
      const word = Atomics.load(ints, STATE + index);
      if (generationOf(word) !== generation) return;
      this.startFailure = reason instanceof Error ? `${reason.name}: ${reason.message}` : String(reason);
      Atomics.compareExchange(ints, STATE + index, word, slotWord(generation, WORKER_FAILED));
      Atomics.notify(ints, STATE + index);
    };
    const message: WorkerStart = {
      index,
      generation,
      memory: this.setup.memory,
      kernels: this.setup.kernels,
      control: this.views.ints.buffer as SharedArrayBuffer,
      operations: [...this.setup.operations],
    };
    this.starting[index] = spawnWorker(this.setup.workerSource, fail)
      .then((handle) => {
        if (this.disposed || index >= this.wanted) {
          handle.terminate();
          return;
        }
        this.handles[index] = handle;
        if (!handle.unreferenced) {
          this.stopsWhenIdle = true;
          this.lastJob = performance.now();
          this.scheduleIdleCheck();
        }
        handle.post(message);
        return this.untilSettled(index);
      })
      .catch(fail);
  }

  /** Waits (without blocking the event loop) until worker `index` is ready, failed or stopped. */
  private async untilSettled(index: number): Promise<void> {
    const { ints } = this.views;
    for (let delay = 1; stateOf(Atomics.load(ints, STATE + index)) === WORKER_STARTING; delay = Math.min(delay * 2, 50)) {
      if (this.disposed || index >= this.wanted) return;
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
    // A worker that could not instantiate the kernels left its reason in the control block.
    if (stateOf(Atomics.load(ints, STATE + index)) === WORKER_FAILED) {
      const reason = takeStartFailure(this.views, index);
      if (reason !== undefined) this.startFailure ??= reason;
    }
  }

  private stopWorker(index: number): void {
    // Marked STOPPED and woken, the worker leaves its loop and its thread ends by itself;
    // terminate() then ends it at once where the runtime can. A serving worker that woke late
    // for the last job may be just about to claim a block of the next one: terminated in the
    // middle of that block, it would leave the job unfinished and its caller waiting for ever.
    // So a worker that was serving is first waited for until it has left its job loop (it
    // finishes a block it holds; between jobs that takes microseconds).
    const { ints } = this.views;
    // The state moves to STOPPED from whatever it is, unless the worker has already left its
    // loop (a shutdown it saw first): EXITED stays.
    const generation = this.generations[index] ?? 0;
    let was: number;
    do was = Atomics.load(ints, STATE + index);
    while (stateOf(was) !== WORKER_EXITED &&
      Atomics.compareExchange(ints, STATE + index, was, slotWord(generation, WORKER_STOPPED)) !== was);
    Atomics.add(ints, SEQUENCE, 1);
    Atomics.notify(ints, SEQUENCE);
    if (stateOf(was) === WORKER_READY) this.waitForExit(index, slotWord(generation, WORKER_STOPPED));
    this.handles[index]?.terminate();
    this.handles[index] = undefined;
  }

  /** Until worker `index` reports it has left its job loop (its word moves from `stopped`), for at most EXIT_WAIT_MS. */
  private waitForExit(index: number, stopped: number): void {
    const { ints } = this.views;
    const until = performance.now() + ThreadPool.EXIT_WAIT_MS;
    while (Atomics.load(ints, STATE + index) === stopped && performance.now() < until) {
      if (this.mainCanBlock) Atomics.wait(ints, STATE + index, stopped, 1);
    }
  }

  /**
   * Runs operation `op` as a range job: block b calls the kernel with `args`, then
   * bounds[b], bounds[b + 1] and this participant's scratch (scratchBase + p * scratchStride).
   */
  runRange(kernel: string, op: number, args: ArrayLike<number>, bounds: ArrayLike<number>, scratchBase: number,
    scratchStride: number): void {
    const { floats } = this.views;
    floats[SCRATCH_BASE] = scratchBase;
    floats[SCRATCH_STRIDE] = scratchStride;
    this.run(kernel, op, args, -1, bounds);
  }

  /**
   * Runs operation `op` as an affine job: block b calls the kernel with args[i] + start *
   * strides[i] and args[countArg] = end - start, for [start, end) = [bounds[b], bounds[b + 1]).
   */
  runAffine(kernel: string, op: number, args: ArrayLike<number>, strides: ArrayLike<number>, countArg: number,
    bounds: ArrayLike<number>): void {
    const { floats } = this.views;
    for (let i = 0; i < args.length; i++) floats[STRIDES + i] = strides[i];
    this.run(kernel, op, args, countArg, bounds);
  }

  private run(kernel: string, op: number, args: ArrayLike<number>, countArg: number, bounds: ArrayLike<number>): void {
    if (this.disposed) throw new KernelError(`${kernel}: the thread pool was disposed`, kernel, "main thread");
    const blocks = bounds.length - 1;
    if (blocks < 1 || blocks > MAX_BLOCKS || args.length > MAX_ARGS)
      throw new KernelError(`${kernel}: ${blocks} blocks and ${args.length} arguments exceed the job format`, kernel, "main thread");
    const { ints, floats } = this.views;
    ints[OPERATION] = op;
    ints[ARG_COUNT] = args.length;
    ints[COUNT_ARG] = countArg;
    for (let i = 0; i < args.length; i++) floats[ARGS + i] = args[i];
    for (let b = 0; b <= blocks; b++) ints[BOUNDS + b] = bounds[b];
    Atomics.store(ints, DONE, 0);
    Atomics.store(ints, FAILED, 0);
    // Publishing the claim word makes the job visible; the sequence wakes sleeping workers.
    Atomics.store(ints, CLAIM, blocks << 10);
    // Workers asleep in Atomics.wait (idle past their polling window) need a wake-up of tens of
    // microseconds: a job that woke one says nothing about contention (see adapt).
    let woken = 0;
    if (this.wanted > 0) {
      this.jobs++;
      Atomics.add(ints, SEQUENCE, 1);
      woken = Atomics.notify(ints, SEQUENCE);
    }
    const started = performance.now();
    const ran = this.callerTakesBlocks || this.readyWorkers === 0 ? runBlocks(this.views, this.mainKernels, 0, this.scratchArgs) : 0;
    const worked = performance.now();
    this.waitForBlocks(blocks);
    this.lastJob = performance.now();
    if (this.adaptive && this.readyWorkers > 0 && ran > 0 && woken === 0) this.governor.judge(this.lastJob - started, worked - started, ran, blocks);
    const failed = Atomics.load(ints, FAILED);
    if (failed !== 0) {
      const thread = failed === 1 ? "main thread" : `worker ${failed - 1}`;
      throw new KernelError(`${kernel} failed in the ${thread}: ${failureMessage(this.views)}`, kernel, thread);
    }
  }

  /** Whether to split the next kernel call: false while paused after contention (split-governor.ts). */
  splitAllowed(): boolean {
    return this.governor.splitAllowed();
  }

  /** Until every block is done: polls briefly (blocks are short), then sleeps where allowed. */
  private waitForBlocks(blocks: number): void {
    const { ints } = this.views;
    let done = Atomics.load(ints, DONE);
    if (done === blocks) return;
    const pollUntil = performance.now() + (this.spinMicros > 0 ? 200 : 30) / 1000;
    while (done !== blocks) {
      if (this.mainCanBlock && performance.now() > pollUntil) Atomics.wait(ints, DONE, done, 100);
      done = Atomics.load(ints, DONE);
    }
  }

  stats(): PoolStats {
    const blocksRun: number[] = [];
    for (let p = 0; p <= this.wanted; p++) blocksRun.push(this.views.ints[BLOCKS_RUN + p]);
    return {
      readyWorkers: this.readyWorkers, workers: this.wanted, blocksRun, jobs: this.jobs, workersStarted: this.workersStarted,
      startFailure: this.startFailure, pauses: this.governor.pauses, stopsWhenIdle: this.stopsWhenIdle, parked: this.parked > 0,
    };
  }

  /** Stops every worker; a Node process then exits by itself. Idempotent. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    const { ints } = this.views;
    Atomics.store(ints, SHUTDOWN, 1);
    Atomics.add(ints, SEQUENCE, 1);
    Atomics.notify(ints, SEQUENCE);
    for (let w = 0; w < this.wanted; w++) this.stopWorker(w);
    this.wanted = 0;
  }
}
