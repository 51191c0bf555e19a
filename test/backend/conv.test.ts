import { suite } from "uvu";
import * as assert from "uvu/assert";
import fc from "fast-check";
import type { Backend, Conv2dGeometry } from "../../src/backend/kernels.js";
import { conv2dOutputShape } from "../../src/backend/kernels.js";
import { getBackendByName } from "../../src/backend/load.js";
import { assertClose, reference, runKernel, wasmBackends } from "../util/backends.js";
import { awkwardSize, convGeometry, randomArray, seed } from "../arbitraries.js";

const conv = suite("conv2d and bias kernels");
const U = 2 ** -24; // f32 unit roundoff

/** Grouped, strided, padded and dilated geometries with every output size >= 1. */
const geometry = convGeometry();

const sizes = (g: Conv2dGeometry) => {
  const [, , oh, ow] = conv2dOutputShape(g);
  return {
    x: g.batch * g.inChannels * g.inHeight * g.inWidth,
    w: g.outChannels * (g.inChannels / g.groups) * g.kernelHeight * g.kernelWidth,
    y: g.batch * g.outChannels * oh * ow,
    outH: oh,
    outW: ow,
  };
};

/** f32-exact data so that the float64 oracle sees exactly what the wasm kernels see. */
const data = (length: number, s: number) => Float64Array.from(randomArray(length, s), Math.fround);
const abs = (a: ArrayLike<number>) => Float64Array.from(a, Math.abs);

type Which = "forward" | "input" | "weights";

/** Runs one of the three kernels: forward reads (x, w), input reads (dy, w), weights reads (x, dy). */
function run(backend: Backend, which: Which, g: Conv2dGeometry, a: ArrayLike<number>, b: ArrayLike<number>,
  beta: number, out: number | ArrayLike<number>): Float64Array {
  return runKernel(backend, { a, b }, { out }, (k, p) => {
    if (which === "forward") k.conv2d(g, p.a, p.b, beta, p.out);
    else if (which === "input") k.conv2dBackwardInput(g, p.a, p.b, beta, p.out);
    else k.conv2dBackwardWeights(g, p.a, p.b, beta, p.out);
  }).outputs.out;
}

/** Inputs of a kernel and the most terms any one of its outputs sums. */
function problem(which: Which, g: Conv2dGeometry, s: number) {
  const n = sizes(g);
  const taps = g.kernelHeight * g.kernelWidth;
  if (which === "forward") return { a: data(n.x, s), b: data(n.w, s + 1), outLength: n.y, terms: (g.inChannels / g.groups) * taps };
  if (which === "input") return { a: data(n.y, s), b: data(n.w, s + 1), outLength: n.x, terms: (g.outChannels / g.groups) * taps };
  return { a: data(n.x, s), b: data(n.y, s + 1), outLength: n.w, terms: g.batch * n.outH * n.outW };
}

/**
 * Every wasm backend matches the oracle. Tolerance: a sum of `terms` f32 products (plus the
 * beta term) errs by at most ~(terms + 2) * 2^-24 times the sum of |terms|; that sum is the
 * oracle run on |inputs| (plus |beta * old|), with a factor 2 for reordered partial sums.
 */
function checkAgainstOracle(which: Which, g: Conv2dGeometry, s: number, beta: number): void {
  const { a, b, outLength, terms } = problem(which, g, s);
  const old = beta === 0 ? outLength : data(outLength, s + 2);
  const expected = run(reference(), which, g, a, b, beta, old);
  const scale = run(reference(), which, g, abs(a), abs(b), 0, outLength);
  if (typeof old !== "number") for (let i = 0; i < scale.length; i++) scale[i] += Math.abs(beta * old[i]);
  for (const name of wasmBackends) {
    const actual = run(getBackendByName(name), which, g, a, b, beta, old);
    assertClose(`${name} ${which} ${JSON.stringify(g)} beta ${beta}`, actual, expected, 2 * (terms + 2) * U, 1e-30, scale);
  }
}

const betaValue = fc.constantFrom(0, 1, -0.5, 2.25);
const runs = { numRuns: 300 };

// Tolerance of the six oracle properties below (see checkAgainstOracle): rel 2 * (terms + 2) * 2^-24
// of the sum of |products| (+ |beta * old|), the f32 bound for a sum of `terms` products.

conv("conv2d forward matches the float64 oracle on both wasm builds (NaN-prefilled output, beta = 0)", () => {
  fc.assert(fc.property(geometry, seed, (g, s) => checkAgainstOracle("forward", g, s, 0)), runs);
});

conv("conv2d forward accumulates: y = conv(x, w) + beta * y", () => {
  fc.assert(fc.property(geometry, seed, betaValue, (g, s, beta) => checkAgainstOracle("forward", g, s, beta)), runs);
});

conv("conv2dBackwardInput matches the float64 oracle on both wasm builds (NaN-prefilled output, beta = 0)", () => {
  fc.assert(fc.property(geometry, seed, (g, s) => checkAgainstOracle("input", g, s, 0)), runs);
});

conv("conv2dBackwardInput accumulates: dx = conv^T(dy, w) + beta * dx", () => {
  fc.assert(fc.property(geometry, seed, betaValue, (g, s, beta) => checkAgainstOracle("input", g, s, beta)), runs);
});

conv("conv2dBackwardWeights matches the float64 oracle on both wasm builds (NaN-prefilled output, beta = 0)", () => {
  fc.assert(fc.property(geometry, seed, (g, s) => checkAgainstOracle("weights", g, s, 0)), runs);
});

conv("conv2dBackwardWeights accumulates: dw = dconv(x, dy) + beta * dw", () => {
  fc.assert(fc.property(geometry, seed, betaValue, (g, s, beta) => checkAgainstOracle("weights", g, s, beta)), runs);
});

conv("the benchmark-like shapes (1 -> 16 and 16 -> 32 channels, 3x3, padding 1) match the oracle", () => {
  const shapes: Conv2dGeometry[] = [
    { batch: 2, inChannels: 1, inHeight: 28, inWidth: 28, outChannels: 16, kernelHeight: 3, kernelWidth: 3,
      strideHeight: 1, strideWidth: 1, padHeight: 1, padWidth: 1, dilationHeight: 1, dilationWidth: 1, groups: 1 },
    { batch: 1, inChannels: 16, inHeight: 13, inWidth: 13, outChannels: 32, kernelHeight: 3, kernelWidth: 3,
      strideHeight: 1, strideWidth: 1, padHeight: 1, padWidth: 1, dilationHeight: 1, dilationWidth: 1, groups: 1 },
  ];
  for (const g of shapes) for (const which of ["forward", "input", "weights"] as Which[]) checkAgainstOracle(which, g, 7, 0);
});

/** <a, b> and <|a|, |b|> in float64. */
function dot(a: ArrayLike<number>, b: ArrayLike<number>): [number, number] {
  let total = 0;
  let magnitude = 0;
  for (let i = 0; i < a.length; i++) {
    total += a[i] * b[i];
    magnitude += Math.abs(a[i] * b[i]);
  }
  return [total, magnitude];
}

// The oracle is its own adjoint: the two derivatives are the transposes of the forward map.
// Tolerance 1e-10 of the summed magnitudes: float64 sums of < 1e5 terms err by ~1e-11 at most.
conv("the oracle's input derivative is the adjoint of its forward: <conv(x, w), dy> = <x, convBackwardInput(dy, w)>", () => {
  fc.assert(fc.property(geometry, seed, (g, s) => {
    const n = sizes(g);
    const x = randomArray(n.x, s), w = randomArray(n.w, s + 1), dy = randomArray(n.y, s + 2);
    const [lhs, lhsMagnitude] = dot(run(reference(), "forward", g, x, w, 0, n.y), dy);
    const [rhs] = dot(x, run(reference(), "input", g, dy, w, 0, n.x));
    assert.ok(Math.abs(lhs - rhs) <= 1e-10 * (lhsMagnitude + 1e-300), `${lhs} vs ${rhs}`);
  }), runs);
});

conv("the oracle's weight derivative is the adjoint of its forward: <conv(x, w), dy> = <w, convBackwardWeights(x, dy)>", () => {
  fc.assert(fc.property(geometry, seed, (g, s) => {
    const n = sizes(g);
    const x = randomArray(n.x, s), w = randomArray(n.w, s + 1), dy = randomArray(n.y, s + 2);
    const [lhs, lhsMagnitude] = dot(run(reference(), "forward", g, x, w, 0, n.y), dy);
    const [rhs] = dot(w, run(reference(), "weights", g, x, dy, 0, n.w));
    assert.ok(Math.abs(lhs - rhs) <= 1e-10 * (lhsMagnitude + 1e-300), `${lhs} vs ${rhs}`);
  }), runs);
});

const biasShape = fc.record({ outer: awkwardSize(9), channels: awkwardSize(13), inner: fc.oneof(fc.constant(1), awkwardSize(23)) });

// Tolerance: one f32 add per element, rounding at most 2^-24 of |y| + |bias| (x2 margin).
conv("biasAdd adds bias[c] to every y[o, c, i] on both wasm builds", () => {
  fc.assert(fc.property(biasShape, seed, ({ outer, channels, inner }, s) => {
    const bias = data(channels, s), y = data(outer * channels * inner, s + 1);
    const call = (k: Backend) =>
      runKernel(k, { bias }, { y }, (b, p) => b.biasAdd(outer, channels, inner, p.bias, p.y)).outputs.y;
    const expected = call(reference());
    const scale = Float64Array.from(y, (v, i) => Math.abs(v) + Math.abs(bias[Math.floor(i / inner) % channels]));
    for (const name of wasmBackends) assertClose(`${name} biasAdd`, call(getBackendByName(name)), expected, 2 * U, 1e-30, scale);
  }), runs);
});

// Tolerance: a sum of outer*inner f32 terms errs by ~(terms + 2) * 2^-24 of the sum of |terms| (x2 margin).
conv("biasGrad sums dy over all but the channel axis, with beta accumulation and NaN-prefilled db at beta = 0", () => {
  fc.assert(fc.property(biasShape, seed, betaValue, ({ outer, channels, inner }, s, beta) => {
    const dy = data(outer * channels * inner, s);
    const old = beta === 0 ? channels : data(channels, s + 1);
    const call = (k: Backend, values: ArrayLike<number>, b: number) =>
      runKernel(k, { dy: values }, { db: old }, (kk, p) => kk.biasGrad(outer, channels, inner, p.dy, b, p.db)).outputs.db;
    const expected = call(reference(), dy, beta);
    const scale = call(reference(), abs(dy), 0);
    if (typeof old !== "number") for (let c = 0; c < channels; c++) scale[c] += Math.abs(beta * old[c]);
    for (const name of wasmBackends)
      assertClose(`${name} biasGrad`, call(getBackendByName(name), dy, beta), expected, 2 * (outer * inner + 2) * U, 1e-30, scale);
  }), runs);
});

conv.run();
