// How a kernel is cut into blocks for the thread pool. Only outputs are split (rows or columns
// of a product, output rows of a convolution, output channels of a weight derivative,
// elements of an elementwise op); a dimension that is summed over never is, so every output
// element is computed by the same instructions in the same order for any number of threads.

/**
 * Block boundaries: `blocks` nearly equal ranges covering [0, units), every boundary but the
 * last a multiple of `align`. Fewer blocks come back when there are not enough aligned units.
 */
export function splitUnits(units: number, blocks: number, align = 1): number[] {
  const chunks = Math.ceil(units / align);
  const count = Math.max(1, Math.min(blocks, chunks));
  const bounds = [0];
  for (let b = 1; b < count; b++) bounds.push(Math.round((b * chunks) / count) * align);
  bounds.push(units);
  return bounds;
}

/**
 * Elementwise kernels run a 4- or 8-wide vector loop and a scalar tail; transcendental ones
 * give different bits in the two. Blocks that start on a multiple of 16 elements and end on
 * one (all but the last) send each element down the same path as the undivided call.
 */
export const ELEMENT_ALIGN = 16;

/**
 * Estimated single-thread cost of each kernel family, in nanoseconds per unit (a flop for
 * products and convolutions, an element otherwise), from `npm run bench:threads` on a 2-core
 * AMD EPYC (Node 20). Only the order of magnitude matters: it decides whether a call is
 * worth splitting.
 */
export const NS_PER_UNIT = {
  /** Multiply-adds of matmul and convolution, per flop. */
  flop: 0.033,
  /** Loads, stores and simple arithmetic (add, copy, relu, scale, axpy, pooling), per element. */
  stream: 0.15,
  /** exp, log, tanh, sigmoid, softplus, gelu and their derivatives; softmax; Adam, per element. */
  transcendental: 1.6,
};

/**
 * Work below this many estimated nanoseconds on one thread stays on the calling thread:
 * below it the cost of handing blocks to workers (a cache that moves between cores, and a
 * dispatch of about 1 µs while workers poll) eats the gain. `npm run bench:threads` measures
 * the crossover on the machine it runs on: on a quiet 2-core AMD EPYC every family gained
 * 10% or more from 7-13 µs up (README, "Threads"); the default keeps a margin of half again
 * over the largest, which still leaves a batch-1 layer's matrix-vector products (784x256:
 * about 13 µs) on one thread.
 */
export const DEFAULT_PARALLEL_THRESHOLD_NS = 20_000;

/**
 * Streaming kernels (loads, stores and simple arithmetic: the NS_PER_UNIT.stream family) split
 * only above this multiple of the threshold. Their data is usually hot in the calling thread's
 * cache (it wrote or read it just before), and every line a worker touches must cross between
 * cores and, when the caller reads it next, back: the SGD update of a 784x256 layer (200,000
 * parameters, 25 µs) split in two gained nothing once the caller had read the weights, and made
 * a batch-1 training step 25% slower; from 500,000 elements up it gained 1.85x. Twice the
 * threshold puts the split at about 270,000 elements.
 */
export const STREAM_THRESHOLD_SCALE = 2;

/**
 * The threshold when threads outnumber cores, where workers do not poll: a job then waits for
 * a wake-up (31-46 µs) or for a core (0.8-3 ms), so only work well over 0.5 ms is split
 * (../shared/THREADS-NOTES.md, "Dispatch cost").
 */
export const OVERSUBSCRIBED_PARALLEL_THRESHOLD_NS = 500_000;

/** How many blocks to cut work of `estimatedNs` into, for `participants` threads. */
export function blockCount(estimatedNs: number, participants: number, thresholdNs: number): number {
  if (participants < 2 || !(estimatedNs >= thresholdNs)) return 1;
  return participants;
}
