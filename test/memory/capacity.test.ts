// The pieces of the capacity experiments: corruptions, the criteria and their judge, the
// mean-pattern floor, pattern draws and the summaries, each against hand-worked cases.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { getBackendByName } from "../../src/backend/load.js";
import {
  drawPatterns, fraction, mseCriterion, PAPER_CRITERION, RecallJudge, runCapacity, STRICT_CRITERION, summarize, uhnMethod,
} from "../../src/memory/capacity.js";
import { corruptQueries, firstHiddenRow, visibleRowsMask } from "../../src/memory/corruption.js";
import { ALL_BACKENDS } from "./util.js";
import { leakChecked } from "../util/leaks.js";

const test = suite("capacity experiments");
const check = leakChecked(test);

check("the judge measures squared distances to every stored pattern and the nearest-neighbour distance", () => {
  for (const name of ALL_BACKENDS) {
    // Patterns at (0, 0), (2, 0) and (0, 5): nearest neighbours 4, 4 and 25 apart (squared).
    const judge = new RecallJudge(getBackendByName(name), Float32Array.from([0, 0, 2, 0, 0, 5]), 3, 2);
    try {
      assert.equal(Array.from(judge.neighbourDistances), [4, 4, 25], name);
      const [a, b] = judge.judge([0.5, 0, 0, 4], [0, 2]);
      assert.equal([a.ownError, a.nearestOtherError, a.neighbourDistance, a.patternSize], [0.25, 2.25, 4, 2]);
      assert.equal([b.ownError, b.nearestOtherError, b.neighbourDistance], [1, 16, 25]);
    } finally {
      judge.dispose();
    }
  }
});

test("strict: nearest stored pattern and strictly within half the nearest-neighbour distance", () => {
  const j = (ownError: number, nearestOtherError: number, neighbourDistance = 4) => ({ ownError, nearestOtherError, neighbourDistance, patternSize: 2 });
  assert.ok(STRICT_CRITERION.accept(j(0, 4)));
  assert.ok(STRICT_CRITERION.accept(j(0.95 ** 2, 1.05 ** 2)));
  assert.not.ok(STRICT_CRITERION.accept(j(1.1 ** 2, 0.9 ** 2)), "nearer another pattern");
  // Half way to the neighbour, off the line between them (|z - m| = 1 = half of 2): rejected.
  assert.not.ok(STRICT_CRITERION.accept(j(1, 5)), "on the half-distance sphere");
  assert.not.ok(STRICT_CRITERION.accept(j(1, 1)), "the mean of two patterns: a tie");
  // The paper's: SSE <= 60 D / 784.
  assert.ok(PAPER_CRITERION.accept({ ownError: 60, nearestOtherError: 0, neighbourDistance: 0, patternSize: 784 }));
  assert.not.ok(PAPER_CRITERION.accept({ ownError: 60.01, nearestOtherError: Infinity, neighbourDistance: Infinity, patternSize: 784 }));
  assert.ok(PAPER_CRITERION.accept({ ownError: 7.5, nearestOtherError: 0, neighbourDistance: 0, patternSize: 98 }));
  assert.not.ok(PAPER_CRITERION.accept({ ownError: 7.6, nearestOtherError: 0, neighbourDistance: 0, patternSize: 98 }));
  assert.ok(mseCriterion(0.005).accept({ ownError: 0.0049 * 784, nearestOtherError: 0, neighbourDistance: 0, patternSize: 784 }));
  assert.not.ok(mseCriterion(0.005).accept({ ownError: 0.005 * 784, nearestOtherError: 0, neighbourDistance: 0, patternSize: 784 }));
});

check("the floor is the criterion's verdict on recalling the mean of the stored patterns", () => {
  // Patterns 0, 2 and 10 on a line: the mean 4 is within SSE 60 of all; strictly, it is nearest
  // to 2 (distance 4) but not within half of 2's neighbour distance (4 < 4 is false).
  const judge = new RecallJudge(getBackendByName("reference-f64"), Float64Array.from([0, 2, 10]), 3, 1);
  try {
    assert.is(judge.meanPatternAccuracy({ name: "sse<=20", description: "", accept: (r) => r.ownError <= 20 }), 2 / 3);
    assert.is(judge.meanPatternAccuracy(STRICT_CRITERION), 0);
    assert.is(judge.meanPatternAccuracy({ name: "nearest", description: "", accept: (r) => r.ownError < r.nearestOtherError }), 1 / 3);
  } finally {
    judge.dispose();
  }
});

test("corruptions: clipped noise, the bottom rows zeroed as the paper's int(H (1 - f)), and their mask", () => {
  const shape = { channels: 1, height: 4, width: 3 };
  const image = Float32Array.from({ length: 12 }, (_, i) => (i % 5) / 4);
  const noisy = corruptQueries(image, 1, shape, { kind: "noise", sigma: 2 }, 7).queries;
  assert.ok(noisy.every((v) => v >= 0 && v <= 1), "clipped to [0, 1]");
  assert.ok(noisy.some((v, i) => v !== image[i]));
  assert.equal(corruptQueries(image, 1, shape, { kind: "noise", sigma: 2 }, 7).queries, noisy, "seeded");
  assert.is(firstHiddenRow(28, 0.5), 14);
  assert.is(firstHiddenRow(28, 0.1), 25);
  const zeroed = corruptQueries(image, 1, shape, { kind: "zeroed", fraction: 0.5 }, 1);
  assert.is(zeroed.mask, null);
  assert.equal(Array.from(zeroed.queries), [...Array.from(image.subarray(0, 6)), 0, 0, 0, 0, 0, 0]);
  const masked = corruptQueries(image, 1, shape, { kind: "masked", fraction: 0.5 }, 1);
  assert.equal(Array.from(masked.queries), Array.from(zeroed.queries));
  assert.equal(Array.from(masked.mask!), [1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0]);
  assert.equal(Array.from(visibleRowsMask({ channels: 2, height: 2, width: 1 }, 0.5)), [1, 0, 1, 0]);
});

test("pattern draws are seeded, distinct, and nested: smaller N are subsets of larger ones", () => {
  const pool = Float32Array.from({ length: 50 * 2 }, (_, i) => Math.floor(i / 2));
  const ten = drawPatterns(pool, 50, 2, 10, 3);
  const twenty = drawPatterns(pool, 50, 2, 20, 3);
  assert.equal(Array.from(twenty.subarray(0, 20)), Array.from(ten));
  assert.is(new Set(Array.from(twenty).filter((_, i) => i % 2 === 0)).size, 20);
  assert.not.equal(Array.from(drawPatterns(pool, 50, 2, 10, 4)), Array.from(ten));
});

check("a capacity run records every method, separation, corruption, N, seed and criterion; summaries average seeds", () => {
  const pool = Float32Array.from({ length: 30 * 4 }, (_, i) => ((i * 7919) % 13) / 12);
  const result = runCapacity({
    images: pool, shape: { channels: 1, height: 2, width: 2 }, sizes: [2, 5], seeds: [1, 2],
    corruptions: [{ kind: "noise", sigma: 0.1 }, { kind: "masked", fraction: 0.5 }],
    methods: [uhnMethod("euclidean", ["max", "identity"], { backend: getBackendByName("wasm-simd") })],
    criteria: [PAPER_CRITERION, STRICT_CRITERION], backend: getBackendByName("wasm-simd"),
  });
  assert.is(result.records.length, 2 * 2 * 2 * 2 * 2);
  assert.is(result.floors.length, 2 * 2 * 2);
  const summaries = summarize(result.records);
  assert.is(summaries.length, 2 * 2 * 2 * 2);
  for (const s of summaries) {
    const values = result.records.filter((r) => r.variant === s.variant && r.corruption === s.corruption && r.n === s.n && r.criterion === s.criterion).map((r) => r.accuracy);
    assert.is(s.seeds, 2);
    assert.ok(Math.abs(s.mean - (values[0] + values[1]) / 2) < 1e-15);
  }
  assert.is(fraction([], STRICT_CRITERION), 0);
});

check("noise is clipped to [0, 1] unless clip is false; runCapacity queries only the first `queries` stored patterns", () => {
  const shape = { channels: 1, height: 2, width: 2 };
  const patterns = Float32Array.from([0, 1, 0, 1, 1, 0, 1, 0]);
  const clipped = corruptQueries(patterns, 2, shape, { kind: "noise", sigma: 0.5 }, 3).queries;
  const raw = corruptQueries(patterns, 2, shape, { kind: "noise", sigma: 0.5, clip: false }, 3).queries;
  assert.ok(clipped.every((v) => v >= 0 && v <= 1));
  assert.ok(raw.some((v) => v < 0 || v > 1), "some noisy value leaves [0, 1]");
  // The same draws: clipping the raw queries gives the clipped ones.
  assert.equal(Array.from(raw, (v) => Math.fround(Math.min(1, Math.max(0, v)))), Array.from(clipped));
  const asked: number[] = [];
  const method = {
    label: "counter",
    prepare: (stored: Float32Array, n: number, d: number) => ({
      recall(queries: Float32Array, rows: number) {
        asked.push(rows);
        return [{ label: "counter", recalled: stored.slice(0, rows * d) }];
      },
      dispose() {},
    }),
  };
  const images = Float32Array.from({ length: 8 * 4 }, (_, i) => (i * 7) % 5 / 4);
  const result = runCapacity({
    images, shape, sizes: [3, 6], seeds: [1], corruptions: [{ kind: "noise", sigma: 0.1 }], methods: [method], criteria: [mseCriterion(0.5)],
    backend: getBackendByName("wasm-simd"), queries: 4,
  });
  assert.equal(asked, [3, 4], "min(N, queries) queries per N");
  assert.equal(result.records.map((r) => r.accuracy), [1, 1], "exact recalls of the queried patterns");
});

test.run();
