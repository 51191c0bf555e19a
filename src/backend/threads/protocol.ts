// The job protocol between the main thread and the workers of a thread pool, and the block
// loop every participant runs. This file is also the body of each worker: the build
// (scripts/build-wasm.mjs) compiles it, with the bootstrap of worker-main.ts, into one plain
// script, so it imports only types and touches no global but WebAssembly, Atomics and performance.
//
// One SharedArrayBuffer holds the control block:
//   ints   (Int32Array)   the words below, per-participant words, and block boundaries
//   floats (Float64Array) the arguments of the current job and, for affine jobs, the byte
//                         stride per unit of each argument
// A job is a list of blocks; any participant claims the next block with one compareExchange
// on CLAIM = (blockCount << 10) | nextBlock and reads the job only after a successful claim.
// The main thread rewrites a job only after every block of the previous one is done, so a
// claimed block always sees the arguments of its own job.
import type { WasmMemory, WasmModule } from "../wasm-memory.js";

export const SEQUENCE = 0; // bumped once per job; idle workers wait on it
export const CLAIM = 1; // (blockCount << 10) | nextBlock
export const DONE = 2; // blocks of the current job finished (successfully or not)
export const FAILED = 3; // 0, or 1 + the participant whose block threw first
export const OPERATION = 4; // index into the operation list
export const ARG_COUNT = 5;
export const COUNT_ARG = 6; // affine jobs: the argument replaced by the block's unit count; -1: range job
export const SHUTDOWN = 7; // 1: workers leave their loop
export const SPIN_MICROS = 8; // how long a worker polls for the next job before it sleeps
export const MESSAGE_LENGTH = 9; // characters of the first failure's message
// A worker that cannot start reports it apart from jobs: a job running meanwhile must not
// take that failure for its own, nor clear it before the pool has read it.
export const START_FAILED = 10; // 0, or 1 + the participant that could not start (cleared once read)
export const START_MESSAGE_LENGTH = 11; // characters of its reason
export const STATE = 16; // STATE + w: worker w's state (below)
export const BLOCKS_RUN = 48; // BLOCKS_RUN + p: blocks run by participant p (0 = main thread)
export const BOUNDS = 96; // BOUNDS + b: first unit of block b; BOUNDS + blockCount: end
export const MAX_BLOCKS = 64;
export const MAX_WORKERS = 31;
export const MESSAGE_CHARS = 400;
const MESSAGE_OFFSET_BYTES = (BOUNDS + MAX_BLOCKS + 1) * 4;
const START_MESSAGE_OFFSET_BYTES = MESSAGE_OFFSET_BYTES + MESSAGE_CHARS * 2;
// Float64 slots: SCRATCH_BASE and SCRATCH_STRIDE (range jobs: participant p's scratch is
// base + p * stride), then the arguments, then (affine jobs) their strides.
export const FLOATS_OFFSET_BYTES = (START_MESSAGE_OFFSET_BYTES + MESSAGE_CHARS * 2 + 7) & ~7;
export const SCRATCH_BASE = 0;
export const SCRATCH_STRIDE = 1;
export const ARGS = 2;
export const MAX_ARGS = 32;
export const STRIDES = ARGS + MAX_ARGS;
export const CONTROL_BYTES = FLOATS_OFFSET_BYTES + (STRIDES + MAX_ARGS) * 8;

// A worker slot's word is generation * 8 + state. The pool gives each start of a slot a new
// generation and the worker changes the word only while it holds its own: a worker stopped
// while it was still starting, whose slot has been started again before it got as far as
// becoming ready, finds another generation there and leaves, instead of serving as the same
// participant (the same scratch) beside the slot's new worker.
export const WORKER_STARTING = 0;
export const WORKER_READY = 1;
export const WORKER_FAILED = 2;
export const WORKER_STOPPED = 3; // asked to stop; the worker may still be finishing a block
export const WORKER_EXITED = 4; // out of its job loop: it claims no more blocks
const STATE_BITS = 3;
/** Generations count modulo this (the word stays a positive int32). */
export const GENERATIONS = 1 << (31 - STATE_BITS);

/** The state in a slot's word. */
export function stateOf(word: number): number {
  return word & ((1 << STATE_BITS) - 1);
}

/** The generation in a slot's word. */
export function generationOf(word: number): number {
  return word >>> STATE_BITS;
}

/** A slot's word for `state` in `generation`. */
export function slotWord(generation: number, state: number): number {
  return (generation << STATE_BITS) | state;
}

/** What a worker is sent once, to start. */
export interface WorkerStart {
  index: number; // worker index w; it is participant w + 1
  generation: number; // of this start of slot w (see slotWord)
  memory: WasmMemory;
  kernels: WasmModule | Uint8Array<ArrayBuffer>; // the threads-kernels module, compiled (shared code) or as bytes
  control: SharedArrayBuffer;
  operations: string[]; // export names, by operation index
}

export interface ControlViews {
  ints: Int32Array;
  floats: Float64Array;
  message: Uint16Array;
  startMessage: Uint16Array;
}

export function controlViews(control: SharedArrayBuffer): ControlViews {
  return {
    ints: new Int32Array(control, 0, BOUNDS + MAX_BLOCKS + 1),
    floats: new Float64Array(control, FLOATS_OFFSET_BYTES, STRIDES + MAX_ARGS),
    message: new Uint16Array(control, MESSAGE_OFFSET_BYTES, MESSAGE_CHARS),
    startMessage: new Uint16Array(control, START_MESSAGE_OFFSET_BYTES, MESSAGE_CHARS),
  };
}

type Kernel = (...args: number[]) => unknown;

/**
 * Claims and runs blocks of the current job until none is left; returns how many this
 * participant ran. A block that throws is recorded (the first failure's participant and
 * message) and still counts as done, so nobody waits for it.
 */
export function runBlocks(views: ControlViews, kernels: Kernel[], participant: number, scratchArgs: number[]): number {
  const { ints, floats } = views;
  let ran = 0;
  for (;;) {
    const claim = Atomics.load(ints, CLAIM);
    const next = claim & 1023;
    const count = claim >>> 10;
    if (next >= count) return ran;
    if (Atomics.compareExchange(ints, CLAIM, claim, claim + 1) !== claim) continue;
    try {
      runBlock(views, kernels, participant, next, scratchArgs);
    } catch (error) {
      recordFailure(views, participant, error);
    }
    ran++;
    ints[BLOCKS_RUN + participant]++;
    if (Atomics.add(ints, DONE, 1) + 1 === count) Atomics.notify(ints, DONE);
  }
}

function runBlock(views: ControlViews, kernels: Kernel[], participant: number, block: number, args: number[]): void {
  const { ints, floats } = views;
  const argCount = ints[ARG_COUNT];
  const countArg = ints[COUNT_ARG];
  const start = ints[BOUNDS + block];
  const end = ints[BOUNDS + block + 1];
  args.length = 0;
  if (countArg < 0) {
    // Range job: the kernel takes the whole problem, then start, end and this thread's scratch.
    for (let i = 0; i < argCount; i++) args.push(floats[ARGS + i]);
    args.push(start, end, floats[SCRATCH_BASE] + participant * floats[SCRATCH_STRIDE]);
  } else {
    // Affine job: the same kernel over units [start, end): pointers move by start units.
    for (let i = 0; i < argCount; i++) args.push(floats[ARGS + i] + start * floats[STRIDES + i]);
    args[countArg] = end - start;
  }
  kernels[ints[OPERATION]](...args);
}

/** Records a failure in `word` (FAILED or START_FAILED) and its message, unless one is recorded already. */
function recordFailure(views: ControlViews, participant: number, error: unknown, word = FAILED): void {
  const { ints } = views;
  const [lengthWord, message] = word === FAILED ? [MESSAGE_LENGTH, views.message] : [START_MESSAGE_LENGTH, views.startMessage];
  // A job's failure is read once every block is done, so it is claimed with its final value;
  // a start failure is read at any time, so it names the worker only once its message is whole.
  if (Atomics.compareExchange(ints, word, 0, word === FAILED ? participant + 1 : -1) !== 0) return;
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  const length = Math.min(text.length, MESSAGE_CHARS);
  for (let i = 0; i < length; i++) message[i] = text.charCodeAt(i);
  Atomics.store(ints, lengthWord, length);
  if (word === START_FAILED) Atomics.store(ints, START_FAILED, participant + 1);
}

/** The message of the current job's first failure. */
export function failureMessage(views: ControlViews): string {
  const length = Atomics.load(views.ints, MESSAGE_LENGTH);
  return String.fromCharCode(...views.message.subarray(0, length));
}

/**
 * Why worker `index` could not start, when it is the one START_FAILED names (then cleared,
 * so that a later start that fails reports too); undefined otherwise.
 */
export function takeStartFailure(views: ControlViews, index: number): string | undefined {
  const { ints } = views;
  if (Atomics.load(ints, START_FAILED) !== index + 2) return undefined;
  const length = Atomics.load(ints, START_MESSAGE_LENGTH);
  const text = String.fromCharCode(...views.startMessage.subarray(0, length));
  Atomics.store(ints, START_FAILED, 0);
  return text;
}

/**
 * Waits until SEQUENCE differs from `seen`: polls for SPIN_MICROS (cheap to wake, and
 * kernels come back to back during a training step), then sleeps in Atomics.wait, so an idle
 * pool burns no core.
 */
function waitForJob(ints: Int32Array, seen: number): number {
  const spinUntil = performance.now() + ints[SPIN_MICROS] / 1000;
  for (;;) {
    const sequence = Atomics.load(ints, SEQUENCE);
    if (sequence !== seen) return sequence;
    if (performance.now() >= spinUntil) Atomics.wait(ints, SEQUENCE, seen);
  }
}

/**
 * Moves slot `state` from `from` (any state of this generation when undefined) to `to`, unless
 * the slot belongs to another generation by now (or holds another state). True when it moved.
 */
function moveOwnSlot(ints: Int32Array, state: number, generation: number, from: number | undefined, to: number): boolean {
  for (;;) {
    const word = Atomics.load(ints, state);
    if (generationOf(word) !== generation || (from !== undefined && stateOf(word) !== from)) return false;
    if (Atomics.compareExchange(ints, state, word, slotWord(generation, to)) === word) {
      Atomics.notify(ints, state);
      return true;
    }
  }
}

/** A worker's whole life: instantiate the kernels, report ready, serve jobs until shutdown. */
export async function serveJobs(start: WorkerStart): Promise<void> {
  const views = controlViews(start.control);
  const { ints } = views;
  const state = STATE + start.index;
  const { generation } = start;
  let kernels: Kernel[];
  try {
    // A compiled module shares its code with every thread that instantiates it, the tier-up
    // of hot kernels included; bytes compile a copy of this thread's own.
    const module = start.kernels instanceof WebAssembly.Module ? start.kernels : await WebAssembly.compile(start.kernels as Uint8Array<ArrayBuffer>);
    const instance = await WebAssembly.instantiate(module, { env: { memory: start.memory as WebAssembly.Memory } });
    kernels = start.operations.map((name) => {
      const kernel = instance.exports[name];
      if (typeof kernel !== "function") throw new Error(`the kernels module has no export "${name}"`);
      return kernel as Kernel;
    });
  } catch (error) {
    // A start the pool has given up on (its slot started again) reports nothing.
    if (generationOf(Atomics.load(ints, state)) === generation) recordFailure(views, start.index + 1, error, START_FAILED);
    moveOwnSlot(ints, state, generation, WORKER_STARTING, WORKER_FAILED);
    return;
  }
  // A worker stopped while it was starting never serves (and never becomes READY again); one
  // whose slot has been started again since leaves it to the new worker untouched.
  if (!moveOwnSlot(ints, state, generation, WORKER_STARTING, WORKER_READY)) {
    moveOwnSlot(ints, state, generation, WORKER_STOPPED, WORKER_EXITED);
    return;
  }
  const ready = slotWord(generation, WORKER_READY);
  const args: number[] = [];
  let seen = Atomics.load(ints, SEQUENCE);
  // The pool stops a worker by marking it STOPPED (or setting SHUTDOWN) and bumping SEQUENCE,
  // so that it leaves this loop and its thread ends (some runtimes cannot end a thread that is
  // blocked in Atomics.wait).
  while (Atomics.load(ints, SHUTDOWN) === 0 && Atomics.load(ints, state) === ready) {
    runBlocks(views, kernels, start.index + 1, args);
    seen = waitForJob(ints, seen);
  }
  moveOwnSlot(ints, state, generation, undefined, WORKER_EXITED);
}
