import { suite } from "uvu";
import * as assert from "uvu/assert";
import fc from "fast-check";
import type { Backend } from "../../src/backend/kernels.js";
import { getBackendByName } from "../../src/backend/load.js";
import { assertClose, reference, runKernel, wasmBackends } from "../util/backends.js";
import { awkwardSize, randomArray, seed } from "../arbitraries.js";

const test = suite("reduction and softmax kernels");

const U = 2 ** -24; // unit roundoff of f32
const U64 = 2 ** -53; // unit roundoff of f64
// Subnormal f32 results (below 1.2e-38) are spaced 1.4e-45 apart: relative error is lost there.
const SUBNORMAL = 1e-44;
// exp as an f32 kernel was measured at <= 3e-7 relative error (a few ulp); 1e-6 leaves room.
const TRANSCENDENTAL = 1e-6;

/** Lengths that exercise the vector remainder, plus some well past it. */
const length = fc.oneof(awkwardSize(67), fc.integer({ min: 1000, max: 5000 }));
/** A matrix shape: a few rows of awkward or long length. */
const shape = fc.oneof(
  fc.record({ rows: fc.integer({ min: 1, max: 6 }), cols: awkwardSize(67) }),
  fc.record({ rows: fc.integer({ min: 1, max: 3 }), cols: fc.integer({ min: 1000, max: 1500 }) }),
);

/** f32-representable data in [-range, range], so both backends read the same numbers. */
const data = (n: number, s: number, range = 4) => Float64Array.from(randomArray(n, s, range), Math.fround);
/** Small integers in [-2, 2]: rows full of ties. */
const ties = (n: number, s: number) => Float64Array.from(randomArray(n, s, 2.5), Math.trunc);
const sumAbs = (x: ArrayLike<number>) => Array.from(x).reduce((t, v) => t + Math.abs(v), 0);

function scalarOn(backend: Backend, kernel: "sum" | "sumSquares" | "countNonFinite" | "maxAbs", x: ArrayLike<number>): number {
  return runKernel(backend, { x }, {}, (k, at) => k[kernel](x.length, at.x)).result as number;
}

type RowKernel = "rowSum" | "rowMax" | "argmaxRows";
function rowsOn(backend: Backend, kernel: RowKernel, rows: number, cols: number, x: ArrayLike<number>): Float64Array {
  return runKernel(backend, { x }, { out: rows }, (k, at) => k[kernel](rows, cols, at.x, at.out)).outputs.out;
}

type SoftmaxKernel = "softmaxRows" | "logSoftmaxRows";
function softmaxOn(backend: Backend, kernel: SoftmaxKernel, rows: number, cols: number, x: ArrayLike<number>): Float64Array {
  return runKernel(backend, { x }, { out: x.length }, (k, at) => k[kernel](rows, cols, at.x, at.out)).outputs.out;
}

/** Row maxima of x, repeated per entry: m such that each entry's shift is x - m. */
function rowMaxPerEntry(rows: number, cols: number, x: ArrayLike<number>): Float64Array {
  const m = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    let best = -Infinity;
    for (let c = 0; c < cols; c++) best = Math.max(best, x[r * cols + c]);
    m.fill(best, r * cols, (r + 1) * cols);
  }
  return m;
}

test("sum and sumSquares equal the float64 sums within f64 accumulation error", () => {
  fc.assert(fc.property(length, seed, (n, s) => {
    const x = data(n, s);
    for (const backend of wasmBackends) {
      const b = getBackendByName(backend);
      for (const kernel of ["sum", "sumSquares"] as const) {
        const expected = scalarOn(reference(), kernel, x);
        const actual = scalarOn(b, kernel, x);
        // Accumulated in f64 (squares of f32 are exact there): n * 2^-53 of the summed magnitudes.
        const magnitude = kernel === "sum" ? sumAbs(x) : scalarOn(reference(), "sumSquares", x);
        assertClose(`${backend} ${kernel} n=${n}`, [actual], [expected], (n + 2) * U64, 1e-300, [magnitude]);
      }
    }
  }), { numRuns: 80 });
});

test("sum of a million f32 values stays accurate (no f32 accumulation drift)", () => {
  const n = 1 << 20;
  const tenth = Math.fround(0.1);
  const x = new Float64Array(n).fill(tenth);
  for (const backend of wasmBackends) {
    const b = getBackendByName(backend);
    // f32 accumulation would be off by ~1e-3 relative here; f64 by ~n 2^-53 = 1e-10.
    assertClose(`${backend} sum`, [scalarOn(b, "sum", x)], [n * tenth], 1e-9, 0);
    assertClose(`${backend} sumSquares`, [scalarOn(b, "sumSquares", x)], [n * tenth * tenth], 1e-9, 0);
  }
});

test("countNonFinite counts exactly the NaN and infinite entries", () => {
  const specials = [NaN, Infinity, -Infinity, 3.4e38, -3.4e38, 1e-45, -0, 0];
  fc.assert(fc.property(length, seed, fc.double({ min: 0, max: 1, noNaN: true }), (n, s, density) => {
    // Random finite data with a random fraction replaced by specials (some finite extremes).
    const pick = randomArray(n, s ^ 0x2545f491, 1);
    const x = data(n, s).map((v, i) => (Math.abs(pick[i]) < density ? specials[i % specials.length] : v));
    const expected = scalarOn(reference(), "countNonFinite", x);
    for (const backend of wasmBackends) {
      assert.is(scalarOn(getBackendByName(backend), "countNonFinite", x), expected, `${backend} n=${n}`);
    }
  }), { numRuns: 80 });
});

test("maxAbs is exact, 0 on an empty array and NaN when any entry is NaN", () => {
  fc.assert(fc.property(length, seed, fc.boolean(), fc.boolean(), (n, s, withNaN, withInfinity) => {
    const x = data(n, s);
    if (withInfinity) x[(s >>> 3) % n] = -Infinity;
    if (withNaN) x[(s >>> 1) % n] = NaN;
    const expected = withNaN ? NaN : Math.max(...Array.from(x, Math.abs));
    for (const backend of [reference(), ...wasmBackends.map((b) => getBackendByName(b))])
      assert.ok(Object.is(scalarOn(backend, "maxAbs", x), expected), `${backend.name} n=${n}: ${scalarOn(backend, "maxAbs", x)} vs ${expected}`);
  }), { numRuns: 80 });
  for (const backend of [reference(), ...wasmBackends.map((b) => getBackendByName(b))])
    assert.is(runKernel(backend, {}, {}, (k) => k.maxAbs(0, 0)).result, 0, backend.name);
});

test("rowSum is the f32 rounding of each row's sum", () => {
  fc.assert(fc.property(shape, seed, ({ rows, cols }, s) => {
    const x = data(rows * cols, s);
    const expected = rowsOn(reference(), "rowSum", rows, cols, x);
    // f64 accumulation (cols * 2^-53 of the row's magnitudes) then one f32 rounding of the result.
    const magnitude = Float64Array.from(expected, (v, r) =>
      Math.abs(v) + ((cols + 2) * U64 / (1.01 * U)) * sumAbs(x.subarray(r * cols, (r + 1) * cols)));
    for (const backend of wasmBackends) {
      assertClose(`${backend} rowSum ${rows}x${cols}`, rowsOn(getBackendByName(backend), "rowSum", rows, cols, x),
        expected, 1.01 * U, 1e-30, magnitude);
    }
  }), { numRuns: 80 });
});

test("rowMax and argmaxRows are exact; ties go to the first index; NaN rows follow the reference", () => {
  fc.assert(fc.property(shape, seed, fc.boolean(), fc.boolean(), ({ rows, cols }, s, tied, withNaN) => {
    const x = tied ? ties(rows * cols, s) : data(rows * cols, s);
    if (withNaN) x[Math.abs(s) % x.length] = NaN;
    for (const kernel of ["rowMax", "argmaxRows"] as const) {
      const expected = rowsOn(reference(), kernel, rows, cols, x);
      for (const backend of wasmBackends) {
        // Exact: a maximum selects an entry, an index is an integer.
        assertClose(`${backend} ${kernel} ${rows}x${cols} tied=${tied}`, rowsOn(getBackendByName(backend), kernel, rows, cols, x),
          expected, 0, 0);
      }
    }
  }), { numRuns: 100 });
});

test("argmaxRows picks the first of equal maxima, wherever they sit in the vector lanes", () => {
  for (let cols = 1; cols <= 20; cols++) {
    for (let first = 0; first < cols; first++) {
      for (let second = first; second < cols; second++) {
        const x = new Float64Array(cols).fill(-1);
        x[first] = 3;
        x[second] = 3;
        for (const backend of wasmBackends) {
          const [index] = rowsOn(getBackendByName(backend), "argmaxRows", 1, cols, x);
          assert.is(index, first, `${backend} cols=${cols} maxima at ${first}, ${second}`);
        }
      }
    }
  }
});

test("rowMax of an all -Infinity row is -Infinity and its argmax is 0", () => {
  for (const backend of wasmBackends) {
    const x = new Float64Array(9).fill(-Infinity);
    assert.equal(Array.from(rowsOn(getBackendByName(backend), "rowMax", 1, 9, x)), [-Infinity]);
    assert.equal(Array.from(rowsOn(getBackendByName(backend), "argmaxRows", 1, 9, x)), [0]);
  }
});

/** Compares softmax and log-softmax with the reference on logits x. */
function checkSoftmax(rows: number, cols: number, x: Float64Array, label: string): void {
  const m = rowMaxPerEntry(rows, cols, x);
  const expectedSoft = softmaxOn(reference(), "softmaxRows", rows, cols, x);
  const expectedLog = softmaxOn(reference(), "logSoftmaxRows", rows, cols, x);
  // softmax: exp's few ulp, the reciprocal and product, plus the rounding of x - m, which
  // exp turns into a relative error of 2^-24 |x - m| (1e-6 / 16 ~ 2^-24).
  const softScale = Float64Array.from(expectedSoft, (v, i) => Math.abs(v) * (1 + Math.abs(x[i] - m[i]) / 16));
  // log-softmax = (x - m) - ln(sum): error relative to the size of its terms. The reference
  // forms x - (ln(sum) + m) in f64, off by a few 2^-53 |m| (1e-9 |m| at rel 1e-6), and ln of a
  // sum near 1 is limited on both sides by the f64 spacing 2.2e-16 of that sum (abs 1e-15).
  const logScale = Float64Array.from(expectedLog, (v, i) => Math.abs(v) + Math.abs(x[i] - m[i]) + 1e-9 * Math.abs(m[i]));
  for (const backend of wasmBackends) {
    const b = getBackendByName(backend);
    const soft = softmaxOn(b, "softmaxRows", rows, cols, x);
    assertClose(`${backend} softmaxRows ${label}`, soft, expectedSoft, TRANSCENDENTAL, SUBNORMAL, softScale);
    assertClose(`${backend} logSoftmaxRows ${label}`, softmaxOn(b, "logSoftmaxRows", rows, cols, x), expectedLog,
      TRANSCENDENTAL, 1e-15, logScale);
    for (let r = 0; r < rows; r++) {
      // Each of the f32 entries is within ~1e-6 relative, so their total is within 1e-6 of 1.
      const total = soft.subarray(r * cols, (r + 1) * cols).reduce((t, v) => t + v, 0);
      assert.ok(Math.abs(total - 1) <= 1e-6, `${backend} softmax row ${r} sums to ${total} (${label})`);
    }
  }
}

test("softmaxRows and logSoftmaxRows match the reference and each softmax row sums to 1", () => {
  fc.assert(fc.property(shape, seed, fc.constantFrom(1, 10, 80), ({ rows, cols }, s, range) => {
    checkSoftmax(rows, cols, data(rows * cols, s, range), `${rows}x${cols} range=${range}`);
  }), { numRuns: 100 });
});

test("softmax is stable for huge logits: no overflow, no NaN, shift invariant", () => {
  fc.assert(fc.property(shape, seed, ({ rows, cols }, s) => {
    // Logits around +-1e4 overflow (or underflow) e^x in any precision without the max shift.
    for (const offset of [1e4, -1e4]) {
      const x = data(rows * cols, s, 50).map((v) => Math.fround(v + offset));
      checkSoftmax(rows, cols, x, `${rows}x${cols} offset=${offset}`);
    }
  }), { numRuns: 20 });
});

test("softmax matches the reference on rows at either side of the edges of its shift-free range [-87.33, 64]", () => {
  // Each row around its own centre and spread: rows it computes as e^x / sum e^x, rows it
  // shifts by a maximum read from the entries' bits, rows with every entry negative (a second
  // pass finds the maximum), and rows with exponents below exp's normal range.
  const centre = fc.constantFrom(-300, -95, -87.3, -60, 0, 60, 63.99, 64.01, 90, 300);
  const spread = fc.constantFrom(0.01, 2, 30, 100);
  const rowsAround = fc.array(fc.tuple(centre, spread), { minLength: 6, maxLength: 6 });
  fc.assert(fc.property(shape, seed, rowsAround, ({ rows, cols }, s, around) => {
    const x = data(rows * cols, s, 1);
    for (let r = 0; r < rows; r++) {
      const [c, w] = around[r];
      for (let i = r * cols; i < (r + 1) * cols; i++) x[i] = Math.fround(c + w * x[i]);
    }
    checkSoftmax(rows, cols, x, `${rows}x${cols} rows around ${around.slice(0, rows).map(([c, w]) => `${c}+-${w}`).join(", ")}`);
  }), { numRuns: 80 });
});

test("one outlying logit anywhere in a row sets softmax's shift and range test (every entry is read)", () => {
  // One entry far above or below the rest, at every position of rows whose lengths cover the
  // vector loop's steps and its scalar tail: missed, it would overflow or underflow e^x.
  for (const cols of [1, 5, 16, 19, 37, 64, 70]) {
    for (const outlier of [200, 90, -90, -200]) {
      for (let at = 0; at < cols; at++) {
        const x = data(2 * cols, cols + at, 4);
        x[cols + at] = outlier;
        checkSoftmax(2, cols, x, `2x${cols} with ${outlier} at column ${at} of row 1`);
      }
    }
  }
});

test("a NaN or +Infinity logit makes its whole row NaN; a -Infinity logit gets softmax 0, the others as without it", () => {
  const specials = [NaN, Infinity, -Infinity];
  fc.assert(fc.property(shape, seed, fc.constantFrom(...specials), fc.nat(), ({ rows, cols }, s, special, where) => {
    const x = data(rows * cols, s, 10);
    x[where % x.length] = special;
    // float64 by the definition: m = max (NaN if any entry is), softmax = e^(x - m) / sum, and
    // log-softmax = (x - m) - ln(sum); Infinity - Infinity is NaN.
    const soft = new Float64Array(x.length), log = new Float64Array(x.length);
    for (let r = 0; r < rows; r++) {
      const row = x.subarray(r * cols, (r + 1) * cols);
      const m = row.reduce((best, v) => (Number.isNaN(v) || Number.isNaN(best) ? NaN : Math.max(best, v)), -Infinity);
      const total = row.reduce((t, v) => t + Math.exp(v - m), 0);
      row.forEach((v, c) => {
        soft[r * cols + c] = Math.exp(v - m) / total;
        log[r * cols + c] = v - m - Math.log(total);
      });
    }
    const m = rowMaxPerEntry(rows, cols, x);
    const scale = Float64Array.from(x, (v, i) => 1 + Math.abs(v - m[i]));
    for (const backend of wasmBackends) {
      const b = getBackendByName(backend);
      const label = `${backend} ${rows}x${cols} with ${special} at ${where % x.length}`;
      assertClose(`softmaxRows ${label}`, softmaxOn(b, "softmaxRows", rows, cols, x), soft, TRANSCENDENTAL, SUBNORMAL,
        Float64Array.from(soft, (v, i) => Math.abs(v) * scale[i]));
      assertClose(`logSoftmaxRows ${label}`, softmaxOn(b, "logSoftmaxRows", rows, cols, x), log, TRANSCENDENTAL, 1e-15, scale);
    }
  }), { numRuns: 60 });
});

test("equal logits of any size (even 3e38) give softmax 1/cols and log-softmax -ln(cols)", () => {
  for (const value of [0, -7, 1e30, -1e30, 3e38]) {
    for (const cols of [1, 3, 4, 17, 1000]) {
      const x = new Float64Array(2 * cols).fill(value);
      for (const backend of wasmBackends) {
        const b = getBackendByName(backend);
        // The kernel's (x - m) - ln(sum) keeps -ln(cols) exact up to f32 rounding (relative 2^-24, with slack).
        assertClose(`${backend} softmax of ${value} x ${cols}`, softmaxOn(b, "softmaxRows", 2, cols, x),
          new Float64Array(2 * cols).fill(1 / cols), 4 * U, 0);
        assertClose(`${backend} log-softmax of ${value} x ${cols}`, softmaxOn(b, "logSoftmaxRows", 2, cols, x),
          new Float64Array(2 * cols).fill(-Math.log(cols)), 4 * U, 0);
      }
    }
  }
});

test("softmaxRows and logSoftmaxRows may write in place (out === x) with identical results", () => {
  fc.assert(fc.property(shape, seed, ({ rows, cols }, s) => {
    const x = data(rows * cols, s, 10);
    for (const backend of wasmBackends) {
      const b = getBackendByName(backend);
      for (const kernel of ["softmaxRows", "logSoftmaxRows"] as const) {
        const separate = softmaxOn(b, kernel, rows, cols, x);
        const inPlace = runKernel(b, {}, { x }, (k, at) => k[kernel](rows, cols, at.x, at.x)).outputs.x;
        assertClose(`${backend} ${kernel} in place ${rows}x${cols}`, inPlace, separate, 0, 0);
      }
    }
  }), { numRuns: 30 });
});

test.run();
