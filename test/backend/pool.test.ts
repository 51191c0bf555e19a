import { suite } from "uvu";
import fc from "fast-check";
import type { Backend, Pool2dGeometry } from "../../src/backend/kernels.js";
import { pool2dOutputShape } from "../../src/backend/kernels.js";
import { getBackendByName } from "../../src/backend/load.js";
import { assertClose, reference, runKernel, wasmBackends } from "../util/backends.js";
import { awkwardSize, randomArray, seed } from "../arbitraries.js";

const pool = suite("max and average pooling kernels");
const U = 2 ** -24; // f32 unit roundoff

// Windows: random, or the 2x2 / stride 2 case the SIMD path takes.
const windowShape = fc.oneof(
  fc.record({ kernelHeight: fc.constant(2), kernelWidth: fc.constant(2), strideHeight: fc.constant(2), strideWidth: fc.constant(2) }),
  fc.record({
    kernelHeight: fc.integer({ min: 1, max: 4 }),
    kernelWidth: fc.integer({ min: 1, max: 4 }),
    strideHeight: fc.integer({ min: 1, max: 3 }),
    strideWidth: fc.integer({ min: 1, max: 3 }),
  }),
);

const geometry: fc.Arbitrary<Pool2dGeometry> = fc
  .record({
    batch: fc.integer({ min: 1, max: 3 }),
    channels: fc.integer({ min: 1, max: 4 }),
    inHeight: awkwardSize(13),
    inWidth: awkwardSize(33),
    window: windowShape,
    padHeightFraction: fc.double({ min: 0, max: 1, noNaN: true }),
    padWidthFraction: fc.double({ min: 0, max: 1, noNaN: true }),
  })
  .map((r) => {
    // Padding at most half the window, so that every window holds at least one pixel.
    const padHeight = Math.floor(r.padHeightFraction * (Math.floor(r.window.kernelHeight / 2) + 0.999));
    const padWidth = Math.floor(r.padWidthFraction * (Math.floor(r.window.kernelWidth / 2) + 0.999));
    return {
      batch: r.batch,
      channels: r.channels,
      inHeight: Math.max(r.inHeight, r.window.kernelHeight - 2 * padHeight),
      inWidth: Math.max(r.inWidth, r.window.kernelWidth - 2 * padWidth),
      ...r.window,
      padHeight,
      padWidth,
    };
  });

/**
 * f32-exact inputs; with `ties`, values come from a handful of levels so that windows often
 * hold several equal maxima (the gradient must go to the first one in scan order).
 */
function values(length: number, s: number, ties: boolean): Float64Array {
  const raw = randomArray(length, s);
  return Float64Array.from(raw, (v) => (ties ? Math.round(v * 2) / 2 : Math.fround(v)));
}

const abs = (a: ArrayLike<number>) => Float64Array.from(a, Math.abs);
const betaValue = fc.constantFrom(0, 1, -0.5, 2.25);
const runs = { numRuns: 200 };

function lengths(g: Pool2dGeometry) {
  const [, , oh, ow] = pool2dOutputShape(g);
  return { x: g.batch * g.channels * g.inHeight * g.inWidth, y: g.batch * g.channels * oh * ow };
}

const forward = (k: Backend, kind: "max" | "avg", g: Pool2dGeometry, x: ArrayLike<number>, yLength: number) =>
  runKernel(k, { x }, { y: yLength }, (b, p) => (kind === "max" ? b.maxPool2d(g, p.x, p.y) : b.avgPool2d(g, p.x, p.y))).outputs.y;

function backward(k: Backend, kind: "max" | "avg", g: Pool2dGeometry, x: ArrayLike<number>, dy: ArrayLike<number>,
  beta: number, old: number | ArrayLike<number>): Float64Array {
  return runKernel(k, { x, dy }, { dx: old }, (b, p) =>
    kind === "max" ? b.maxPool2dBackward(g, p.x, p.dy, beta, p.dx) : b.avgPool2dBackward(g, p.dy, beta, p.dx)).outputs.dx;
}

// Exact: a max only selects one of its f32 inputs.
pool("maxPool2d equals the oracle exactly on both wasm builds (padding never wins)", () => {
  fc.assert(fc.property(geometry, seed, fc.boolean(), (g, s, ties) => {
    const n = lengths(g);
    const x = values(n.x, s, ties);
    const expected = forward(reference(), "max", g, x, n.y);
    for (const name of wasmBackends) assertClose(`${name} maxPool2d ${JSON.stringify(g)}`, forward(getBackendByName(name), "max", g, x, n.y), expected, 0, 0);
  }), runs);
});

// Tolerance: each dx sums at most kH*kW routed dy values (plus beta * old), so it errs by
// ~(kH*kW + 2) * 2^-24 of the sum of their magnitudes (the oracle run on |dy|, plus |beta * old|).
pool("maxPool2dBackward routes dy to the first maximum of each window, with beta accumulation and NaN-prefilled dx at beta = 0", () => {
  fc.assert(fc.property(geometry, seed, fc.boolean(), betaValue, (g, s, ties, beta) => {
    const n = lengths(g);
    const x = values(n.x, s, ties), dy = values(n.y, s + 1, false);
    const old = beta === 0 ? n.x : values(n.x, s + 2, false);
    const expected = backward(reference(), "max", g, x, dy, beta, old);
    const scale = backward(reference(), "max", g, x, abs(dy), 0, n.x);
    if (typeof old !== "number") for (let i = 0; i < n.x; i++) scale[i] += Math.abs(beta * old[i]);
    const tol = (g.kernelHeight * g.kernelWidth + 2) * U;
    for (const name of wasmBackends)
      assertClose(`${name} maxPool2dBackward ${JSON.stringify(g)}`, backward(getBackendByName(name), "max", g, x, dy, beta, old), expected, tol, 1e-30, scale);
  }), runs);
});

// Tolerance: a mean of kH*kW f32 terms errs by ~(kH*kW + 2) * 2^-24 of the mean of |terms|.
pool("avgPool2d divides each window's sum by kH * kW (padding counts as zero) on both wasm builds", () => {
  fc.assert(fc.property(geometry, seed, (g, s) => {
    const n = lengths(g);
    const x = values(n.x, s, false);
    const expected = forward(reference(), "avg", g, x, n.y);
    const scale = forward(reference(), "avg", g, abs(x), n.y);
    const tol = (g.kernelHeight * g.kernelWidth + 2) * U;
    for (const name of wasmBackends)
      assertClose(`${name} avgPool2d ${JSON.stringify(g)}`, forward(getBackendByName(name), "avg", g, x, n.y), expected, tol, 1e-30, scale);
  }), runs);
});

// Tolerance: each dx sums at most kH*kW shares dy / (kH*kW) (plus beta * old), erring by
// ~(kH*kW + 3) * 2^-24 of the sum of their magnitudes (one more rounding for the division).
pool("avgPool2dBackward spreads dy / (kH * kW) over each window, with beta accumulation and NaN-prefilled dx at beta = 0", () => {
  fc.assert(fc.property(geometry, seed, betaValue, (g, s, beta) => {
    const n = lengths(g);
    const dy = values(n.y, s, false);
    const old = beta === 0 ? n.x : values(n.x, s + 1, false);
    const expected = backward(reference(), "avg", g, [], dy, beta, old);
    const scale = backward(reference(), "avg", g, [], abs(dy), 0, n.x);
    if (typeof old !== "number") for (let i = 0; i < n.x; i++) scale[i] += Math.abs(beta * old[i]);
    const tol = (g.kernelHeight * g.kernelWidth + 3) * U;
    for (const name of wasmBackends)
      assertClose(`${name} avgPool2dBackward ${JSON.stringify(g)}`, backward(getBackendByName(name), "avg", g, [], dy, beta, old), expected, tol, 1e-30, scale);
  }), runs);
});

pool.run();
