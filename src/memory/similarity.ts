// Similarity functions of a Universal Hopfield Network (Millidge et al. 2022): sim(M, q)
// scores every stored pattern m_i against a query q; larger means more similar. The bulk of
// the work is batched on the backend (matmul for the dot family, the distance kernels for
// Euclidean and Manhattan); the per-score finishing (reciprocals, norms) is float64 here.
//
// The definitions follow the paper's reference code (github.com/BerenMillidge/
// Theory_Associative_Memory, functions.py), by name:
//   dot            q . m
//   normalizedDot  (m / sum m) . (q / sum q)       (non-negative data, as the paper's images)
//   euclidean      1 / sum (q - m)^2                (a reciprocal, not a negative distance)
//   manhattan      1 / sum |q - m|
// and, beside them:
//   cosine         q . m / (|q| |m|), per pattern. The reference code divides by the norm of
//                  the whole memory matrix instead, a constant that makes it a rescaled dot
//                  product (identical to dot once scores are normalised).
//   negativeEuclidean, negativeManhattan: - sum (q - m)^2 and - sum |q - m|, the form in which
//                  a softmax over distances is usually written (the paper's PC update rule).
//   a function (pattern, query) => finite score, given the known entries only.
//
// Masked queries: when the caller says which query entries are known, every similarity is
// computed over those entries alone (for the patterns too: their norms and sums are taken
// over the known entries). Zeroing the unknown entries instead, as the paper does, leaves
// dot products unchanged but adds sum m^2 (or sum |m|) over the unknown region to every
// distance, which favours patterns that happen to be blank there.
import { InvalidArgumentError } from "../backend/errors.js";
import { Tensor } from "../tensor.js";
import type { Mask } from "./inputs.js";
import type { StoredPatterns } from "./stored.js";

/** The similarities known by name (the UHN paper's and cosine). */
export type SimilarityName =
  | "dot" | "normalizedDot" | "cosine" | "euclidean" | "manhattan" | "negativeEuclidean" | "negativeManhattan";

/** A user similarity: larger is more similar. Receives the known entries of both vectors. */
export type SimilarityFunction = (pattern: Float64Array, query: Float64Array) => number;

/** A similarity: a name, or a function of the known entries of a pattern and a query. */
export type SimilaritySpec = SimilarityName | SimilarityFunction;

/** Every `SimilarityName`. */
export const SIMILARITY_NAMES: readonly SimilarityName[] =
  ["dot", "normalizedDot", "cosine", "euclidean", "manhattan", "negativeEuclidean", "negativeManhattan"];

/** The paper's own similarities, in the order of its figures. */
export const PAPER_SIMILARITIES: readonly SimilarityName[] = ["dot", "normalizedDot", "cosine", "euclidean", "manhattan"];

/** Reciprocal distances: +Infinity at an exact match (normalisation takes the limit). */
export function isReciprocal(similarity: SimilaritySpec): boolean {
  return similarity === "euclidean" || similarity === "manhattan";
}

export function similarityLabel(similarity: SimilaritySpec): string {
  return typeof similarity === "function" ? similarity.name || "custom" : similarity;
}

export function checkSimilarity(similarity: unknown, argument = "similarity"): SimilaritySpec {
  if (typeof similarity === "function") return similarity as SimilarityFunction;
  if (typeof similarity !== "string" || !(SIMILARITY_NAMES as readonly string[]).includes(similarity))
    throw new InvalidArgumentError(`${argument} must be one of ${SIMILARITY_NAMES.join(", ")} or a function, got ${JSON.stringify(similarity)}`);
  return similarity as SimilarityName;
}

/** Throws naming the first negative entry: normalizedDot divides by sums, meaningful for non-negative data. */
export function checkNonNegative(where: string, argument: string, data: ArrayLike<number>, cols: number): void {
  for (let i = 0; i < data.length; i++)
    if (data[i] < 0)
      throw new InvalidArgumentError(`${where}: ${argument}[${Math.floor(i / cols)}][${i % cols}] is ${data[i]}; ` +
        `the normalizedDot similarity divides by sums and needs non-negative data`);
}

/**
 * sim(M, q) for `queries` [B, D] against the stored patterns: [B, N] row-major, in float64.
 * Reciprocal similarities hold +Infinity where a distance is 0.
 */
export function similarityScores(where: string, similarity: SimilaritySpec, stored: StoredPatterns, queries: Tensor,
  mask: Mask | null): Float64Array {
  const k = stored.backend;
  const batch = queries.shape[0];
  const n = stored.count;
  const d = stored.width;
  const m = stored.patterns;
  const out = new Tensor([batch, n], k);
  const temporary: Tensor[] = [];
  try {
    const weights = mask ? new Tensor([mask.rows, d], k).assign(mask.values) : null;
    if (weights) temporary.push(weights);
    const maskStride = mask && mask.rows > 1 ? d : 0;
    if (typeof similarity === "function") return userScores(where, similarity, stored, queries, mask);
    switch (similarity) {
      case "euclidean":
      case "negativeEuclidean":
        if (weights) k.maskedSquaredDistances(batch, n, d, queries.address, weights.address, maskStride, m.address, stored.squares.address, out.address);
        else k.squaredDistances(batch, n, d, queries.address, m.address, stored.norms.address, out.address);
        return finish(out, (distance) => (similarity === "euclidean" ? reciprocal(distance) : -distance));
      case "manhattan":
      case "negativeManhattan":
        if (weights) k.maskedManhattanDistances(batch, n, d, queries.address, weights.address, maskStride, m.address, out.address);
        else k.manhattanDistances(batch, n, d, queries.address, m.address, out.address);
        return finish(out, (distance) => (similarity === "manhattan" ? reciprocal(distance) : -distance));
    }
    // The dot family: q . m over the known entries is (w * q) . m for a 0/1 mask w.
    let known = queries;
    if (weights) {
      known = new Tensor([batch, d], k);
      temporary.push(known);
      if (maskStride === 0) for (let b = 0; b < batch; b++) k.mul(d, queries.address + b * d, weights.address, known.address + b * d);
      else k.mul(batch * d, queries.address, weights.address, known.address);
    }
    k.matmul(false, true, batch, n, d, 1, known.address, m.address, 0, out.address);
    if (similarity === "dot") return Float64Array.from(out.dataSync());
    // Per-query and per-pattern factors over the known entries: for a shared mask (or none)
    // the pattern factor is one row [N], else one row per query ([B, N] = W (.)^T).
    const queryFactor = new Tensor([batch], k);
    const patternFactor = new Tensor([weights ? weights.shape[0] : 1, n], k);
    temporary.push(queryFactor, patternFactor);
    if (similarity === "cosine") {
      k.rowSumSquares(batch, d, known.address, queryFactor.address);
      if (weights) k.matmul(false, true, weights.shape[0], n, d, 1, weights.address, stored.squares.address, 0, patternFactor.address);
      else k.copy(n, stored.norms.address, patternFactor.address);
    } else {
      checkNonNegative(where, "queries", queries.dataSync(), d);
      k.rowSum(batch, d, known.address, queryFactor.address);
      if (weights) k.matmul(false, true, weights.shape[0], n, d, 1, weights.address, m.address, 0, patternFactor.address);
      else k.copy(n, stored.sums.address, patternFactor.address);
    }
    const q = queryFactor.dataSync();
    const p = patternFactor.dataSync();
    const perQuery = patternFactor.shape[0] > 1;
    return finish(out, (dot, b, i) => {
      const pattern = p[(perQuery ? b * n : 0) + i];
      // A pattern (or query) with no norm or mass on the known entries has no overlap: 0.
      const denominator = similarity === "cosine" ? Math.sqrt(q[b] * pattern) : q[b] * pattern;
      return denominator > 0 ? dot / denominator : 0;
    });
  } finally {
    out.dispose();
    for (const t of temporary) t.dispose();
  }
}

/** 1 / distance, +Infinity at distance 0 (of either sign). */
const reciprocal = (distance: number): number => (distance > 0 ? 1 / distance : Infinity);

/** f(entry, b, i) for every entry of raw [B, N], in float64. */
function finish(raw: Tensor, f: (value: number, b: number, i: number) => number): Float64Array {
  const [batch, n] = raw.shape;
  const values = Float64Array.from(raw.dataSync());
  for (let b = 0; b < batch; b++) for (let i = 0; i < n; i++) values[b * n + i] = f(values[b * n + i], b, i);
  return values;
}

function userScores(where: string, similarity: SimilarityFunction, stored: StoredPatterns, queries: Tensor, mask: Mask | null): Float64Array {
  const [batch, d] = queries.shape;
  const n = stored.count;
  const patterns = stored.values;
  const q = queries.dataSync();
  const scores = new Float64Array(batch * n);
  for (let b = 0; b < batch; b++) {
    const maskRow = mask ? mask.values.subarray((mask.rows > 1 ? b : 0) * d, (mask.rows > 1 ? b + 1 : 1) * d) : null;
    const known: number[] = [];
    for (let c = 0; c < d; c++) if (!maskRow || maskRow[c] === 1) known.push(c);
    const query = Float64Array.from(known, (c) => q[b * d + c]);
    const pattern = new Float64Array(known.length);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < known.length; j++) pattern[j] = patterns[i * d + known[j]];
      const score = similarity(pattern, query);
      if (typeof score !== "number" || !Number.isFinite(score))
        throw new InvalidArgumentError(`${where}: the similarity function returned ${String(score)} for stored pattern ${i} and query ${b}; it must return a finite number`);
      scores[b * n + i] = score;
    }
  }
  return scores;
}
