// Capacity experiments for associative memories: store N images, query each with a
// corrupted copy, and count the recalls a criterion accepts, over several N, seeds,
// corruptions and methods. Any memory takes part through a RecallMethod; the distances a
// criterion needs are computed with the backend's distance kernels.
import type { Backend } from "../backend/kernels.js";
import { InvalidArgumentError } from "../backend/errors.js";
import { Random } from "../random.js";
import { Tensor } from "../tensor.js";
import type { AssociativeMemory } from "./associative-memory.js";
import { corruptQueries, queryCorruptionLabel, type QueryCorruption, type ImageShape } from "./corruption.js";
import { type SeparationSpec, resolveSeparation, separationLabel } from "./separation.js";
import { similarityLabel, type SimilaritySpec } from "./similarity.js";
import { UniversalHopfield } from "./universal-hopfield.js";

/** What a criterion sees of one recall z of stored pattern m_t (squared Euclidean distances). */
export interface RecallJudgement {
  /** |z - m_t|^2: the sum of squared errors against the pattern it should recall. */
  ownError: number;
  /** min over j != t of |z - m_j|^2 (Infinity when N = 1). */
  nearestOtherError: number;
  /** min over j != t of |m_t - m_j|^2: how far the pattern's nearest neighbour in the memory is. */
  neighbourDistance: number;
  /** D. */
  patternSize: number;
}

/** A recall criterion: when a recalled vector counts as the stored pattern. */
export interface Criterion {
  name: string;
  description: string;
  /** True when the judged recall counts as correct. */
  accept(j: RecallJudgement): boolean;
}

/**
 * The UHN paper's: sum of squared errors at most 60 (for 784 pixels; scaled by D / 784). Weak
 * on digits: a blur near the mean digit is within 60 of most of them.
 */
export const PAPER_CRITERION: Criterion = {
  name: "paper",
  description: "sum of squared errors <= 60 D/784",
  accept: (j) => j.ownError <= (60 * j.patternSize) / 784,
};

/**
 * Relative margin of the strict criterion's comparisons: the f32 distance kernels are
 * accurate to 3.8e-4 of each distance (d = 784), so a tie (the mean of two patterns sits
 * exactly half way) is always rejected instead of decided by rounding.
 */
const TIE_MARGIN = 1e-3;

/**
 * Strict: the recall is nearer to its own pattern than to any other stored pattern, and
 * within half the distance from that pattern to its nearest neighbour (|z - m_t| < |m_t - m_nn| / 2,
 * which by the triangle inequality implies the first condition).
 */
export const STRICT_CRITERION: Criterion = {
  name: "strict",
  description: "nearest stored pattern, and within half its nearest-neighbour distance",
  accept: (j) => j.ownError < j.nearestOtherError * (1 - TIE_MARGIN) && 4 * j.ownError < j.neighbourDistance * (1 - TIE_MARGIN),
};

/** Mean squared error per entry below `threshold` (the PC-memory paper's criteria). */
export function mseCriterion(threshold: number): Criterion {
  return {
    name: `mse<${threshold}`,
    description: `mean squared error < ${threshold}`,
    accept: (j) => j.ownError / j.patternSize < threshold,
  };
}

/** Judges recalls of N stored patterns: distances to every stored pattern on the backend. */
export class RecallJudge {
  readonly #patterns: Tensor;
  readonly #norms: Tensor;
  /** min over j != t of |m_t - m_j|^2, per t. */
  readonly neighbourDistances: Float64Array;

  constructor(readonly backend: Backend, patterns: Float32Array | Float64Array, readonly count: number, readonly patternSize: number) {
    if (patterns.length !== count * patternSize)
      throw new InvalidArgumentError(`RecallJudge: ${patterns.length} values are not ${count} patterns of ${patternSize}`);
    this.#patterns = new Tensor([count, patternSize], backend).assign(patterns);
    this.#norms = new Tensor([count], backend);
    backend.rowSumSquares(count, patternSize, this.#patterns.address, this.#norms.address);
    const pairwise = this.#distances(this.#patterns);
    this.neighbourDistances = Float64Array.from({ length: count }, (_, t) => {
      let best = Infinity;
      for (let j = 0; j < count; j++) if (j !== t) best = Math.min(best, pairwise[t * count + j]);
      return best;
    });
  }

  /** One judgement per recall: `recalled` [B, D] of the patterns `truth` [B]. */
  judge(recalled: ArrayLike<number>, truth: ArrayLike<number>): RecallJudgement[] {
    const rows = truth.length;
    if (recalled.length !== rows * this.patternSize)
      throw new InvalidArgumentError(`RecallJudge.judge: ${recalled.length} values are not ${rows} recalls of ${this.patternSize}`);
    const z = new Tensor([rows, this.patternSize], this.backend).assign(recalled);
    try {
      const distances = this.#distances(z);
      return Array.from({ length: rows }, (_, b) => {
        const t = truth[b];
        let other = Infinity;
        for (let j = 0; j < this.count; j++) if (j !== t) other = Math.min(other, distances[b * this.count + j]);
        return { ownError: distances[b * this.count + t], nearestOtherError: other, neighbourDistance: this.neighbourDistances[t], patternSize: this.patternSize };
      });
    } finally {
      z.dispose();
    }
  }

  /** The criterion's verdict on recalling the mean of the stored patterns for every pattern. */
  meanPatternAccuracy(criterion: Criterion): number {
    const mean = new Float64Array(this.patternSize);
    const values = this.#patterns.dataSync();
    for (let i = 0; i < values.length; i++) mean[i % this.patternSize] += values[i] / this.count;
    const truth = Int32Array.from({ length: this.count }, (_, t) => t);
    const repeated = new Float64Array(this.count * this.patternSize);
    for (let t = 0; t < this.count; t++) repeated.set(mean, t * this.patternSize);
    return fraction(this.judge(repeated, truth), criterion);
  }

  /** Frees the stored patterns. */
  dispose(): void {
    this.#patterns.dispose();
    this.#norms.dispose();
  }

  #distances(rows: Tensor): Float64Array {
    const out = new Tensor([rows.shape[0], this.count], this.backend);
    try {
      this.backend.squaredDistances(rows.shape[0], this.count, this.patternSize, rows.address, this.#patterns.address, this.#norms.address, out.address);
      return Float64Array.from(out.dataSync());
    } finally {
      out.dispose();
    }
  }
}

/** The fraction of judged recalls the criterion accepts (0 for none). */
export function fraction(judgements: RecallJudgement[], criterion: Criterion): number {
  return judgements.length === 0 ? 0 : judgements.filter((j) => criterion.accept(j)).length / judgements.length;
}

/** One set of recalls of a method (a UHN similarity may yield one per separation). */
export interface RecallVariant {
  label: string;
  recalled: Float32Array | Float64Array;
}

/** A memory after storing one set of patterns, ready to answer queries. */
export interface PreparedMemory {
  /** Recalls `rows` queries (with their mask, if any): one result per variant of the method. */
  recall(queries: Float32Array, rows: number, mask: Float64Array | null): RecallVariant[];
  /** Frees the stored patterns. */
  dispose(): void;
}

/** A method taking part in a capacity run: how to store patterns [n, d]. */
export interface RecallMethod {
  label: string;
  /** Stores `n` patterns of `d` entries and returns the memory ready for queries. */
  prepare(patterns: Float32Array, n: number, d: number): PreparedMemory;
}

/** Any AssociativeMemory as a method: `create` builds an empty memory for each set of patterns. */
export function memoryMethod(label: string, create: () => AssociativeMemory): RecallMethod {
  return {
    label,
    prepare(patterns, n, d) {
      const memory = create();
      memory.store(rowsView(patterns, n, d));
      return {
        recall(queries, rows, mask) {
          const recalled = memory.recall(rowsView(queries, rows, d), mask ?? undefined);
          try {
            return [{ label, recalled: recalled.dataSync() }];
          } finally {
            recalled.dispose();
          }
        },
        dispose: () => memory.dispose(),
      };
    },
  };
}

/**
 * A UHN with one similarity and several separations: the scores are computed once per set
 * of queries and separated each way (the variants are labelled by separation).
 */
export function uhnMethod(similarity: SimilaritySpec, separations: SeparationSpec[], options: { normalize?: boolean; backend?: Backend } = {}): RecallMethod {
  const resolved = separations.map((s) => resolveSeparation(s));
  return {
    label: similarityLabel(similarity),
    prepare(patterns, n, d) {
      const memory = new UniversalHopfield({ similarity, separation: resolved[0], normalize: options.normalize, backend: options.backend });
      memory.store(rowsView(patterns, n, d));
      return {
        recall(queries, rows, mask) {
          const scores = memory.scores(rowsView(queries, rows, d), mask ?? undefined);
          try {
            return resolved.map((separation) => {
              const weights = memory.separate(scores, separation);
              if (separation.kind === "max") {
                // One-hot weights: P^T w is the selected stored pattern, copied as is.
                const w = weights.dataSync();
                weights.dispose();
                const recalled = new Float32Array(rows * d);
                for (let b = 0; b < rows; b++) {
                  const best = w.subarray(b * n, (b + 1) * n).indexOf(1);
                  recalled.set(patterns.subarray(best * d, (best + 1) * d), b * d);
                }
                return { label: separationLabel(separation), recalled };
              }
              const recalled = memory.project(weights);
              weights.dispose();
              try {
                return { label: separationLabel(separation), recalled: recalled.dataSync() };
              } finally {
                recalled.dispose();
              }
            });
          } finally {
            scores.dispose();
          }
        },
        dispose: () => memory.dispose(),
      };
    },
  };
}

/** Rows of a flat array as subarray views (no copies). */
function rowsView(data: Float32Array, rows: number, d: number): Float32Array[] {
  return Array.from({ length: rows }, (_, r) => data.subarray(r * d, (r + 1) * d));
}

/** A capacity experiment: the image pool, the pattern counts, seeds, corruptions, methods and criteria. */
export interface CapacityOptions {
  /** The pool of images [poolSize, D] that stored patterns are drawn from. */
  images: Float32Array;
  shape: ImageShape;
  sizes: number[];
  seeds: number[];
  corruptions: QueryCorruption[];
  methods: RecallMethod[];
  criteria: Criterion[];
  backend: Backend;
  /**
   * Stored patterns queried per seed and N: the first `queries` of the N (a random subset,
   * since the N are a seeded draw); default all N.
   */
  queries?: number;
  /** Called after each (seed, N) with a one-line summary. */
  onProgress?(message: string): void;
}

/** The accuracy of one method variant at one (corruption, N, seed, criterion). */
export interface CapacityRecord {
  method: string;
  variant: string;
  corruption: string;
  n: number;
  seed: number;
  criterion: string;
  accuracy: number;
}

/** The criterion's verdict on the mean of the stored patterns (the same for every corruption). */
export interface FloorRecord {
  n: number;
  seed: number;
  criterion: string;
  accuracy: number;
}

/** Every record of a capacity run, and the mean-pattern floors. */
export interface CapacityResult {
  records: CapacityRecord[];
  floors: FloorRecord[];
}

/** The N patterns of a seed: the first N of a seeded shuffle of the pool (smaller N are subsets). */
export function drawPatterns(images: Float32Array, poolSize: number, d: number, n: number, seed: number): Float32Array {
  if (n > poolSize) throw new InvalidArgumentError(`drawPatterns: ${n} patterns requested from a pool of ${poolSize}`);
  const order = new Random(seed).shuffle(Int32Array.from({ length: poolSize }, (_, i) => i)) as Int32Array;
  const out = new Float32Array(n * d);
  for (let i = 0; i < n; i++) out.set(images.subarray(order[i] * d, (order[i] + 1) * d), i * d);
  return out;
}

/** Stores N patterns per seed with every method and judges the recall of each from every corruption. */
export function runCapacity(options: CapacityOptions): CapacityResult {
  const { shape, backend } = options;
  const d = shape.channels * shape.height * shape.width;
  if (options.images.length % d !== 0)
    throw new InvalidArgumentError(`runCapacity: ${options.images.length} image values are not a whole number of images of ${d}`);
  const poolSize = options.images.length / d;
  if (options.queries !== undefined && !(Number.isInteger(options.queries) && options.queries >= 1))
    throw new InvalidArgumentError(`runCapacity: queries must be an integer >= 1, got ${String(options.queries)}`);
  const records: CapacityRecord[] = [];
  const floors: FloorRecord[] = [];
  for (const seed of options.seeds) {
    for (const n of options.sizes) {
      const started = Date.now();
      const patterns = drawPatterns(options.images, poolSize, d, n, seed);
      const asked = Math.min(n, options.queries ?? n);
      const truth = Int32Array.from({ length: asked }, (_, t) => t);
      const judge = new RecallJudge(backend, patterns, n, d);
      try {
        for (const criterion of options.criteria) floors.push({ n, seed, criterion: criterion.name, accuracy: judge.meanPatternAccuracy(criterion) });
        const queries = options.corruptions.map((corruption, i) =>
          ({ corruption, ...corruptQueries(patterns.subarray(0, asked * d), asked, shape, corruption, seed * 7919 + n * 31 + i) }));
        for (const method of options.methods) {
          const memory = method.prepare(patterns, n, d);
          try {
            for (const q of queries) {
              for (const variant of memory.recall(q.queries, asked, q.mask)) {
                const judgements = judge.judge(variant.recalled, truth);
                for (const criterion of options.criteria)
                  records.push({ method: method.label, variant: variant.label, corruption: queryCorruptionLabel(q.corruption), n, seed, criterion: criterion.name, accuracy: fraction(judgements, criterion) });
              }
            }
          } finally {
            memory.dispose();
          }
        }
      } finally {
        judge.dispose();
      }
      options.onProgress?.(`seed ${seed}, N = ${n}: ${((Date.now() - started) / 1000).toFixed(1)} s`);
    }
  }
  return { records, floors };
}

/** Mean and standard deviation over seeds, keyed by every field but seed and accuracy. */
export interface Summary {
  method: string;
  variant: string;
  corruption: string;
  n: number;
  criterion: string;
  mean: number;
  std: number;
  seeds: number;
}

/** Mean and standard deviation over seeds of each (method, variant, corruption, N, criterion). */
export function summarize(records: CapacityRecord[]): Summary[] {
  const groups = new Map<string, CapacityRecord[]>();
  for (const r of records) {
    const key = JSON.stringify([r.method, r.variant, r.corruption, r.n, r.criterion]);
    const group = groups.get(key);
    if (group) group.push(r);
    else groups.set(key, [r]);
  }
  return [...groups.values()].map((group) => {
    const values = group.map((r) => r.accuracy);
    const mean = values.reduce((t, v) => t + v, 0) / values.length;
    const std = Math.sqrt(values.reduce((t, v) => t + (v - mean) ** 2, 0) / Math.max(1, values.length - 1));
    const { method, variant, corruption, n, criterion } = group[0];
    return { method, variant, corruption, n, criterion, mean, std, seeds: values.length };
  });
}

/** Mean floor over seeds per (N, criterion). */
export function summarizeFloors(floors: FloorRecord[]): { n: number; criterion: string; mean: number }[] {
  const groups = new Map<string, FloorRecord[]>();
  for (const f of floors) {
    const key = `${f.n}|${f.criterion}`;
    const group = groups.get(key);
    if (group) group.push(f);
    else groups.set(key, [f]);
  }
  return [...groups.values()].map((g) => ({ n: g[0].n, criterion: g[0].criterion, mean: g.reduce((t, f) => t + f.accuracy, 0) / g.length }));
}
