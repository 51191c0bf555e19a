// Every similarity of the Universal Hopfield Network against a float64 oracle written from
// its definition (test/memory/util.ts), with and without masks, on every backend.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import fc from "fast-check";
import type { BackendName } from "../../src/backend/load.js";
import { SIMILARITY_NAMES, type SimilarityName } from "../../src/memory/similarity.js";
import { UniversalHopfield } from "../../src/memory/universal-hopfield.js";
import { awkwardSize, seed } from "../arbitraries.js";
import { assertClose } from "../util/backends.js";
import { ALL_BACKENDS, maskRow, oracleScores, rowsOf, unitData } from "./util.js";
import { leakChecked } from "../util/leaks.js";

const test = suite("UHN similarities");
const check = leakChecked(test);

const U = 2 ** -24;
/**
 * Relative tolerance per similarity on an f32 backend, D entries compared. Dot products of
 * non-negative data and distances are sums of non-negative terms: (D + 8) u of the result
 * for the matmul and Manhattan, 8 (D + 12) u for squared distances (the identity with
 * direct recomputation, src/backend/kernels.ts). Normalised dots add the sums' (D + 2) u;
 * cosine the norms' few u. Reciprocals and negations keep relative error. The float64
 * reference is held to 1e-12.
 */
function tolerance(backend: BackendName, similarity: SimilarityName, d: number): number {
  if (backend === "reference-f64") return 1e-12;
  switch (similarity) {
    case "euclidean":
    case "negativeEuclidean": return 8 * (d + 12) * U;
    case "normalizedDot": return (2 * d + 12) * U;
    case "cosine": return (d + 14) * U;
    default: return (d + 8) * U;
  }
}

interface Case {
  n: number;
  d: number;
  batch: number;
  seed: number;
  mask: "none" | "shared" | "perQuery";
  exact: boolean;
}

const cases = fc.record({
  n: fc.integer({ min: 1, max: 9 }),
  d: fc.oneof(awkwardSize(40), fc.integer({ min: 780, max: 790 })),
  batch: fc.integer({ min: 1, max: 6 }),
  seed,
  mask: fc.constantFrom("none", "shared", "perQuery"),
  exact: fc.boolean(),
}) as fc.Arbitrary<Case>;

function checkCase(c: Case): void {
  const patterns = unitData(c.n, c.d, c.seed);
  const queries = unitData(c.batch, c.d, c.seed ^ 0x9e3779b9);
  // Some queries copy a stored pattern: reciprocal distances are then +Infinity.
  if (c.exact) queries.set(patterns.subarray(0, c.d), 0);
  const masks = c.mask === "none" ? null
    : c.mask === "shared" ? maskRow(c.d, c.seed)
      : rowsOf(Float64Array.from({ length: c.batch * c.d }, (_, i) => maskRow(c.d, c.seed + Math.floor(i / c.d))[i % c.d]), c.d);
  for (const similarity of SIMILARITY_NAMES) {
    const expected = oracleScores(similarity, patterns, queries, c.d, masks);
    for (const backend of ALL_BACKENDS) {
      const memory = new UniversalHopfield({ similarity, backend }).store(rowsOf(patterns, c.d));
      try {
        const scores = memory.scores(rowsOf(queries, c.d), masks ?? undefined);
        const actual = scores.dataSync();
        scores.dispose();
        assert.equal(actual.length, c.batch * c.n);
        assertClose(`${backend} ${similarity} ${JSON.stringify(c)}`, actual, expected, tolerance(backend, similarity, c.d), 1e-30,
          Float64Array.from(expected, Math.abs));
      } finally {
        memory.dispose();
      }
    }
  }
}

check("every similarity equals its float64 definition, over the known entries when masked, on every backend", () => {
  fc.assert(fc.property(cases, checkCase), { numRuns: 40 });
});

check("a masked dot product equals the dot product of the zeroed query; masked distances ignore the unknown entries", () => {
  fc.assert(fc.property(cases, (c) => {
    const d = c.d;
    const patterns = rowsOf(unitData(c.n, d, c.seed), d);
    const query = unitData(1, d, c.seed + 1);
    const known = maskRow(d, c.seed);
    const zeroed = Float64Array.from(query, (v, k) => v * known[k]);
    const scrambled = Float64Array.from(query, (v, k) => (known[k] ? v : 1 - v));
    for (const similarity of ["dot", "euclidean", "manhattan", "cosine"] as SimilarityName[]) {
      const memory = new UniversalHopfield({ similarity, backend: "wasm-simd" }).store(patterns);
      const read = (q: Float64Array, mask?: Float64Array) => {
        const t = memory.scores(q, mask);
        const out = t.dataSync();
        t.dispose();
        return out;
      };
      try {
        const masked = read(query, known);
        // Unknown entries never enter a masked similarity, whatever they hold.
        assert.equal(Array.from(read(scrambled, known)), Array.from(masked), `${similarity}: unknown entries changed the scores`);
        if (similarity === "dot") assert.equal(Array.from(read(zeroed)), Array.from(masked), "dot: masked differs from zeroed");
      } finally {
        memory.dispose();
      }
    }
  }), { numRuns: 25 });
});

check("a user similarity function sees only the known entries and its scores are used as given", () => {
  const patterns = [[1, 2, 3, 4], [4, 3, 2, 1]];
  const seen: number[][] = [];
  const sumOfProducts = (p: Float64Array, q: Float64Array) => {
    seen.push([...p], [...q]);
    return p.reduce((t, v, k) => t + v * q[k], 0);
  };
  for (const backend of ALL_BACKENDS) {
    seen.length = 0;
    const memory = new UniversalHopfield({ similarity: sumOfProducts, backend }).store(patterns);
    const scores = memory.scores([1, 0, 1, 9], [1, 0, 1, 0]);
    assert.equal(Array.from(scores.dataSync()), [4, 6], backend);
    assert.equal(seen, [[1, 3], [1, 1], [4, 2], [1, 1]], backend);
    scores.dispose();
    memory.dispose();
  }
});

test.run();
