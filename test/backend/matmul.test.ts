import { suite } from "uvu";
import * as assert from "uvu/assert";
import fc from "fast-check";
import type { Backend } from "../../src/backend/kernels.js";
import { getBackendByName } from "../../src/backend/load.js";
import { assertClose, reference, runKernel, wasmBackends } from "../util/backends.js";
import { awkwardSize, finiteValue, randomArray, seed } from "../arbitraries.js";

const test = suite("matmul");

const U = 2 ** -24; // unit roundoff of f32

interface Problem {
  transA: boolean;
  transB: boolean;
  m: number;
  n: number;
  k: number;
  alpha: number;
  beta: number;
  seed: number;
}

interface Batched extends Problem {
  batch: number;
  strideA: number;
  strideB: number;
  strideC: number;
}

// Scalars are kept f32-normal (tiny values snap to 0): an alpha that f32 flushes to zero
// would drop the whole product, which no relative tolerance on the product can absorb.
const scalar = (range: number) => finiteValue(range).map((x) => (Math.abs(x) < 1e-6 ? 0 : x));
const alphaValue = fc.oneof(fc.constantFrom(0, 1, -1), scalar(3));
const betaValue = fc.oneof(fc.constantFrom(0, 1), scalar(2));

function problem(m: fc.Arbitrary<number>, n: fc.Arbitrary<number>, k: fc.Arbitrary<number>): fc.Arbitrary<Problem> {
  return fc.record({ transA: fc.boolean(), transB: fc.boolean(), m, n, k, alpha: alphaValue, beta: betaValue, seed });
}

function inputs(p: Problem, batch = 1, strideA = p.m * p.k, strideB = p.k * p.n, strideC = p.m * p.n) {
  const lengthA = (batch - 1) * strideA + p.m * p.k;
  const lengthB = (batch - 1) * strideB + p.k * p.n;
  const lengthC = (batch - 1) * strideC + p.m * p.n;
  return {
    a: randomArray(lengthA, p.seed, 1),
    b: randomArray(lengthB, p.seed ^ 0x5bd1e995, 1),
    // beta = 0 gets a NaN-filled C (runKernel's default) to prove C is never read.
    c: p.beta === 0 ? lengthC : randomArray(lengthC, p.seed ^ 0x27d4eb2f, 1),
  };
}

function run(backend: Backend, p: Problem, data: ReturnType<typeof inputs>, transA = p.transA, transB = p.transB) {
  return runKernel(backend, { a: data.a, b: data.b }, { c: data.c }, (be, at) =>
    be.matmul(transA, transB, p.m, p.n, p.k, p.alpha, at.a, at.b, p.beta, at.c)).outputs.c;
}

function runBatched(backend: Backend, p: Batched, data: ReturnType<typeof inputs>) {
  return runKernel(backend, { a: data.a, b: data.b }, { c: data.c }, (be, at) =>
    be.matmulBatched(p.batch, p.transA, p.transB, p.m, p.n, p.k, p.alpha, at.a, p.strideA, at.b, p.strideB,
      p.beta, at.c, p.strideC)).outputs.c;
}

/**
 * The magnitude an f32 result may be wrong by, per entry: |alpha| * sum_p |a_ip||b_pj| +
 * |beta * c_ij| (from the float64 reference on |A|, |B|), which bounds the summed terms.
 */
function errorScale(p: Problem, data: ReturnType<typeof inputs>, batched?: Batched): Float64Array {
  const abs = (x: ArrayLike<number>) => Float64Array.from(x, Math.abs);
  const c = typeof data.c === "number" ? new Float64Array(data.c) : abs(data.c);
  const q = { ...p, alpha: Math.abs(p.alpha), beta: Math.abs(p.beta) };
  const absData = { a: abs(data.a), b: abs(data.b), c };
  return batched ? runBatched(reference(), { ...batched, ...q }, absData) : run(reference(), q, absData);
}

// Tolerance for every comparison below: a K-term f32 dot product, summed in slices of K
// that are each added into C, plus f32 rounding of inputs, alpha, beta and each update, is
// off by at most about (K + 8) * 2^-24 times |alpha| sum_p |a_ip||b_pj| + |beta c_ij|.
const relTol = (k: number) => (k + 8) * U;
const ABS_TOL = 1e-30; // only so that an exactly-zero scale never divides by zero

function checkAgainstReference(p: Problem): void {
  const data = inputs(p);
  const expected = run(reference(), p, data);
  const scale = errorScale(p, data);
  for (const name of wasmBackends) {
    const actual = run(getBackendByName(name), p, data);
    assertClose(`${name} ${JSON.stringify(p)}`, actual, expected, relTol(p.k), ABS_TOL, scale);
  }
}

test("matmul equals the float64 reference for every transpose, alpha and beta", () => {
  fc.assert(fc.property(problem(awkwardSize(67), awkwardSize(67), awkwardSize(67)), checkAgainstReference),
    { numRuns: 300 });
});

test("matmul matches the reference across cache-block and K-slice boundaries (M, N up to 150, K up to 600)", () => {
  const size = fc.oneof(awkwardSize(150), fc.integer({ min: 90, max: 150 }));
  const depth = fc.oneof(awkwardSize(67), fc.integer({ min: 250, max: 600 }));
  fc.assert(fc.property(problem(size, size, depth), checkAgainstReference), { numRuns: 60 });
});

test("matmul handles very wide outputs (N past the column block) and vector shapes (M or N = 1)", () => {
  const wide = problem(fc.integer({ min: 1, max: 9 }), fc.integer({ min: 2040, max: 2100 }), fc.integer({ min: 1, max: 12 }));
  const vector = fc.oneof(
    problem(fc.constant(1), awkwardSize(300), awkwardSize(300)),
    problem(awkwardSize(300), fc.constant(1), awkwardSize(300)),
  );
  fc.assert(fc.property(fc.oneof(wide, vector), checkAgainstReference), { numRuns: 30 });
});

test("beta = 0 overwrites C without reading it, even when C holds NaN", () => {
  for (const name of wasmBackends) {
    for (const [m, n, k] of [[1, 1, 1], [3, 5, 2], [37, 41, 29], [100, 9, 130]]) {
      const p: Problem = { transA: false, transB: true, m, n, k, alpha: 1.5, beta: 0, seed: m * n * k };
      const out = run(getBackendByName(name), p, inputs(p));
      assert.ok(out.every(Number.isFinite), `${name} ${m}x${n}x${k}: NaN leaked from C`);
    }
  }
});

test("K = 0 leaves beta * C (zeros when beta = 0)", () => {
  fc.assert(fc.property(problem(awkwardSize(20), awkwardSize(20), fc.constant(0)), checkAgainstReference),
    { numRuns: 20 });
});

test("matmulBatched equals the float64 reference with strides, including 0 to broadcast A or B", () => {
  const batched = problem(awkwardSize(40), awkwardSize(40), awkwardSize(40)).chain((p) =>
    fc.record({
      batch: fc.integer({ min: 1, max: 4 }),
      // 0 broadcasts one matrix to every batch entry; a padded stride leaves gaps.
      strideA: fc.constantFrom(0, p.m * p.k, p.m * p.k + 3),
      strideB: fc.constantFrom(0, p.k * p.n, p.k * p.n + 5),
      strideC: fc.constantFrom(p.m * p.n, p.m * p.n + 2),
    }).map((s) => ({ ...p, ...s })));
  fc.assert(fc.property(batched, (p: Batched) => {
    const data = inputs(p, p.batch, p.strideA, p.strideB, p.strideC);
    const expected = runBatched(reference(), p, data);
    const scale = errorScale(p, data, p);
    for (const name of wasmBackends) {
      // Whole buffer, so gaps between padded C matrices must also be left as they were.
      const actual = runBatched(getBackendByName(name), p, data);
      assertClose(`${name} ${JSON.stringify(p)}`, actual, expected, relTol(p.k), ABS_TOL, scale);
    }
  }), { numRuns: 40 });
});

test("the comparison catches a matmul run with the wrong transpose flag", () => {
  // With M, N, K >= 2 reading A (or B) through the other layout gives a different product,
  // so this check fails if the tolerance were too loose to tell the transposes apart.
  const size = fc.integer({ min: 2, max: 40 });
  fc.assert(fc.property(problem(size, size, size), fc.boolean(), (p, flipA) => {
    const q = { ...p, alpha: 1 };
    const data = inputs(q);
    const expected = run(reference(), q, data);
    const scale = errorScale(q, data);
    for (const name of wasmBackends) {
      const wrong = run(getBackendByName(name), q, data, flipA ? !q.transA : q.transA, flipA ? q.transB : !q.transB);
      assert.throws(() => assertClose(name, wrong, expected, relTol(q.k), ABS_TOL, scale));
    }
  }), { numRuns: 30 });
});

test("repeated matmuls reuse the packing scratch instead of growing memory", () => {
  for (const name of wasmBackends) {
    const backend = getBackendByName(name);
    const big: Problem = { transA: true, transB: true, m: 150, n: 150, k: 300, alpha: 1, beta: 0, seed: 7 };
    run(backend, big, inputs(big));
    const reserved = backend.reservedBytes();
    for (let i = 0; i < 30; i++) {
      const p: Problem = { ...big, m: 20 + 4 * i, n: 150 - 3 * i, k: 300 - 7 * i, transA: i % 2 === 0, beta: i % 3 };
      run(backend, p, inputs(p));
    }
    assert.is(backend.reservedBytes(), reserved, `${name} memory grew`);
  }
});

test.run();
