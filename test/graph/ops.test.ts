// Every op's local derivatives against independent oracles: the vector-Jacobian products
// inputVjp and paramVjp equal central finite differences of <f(x; theta), dy> in float64
// (reference backend), accumulate into their output with beta, and agree between the wasm
// f32 backend and the float64 reference.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { leakChecked } from "../util/leaks.js";
import fc from "fast-check";
import type { Backend } from "../../src/backend/kernels.js";
import { getBackendByName } from "../../src/backend/load.js";
import type { Op } from "../../src/graph/op.js";
import { activationNames, type ActivationName } from "../../src/graph/ops/activation.js";
import { createOp, opKinds } from "../../src/graph/registry.js";
import { sizeOf, Tensor } from "../../src/tensor.js";
import { randomArray, seed } from "../arbitraries.js";

const ops = leakChecked(suite("op derivatives"));


const reference = getBackendByName("reference-f64");
const wasm = getBackendByName("wasm-simd");

// ---- cases ------------------------------------------------------------------------------------

/**
 * How an op's inputs are drawn: anywhere in [-range, range]; at least 0.1 away from zero
 * (relu, leakyRelu: no kink within reach of the step h); in [0.5, 2] (log); or all distinct
 * with gaps >= 1e-3 (max pooling: no ties, so the winner of a window cannot change under a
 * perturbation of 1e-5, nor under rounding to f32).
 */
type Domain = { kind: "any"; range: number } | { kind: "awayFromZero" } | { kind: "positive" } | { kind: "distinct" };

interface OpCase {
  label: string;
  op: Op;
  batch: number;
  /** Per-sample input shapes. */
  inputShapes: number[][];
  /** Input data, [batch, ...shape] each. */
  inputs: Float64Array[];
  paramShapes: number[][];
  params: Float64Array[];
  outShape: number[];
  dy: Float64Array;
  /**
   * True when every vjp is a sum of products of dy, inputs and parameters with nonnegative
   * coefficients (dense, conv, avg pool, the structural ops): the same vjp evaluated at the
   * absolute values then gives the magnitude of the summed terms, the scale of f32 rounding.
   */
  positive: boolean;
}

function inputData(domain: Domain, length: number, s: number): Float64Array {
  const r = randomArray(length, s);
  switch (domain.kind) {
    case "any":
      return r.map((v) => v * domain.range);
    case "awayFromZero":
      return r.map((v) => (v < 0 ? v - 0.1 : v + 0.1));
    case "positive":
      return r.map((v) => 0.5 + 1.5 * Math.abs(v));
    case "distinct": {
      // A shuffled grid (i - length/2) * step with step >= 1e-3.
      const step = Math.max(1e-3, 2 / Math.max(1, length));
      const values = Float64Array.from({ length }, (_, i) => (i - length / 2) * step);
      for (let i = length - 1; i > 0; i--) {
        const j = Math.floor(((r[i] + 1) / 2) * (i + 1)) % (i + 1);
        [values[i], values[j]] = [values[j], values[i]];
      }
      return values;
    }
  }
}

function makeCase(label: string, kind: string, attrs: Record<string, unknown>, inputShapes: number[][], batch: number,
  s: number, domain: Domain, positive: boolean): OpCase {
  const op = createOp(kind, attrs, label);
  const outShape = [...op.outputShape(inputShapes)];
  const paramShapes = op.paramSpecs(inputShapes).map((p) => [...p.shape]);
  return {
    label, op, batch, inputShapes, positive, outShape, paramShapes,
    inputs: inputShapes.map((shape, i) => inputData(domain, batch * sizeOf(shape), s + 101 * i)),
    params: paramShapes.map((shape, i) => randomArray(sizeOf(shape), s + 7919 * (i + 1))),
    dy: randomArray(batch * sizeOf(outShape), s + 31337),
  };
}

const describeCase = (c: OpCase) =>
  `${c.label} attrs ${JSON.stringify(c.op.attrs)} batch ${c.batch} inputs ${JSON.stringify(c.inputShapes)} params ${JSON.stringify(c.paramShapes)} out ${JSON.stringify(c.outShape)}`;

// ---- running an op on a backend ---------------------------------------------------------------

type Target = { which: "input" | "param"; index: number };

const targetsOf = (c: OpCase): Target[] => [
  ...c.inputs.map((_, index) => ({ which: "input" as const, index })),
  ...c.params.map((_, index) => ({ which: "param" as const, index })),
];

const targetName = (t: Target) => `${t.which} ${t.index}`;

/** The op's tensors on one backend; dispose() frees them all. */
class Loaded {
  readonly inputs: Tensor[];
  readonly params: Tensor[];
  readonly out: Tensor;
  readonly dy: Tensor;
  constructor(readonly c: OpCase, readonly backend: Backend, transform: { inputs?: (v: number) => number; params?: (v: number) => number; dy?: (v: number) => number } = {}) {
    const load = (shape: number[], data: Float64Array, f?: (v: number) => number) =>
      new Tensor(shape, backend).assign(f ? data.map(f) : data);
    this.inputs = c.inputs.map((d, i) => load([c.batch, ...c.inputShapes[i]], d, transform.inputs));
    this.params = c.params.map((d, i) => load(c.paramShapes[i], d, transform.params));
    this.dy = load([c.batch, ...c.outShape], c.dy, transform.dy);
    this.out = new Tensor([c.batch, ...c.outShape], backend);
  }

  tensorOf(t: Target): Tensor {
    return t.which === "input" ? this.inputs[t.index] : this.params[t.index];
  }

  /** <f(inputs; params), dy>. */
  dot(): number {
    this.c.op.forward(this.inputs, this.params, this.out);
    const y = this.out.dataSync();
    const dy = this.dy.dataSync();
    let total = 0;
    for (let i = 0; i < y.length; i++) total += y[i] * dy[i];
    return total;
  }

  /** The vjp for a target: written over NaN when beta = 0 (garbage must be ignored), else over `initial`. */
  vjp(t: Target, beta: number, initial?: ArrayLike<number>): Float64Array {
    const like = this.tensorOf(t);
    const dx = new Tensor(like.shape, this.backend);
    try {
      if (beta === 0) this.backend.fill(dx.size, NaN, dx.address);
      else dx.assign(initial!);
      if (t.which === "input") this.c.op.inputVjp(t.index, this.inputs, this.params, this.dy, dx, beta);
      else this.c.op.paramVjp(t.index, this.inputs, this.params, this.dy, dx, beta);
      return Float64Array.from(dx.dataSync());
    } finally {
      dx.dispose();
    }
  }

  /** Central differences (f(v + h) - f(v - h)) / 2h of <f, dy> in each entry of a target. */
  centralDifferences(t: Target, h: number): Float64Array {
    const tensor = this.tensorOf(t);
    const values = Float64Array.from(tensor.dataSync());
    const out = new Float64Array(values.length);
    for (let j = 0; j < values.length; j++) {
      this.backend.write(tensor.address + j, [values[j] + h]);
      const plus = this.dot();
      this.backend.write(tensor.address + j, [values[j] - h]);
      const minus = this.dot();
      this.backend.write(tensor.address + j, [values[j]]);
      out[j] = (plus - minus) / (2 * h);
    }
    return out;
  }

  dispose(): void {
    for (const t of [...this.inputs, ...this.params, this.out, this.dy]) t.dispose();
  }
}

function withLoaded<T>(c: OpCase, backend: Backend, fn: (l: Loaded) => T, transform?: ConstructorParameters<typeof Loaded>[2]): T {
  const loaded = new Loaded(c, backend, transform);
  try {
    return fn(loaded);
  } finally {
    loaded.dispose();
  }
}

/** Throws when some |actual - expected| > abs + rel * scale (scale defaults to |expected|). */
function expectClose(label: string, actual: ArrayLike<number>, expected: ArrayLike<number>, rel: number, abs: number,
  scale?: ArrayLike<number>): number {
  if (actual.length !== expected.length) throw new Error(`${label}: ${actual.length} values, expected ${expected.length}`);
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    const allowed = abs + rel * (scale ? scale[i] : Math.abs(expected[i]));
    const diff = Math.abs(actual[i] - expected[i]);
    if (!(diff <= allowed))
      throw new Error(`${label}: entry ${i} is ${actual[i]}, expected ${expected[i]} (|diff| ${diff.toExponential(3)} > ${allowed.toExponential(3)})`);
    worst = Math.max(worst, diff / allowed);
  }
  return worst;
}

// ---- the three claims, for one case -----------------------------------------------------------

// Step and tolerance of the finite differences (float64): the truncation error of a central
// difference is h^2/6 |f'''| ~ 1e-10 |f'''| for h = 1e-5, and its rounding error is
// ~ 1e-16 |<f, dy>| / h ~ 1e-10 for the sizes here (measured: at most 1.3e-3 of the
// tolerance); 1e-6 relative + 1e-8 absolute sits well above both and far below any wrong
// coefficient or misplaced index (the negative control below sees a 1e-4 relative error).
const H = 1e-5;
const FD_REL = 1e-6;
const FD_ABS = 1e-8;

function checkFiniteDifferences(c: OpCase): void {
  withLoaded(c, reference, (l) => {
    for (const t of targetsOf(c)) {
      const vjp = l.vjp(t, 0);
      const fd = l.centralDifferences(t, H);
      expectClose(`${targetName(t)} vjp vs central differences\n${describeCase(c)}`, vjp, fd, FD_REL, FD_ABS);
    }
  });
}

// beta accumulation in float64: dx = vjp + beta * dx_before, one rounding per entry.
function checkAccumulation(c: OpCase, beta: number, s: number): void {
  withLoaded(c, reference, (l) => {
    for (const t of targetsOf(c)) {
      const vjp = l.vjp(t, 0);
      const before = randomArray(vjp.length, s + 17);
      const accumulated = l.vjp(t, beta, before);
      const expected = vjp.map((v, i) => v + beta * before[i]);
      const scale = vjp.map((v, i) => Math.abs(v) + Math.abs(beta * before[i]));
      expectClose(`${targetName(t)} with beta ${beta}\n${describeCase(c)}`, accumulated, expected, 1e-13, 1e-300, scale);
    }
  });
}

// wasm f32 vs float64 on f32-exact data. The oracle is the float64 vjp; the error allowed is
// 1e-5 of the magnitude of the summed terms (the same vjp at |dy|, and at |inputs|, |params|
// for ops whose vjps are positive combinations). f32 sums of up to ~300 terms (conv weight
// gradients) lose a few ulp (2^-24 ~ 6e-8) of that magnitude per term in the worst order;
// the activation derivatives are f32 transcendental kernels accurate to ~1e-6 of their
// terms (relative to |f'(x)| + 1, times |dy|, since f' itself may vanish, as gelu' does
// near x = -0.75). Measured worst: 3.4e-6 (gelu's derivative), ~1e-7 for the linear ops.
const F32_REL = 1e-5;
const F32_ABS = 1e-30;

function checkWasm(c: OpCase, s: number): void {
  const f = Math.fround;
  const c32: OpCase = {
    ...c,
    inputs: c.inputs.map((d) => d.map(f)),
    params: c.params.map((d) => d.map(f)),
    dy: c.dy.map(f),
  };
  for (const t of targetsOf(c32)) {
    const expected = withLoaded(c32, reference, (l) => l.vjp(t, 0));
    const scale = withLoaded(c32, reference, (l) => l.vjp(t, 0).map(Math.abs), {
      inputs: c.positive ? Math.abs : undefined,
      params: c.positive ? Math.abs : undefined,
      dy: Math.abs,
    });
    // Elementwise derivatives are f32 formulas with O(1) terms (gelu' = 0.5 (1 + t) + ...):
    // near a zero of f' their error is absolute, so the magnitude also counts |dy| once.
    if (isActivation(c)) scale.forEach((m, i) => (scale[i] = m + Math.abs(c32.dy[i])));
    const actual = withLoaded(c32, wasm, (l) => l.vjp(t, 0));
    expectClose(`wasm ${targetName(t)} vs float64\n${describeCase(c)}`, actual, expected, F32_REL, F32_ABS, scale);
    // beta = 1 on wasm: accumulation onto f32 values.
    const before = Float64Array.from(randomArray(expected.length, s + 3), f);
    const accumulated = withLoaded(c32, wasm, (l) => l.vjp(t, 1, before));
    expectClose(`wasm ${targetName(t)} with beta 1\n${describeCase(c)}`, accumulated, expected.map((v, i) => v + before[i]),
      F32_REL, F32_ABS, scale.map((m, i) => m + Math.abs(before[i])));
  }
}

const isActivation = (c: OpCase) => (activationNames as readonly string[]).includes(c.op.kind);

const betaArb = fc.constantFrom(1, 1, 0.5, -2);

/** The three properties for one op family. */
function claims(name: string, cases: fc.Arbitrary<OpCase>, runs: number): void {
  ops(`${name}: input and parameter derivatives equal central differences (float64)`, () => {
    fc.assert(fc.property(cases, (c) => checkFiniteDifferences(c)), { numRuns: runs });
  });
  ops(`${name}: beta = 1 (and any beta) accumulates: dx = vjp + beta * dx_before`, () => {
    fc.assert(fc.property(cases, betaArb, seed, (c, beta, s) => checkAccumulation(c, beta, s)), { numRuns: Math.ceil(runs / 2) });
  });
  ops(`${name}: the wasm-simd vjps equal the float64 ones within f32 rounding`, () => {
    fc.assert(fc.property(cases, seed, (c, s) => checkWasm(c, s)), { numRuns: Math.ceil(runs / 2) });
  });
}

// ---- arbitraries per op -----------------------------------------------------------------------

const batchArb = fc.integer({ min: 1, max: 3 });
const shapeArb = (maxRank = 3, maxDim = 5) => fc.array(fc.integer({ min: 1, max: maxDim }), { minLength: 1, maxLength: maxRank });

const denseCases = fc
  .record({ batch: batchArb, widths: fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 1, maxLength: 3 }),
    units: fc.integer({ min: 1, max: 8 }), useBias: fc.boolean(), s: seed })
  .map((r) => makeCase(`dense(${r.widths.length} inputs${r.useBias ? ", bias" : ""})`, "dense", { units: r.units, useBias: r.useBias },
    r.widths.map((w) => [w]), r.batch, r.s, { kind: "any", range: 1 }, true));

const denseThreeInputs = fc
  .record({ batch: batchArb, widths: fc.tuple(...[0, 1, 2].map(() => fc.integer({ min: 1, max: 7 }))), units: fc.integer({ min: 1, max: 6 }),
    useBias: fc.boolean(), s: seed })
  .map((r) => makeCase(`dense(3 inputs${r.useBias ? ", bias" : ""})`, "dense", { units: r.units, useBias: r.useBias },
    r.widths.map((w) => [w]), r.batch, r.s, { kind: "any", range: 1 }, true));

const convCases = fc
  .record({
    batch: fc.integer({ min: 1, max: 2 }), groups: fc.integer({ min: 1, max: 3 }), inPerGroup: fc.integer({ min: 1, max: 2 }),
    outPerGroup: fc.integer({ min: 1, max: 3 }), kernel: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })),
    strides: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })),
    padding: fc.tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 2 })),
    dilation: fc.tuple(fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 2 })),
    size: fc.tuple(fc.integer({ min: 1, max: 7 }), fc.integer({ min: 1, max: 7 })), useBias: fc.boolean(), s: seed,
  })
  .map((r) => {
    // Raise the input so that the output is at least 1x1.
    const size = [0, 1].map((a) => Math.max(r.size[a], r.dilation[a] * (r.kernel[a] - 1) + 1 - 2 * r.padding[a]));
    const attrs = { filters: r.groups * r.outPerGroup, kernelSize: r.kernel, strides: r.strides, padding: r.padding,
      dilation: r.dilation, groups: r.groups, useBias: r.useBias };
    return makeCase("conv2d", "conv2d", attrs, [[r.groups * r.inPerGroup, size[0], size[1]]], r.batch, r.s, { kind: "any", range: 1 }, true);
  });

const convTransposeCases = fc
  .record({
    batch: fc.integer({ min: 1, max: 2 }), groups: fc.integer({ min: 1, max: 2 }), inPerGroup: fc.integer({ min: 1, max: 3 }),
    outPerGroup: fc.integer({ min: 1, max: 2 }), kernel: fc.tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 })),
    strides: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })),
    padding: fc.tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 2 })),
    extra: fc.tuple(fc.nat(), fc.nat()),
    dilation: fc.tuple(fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 2 })),
    size: fc.tuple(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 5 })), useBias: fc.boolean(), s: seed,
  })
  .map((r) => {
    const outputPadding = [0, 1].map((a) => r.extra[a] % r.strides[a]);
    // Raise the input so that the output is at least 1x1.
    const size = [0, 1].map((a) => {
      let h = r.size[a];
      while ((h - 1) * r.strides[a] - 2 * r.padding[a] + r.dilation[a] * (r.kernel[a] - 1) + 1 + outputPadding[a] < 1) h++;
      return h;
    });
    const attrs = { filters: r.groups * r.outPerGroup, kernelSize: r.kernel, strides: r.strides, padding: r.padding, outputPadding,
      dilation: r.dilation, groups: r.groups, useBias: r.useBias };
    return makeCase("conv2dTranspose", "conv2dTranspose", attrs, [[r.groups * r.inPerGroup, size[0], size[1]]], r.batch, r.s,
      { kind: "any", range: 1 }, true);
  });

const poolCases = (mode: "max" | "avg") => fc
  .record({
    batch: fc.integer({ min: 1, max: 2 }), channels: fc.integer({ min: 1, max: 3 }),
    kernel: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })),
    strides: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })),
    padFraction: fc.tuple(fc.integer({ min: 0, max: 1 }), fc.integer({ min: 0, max: 1 })),
    size: fc.tuple(fc.integer({ min: 1, max: 8 }), fc.integer({ min: 1, max: 8 })), s: seed,
  })
  .map((r) => {
    // Padding up to half the window (the op's limit), so that padded windows occur often.
    const padding = [0, 1].map((a) => r.padFraction[a] * Math.floor(r.kernel[a] / 2));
    const size = [0, 1].map((a) => Math.max(r.size[a], r.kernel[a] - 2 * padding[a]));
    return makeCase(`${mode}Pool2d`, mode === "max" ? "maxPool2d" : "avgPool2d", { kernelSize: r.kernel, strides: r.strides, padding },
      [[r.channels, size[0], size[1]]], r.batch, r.s, mode === "max" ? { kind: "distinct" } : { kind: "any", range: 1 }, mode === "avg");
  });

function activationDomain(fn: ActivationName): Domain {
  if (fn === "relu" || fn === "leakyRelu") return { kind: "awayFromZero" };
  if (fn === "log") return { kind: "positive" };
  return { kind: "any", range: fn === "exp" ? 2 : 3 };
}

const activationCases = (fn: ActivationName) => fc
  .record({ batch: batchArb, shape: shapeArb(), slope: fc.oneof(fc.constantFrom(0.01, 0.1, 0.3), fc.double({ min: 0, max: 2, noNaN: true })), s: seed })
  .map((r) => makeCase(fn, fn, fn === "leakyRelu" ? { slope: r.slope } : {}, [r.shape], r.batch, r.s, activationDomain(fn), false));

const identityCases = fc.record({ batch: batchArb, shape: shapeArb(), s: seed })
  .map((r) => makeCase("identity", "identity", {}, [r.shape], r.batch, r.s, { kind: "any", range: 1 }, true));

const addCases = fc.record({ batch: batchArb, shape: shapeArb(), n: fc.integer({ min: 2, max: 4 }), s: seed })
  .map((r) => makeCase(`add(${r.n} inputs)`, "add", {}, Array.from({ length: r.n }, () => r.shape), r.batch, r.s, { kind: "any", range: 1 }, true));

const mulCases = fc.record({ batch: batchArb, shape: shapeArb(), s: seed })
  .map((r) => makeCase("mul", "mul", {}, [r.shape, r.shape], r.batch, r.s, { kind: "any", range: 2 }, true));

const concatCases = fc
  .record({ batch: batchArb, shape: shapeArb(3, 4), axisSeed: fc.nat(), widths: fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 3 }), s: seed })
  .map((r) => {
    const axis = r.axisSeed % r.shape.length;
    const shapes = r.widths.map((w) => r.shape.map((d, i) => (i === axis ? w : d)));
    return makeCase(`concat(axis ${axis}, ${shapes.length} inputs)`, "concat", { axis }, shapes, r.batch, r.s, { kind: "any", range: 1 }, true);
  });

const reshapeCases = fc
  .record({ batch: batchArb, shape: shapeArb(3, 4), merges: fc.array(fc.boolean(), { minLength: 2, maxLength: 2 }),
    order: fc.nat(), inferred: fc.nat(), s: seed })
  .map((r) => {
    // Merge neighbouring dimensions, rotate the list, then let one entry be inferred (-1).
    const dims: number[] = [r.shape[0]];
    r.shape.slice(1).forEach((d, i) => (r.merges[i] ? (dims[dims.length - 1] *= d) : dims.push(d)));
    const k = r.order % dims.length;
    const target = [...dims.slice(k), ...dims.slice(0, k)];
    target[r.inferred % target.length] = -1;
    return makeCase(`reshape(${JSON.stringify(target)})`, "reshape", { shape: target }, [r.shape], r.batch, r.s, { kind: "any", range: 1 }, true);
  });

const sliceCases = fc
  .record({ batch: batchArb, shape: shapeArb(3, 5), axisSeed: fc.nat(), a: fc.nat(), b: fc.nat(), squeeze: fc.boolean(), s: seed })
  .map((r) => {
    const axis = r.axisSeed % r.shape.length;
    const length = r.shape[axis];
    const begin = r.a % length;
    const size = r.squeeze ? 1 : 1 + (r.b % (length - begin));
    return makeCase(`slice(axis ${axis}, [${begin}, ${begin + size})${r.squeeze ? ", squeeze" : ""})`, "slice",
      { axis, begin, size, squeeze: r.squeeze }, [r.shape], r.batch, r.s, { kind: "any", range: 1 }, true);
  });

// ---- the properties ---------------------------------------------------------------------------

claims("dense over 1 to 3 inputs, with and without bias", denseCases, 80);
claims("dense over exactly 3 inputs (one weight each), with and without bias", denseThreeInputs, 40);
claims("conv2d, for every stride, padding, dilation and group count, with and without bias", convCases, 80);
claims("conv2dTranspose, for every stride, padding, output padding, dilation and group count, with and without bias", convTransposeCases, 60);
claims("maxPool2d with strides and padding (padding never wins)", poolCases("max"), 60);
claims("avgPool2d with strides and padding (divided by the full window, padding included)", poolCases("avg"), 60);
for (const fn of activationNames) claims(`${fn}${fn === "leakyRelu" ? " for any slope" : ""}`, activationCases(fn), 40);
claims("identity", identityCases, 20);
claims("add of 2 to 4 inputs", addCases, 40);
claims("mul (each input's derivative is the other input)", mulCases, 40);
claims("concat along every per-sample axis", concatCases, 60);
claims("reshape with an inferred (-1) dimension", reshapeCases, 40);
claims("slice along every axis, with and without squeeze", sliceCases, 60);

ops("the finite-difference oracle sees a derivative that is off by 1e-4 (negative control)", () => {
  const c = makeCase("tanh", "tanh", {}, [[6]], 2, 11, { kind: "any", range: 3 }, false);
  withLoaded(c, reference, (l) => {
    const t: Target = { which: "input", index: 0 };
    const fd = l.centralDifferences(t, H);
    const wrong = l.vjp(t, 0).map((v) => v * (1 + 1e-4));
    assert.throws(() => expectClose("perturbed", wrong, fd, FD_REL, FD_ABS));
  });
});

ops("every registered op kind is covered", () => {
  const covered = new Set(["dense", "conv2d", "conv2dTranspose", "maxPool2d", "avgPool2d", ...activationNames, "identity", "add", "mul", "concat", "reshape", "slice"]);
  for (const k of opKinds) if (k !== "input") assert.ok(covered.has(k), `op kind "${k}" has derivative properties`);
});

ops.run();
