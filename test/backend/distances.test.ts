import { suite } from "uvu";
import * as assert from "uvu/assert";
import fc from "fast-check";
import type { Backend } from "../../src/backend/kernels.js";
import { getBackendByName, type BackendName } from "../../src/backend/load.js";
import { assertClose, runKernel } from "../util/backends.js";
import { awkwardSize, randomArray, seed } from "../arbitraries.js";

const test = suite("distance kernels");

const U = 2 ** -24; // unit roundoff of f32
const U64 = 2 ** -53;
const backends: BackendName[] = ["wasm-simd", "wasm-scalar", "reference-f64"];

// Stated accuracy of each kernel relative to the distance itself (src/backend/kernels.ts):
// squared Euclidean through the identity with direct recomputation where it cancels,
// 8 (d + 12) u; Manhattan, a sum of non-negative f32 terms, (d + 6) u, plus one rounding of
// each weight times term when masked. The float64 reference is held to 8 d 2^-53.
const tolerance = (backend: BackendName, d: number, kernel: "squared" | "manhattan") =>
  backend === "reference-f64" ? 8 * (d + 1) * U64 : kernel === "squared" ? 8 * (d + 12) * U : (d + 8) * U;
const TINY = 1e-30; // only so that an exactly-zero distance never divides by zero

interface Problem {
  batch: number;
  n: number;
  d: number;
  seed: number;
  /** Which queries copy a memory row: none, exactly, or with a tiny perturbation. */
  near: "none" | "exact" | "perturbed";
  mask: "shared" | "perQuery" | "weights";
}

const problem = (d: fc.Arbitrary<number>): fc.Arbitrary<Problem> => fc.record({
  batch: fc.integer({ min: 1, max: 9 }),
  n: fc.integer({ min: 1, max: 13 }),
  d,
  seed,
  near: fc.constantFrom("none", "exact", "perturbed"),
  mask: fc.constantFrom("shared", "perQuery", "weights"),
});

/** f32-representable data (both wasm builds and the reference read the same numbers). */
function data(p: Problem) {
  const memory = Float64Array.from(randomArray(p.n * p.d, p.seed, 1), Math.fround);
  const queries = Float64Array.from(randomArray(p.batch * p.d, p.seed ^ 0x5bd1e995, 1), Math.fround);
  if (p.near !== "none") {
    // Every other query is (nearly) a memory row: where the identity would cancel.
    const wiggle = randomArray(p.d, p.seed ^ 0x1234567, 1e-3);
    for (let b = 0; b < p.batch; b += 2) {
      const row = (b * 7) % p.n;
      for (let k = 0; k < p.d; k++)
        queries[b * p.d + k] = Math.fround(memory[row * p.d + k] + (p.near === "perturbed" ? wiggle[k] : 0));
    }
  }
  const maskRows = p.mask === "shared" ? 1 : p.batch;
  const raw = randomArray(maskRows * p.d, p.seed ^ 0x27d4eb2f, 1);
  const masks = Float64Array.from(raw, (v) => (p.mask === "weights" ? Math.fround(Math.abs(v)) : v > -0.4 ? 1 : 0));
  return { memory, queries, masks, maskStride: p.mask === "shared" ? 0 : p.d };
}

/** The oracle, written here from the definition: sum_k w |q - m|^power in float64. */
function oracle(p: Problem, x: ReturnType<typeof data>, power: 1 | 2, masked: boolean): Float64Array {
  const out = new Float64Array(p.batch * p.n);
  for (let b = 0; b < p.batch; b++)
    for (let i = 0; i < p.n; i++) {
      let total = 0;
      for (let k = 0; k < p.d; k++) {
        const e = Math.abs(x.queries[b * p.d + k] - x.memory[i * p.d + k]);
        total += (masked ? x.masks[b * x.maskStride + k] : 1) * (power === 1 ? e : e * e);
      }
      out[b * p.n + i] = total;
    }
  return out;
}

type Kernel = "squaredDistances" | "maskedSquaredDistances" | "manhattanDistances" | "maskedManhattanDistances";

function runDistances(backend: Backend, kernel: Kernel, p: Problem, x: ReturnType<typeof data>): Float64Array {
  const { batch, n, d } = p;
  // The memory's row norms and entrywise squares, as a memory computes them once when stored.
  const norms = runKernel(backend, { m: x.memory }, { out: n }, (k, at) => k.rowSumSquares(n, d, at.m, at.out)).outputs.out;
  const squares = runKernel(backend, { m: x.memory }, { out: n * d }, (k, at) => k.mul(n * d, at.m, at.m, at.out)).outputs.out;
  return runKernel(backend, { q: x.queries, m: x.memory, w: x.masks, norms, squares }, { out: batch * n }, (k, at) => {
    switch (kernel) {
      case "squaredDistances": return k.squaredDistances(batch, n, d, at.q, at.m, at.norms, at.out);
      case "maskedSquaredDistances": return k.maskedSquaredDistances(batch, n, d, at.q, at.w, x.maskStride, at.m, at.squares, at.out);
      case "manhattanDistances": return k.manhattanDistances(batch, n, d, at.q, at.m, at.out);
      case "maskedManhattanDistances": return k.maskedManhattanDistances(batch, n, d, at.q, at.w, x.maskStride, at.m, at.out);
    }
  }).outputs.out;
}

const kernels: { kernel: Kernel; power: 1 | 2; masked: boolean }[] = [
  { kernel: "squaredDistances", power: 2, masked: false },
  { kernel: "maskedSquaredDistances", power: 2, masked: true },
  { kernel: "manhattanDistances", power: 1, masked: false },
  { kernel: "maskedManhattanDistances", power: 1, masked: true },
];

function check(p: Problem): void {
  const x = data(p);
  for (const { kernel, power, masked } of kernels) {
    const expected = oracle(p, x, power, masked);
    for (const backend of backends) {
      const actual = runDistances(getBackendByName(backend), kernel, p, x);
      const label = `${backend} ${kernel} ${JSON.stringify(p)}`;
      assertClose(label, actual, expected, tolerance(backend, p.d, power === 2 ? "squared" : "manhattan"), TINY);
      // A query equal to a memory row (on its known entries) is at distance exactly 0.
      expected.forEach((v, i) => assert.ok(v !== 0 || actual[i] === 0, `${label}: entry ${i} is ${actual[i]}, expected exactly 0`));
    }
  }
}

test("every distance kernel equals the float64 definition, relative to the distance itself, even for near matches", () => {
  fc.assert(fc.property(problem(fc.oneof(awkwardSize(67), fc.integer({ min: 700, max: 800 }))), check), { numRuns: 60 });
});

test("distances across memory blocks and with long rows (d = 3000, n = 23, batch 6)", () => {
  for (const mask of ["shared", "perQuery"] as const) check({ batch: 6, n: 23, d: 3000, seed: 7, near: "exact", mask });
});

test("rowSumSquares is the f32 rounding of each row's float64 sum of squares", () => {
  fc.assert(fc.property(fc.integer({ min: 1, max: 5 }), awkwardSize(900), seed, (rows, cols, s) => {
    const x = Float64Array.from(randomArray(rows * cols, s, 3), Math.fround);
    const expected = Float64Array.from({ length: rows }, (_, r) =>
      x.subarray(r * cols, (r + 1) * cols).reduce((t, v) => t + v * v, 0));
    for (const backend of backends) {
      const actual = runKernel(getBackendByName(backend), { x }, { out: rows }, (k, at) => k.rowSumSquares(rows, cols, at.x, at.out)).outputs.out;
      // Exact squares summed in f64 (cols 2^-53), then one f32 rounding (wasm only).
      assertClose(`${backend} rowSumSquares ${rows}x${cols}`, actual, expected, (backend === "reference-f64" ? 0 : U) + (cols + 2) * U64, TINY);
    }
  }), { numRuns: 60 });
});

test("the identity's cancellation is caught: a query 1e-3 from a row of norm 1e3 keeps its relative accuracy", () => {
  // |q|^2 + |m|^2 ~ 2e6 while |q - m|^2 ~ 1e-6: the identity alone would be off by ~1e-1.
  const d = 64;
  const memory = Float64Array.from(randomArray(d, 3, 250), Math.fround);
  const queries = Float64Array.from(memory, (v, k) => Math.fround(v + (k % 2 ? 1e-3 : -1e-3) / 8));
  const p: Problem = { batch: 1, n: 1, d, seed: 0, near: "none", mask: "shared" };
  const x = { memory, queries, masks: new Float64Array(d).fill(1), maskStride: 0 };
  for (const backend of backends)
    for (const kernel of ["squaredDistances", "maskedSquaredDistances"] as const)
      assertClose(`${backend} ${kernel}`, runDistances(getBackendByName(backend), kernel, p, x), oracle(p, x, 2, false),
        tolerance(backend, d, "squared"), TINY);
});

test.run();
