// Universal Hopfield Networks (Millidge, Salvatori, Song, Lukasiewicz, Bogacz 2022, eq. 2):
// single-shot associative memory
//     z = P^T sep(sim(M, q))
// with M [N, D] the stored patterns, q a query, sim a similarity (src/memory/similarity.ts),
// sep a separation (src/memory/separation.ts) and P the projection: M itself
// (auto-associative) or targets stored beside the patterns (hetero-associative, e.g. images
// to labels). The modern continuous Hopfield network is the instance (dot, softmax, no
// normalisation); the classic binary network is (dot, identity) plus a sign
// (src/memory/classic-hopfield.ts).
//
// A UHN lives in src/memory beside, not inside, the predictive-coding core (src/pc): it is one
// feed-forward pass with no energy to relax and no parameters to learn, so none of the PC
// engine's clamps, relaxation or learning steps apply. Generative memories that do relax an
// energy belong to that core and offer the same AssociativeMemory interface.
import { InvalidArgumentError, ShapeError } from "../backend/errors.js";
import type { Backend } from "../backend/kernels.js";
import type { BackendName } from "../backend/load.js";
import { formatShape, resolveBackend, Tensor } from "../tensor.js";
import type { AssociativeMemory } from "./associative-memory.js";
import { toMask, toRows, type MaskInput, type Rows } from "./inputs.js";
import { resolveSeparation, separateRow, type Separation, type SeparationSpec } from "./separation.js";
import {
  checkNonNegative, checkSimilarity, isReciprocal, similarityScores, type SimilaritySpec,
} from "./similarity.js";
import { StoredPatterns } from "./stored.js";

/** Options of `UniversalHopfield`: the similarity, the separation, normalisation and the backend. */
export interface UniversalHopfieldOptions {
  /** sim: a name or a function (default "manhattan", as the paper's reference code). */
  similarity?: SimilaritySpec;
  /** sep (default "max", as the paper's reference code). */
  separation?: SeparationSpec;
  /**
   * Normalise the scores to sum 1 before the separation and the weights after it (default
   * true, as the paper's reference code; its softmax beta of 1000 is meant for normalised scores).
   */
  normalize?: boolean;
  backend?: Backend | BackendName;
}

/**
 * A Universal Hopfield Network (Millidge et al. 2022, arXiv 2202.04557): recall = projection of
 * the stored patterns weighted by separation(similarity(patterns, query)).
 */
export class UniversalHopfield implements AssociativeMemory {
  readonly similarity: SimilaritySpec;
  readonly separation: Separation;
  readonly normalize: boolean;
  readonly backend: Backend;
  #patterns: StoredPatterns | null = null;
  /** P for a hetero-associative memory; null when P = M. */
  #targets: StoredPatterns | null = null;

  constructor(options: UniversalHopfieldOptions = {}) {
    if (options === null || typeof options !== "object")
      throw new InvalidArgumentError(`UniversalHopfield: options must be an object, got ${String(options)}`);
    this.similarity = checkSimilarity(options.similarity ?? "manhattan", "UniversalHopfield: similarity");
    this.separation = resolveSeparation(options.separation ?? "max", "UniversalHopfield: separation");
    const normalize = options.normalize ?? true;
    if (typeof normalize !== "boolean")
      throw new InvalidArgumentError(`UniversalHopfield: normalize must be true or false, got ${String(normalize)}`);
    this.normalize = normalize;
    checkCombination("UniversalHopfield", this.similarity, this.separation, normalize);
    this.backend = resolveBackend(options.backend);
  }

  get size(): number {
    return this.#patterns?.count ?? 0;
  }

  get patternSize(): number {
    return this.#patterns?.width ?? 0;
  }

  get outputSize(): number {
    return (this.#targets ?? this.#patterns)?.width ?? 0;
  }

  /** True when recall returns stored targets rather than the patterns themselves. */
  get heteroAssociative(): boolean {
    return this.#targets !== null;
  }

  store(patterns: Rows, targets?: Rows): this {
    const where = "UniversalHopfield.store";
    if (this.size > 0 && (targets !== undefined) !== this.heteroAssociative)
      throw new InvalidArgumentError(`${where}: targets ${targets === undefined ? "missing" : "given"}, but the memory is ` +
        `${this.heteroAssociative ? "hetero" : "auto"}-associative (give targets with every store, or never)`);
    const rows = toRows(where, "patterns", patterns, this.backend, this.size > 0 ? this.patternSize : undefined);
    let targetRows: ReturnType<typeof toRows> | null = null;
    try {
      if (targets !== undefined) {
        targetRows = toRows(where, "targets", targets, this.backend, this.size > 0 ? this.outputSize : undefined);
        if (targetRows.rows !== rows.rows)
          throw new ShapeError(`${where}: ${rows.rows} patterns but ${targetRows.rows} targets; give one target per pattern`);
      }
      if (this.similarity === "normalizedDot") checkNonNegative(where, "patterns", rows.tensor.dataSync(), rows.cols);
      const block = rows.tensor.reshape([rows.rows, rows.cols]);
      try {
        this.#patterns ??= new StoredPatterns(this.backend, rows.cols);
        this.#patterns.append(block);
      } finally {
        block.dispose();
      }
      if (targetRows) {
        const targetBlock = targetRows.tensor.reshape([targetRows.rows, targetRows.cols]);
        try {
          this.#targets ??= new StoredPatterns(this.backend, targetRows.cols);
          this.#targets.append(targetBlock);
        } finally {
          targetBlock.dispose();
        }
      }
    } finally {
      if (rows.owned) rows.tensor.dispose();
      if (targetRows?.owned) targetRows.tensor.dispose();
    }
    return this;
  }

  /** The stored patterns M [N, D] (a copy). */
  patterns(): Float32Array | Float64Array {
    return this.#stored("UniversalHopfield.patterns").patterns.dataSync();
  }

  /** The projection P [N, D']: the targets of a hetero-associative memory, else M (a copy). */
  projection(): Float32Array | Float64Array {
    this.#stored("UniversalHopfield.projection");
    return (this.#targets ?? this.#patterns)!.patterns.dataSync();
  }

  /** sim(M, q): scores [B, N] (or [N] for one query) before any normalisation. */
  scores(queries: Rows, mask?: MaskInput): Tensor {
    return this.#withQueries("UniversalHopfield.scores", queries, mask, (scores, batch, single) =>
      new Tensor(single ? [this.size] : [batch, this.size], this.backend).assign(scores));
  }

  /**
   * sep(scores), normalised as configured: the weight of each stored pattern, [B, N] or [N].
   * `separation` overrides the memory's own (to compare separations on the same scores).
   */
  separate(scores: Tensor, separation?: SeparationSpec): Tensor {
    const where = "UniversalHopfield.separate";
    const n = this.#stored(where).count;
    if (!(scores instanceof Tensor) || (scores.rank !== 1 && scores.rank !== 2) || scores.shape[scores.rank - 1] !== n)
      throw new ShapeError(`${where}: scores must be a tensor [N] or [B, N] with N = ${n} stored patterns, got ` +
        `${scores instanceof Tensor ? formatShape(scores.shape) : typeof scores}`);
    const chosen = separation === undefined ? this.separation : resolveSeparation(separation, `${where}: separation`);
    checkCombination(where, this.similarity, chosen, this.normalize);
    const weights = this.#weightRows(where, Float64Array.from(scores.dataSync()), chosen);
    const out = new Tensor(scores.shape, this.backend);
    out.assign(weights);
    return out;
  }

  /** P^T w for weights [B, N] (or [N]): the recalled vectors [B, D'] (or [D']). */
  project(weights: Tensor): Tensor {
    const where = "UniversalHopfield.project";
    const n = this.#stored(where).count;
    if (!(weights instanceof Tensor) || (weights.rank !== 1 && weights.rank !== 2) || weights.shape[weights.rank - 1] !== n)
      throw new ShapeError(`${where}: weights must be a tensor [N] or [B, N] with N = ${n} stored patterns, got ` +
        `${weights instanceof Tensor ? formatShape(weights.shape) : typeof weights}`);
    const batch = weights.rank === 1 ? 1 : weights.shape[0];
    const p = (this.#targets ?? this.#patterns)!;
    const out = new Tensor(weights.rank === 1 ? [p.width] : [batch, p.width], this.backend);
    this.backend.matmul(false, false, batch, p.width, n, 1, weights.address, p.patterns.address, 0, out.address);
    return out;
  }

  recall(queries: Rows, mask?: MaskInput): Tensor {
    const where = "UniversalHopfield.recall";
    return this.#withQueries(where, queries, mask, (scores, batch, single) => {
      let out: Tensor | null = null;
      try {
        const n = this.size;
        const p = (this.#targets ?? this.#patterns)!;
        const weights = this.#weightRows(where, scores, this.separation);
        out = new Tensor(single ? [p.width] : [batch, p.width], this.backend);
        if (this.separation.kind === "max") {
          // One-hot weights: copy the selected rows of P (exactly what P^T w gives).
          for (let b = 0; b < batch; b++) {
            const best = weights.subarray(b * n, (b + 1) * n).indexOf(1);
            this.backend.copy(p.width, p.patterns.address + best * p.width, out.address + b * p.width);
          }
        } else {
          const w = new Tensor([batch, n], this.backend).assign(weights);
          try {
            this.backend.matmul(false, false, batch, p.width, n, 1, w.address, p.patterns.address, 0, out.address);
          } finally {
            w.dispose();
          }
        }
        return out;
      } catch (error) {
        out?.dispose();
        throw error;
      }
    });
  }

  clear(): void {
    this.#patterns?.clear();
    this.#targets?.clear();
    this.#patterns = this.#targets = null;
  }

  /** Frees the stored patterns (and targets). */
  dispose(): void {
    this.clear();
  }

  /** Frees the memory at the end of a `using` block. */
  [Symbol.dispose](): void {
    this.dispose();
  }

  #stored(where: string): StoredPatterns {
    if (!this.#patterns || this.#patterns.count === 0)
      throw new InvalidArgumentError(`${where}: the memory is empty; store patterns first`);
    return this.#patterns;
  }

  /** Runs `then` on sim(M, q) [B, N] (float64, row-major) for validated queries. */
  #withQueries<T>(where: string, queries: Rows, mask: MaskInput | undefined, then: (scores: Float64Array, batch: number, single: boolean) => T): T {
    const stored = this.#stored(where);
    const rows = toRows(where, "queries", queries, this.backend, stored.width);
    try {
      const checkedMask = mask === undefined ? null : toMask(where, mask, rows.rows, stored.width);
      const matrix = rows.single ? rows.tensor.reshape([1, rows.cols]) : rows.tensor;
      try {
        return then(similarityScores(where, this.similarity, stored, matrix, checkedMask), rows.rows, rows.single);
      } finally {
        if (matrix !== rows.tensor) matrix.dispose();
      }
    } finally {
      if (rows.owned) rows.tensor.dispose();
    }
  }

  /** The separated (and normalised) weights of every row of scores [B, N], in place. */
  #weightRows(where: string, values: Float64Array, separation: Separation): Float64Array {
    const n = this.size;
    for (let i = 0; i < values.length; i++)
      if (Number.isNaN(values[i])) throw new InvalidArgumentError(`${where}: score ${i} is NaN`);
    for (let start = 0; start < values.length; start += n)
      separateRow(values.subarray(start, start + n), separation, this.normalize, `${where}: separation`);
    return values;
  }
}

/** Reciprocal distances are infinite at an exact match: only normalisation, softmax or max make weights of that. */
function checkCombination(where: string, similarity: SimilaritySpec, separation: Separation, normalize: boolean): void {
  if (!normalize && isReciprocal(similarity) && (separation.kind === "identity" || separation.kind === "polynomial"))
    throw new InvalidArgumentError(`${where}: normalize must be true for the ${String(similarity)} similarity ` +
      `with the ${separation.kind} separation: a reciprocal distance is infinite at an exact match, and only ` +
      `normalisation (or softmax / max) turns that into finite weights; use negative${similarity === "euclidean" ? "Euclidean" : "Manhattan"} otherwise`);
}

/**
 * The modern continuous Hopfield network (Ramsauer et al. 2021): z = M^T softmax(beta M q),
 * a UHN with dot-product similarity, softmax separation and no normalisation.
 */
export function modernHopfield(options: { beta?: number; backend?: Backend | BackendName } = {}): UniversalHopfield {
  return new UniversalHopfield({
    similarity: "dot",
    separation: { kind: "softmax", beta: options.beta ?? 1 },
    normalize: false,
    backend: options.backend,
  });
}
