import { suite } from "uvu";
import fc from "fast-check";
import type { Address, Backend } from "../../src/backend/kernels.js";
import { getBackendByName } from "../../src/backend/load.js";
import { assertClose, reference, runKernel, wasmBackends } from "../util/backends.js";
import { awkwardSize, finiteValue, randomArray, seed } from "../arbitraries.js";

const test = suite("elementwise kernels");

const U = 2 ** -24; // unit roundoff of f32
// One f32 rounding of the exact result: 2^-24 relative, with 1% slack for the f64 reference's own rounding.
const ONE_ROUNDING = 1.01 * U;
const ABS_TOL = 1e-30; // only so that an exactly-zero scale never divides by zero

/** Lengths that exercise the vector remainder, plus some well past the vector loop's warm-up. */
const length = fc.oneof(awkwardSize(67), fc.integer({ min: 1000, max: 2500 }));

/** f32-representable data, so that the f32 kernels and the float64 reference read the same numbers. */
const data = (n: number, s: number, range = 4): Float64Array => Float64Array.from(randomArray(n, s, range), Math.fround);

/** A scalar argument as f32 sees it. */
const scalar = (range: number) => finiteValue(range).map(Math.fround);

/** Runs `call` on every wasm backend and on the reference, then compares output `name`. */
function agree(label: string, inputs: Record<string, ArrayLike<number>>, outputs: Record<string, number | ArrayLike<number>>,
  call: (b: Backend, at: Record<string, Address>) => void, name: string, relTol: number,
  scale?: (expected: Float64Array) => ArrayLike<number>): void {
  const expected = runKernel(reference(), inputs, outputs, call).outputs[name];
  for (const backend of wasmBackends) {
    const actual = runKernel(getBackendByName(backend), inputs, outputs, call).outputs[name];
    assertClose(`${backend} ${label}`, actual, expected, relTol, ABS_TOL, scale?.(expected));
  }
}

type Binary = "add" | "sub" | "mul" | "div";

// Each operation on f32 inputs is one f32 rounding of the exact result.
for (const op of ["add", "sub", "mul", "div"] as Binary[]) {
  test(`${op} is the correctly rounded f32 result, with out separate and out === a`, () => {
    fc.assert(fc.property(length, seed, (n, s) => {
      const a = data(n, s);
      const b = data(n, s ^ 0x9e3779b9).map((v) => (op === "div" && v === 0 ? 1 : v));
      agree(`${op} n=${n}`, { a, b }, { out: n }, (k, at) => k[op](n, at.a, at.b, at.out), "out", ONE_ROUNDING);
      agree(`${op} aliased n=${n}`, { b }, { a }, (k, at) => k[op](n, at.a, at.b, at.a), "a", ONE_ROUNDING);
    }), { numRuns: 80 });
  });
}

test("scale is one rounding of alpha * x, also in place", () => {
  fc.assert(fc.property(length, seed, scalar(3), (n, s, alpha) => {
    const x = data(n, s);
    // alpha * x of two f32 values is exact in f64, so f32 rounds once.
    agree(`scale n=${n}`, { x }, { out: n }, (k, at) => k.scale(n, alpha, at.x, at.out), "out", ONE_ROUNDING);
    agree(`scale aliased n=${n}`, {}, { x }, (k, at) => k.scale(n, alpha, at.x, at.x), "x", ONE_ROUNDING);
  }), { numRuns: 80 });
});

test("axpy adds alpha * x to y within two roundings of the summed magnitudes", () => {
  fc.assert(fc.property(length, seed, scalar(3), (n, s, alpha) => {
    const x = data(n, s);
    const y = data(n, s ^ 0x85ebca6b);
    // round(alpha x) then round(y + .): 2 * 2^-24 of |y| + |alpha x| (the sum may cancel).
    const scale = Float64Array.from(x, (v, i) => Math.abs(y[i]) + Math.abs(alpha * v));
    agree(`axpy n=${n}`, { x }, { y }, (k, at) => k.axpy(n, alpha, at.x, at.y), "y", 2 * U, () => scale);
  }), { numRuns: 80 });
});

test("axpby computes alpha x + beta y within three roundings, and never reads y when beta = 0", () => {
  fc.assert(fc.property(length, seed, scalar(3), fc.oneof(fc.constant(0), scalar(2)), (n, s, alpha, beta) => {
    const x = data(n, s);
    // beta = 0 gets a NaN-filled y (runKernel's default for a length) to prove y is ignored.
    const y: number | Float64Array = beta === 0 ? n : data(n, s ^ 0xc2b2ae35);
    const yValues = typeof y === "number" ? new Float64Array(n) : y;
    // round(alpha x), round(beta y), round(sum): 3 * 2^-24 of |alpha x| + |beta y|.
    const scale = Float64Array.from(x, (v, i) => Math.abs(alpha * v) + Math.abs(beta * yValues[i]));
    agree(`axpby n=${n} beta=${beta}`, { x }, { y }, (k, at) => k.axpby(n, alpha, at.x, beta, at.y), "y", 3 * U, () => scale);
  }), { numRuns: 80 });
});

test("fill writes the value (as f32) to every element and nothing past the end", () => {
  fc.assert(fc.property(length, scalar(100), (n, value) => {
    // Exact: fill only stores. The guard element after the range must keep its value.
    const out = new Float64Array(n + 1).fill(7);
    agree(`fill n=${n}`, {}, { out }, (k, at) => k.fill(n, value, at.out), "out", 0);
  }), { numRuns: 80 });
});

test("copy moves n elements exactly, also between overlapping ranges", () => {
  fc.assert(fc.property(length, seed, fc.integer({ min: -5, max: 5 }), (n, s, shift) => {
    const src = data(n, s);
    // Exact: copies do no arithmetic.
    agree(`copy n=${n}`, { src }, { dst: n }, (k, at) => k.copy(n, at.src, at.dst), "dst", 0);
    // Overlap: copy n - 5 elements within one buffer by `shift` positions (memmove semantics).
    if (n > 10) {
      const m = n - 5;
      const from = shift < 0 ? -shift : 0;
      const to = shift < 0 ? 0 : shift;
      agree(`copy overlap n=${n} shift=${shift}`, {}, { buf: src },
        (k, at) => k.copy(m - 5, at.buf + from, at.buf + to), "buf", 0);
    }
  }), { numRuns: 80 });
});

test("copy2d copies a block between row strides and leaves the gaps untouched", () => {
  const shape = fc.record({ rows: fc.integer({ min: 1, max: 9 }), cols: awkwardSize(40), srcGap: fc.integer({ min: 0, max: 5 }),
    dstGap: fc.integer({ min: 0, max: 5 }), seed });
  fc.assert(fc.property(shape, ({ rows, cols, srcGap, dstGap, seed: s }) => {
    const srcStride = cols + srcGap;
    const dstStride = cols + dstGap;
    const src = data(rows * srcStride, s);
    const dst = data(rows * dstStride, s ^ 0x1b873593);
    // Exact: copies do no arithmetic; the gap elements of dst must keep their values.
    agree(`copy2d ${rows}x${cols}`, { src }, { dst },
      (k, at) => k.copy2d(rows, cols, at.src, srcStride, at.dst, dstStride), "dst", 0);
  }), { numRuns: 60 });
});

test("clamp limits to [lo, hi] exactly, also in place", () => {
  fc.assert(fc.property(length, seed, scalar(3), scalar(3), (n, s, p, q) => {
    const [lo, hi] = p <= q ? [p, q] : [q, p];
    const x = data(n, s);
    // Exact: min and max select one of their f32 arguments.
    agree(`clamp n=${n}`, { x }, { out: n }, (k, at) => k.clamp(n, lo, hi, at.x, at.out), "out", 0);
    agree(`clamp aliased n=${n}`, {}, { x }, (k, at) => k.clamp(n, lo, hi, at.x, at.x), "x", 0);
  }), { numRuns: 80 });
});

test("clamp passes NaN through and saturates infinities, like Math.min(Math.max(x, lo), hi)", () => {
  const x = [NaN, Infinity, -Infinity, -0, 0, 5, -5, NaN, 1];
  // Exact, and NaN must stay NaN (assertClose treats NaN = NaN as equal).
  agree("clamp specials", { x }, { out: x.length }, (k, at) => k.clamp(x.length, -1, 2, at.x, at.out), "out", 0);
});

test.run();
