import { suite } from "uvu";
import * as assert from "uvu/assert";
import fc from "fast-check";
import type { Activation, Backend } from "../../src/backend/kernels.js";
import { getBackendByName } from "../../src/backend/load.js";
import { assertClose, reference, runKernel, wasmBackends } from "../util/backends.js";
import { awkwardSize, finiteValue, randomArray, seed } from "../arbitraries.js";

const test = suite("activation kernels");

const U = 2 ** -24; // unit roundoff of f32
const GELU_C = Math.sqrt(2 / Math.PI);

/** Lengths that exercise the vector remainder, plus some well past it. */
const length = fc.oneof(awkwardSize(67), fc.integer({ min: 1000, max: 2500 }));

/** Uniform f32 data in [-range, range], so both backends read the same numbers. */
const uniform = (range: number) => (n: number, s: number) => Float64Array.from(randomArray(n, s, range), Math.fround);
/** Log-uniform positive f32 data in [e^-range, e^range] (for log). */
const logUniform = (range: number) => (n: number, s: number) =>
  Float64Array.from(randomArray(n, s, range), (v) => Math.fround(Math.exp(v)));
/** Upstream gradients in [-2, 2]. */
const upstream = (n: number, s: number) => uniform(2)(n, s ^ 0x68e31da4);

/** 2z, the sigmoid argument of gelu(x) = x sigmoid(2z). */
const geluTwoZ = (x: number) => 2 * GELU_C * (x + 0.044715 * x ** 3);
const sigmoid = (t: number) => (t >= 0 ? 1 / (1 + Math.exp(-t)) : Math.exp(t) / (1 + Math.exp(t)));

interface Tolerance {
  rel: number;
  abs: number;
  /** Magnitude the relative tolerance applies to (default |expected|). */
  scale?: (x: number, expected: number) => number;
}

interface Spec {
  name: Activation;
  data: (n: number, s: number) => Float64Array;
  forward: Tolerance;
  gradient: Tolerance;
}

// Every transcendental kernel was measured at <= 3e-7 relative error against float64 (a few
// f32 ulp); 1e-6 leaves room without hiding a wrong coefficient (those err by >= 1e-5).
const TRANSCENDENTAL = 1e-6;
// Subnormal f32 results (below 1.2e-38) are spaced 1.4e-45 apart: relative error is lost there.
const SUBNORMAL = 1e-44;

const specs: Spec[] = [
  // relu: selects x or 0, so exact.
  { name: "relu", data: uniform(4), forward: { rel: 0, abs: 0 }, gradient: { rel: 0, abs: 0 } },
  // tanh: f32 kernel vs f64. The gradient's reference, 1 - tanh^2 in f64, cancels to about
  // 4e-16 absolute (times |dy| <= 2) once tanh is near 1, hence the absolute part.
  { name: "tanh", data: uniform(12), forward: { rel: TRANSCENDENTAL, abs: SUBNORMAL }, gradient: { rel: TRANSCENDENTAL, abs: 2e-15 } },
  // sigmoid: the same cancellation in the reference's s (1 - s) as s nears 1.
  { name: "sigmoid", data: uniform(30), forward: { rel: TRANSCENDENTAL, abs: SUBNORMAL }, gradient: { rel: TRANSCENDENTAL, abs: 2e-15 } },
  // softplus: stable form in both; its gradient is sigmoid.
  { name: "softplus", data: uniform(30), forward: { rel: TRANSCENDENTAL, abs: SUBNORMAL }, gradient: { rel: TRANSCENDENTAL, abs: SUBNORMAL } },
  {
    name: "gelu",
    data: uniform(8),
    // gelu = x sigmoid(2z): the few ulp of rounding in the f32 argument 2z are amplified by
    // |2z| (1 - sigmoid(2z)) in the left tail. The reference's 1 + tanh(z) cancels in f64 to
    // ~1e-16 absolute (times |x| <= 100), hence the absolute part.
    forward: {
      rel: TRANSCENDENTAL, abs: 1e-13,
      scale: (x, expected) => Math.abs(expected) * (1 + Math.abs(geluTwoZ(x)) * (1 - sigmoid(geluTwoZ(x)))),
    },
    // gelu' = s + x s (1 - s) d(2z)/dx: relative to the sum of both terms' magnitudes (they
    // cancel near x = -0.75), each amplified by its sensitivity to 2z; dy is folded in below.
    gradient: {
      rel: TRANSCENDENTAL, abs: 1e-13,
      scale: (x) => {
        const t = geluTwoZ(x);
        const s = sigmoid(t);
        const second = Math.abs(x * s * (1 - s) * 2 * GELU_C * (1 + 3 * 0.044715 * x * x));
        return s * (1 + Math.abs(t) * (1 - s)) + second * (1 + Math.abs(t));
      },
    },
  },
  // exp: inputs kept below the f32 overflow at 88.72; results near e^-87 are subnormal.
  { name: "exp", data: uniform(87), forward: { rel: TRANSCENDENTAL, abs: SUBNORMAL }, gradient: { rel: TRANSCENDENTAL, abs: SUBNORMAL } },
  // log: positive inputs over many octaves; the gradient dy / x is one f32 rounding.
  { name: "log", data: logUniform(40), forward: { rel: TRANSCENDENTAL, abs: 0 }, gradient: { rel: 1.01 * U, abs: 0 } },
];

type GradName = `${Activation}Grad`;

function forwardOn(backend: Backend, name: Activation, x: ArrayLike<number>): Float64Array {
  return runKernel(backend, { x }, { out: x.length }, (k, at) => k[name](x.length, at.x, at.out)).outputs.out;
}

function gradientOn(backend: Backend, name: Activation, x: ArrayLike<number>, dy: ArrayLike<number>): Float64Array {
  const grad = `${name}Grad` as GradName;
  return runKernel(backend, { x, dy }, { dx: x.length }, (k, at) => k[grad](x.length, at.x, at.dy, at.dx)).outputs.dx;
}

/** Compares both wasm builds with the reference; `rounded` compares with the f32 rounding of the reference (for overflow). */
function check(spec: Spec, x: Float64Array, dy: Float64Array, label: string, rounded = false): void {
  const f32 = (v: Float64Array) => (rounded ? v.map(Math.fround) : v);
  const expectedOut = f32(forwardOn(reference(), spec.name, x));
  const expectedDx = f32(gradientOn(reference(), spec.name, x, dy));
  const scaleOut = spec.forward.scale && Float64Array.from(x, (v, i) => spec.forward.scale!(v, expectedOut[i]));
  const scaleDx = spec.gradient.scale && Float64Array.from(x, (v, i) => spec.gradient.scale!(v, expectedDx[i]) * Math.abs(dy[i]));
  for (const backend of wasmBackends) {
    const b = getBackendByName(backend);
    assertClose(`${backend} ${spec.name} ${label}`, forwardOn(b, spec.name, x), expectedOut, spec.forward.rel, spec.forward.abs, scaleOut);
    assertClose(`${backend} ${spec.name}Grad ${label}`, gradientOn(b, spec.name, x, dy), expectedDx,
      spec.gradient.rel, spec.gradient.abs, scaleDx);
  }
}

for (const spec of specs) {
  test(`${spec.name} and its gradient match the float64 reference on random inputs of any length`, () => {
    fc.assert(fc.property(length, seed, (n, s) => check(spec, spec.data(n, s), upstream(n, s), `n=${n} seed=${s}`)),
      { numRuns: 60 });
  });
}

// Extreme and special inputs, placed at every lane offset (0..3 leading fillers) so that each
// one passes through both the vector loop and the scalar tail.
const EXTREMES = [0, -0, 1e-40, -1e-40, 1e-30, -1e-30, 1e-7, -1e-7, 0.5, -0.5, 0.625, -0.625, 1, -1, 10, -10,
  20, -20, 88, -88, 100, -100, 1e4, -1e4, Infinity, -Infinity, NaN].map(Math.fround);

function atEveryOffset(values: number[]): Float64Array[] {
  return [0, 1, 2, 3].map((lead) => Float64Array.from([...Array(lead).fill(0.25), ...values]));
}

for (const spec of specs) {
  test(`${spec.name} and its gradient match the reference (rounded to f32) at 0, tiny, huge, infinite and NaN inputs`, () => {
    for (const x of atEveryOffset(EXTREMES)) {
      // Upstream gradients away from 0 and of both signs, so that 0 * Inf never arises.
      const dy = x.map((_, i) => (i % 2 ? -1.5 : 0.75));
      check(spec, x, dy, `lead=${x.length - EXTREMES.length}`, true);
    }
  });
}

/** Exact expected values where the functions are defined at the extremes. */
const exact: Record<Activation, [number, number][]> = {
  relu: [[-Infinity, 0], [Infinity, Infinity], [NaN, 0], [-0, 0]],
  tanh: [[Infinity, 1], [-Infinity, -1], [1e4, 1], [-1e4, -1], [20, 1], [-20, -1], [0, 0], [1e-30, 1e-30], [NaN, NaN]],
  sigmoid: [[Infinity, 1], [-Infinity, 0], [1e4, 1], [-1e4, 0], [0, 0.5], [NaN, NaN]],
  softplus: [[Infinity, Infinity], [-Infinity, 0], [1e4, 1e4], [-1e4, 0], [NaN, NaN]],
  gelu: [[Infinity, Infinity], [1e4, 1e4], [-1e4, 0], [0, 0], [NaN, NaN]],
  exp: [[Infinity, Infinity], [-Infinity, 0], [89, Infinity], [1e4, Infinity], [-110, 0], [-1e4, 0], [0, 1], [NaN, NaN]],
  log: [[0, -Infinity], [-0, -Infinity], [-1, NaN], [-Infinity, NaN], [Infinity, Infinity], [1, 0], [NaN, NaN]],
};

test("forward kernels return the exact limits: tanh(±large) = ±1, exp overflow = Inf, log(0) = -Inf, log(-1) = NaN, ...", () => {
  for (const backend of wasmBackends) {
    for (const [name, cases] of Object.entries(exact) as [Activation, [number, number][]][]) {
      for (const x of atEveryOffset(cases.map(([input]) => input))) {
        const lead = x.length - cases.length;
        const out = forwardOn(getBackendByName(backend), name, x);
        cases.forEach(([input, expected], i) => {
          const actual = out[lead + i];
          const same = Number.isNaN(expected) ? Number.isNaN(actual) : actual === Math.fround(expected);
          assert.ok(same, `${backend} ${name}(${input}) = ${actual}, expected ${expected}`);
        });
      }
    }
  }
});

/**
 * f32 inputs x in [-87, 88] whose x * log2(e), rounded to f32, is exactly k + 1/2: the ties of
 * exp's n = round(x / ln 2), where a 2^n built by one rounding and an r built by another would
 * disagree by a factor of 2.
 */
function halfwayInputs(): number[] {
  const log2e = Math.fround(Math.LOG2E);
  const found: number[] = [];
  const bits = new Float32Array(1);
  const word = new Int32Array(bits.buffer);
  for (let k = -126; k <= 126; k++) {
    bits[0] = (k + 0.5) / log2e;
    for (let step = -64; step <= 64; step++) {
      const saved = word[0];
      word[0] += step;
      const x = bits[0];
      word[0] = saved;
      if (x >= -87 && x <= 88 && Math.fround(x * log2e) === k + 0.5) found.push(x);
    }
  }
  return found;
}

test("exp and sigmoid stay accurate where x / ln 2 rounds to a half-integer (the ties of n)", () => {
  const ties = halfwayInputs();
  assert.ok(ties.length >= 50, `only ${ties.length} inputs found`);
  // 16-element steps of the vector loops, then a remainder.
  const x = Float64Array.from([...ties, ...ties.slice(0, 16 - (ties.length % 16)), ...ties.slice(0, 3)]);
  const exp = Float64Array.from(x, Math.exp);
  for (const backend of wasmBackends) {
    const b = getBackendByName(backend);
    assertClose(`${backend} exp at ties`, forwardOn(b, "exp", x), exp, TRANSCENDENTAL, SUBNORMAL);
    assertClose(`${backend} sigmoid at ties`, forwardOn(b, "sigmoid", x), x.map(sigmoid), TRANSCENDENTAL, SUBNORMAL);
  }
});

test("gradients stay finite and exact in the saturated tails: tanh', sigmoid' -> 0, softplus' -> 0 or 1", () => {
  const x = [1e4, -1e4, Infinity, -Infinity, 200, -200];
  for (const backend of wasmBackends) {
    const b = getBackendByName(backend);
    const ones = x.map(() => 1);
    assert.equal(Array.from(gradientOn(b, "tanh", x, ones)), [0, 0, 0, 0, 0, 0], `${backend} tanhGrad`);
    assert.equal(Array.from(gradientOn(b, "sigmoid", x, ones)), [0, 0, 0, 0, 0, 0], `${backend} sigmoidGrad`);
    assert.equal(Array.from(gradientOn(b, "softplus", x, ones)), [1, 0, 1, 0, 1, 0], `${backend} softplusGrad`);
  }
});

test("leakyRelu and its gradient are exact (one rounding of slope * x) for any slope", () => {
  fc.assert(fc.property(length, seed, finiteValue(1).map(Math.fround), (n, s, slope) => {
    const x = uniform(4)(n, s);
    const dy = upstream(n, s);
    // slope * x of two f32 values is exact in f64, so the f32 result is one rounding of it
    // (a tiny slope can make it subnormal, where only the absolute spacing is kept).
    const tol = 1.01 * U;
    const ref = reference();
    const expectedOut = runKernel(ref, { x }, { out: n }, (k, at) => k.leakyRelu(n, slope, at.x, at.out)).outputs.out;
    const expectedDx = runKernel(ref, { x, dy }, { dx: n }, (k, at) => k.leakyReluGrad(n, slope, at.x, at.dy, at.dx)).outputs.dx;
    for (const backend of wasmBackends) {
      const b = getBackendByName(backend);
      const out = runKernel(b, { x }, { out: n }, (k, at) => k.leakyRelu(n, slope, at.x, at.out)).outputs.out;
      const dx = runKernel(b, { x, dy }, { dx: n }, (k, at) => k.leakyReluGrad(n, slope, at.x, at.dy, at.dx)).outputs.dx;
      assertClose(`${backend} leakyRelu n=${n} slope=${slope}`, out, expectedOut, tol, SUBNORMAL);
      assertClose(`${backend} leakyReluGrad n=${n} slope=${slope}`, dx, expectedDx, tol, SUBNORMAL);
    }
  }), { numRuns: 60 });
});

test("activations may write in place: out === x for the forward, dx === dy or dx === x for the gradient", () => {
  fc.assert(fc.property(length, seed, fc.constantFrom(...specs), (n, s, spec) => {
    const x = spec.data(n, s);
    const dy = upstream(n, s);
    const grad = `${spec.name}Grad` as GradName;
    for (const backend of wasmBackends) {
      const b = getBackendByName(backend);
      // In place must give bit-for-bit what the same backend gives out of place.
      const separate = forwardOn(b, spec.name, x);
      const inPlace = runKernel(b, {}, { x }, (k, at) => k[spec.name](n, at.x, at.x)).outputs.x;
      assertClose(`${backend} ${spec.name} in place`, inPlace, separate, 0, 0);
      const separateDx = gradientOn(b, spec.name, x, dy);
      const inPlaceDx = runKernel(b, { x }, { dy }, (k, at) => k[grad](n, at.x, at.dy, at.dy)).outputs.dy;
      assertClose(`${backend} ${grad} into dy`, inPlaceDx, separateDx, 0, 0);
      const intoX = runKernel(b, { dy }, { x }, (k, at) => k[grad](n, at.x, at.dy, at.x)).outputs.x;
      assertClose(`${backend} ${grad} into x`, intoX, separateDx, 0, 0);
    }
  }), { numRuns: 40 });
});

test.run();
