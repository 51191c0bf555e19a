// Helpers shared by the memory suites: data generators and the float64 oracles written from
// the definitions in Millidge et al. 2022.
import type { BackendName } from "../../src/backend/load.js";
import type { SimilarityName } from "../../src/memory/similarity.js";
import { randomArray } from "../arbitraries.js";

export const ALL_BACKENDS: BackendName[] = ["wasm-simd", "wasm-scalar", "reference-f64"];

/** rows x cols f32-representable numbers in [0, 1) (images are non-negative). */
export function unitData(rows: number, cols: number, seed: number): Float64Array {
  return Float64Array.from(randomArray(rows * cols, seed, 1), (v) => Math.fround(Math.abs(v)));
}

export const rowsOf = (data: ArrayLike<number>, cols: number): Float64Array[] =>
  Array.from({ length: data.length / cols }, (_, r) => Float64Array.from({ length: cols }, (_, c) => data[r * cols + c]));

/** A 0/1 mask row with at least one known entry. */
export function maskRow(cols: number, seed: number): Float64Array {
  const row = Float64Array.from(randomArray(cols, seed, 1), (v) => (v > -0.3 ? 1 : 0));
  row[Math.abs(seed) % cols] = 1;
  return row;
}

/** sim(m, q) over the entries where known[k] = 1, in float64, from the definitions. */
export function oracleSimilarity(similarity: SimilarityName, m: ArrayLike<number>, q: ArrayLike<number>, known: ArrayLike<number> | null): number {
  let dot = 0, qq = 0, mm = 0, qs = 0, ms = 0, l2 = 0, l1 = 0;
  for (let k = 0; k < q.length; k++) {
    if (known && known[k] !== 1) continue;
    dot += q[k] * m[k];
    qq += q[k] * q[k];
    mm += m[k] * m[k];
    qs += q[k];
    ms += m[k];
    l2 += (q[k] - m[k]) ** 2;
    l1 += Math.abs(q[k] - m[k]);
  }
  switch (similarity) {
    case "dot": return dot;
    case "normalizedDot": return qs * ms > 0 ? dot / (qs * ms) : 0;
    case "cosine": return qq * mm > 0 ? dot / Math.sqrt(qq * mm) : 0;
    case "euclidean": return 1 / l2;
    case "manhattan": return 1 / l1;
    case "negativeEuclidean": return -l2;
    case "negativeManhattan": return -l1;
  }
}

/** The oracle's scores [B, N] for flat patterns [N, d] and queries [B, d]; masks shared or per query. */
export function oracleScores(similarity: SimilarityName, patterns: Float64Array, queries: Float64Array, d: number,
  masks: Float64Array | Float64Array[] | null): Float64Array {
  const n = patterns.length / d;
  const batch = queries.length / d;
  const out = new Float64Array(batch * n);
  for (let b = 0; b < batch; b++) {
    const known = masks === null ? null : Array.isArray(masks) ? masks[b] : masks;
    for (let i = 0; i < n; i++)
      out[b * n + i] = oracleSimilarity(similarity, patterns.subarray(i * d, (i + 1) * d), queries.subarray(b * d, (b + 1) * d), known);
  }
  return out;
}
