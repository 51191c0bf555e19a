// Retrieval properties of Universal Hopfield Networks and their named instances (classic
// binary and modern continuous Hopfield networks), each against an oracle written here.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import fc from "fast-check";
import { ClassicHopfield, toBipolar } from "../../src/memory/classic-hopfield.js";
import { SIMILARITY_NAMES, type SimilarityName } from "../../src/memory/similarity.js";
import { modernHopfield, UniversalHopfield } from "../../src/memory/universal-hopfield.js";
import { Random } from "../../src/random.js";
import { randomArray, seed } from "../arbitraries.js";
import { assertClose } from "../util/backends.js";
import { ALL_BACKENDS, oracleScores, rowsOf, unitData } from "./util.js";
import { leakChecked } from "../util/leaks.js";

const test = suite("UHN retrieval");
const check = leakChecked(test);

const U = 2 ** -24;

/** recall as plain numbers (the tensor freed). */
function recallOf(memory: UniversalHopfield | ClassicHopfield, queries: number[][] | Float64Array[] | Float64Array, mask?: Float64Array): number[] {
  const t = memory.recall(queries, mask);
  const out = Array.from(t.dataSync());
  t.dispose();
  return out;
}

/** n distinct binary patterns of length d with exactly `ones` ones each: equal norms and sums. */
function equalWeightPatterns(n: number, d: number, ones: number, random: Random): Float64Array[] {
  const seen = new Set<string>();
  const out: Float64Array[] = [];
  while (out.length < n) {
    const order = random.shuffle(Array.from({ length: d }, (_, k) => k));
    const p = new Float64Array(d);
    for (const k of order.slice(0, ones) as number[]) p[k] = 1;
    const key = p.join("");
    if (!seen.has(key)) {
      seen.add(key);
      out.push(p);
    }
  }
  return out;
}

check("a stored pattern queried exactly is retrieved exactly with max separation, by every similarity", () => {
  // Distance similarities and cosine peak at an exact match for any distinct patterns; dot
  // products only when no pattern is longer than the query's own (here: equal norms and
  // sums), since otherwise a longer pattern in a similar direction outscores it.
  fc.assert(fc.property(fc.integer({ min: 1, max: 12 }), fc.integer({ min: 6, max: 60 }), seed, (n, d, s) => {
    const random = new Random(s);
    const general = rowsOf(unitData(n, d, s), d);
    const equal = equalWeightPatterns(n, d, 3, random);
    const negativeL1 = (p: Float64Array, q: Float64Array) => -p.reduce((t, v, k) => t + Math.abs(v - q[k]), 0);
    for (const similarity of [...SIMILARITY_NAMES, negativeL1]) {
      const patterns = similarity === "dot" || similarity === "normalizedDot" ? equal : general;
      for (const backend of ALL_BACKENDS) {
        for (const normalize of [true, false]) {
          const memory = new UniversalHopfield({ similarity, separation: "max", normalize, backend }).store(patterns);
          try {
            const recalled = recallOf(memory, patterns);
            const expected = patterns.flatMap((p) => Array.from(p, Math.fround));
            assert.equal(recalled, expected, `${backend} ${String(similarity)} normalize=${normalize}`);
          } finally {
            memory.dispose();
          }
        }
      }
    }
  }), { numRuns: 15 });
});

/** z = P^T sep(norm(sim)) for one query, from the definitions (Millidge et al. 2022, eq. 2 and the reference code). */
function oracleRecall(scores: number[], projection: Float64Array[], separation: { kind: string; beta?: number; degree?: number }, normalize: boolean): number[] {
  const normalise = (v: number[]) => {
    const total = v.reduce((t, x) => t + Math.abs(x), 0);
    return total === 0 ? v.map(() => 1 / v.length) : v.map((x) => x / total);
  };
  let w = normalize ? normalise(scores) : [...scores];
  if (separation.kind === "softmax") {
    const top = Math.max(...w);
    const e = w.map((x) => Math.exp(separation.beta! * (x - top)));
    const total = e.reduce((t, x) => t + x, 0);
    w = e.map((x) => x / total);
  } else if (separation.kind === "max") {
    const best = w.indexOf(Math.max(...w));
    w = w.map((_, i) => (i === best ? 1 : 0));
  } else if (separation.kind === "polynomial") {
    w = w.map((x) => x ** separation.degree!);
  }
  if (normalize && (separation.kind === "identity" || separation.kind === "polynomial")) w = normalise(w);
  return Array.from({ length: projection[0].length }, (_, k) => projection.reduce((t, p, i) => t + w[i] * p[k], 0));
}

check("recall is P^T sep(sim(M, q)) with scores normalised before the separation and weights after, as the reference code", () => {
  const separations = fc.oneof(
    fc.constant({ kind: "identity" }), fc.constant({ kind: "max" }),
    fc.double({ min: 0.5, max: 50, noNaN: true }).map((beta) => ({ kind: "softmax", beta })),
    fc.integer({ min: 1, max: 4 }).map((degree) => ({ kind: "polynomial", degree })),
  );
  fc.assert(fc.property(fc.integer({ min: 1, max: 8 }), fc.integer({ min: 1, max: 30 }), seed, separations, fc.boolean(), fc.boolean(),
    fc.constantFrom<SimilarityName>("dot", "normalizedDot", "cosine", "negativeEuclidean", "negativeManhattan", "euclidean", "manhattan"),
    (n, d, s, separation, normalize, hetero, similarity) => {
      fc.pre(normalize || !(similarity === "euclidean" || similarity === "manhattan") || separation.kind === "softmax" || separation.kind === "max");
      const patterns = unitData(n, d, s);
      const query = unitData(1, d, s + 5);
      const targets = hetero ? rowsOf(unitData(n, 3, s + 9), 3) : rowsOf(patterns, d);
      const scores = Array.from(oracleScores(similarity, patterns, query, d, null));
      // Ties at the maximum make max depend on the order of equal floats: skip them.
      if (separation.kind === "max") fc.pre(scores.filter((v) => v === Math.max(...scores)).length === 1);
      const expected = oracleRecall(scores, targets, separation, normalize);
      const memory = new UniversalHopfield({ similarity, separation: separation as never, normalize, backend: "reference-f64" });
      memory.store(rowsOf(patterns, d), hetero ? targets : undefined);
      const recalled = recallOf(memory, query);
      memory.dispose();
      assertClose(`${similarity} ${JSON.stringify(separation)} normalize=${normalize}`, recalled, expected, 1e-9, 1e-12);
    }), { numRuns: 150 });
});

check("softmax separation tends to max as beta grows: exactly max once beta times the score gap passes 1000", () => {
  fc.assert(fc.property(fc.integer({ min: 2, max: 10 }), fc.integer({ min: 4, max: 50 }), seed,
    fc.constantFrom<SimilarityName>("dot", "cosine", "euclidean", "manhattan", "negativeEuclidean"), (n, d, s, similarity) => {
      const patterns = rowsOf(unitData(n, d, s), d);
      const query = unitData(1, d, s + 7);
      const maxMemory = new UniversalHopfield({ similarity, separation: "max", backend: "reference-f64" }).store(patterns);
      try {
        const expected = recallOf(maxMemory, query);
        // The gap between the two best normalised scores (normalised by the sum of magnitudes).
        const scores = maxMemory.scores(query);
        const raw = Array.from(scores.dataSync());
        scores.dispose();
        const total = raw.reduce((t, v) => t + Math.abs(v), 0);
        const sorted = raw.map((v) => v / total).sort((a, b) => b - a);
        const gap = sorted[0] - sorted[1];
        fc.pre(gap > 1e-9);
        let previous = Infinity;
        for (const factor of [0.1, 1, 10, 100, 2000]) {
          const memory = new UniversalHopfield({ similarity, separation: { kind: "softmax", beta: factor / gap }, backend: "reference-f64" }).store(patterns);
          const recalled = recallOf(memory, query);
          memory.dispose();
          const distance = Math.sqrt(recalled.reduce((t, v, k) => t + (v - expected[k]) ** 2, 0));
          // The weight off the maximum is at most (n - 1) e^(-factor): the distance shrinks with it.
          assert.ok(distance <= previous * (1 + 1e-12) + 1e-15, `${similarity}: distance rose to ${distance} at beta = ${factor}/gap`);
          previous = distance;
          if (factor >= 2000) assert.equal(recalled, expected, `${similarity}: softmax(beta = 2000/gap) differs from max`);
        }
      } finally {
        maxMemory.dispose();
      }
    }), { numRuns: 40 });
});

/** Rows of a Sylvester Hadamard matrix of order d (a power of 2): entries +-1, exactly orthogonal. */
function hadamard(d: number): Float64Array[] {
  let h: number[][] = [[1]];
  while (h.length < d) h = [...h.map((r) => [...r, ...r]), ...h.map((r) => [...r, ...r.map((v) => -v)])];
  return h.map((r) => Float64Array.from(r));
}

check("N <= D orthogonal patterns are retrieved exactly with dot similarity and identity separation", () => {
  fc.assert(fc.property(fc.integer({ min: 0, max: 6 }), fc.integer({ min: 1, max: 64 }), seed, (power, wanted, s) => {
    const d = 2 ** power;
    const random = new Random(s);
    // Scaled Hadamard rows: exactly orthogonal in f32 too, with different norms.
    const rows = random.shuffle(hadamard(d)).slice(0, Math.min(wanted, d)) as Float64Array[];
    const patterns = rows.map((r) => {
      const scale = 1 + random.int(4);
      return r.map((v) => v * scale);
    });
    for (const backend of ALL_BACKENDS) {
      // Normalised weights are one-hot (the other scores are exactly 0): z = m_i exactly.
      const memory = new UniversalHopfield({ similarity: "dot", separation: "identity", backend }).store(patterns);
      assert.equal(recallOf(memory, patterns), patterns.flatMap((p) => Array.from(p)), `${backend} d=${d}`);
      memory.dispose();
    }
  }), { numRuns: 30 });
  // Orthonormal patterns without normalisation: z = M^T M q = q for every q in their span.
  fc.assert(fc.property(fc.integer({ min: 1, max: 12 }), fc.integer({ min: 0, max: 20 }), seed, (n, extra, s) => {
    const d = n + extra;
    const basis: Float64Array[] = [];
    for (const v of rowsOf(randomArray(n * d, s, 1), d)) {
      // Gram-Schmidt in float64, twice for orthogonality to rounding.
      for (let pass = 0; pass < 2; pass++)
        for (const b of basis) {
          const dot = v.reduce((t, x, k) => t + x * b[k], 0);
          v.forEach((_, k) => (v[k] -= dot * b[k]));
        }
      const norm = Math.hypot(...v);
      fc.pre(norm > 1e-3);
      basis.push(v.map((x) => x / norm));
    }
    const coefficients = randomArray(n, s + 1, 1);
    const query = new Float64Array(d);
    basis.forEach((b, i) => b.forEach((x, k) => (query[k] += coefficients[i] * x)));
    for (const backend of ALL_BACKENDS) {
      const memory = new UniversalHopfield({ similarity: "dot", separation: "identity", normalize: false, backend }).store(basis);
      const recalled = recallOf(memory, query);
      memory.dispose();
      // f32: the inputs' rounding and two d-term (or n-term) products; float64: ~1e-15.
      const f32Inputs = Array.from(query, Math.fround);
      assertClose(`${backend} n=${n} d=${d}`, recalled, backend === "reference-f64" ? Array.from(query) : f32Inputs,
        backend === "reference-f64" ? 1e-12 : 4 * (d + n + 8) * U, backend === "reference-f64" ? 1e-13 : 4 * (d + n + 8) * U);
    }
  }), { numRuns: 30 });
});

check("hetero-associative recall returns the target stored with the best-matching pattern", () => {
  const patterns = rowsOf(unitData(6, 30, 5), 30);
  const labels = [3, 1, 4, 1, 5, 9];
  const targets = labels.map((l) => Float64Array.from({ length: 10 }, (_, c) => (c === l ? 1 : 0)));
  for (const backend of ALL_BACKENDS) {
    const memory = new UniversalHopfield({ similarity: "euclidean", separation: "max", backend }).store(patterns, targets);
    assert.is(memory.outputSize, 10);
    assert.equal(recallOf(memory, patterns), targets.flatMap((t) => Array.from(t)), backend);
    // Half of each pattern, given as a masked query, still finds its label.
    const known = Float64Array.from({ length: 30 }, (_, k) => (k < 15 ? 1 : 0));
    assert.equal(recallOf(memory, patterns.map((p) => p.map((v, k) => (k < 15 ? v : 0))), known), targets.flatMap((t) => Array.from(t)));
    memory.dispose();
  }
});

check("the modern continuous Hopfield network is z = M^T softmax(beta M q) (Ramsauer et al.)", () => {
  fc.assert(fc.property(fc.integer({ min: 1, max: 8 }), fc.integer({ min: 1, max: 40 }), seed, fc.double({ min: 0.01, max: 20, noNaN: true }),
    (n, d, s, beta) => {
      const patterns = rowsOf(unitData(n, d, s), d);
      const query = unitData(1, d, s + 3);
      const logits = patterns.map((m) => beta * m.reduce((t, v, k) => t + v * query[k], 0));
      const top = Math.max(...logits);
      const e = logits.map((l) => Math.exp(l - top));
      const total = e.reduce((t, v) => t + v, 0);
      const expected = Array.from({ length: d }, (_, k) => patterns.reduce((t, m, i) => t + (e[i] / total) * m[k], 0));
      const memory = modernHopfield({ beta, backend: "reference-f64" }).store(patterns);
      assertClose(`n=${n} d=${d} beta=${beta}`, recallOf(memory, query), expected, 1e-12, 1e-14);
      memory.dispose();
    }), { numRuns: 40 });
});

check("classic Hopfield: Hebbian storage of one pattern makes it (and its negative) a fixed point", () => {
  fc.assert(fc.property(fc.integer({ min: 1, max: 200 }), seed, (d, s) => {
    const pattern = toBipolar(unitData(1, d, s));
    for (const backend of ALL_BACKENDS) {
      const network = new ClassicHopfield({ backend }).store([pattern]);
      for (const start of [pattern, pattern.map((v) => -v)]) {
        assert.equal(recallOf(network, start), Array.from(start), `${backend} d=${d}`);
        assert.is(network.lastSteps, 1, "a fixed point: the first sweep changes nothing");
      }
      network.dispose();
    }
  }), { numRuns: 40 });
});

check("classic Hopfield: weights are the Hebbian outer products with a zero diagonal, and one update is a UHN step", () => {
  fc.assert(fc.property(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 2, max: 30 }), seed, (n, d, s) => {
    const patterns = rowsOf(randomArray(n * d, s, 1), d).map((p) => toBipolar(p, 0));
    const network = new ClassicHopfield({ backend: "wasm-simd", maxSteps: 1 }).store(patterns);
    const weights = network.hebbianWeights();
    const w = weights.dataSync();
    weights.dispose();
    for (let i = 0; i < d; i++)
      for (let j = 0; j < d; j++) {
        const expected = i === j ? 0 : patterns.reduce((t, p) => t + p[i] * p[j], 0);
        assert.is(w[i * d + j], expected, `W[${i}][${j}]`);
      }
    // One synchronous sweep from x: sign(W x), keeping x where the field is 0.
    const x = toBipolar(randomArray(d, s + 9, 1), 0);
    const expected = Array.from({ length: d }, (_, i) => {
      const h = x.reduce((t, v, j) => t + w[i * d + j] * v, 0);
      return h > 0 ? 1 : h < 0 ? -1 : x[i];
    });
    assert.equal(recallOf(network, x), expected);
    network.dispose();
  }), { numRuns: 30 });
});

check("classic Hopfield recalls a few stored patterns from a corrupted copy", () => {
  const random = new Random(3);
  const d = 256;
  const patterns = Array.from({ length: 5 }, () => Float64Array.from({ length: d }, () => (random.next() < 0.5 ? 1 : -1)));
  const network = new ClassicHopfield().store(patterns);
  const noisy = patterns.map((p) => p.map((v, k) => (k % 10 === 0 ? -v : v)));
  assert.equal(recallOf(network, noisy), patterns.flatMap((p) => Array.from(p)));
  network.dispose();
});

test.run();
