// The machine's two-thread ceiling, measured in the same interleaved rounds as the kernels it
// is set beside. A one-off ceiling measured before a table says little on a machine whose
// second core comes and goes (other processes, a hypervisor's other guests): the register-bound
// f32x4 micro-kernel of bench/assembly/peak.ts runs as two more contenders of each table's
// rounds, once on the calling thread alone and once on it and a worker at the same time, each
// call about as long as a kernel call. 2 x (one alone) / (two at once), per round, is how many
// threads' worth of work the machine gave in that round: about 2 on two free cores, near 1 when
// something else holds the second. A kernel's 2-thread speed-up is read against it.
// Training steps hand their worker many short jobs (0.1-0.5 ms each), not one long one; there
// the worker must also get its core back quickly after each pause, which the long calls do not
// test. For them the two-thread call is also cut into SLICES jobs, each handed to the worker
// and waited for as the pool does: what two threads give at that grain.
// The register-bound micro-kernel says whether the machine gave two cores' arithmetic; a
// kernel that streams through the shared cache and memory can still be held back where the
// cores are free but their cache or memory is shared with someone else. So the same rounds also
// run the streaming micro-kernel (y = a y + b over 2 MB per thread, beyond each core's L2),
// alone and on both threads at once: the memory side of the ceiling.
import { Worker } from "node:worker_threads";
import { median, type Timing } from "../report.js";
import { peakBytes } from "./peak.js";

/** Micro-kernel steps per call: 96 flops each, about 1 ms at 46 GFLOP/s. */
const STEPS = 500_000;
/** Jobs the sliced two-thread call is cut into: about 0.1 ms each, a training step's kernel. */
const SLICES = 10;
/** The streaming micro-kernel's buffer per thread (2 MB) and passes per call (about 0.5 ms). */
const STREAM_FLOATS = 1 << 19;
const STREAM_PASSES = 8;
// Control words: the job sequence the worker waits on, the last job it finished, shutdown,
// the micro-kernel steps (or streaming passes) of the current job, and its kind.
const JOB = 0, DONE = 1, SHUTDOWN = 2, JOB_STEPS = 3, JOB_KIND = 4;
const KIND_ARITHMETIC = 0, KIND_STREAM = 1;

/** The column a table gives the ceiling under (with the pauses of splitting in those rounds, if any). */
export const CEILING_COLUMN = "threads' worth the machine gave: arithmetic / memory (same rounds); the row's 2 threads / 1, lower to upper quartile of its rounds";

/**
 * A ceiling cell: the arithmetic and the memory ceilings (medians over the rounds), how many
 * times the 2-thread backend paused splitting (workers late) in the same rounds when it did,
 * which explains a 2-thread row near 1x, and, where `times` has the row's `one` and `two`, the
 * spread of its 2 threads / 1 over the rounds (lower and upper quartile): on a machine whose
 * second core comes and goes, rounds near 2x and rounds near 1x mix, and the median falls
 * between them.
 */
export function ceilingCell(ceiling: Ceiling, times: Record<string, Timing>, pauses = 0): string {
  let cell = `${ceiling.threads(times).toFixed(2)} / ${ceiling.memoryThreads(times).toFixed(2)}`;
  if (pauses > 0) cell += ` (${pauses} pause${pauses === 1 ? "" : "s"})`;
  if (times.one && times.two) {
    const ratios = times.one.perRound.map((t, i) => t / times.two.perRound[i]);
    cell += `; ${quantile(ratios, 0.25).toFixed(2)}-${quantile(ratios, 0.75).toFixed(2)}x`;
  }
  return cell;
}

/** The q-quantile of values, interpolated between the closest ranks. */
function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const at = q * (sorted.length - 1);
  const low = Math.floor(at);
  const high = Math.min(low + 1, sorted.length - 1);
  return sorted[low] + (sorted[high] - sorted[low]) * (at - low);
}
/** The column for the sliced ceiling. */
export const SLICED_CEILING_COLUMN = `the arithmetic in ${SLICES} jobs of 0.1 ms`;

type Contender = () => void;

export interface Ceiling {
  /**
   * Contenders for timeInterleaved: each micro-kernel (arithmetic, streaming) on this thread,
   * and on this thread and a worker at once.
   */
  contenders: { ceilingOne: Contender; ceilingTwo: Contender; streamOne: Contender; streamTwo: Contender };
  /** The contenders with the two-thread arithmetic call also cut into short jobs (for `threadsSliced`). */
  slicedContenders: { ceilingOne: Contender; ceilingTwo: Contender; ceilingSliced: Contender; streamOne: Contender; streamTwo: Contender };
  /** Threads' worth of arithmetic the machine gave, median over the rounds of `times` (which ran the contenders). */
  threads(times: Record<string, Timing>): number;
  /** The same for the sliced call (`times` ran slicedContenders). */
  threadsSliced(times: Record<string, Timing>): number;
  /** Threads' worth of streaming bandwidth (cache and memory) the machine gave in the same rounds. */
  memoryThreads(times: Record<string, Timing>): number;
  dispose(): void;
}

export async function startCeiling(): Promise<Ceiling> {
  const bytes = await peakBytes();
  const control = new Int32Array(new SharedArrayBuffer(20));
  // The worker polls for 200 µs after each job before it sleeps, as the pool's workers do.
  const source = `
    const { workerData } = require("node:worker_threads");
    const instance = new WebAssembly.Instance(new WebAssembly.Module(workerData.bytes), { env: { abort() { throw new Error("abort"); } } });
    const run = instance.exports.run;
    const stream = instance.exports.stream;
    const control = workerData.control;
    let seen = 0, sink = 0;
    for (;;) {
      const until = performance.now() + 0.2;
      while (Atomics.load(control, ${JOB}) === seen && performance.now() < until) {}
      if (Atomics.load(control, ${JOB}) === seen) Atomics.wait(control, ${JOB}, seen);
      seen = Atomics.load(control, ${JOB});
      if (Atomics.load(control, ${SHUTDOWN})) break;
      const steps = Atomics.load(control, ${JOB_STEPS});
      sink += Atomics.load(control, ${JOB_KIND}) === ${KIND_STREAM} ? stream(${STREAM_FLOATS}, steps, 0.5, 1) : run(steps, 0.999, 1e-3);
      Atomics.store(control, ${DONE}, seen);
      Atomics.notify(control, ${DONE});
    }
    if (!Number.isFinite(sink)) throw new Error("non-finite");`;
  const worker = new Worker(source, { eval: true, workerData: { bytes, control } });
  worker.unref();
  const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), {
    env: { abort: () => { throw new Error("peak micro-kernel aborted"); } },
  });
  const run = instance.exports.run as (steps: number, x: number, y: number) => number;
  const stream = instance.exports.stream as (n: number, passes: number, a: number, b: number) => number;
  let sink = 0;
  const ceilingOne = () => { sink += run(STEPS, 0.999, 1e-3); };
  const streamOne = () => { sink += stream(STREAM_FLOATS, STREAM_PASSES, 0.5, 1); };
  /** `steps` of the micro-kernel (or passes of the streaming one) on this thread and on the worker at once. */
  const together = (steps: number, kind = KIND_ARITHMETIC) => {
    Atomics.store(control, JOB_STEPS, steps);
    Atomics.store(control, JOB_KIND, kind);
    const job = Atomics.add(control, JOB, 1) + 1;
    Atomics.notify(control, JOB);
    sink += kind === KIND_STREAM ? stream(STREAM_FLOATS, steps, 0.5, 1) : run(steps, 0.999, 1e-3);
    // Polled briefly, as the pool waits for its workers' blocks, then slept.
    const pollUntil = performance.now() + 0.03;
    while (Atomics.load(control, DONE) !== job && performance.now() < pollUntil);
    while (Atomics.load(control, DONE) !== job) Atomics.wait(control, DONE, Atomics.load(control, DONE), 1);
  };
  const ceilingTwo = () => together(STEPS);
  const streamTwo = () => together(STREAM_PASSES, KIND_STREAM);
  const ceilingSliced = () => {
    for (let slice = 0; slice < SLICES; slice++) together(STEPS / SLICES);
  };
  // Warm-up: both instances compiled by the optimising tier (V8 starts wasm in a baseline
  // compiler and tiers up hot functions in the background).
  const warmUntil = performance.now() + 300;
  while (performance.now() < warmUntil) {
    ceilingTwo();
    streamTwo();
  }
  const given = (one: Timing, two: Timing) => {
    if (!Number.isFinite(sink)) throw new Error("the micro-kernel produced a non-finite result");
    return median(one.perRound.map((t, i) => (2 * t) / two.perRound[i]));
  };
  return {
    contenders: { ceilingOne, ceilingTwo, streamOne, streamTwo },
    slicedContenders: { ceilingOne, ceilingTwo, ceilingSliced, streamOne, streamTwo },
    threads: (times) => given(times.ceilingOne, times.ceilingTwo),
    threadsSliced: (times) => given(times.ceilingOne, times.ceilingSliced),
    memoryThreads: (times) => given(times.streamOne, times.streamTwo),
    dispose: () => {
      Atomics.store(control, SHUTDOWN, 1);
      Atomics.add(control, JOB, 1);
      Atomics.notify(control, JOB);
    },
  };
}
