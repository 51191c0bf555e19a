// The reference backprop against an independent autodiff: every random graph is translated
// into a TensorFlow.js function (CPU backend, float32) of its parameters, whose gradients
// tf.valueAndGrads computes by its own chain rule from its own op definitions. pcgraph's
// conventions are written out here, not borrowed: NCHW convolutions as NHWC tf.conv2d with
// explicit zero padding, dilation by a zero-interleaved kernel and groups by channel
// splits; max pooling over a -Infinity padded input (padding never wins); average pooling
// over a zero padded input, divided by the full window; GELU in its tanh form.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { leakChecked } from "../util/leaks.js";
import fc from "fast-check";
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import { buildSync } from "esbuild";
import { unlinkSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { BackendName } from "../../src/backend/load.js";
import { GraphBuilder } from "../../src/graph/builder.js";
import { predict } from "../../src/graph/forward.js";
import { Graph, type GraphNode } from "../../src/graph/graph.js";
import { randomBatch, randomGraph, type Draw, type RandomGraph } from "../../src/pc/random-graph.js";
import { backprop } from "../../src/reference/backprop.js";
import { tensor, type Tensor } from "../../src/tensor.js";
import { describeGraph, graphArbitrary } from "../arbitraries.js";
import { gradientDivergence } from "../../src/pc/verify.js";

const bp = leakChecked(suite("reference backprop equals TensorFlow.js autodiff"));

/**
 * The npm build of tfjs-core registers no gradient functions (the union package
 * @tensorflow/tfjs does, through an ES-module-only file with extensionless imports). Bundle
 * that file and load it once: the registries and the engine live on the global object, so
 * its gradients serve the tf imported above.
 */
async function registerGradients(): Promise<void> {
  const require = createRequire(import.meta.url);
  const entry = require.resolve("@tensorflow/tfjs-core/dist/register_all_gradients.js");
  const bundle = buildSync({ entryPoints: [entry], bundle: true, format: "esm", platform: "node", write: false, logLevel: "silent" });
  const file = join(tmpdir(), `pcgraph-tfjs-gradients-${process.pid}.mjs`);
  writeFileSync(file, bundle.outputFiles[0].text);
  try {
    await import(pathToFileURL(file).href);
  } finally {
    unlinkSync(file);
  }
}

let tfSetup: Promise<void> | undefined;

/** TF.js with its gradients on the CPU backend, set up once (inside a test, so a failure is that test's). */
function tfReady(): Promise<void> {
  tfSetup ??= (async () => {
    tf.env().set("IS_TEST", true); // no "install tfjs-node" banner
    await registerGradients();
    await tf.setBackend("cpu");
    assert.is(tf.getBackend(), "cpu");
  })();
  return tfSetup;
}


// ---- the translator -----------------------------------------------------------------------

type Attrs = Record<string, any>;

const toNhwc = (x: tf.Tensor) => tf.transpose(x, [0, 2, 3, 1]);
const toNchw = (x: tf.Tensor) => tf.transpose(x, [0, 3, 1, 2]);

/** A [kH, kW, I, O] kernel with (d - 1) zeros between taps: dilation as an ordinary convolution. */
function dilateKernel(w: tf.Tensor, [dh, dw]: [number, number]): tf.Tensor {
  if (dh === 1 && dw === 1) return w;
  const [kh, kw, i, o] = w.shape;
  let t = tf.reshape(w, [kh, 1, kw, 1, i, o]);
  t = tf.pad(t, [[0, 0], [0, dh - 1], [0, 0], [0, dw - 1], [0, 0], [0, 0]]);
  t = tf.reshape(t, [kh * dh, kw * dw, i, o]);
  return tf.slice(t, [0, 0, 0, 0], [(kh - 1) * dh + 1, (kw - 1) * dw + 1, i, o]);
}

function conv2d(x: tf.Tensor, params: tf.Tensor[], a: Attrs): tf.Tensor {
  const [ph, pw] = a.padding as [number, number];
  const padded = tf.pad(toNhwc(x), [[0, 0], [ph, ph], [pw, pw], [0, 0]]) as tf.Tensor4D;
  // pcgraph's weight [filters, C / groups, kH, kW] as tf's [kH, kW, C / groups, filters].
  const kernel = dilateKernel(tf.transpose(params[0], [2, 3, 1, 0]), a.dilation);
  const groups: number = a.groups;
  const inPerGroup = x.shape[1]! / groups;
  const outPerGroup = a.filters / groups;
  const parts: tf.Tensor[] = [];
  for (let g = 0; g < groups; g++) {
    const xg = tf.slice(padded, [0, 0, 0, g * inPerGroup], [-1, -1, -1, inPerGroup]) as tf.Tensor4D;
    const wg = tf.slice(kernel, [0, 0, 0, g * outPerGroup], [-1, -1, -1, outPerGroup]) as tf.Tensor4D;
    parts.push(tf.conv2d(xg, wg, a.strides as [number, number], "valid"));
  }
  let y = groups === 1 ? parts[0] : tf.concat(parts, 3);
  if (a.useBias) y = tf.add(y, tf.reshape(params[1], [1, 1, 1, a.filters]));
  return toNchw(y);
}

function pool(x: tf.Tensor, a: Attrs, mode: "max" | "avg"): tf.Tensor {
  const [ph, pw] = a.padding as [number, number];
  // Max: padding is -Infinity, so it never wins. Avg: padding is 0 and every window of the
  // padded input is full, so tf's mean divides by kH * kW, as pcgraph defines it.
  const padded = tf.pad(toNhwc(x), [[0, 0], [ph, ph], [pw, pw], [0, 0]], mode === "max" ? -Infinity : 0) as tf.Tensor4D;
  const y = mode === "max"
    ? tf.maxPool(padded, a.kernelSize as [number, number], a.strides as [number, number], "valid")
    : tf.avgPool(padded, a.kernelSize as [number, number], a.strides as [number, number], "valid");
  return toNchw(y);
}

const GELU_C = Math.sqrt(2 / Math.PI);

function applyNode(node: GraphNode, xs: tf.Tensor[], ps: tf.Tensor[]): tf.Tensor {
  const a = node.op!.attrs as Attrs;
  const batch = xs[0].shape[0]!;
  switch (node.kind) {
    case "dense": {
      let y = xs.map((x, i) => tf.matMul(x as tf.Tensor2D, ps[i] as tf.Tensor2D)).reduce((s, t) => tf.add(s, t));
      if (a.useBias) y = tf.add(y, ps[xs.length]);
      return y;
    }
    case "conv2d": return conv2d(xs[0], ps, a);
    case "maxPool2d": return pool(xs[0], a, "max");
    case "avgPool2d": return pool(xs[0], a, "avg");
    case "relu": return tf.relu(xs[0]);
    case "leakyRelu": return tf.leakyRelu(xs[0], a.slope ?? 0.01);
    case "tanh": return tf.tanh(xs[0]);
    case "sigmoid": return tf.sigmoid(xs[0]);
    case "softplus": return tf.softplus(xs[0]);
    case "gelu": {
      const x = xs[0];
      const inner = tf.mul(GELU_C, tf.add(x, tf.mul(0.044715, tf.pow(x, 3))));
      return tf.mul(tf.mul(0.5, x), tf.add(1, tf.tanh(inner)));
    }
    case "exp": return tf.exp(xs[0]);
    case "log": return tf.log(xs[0]);
    case "identity": return xs[0];
    case "add": return tf.addN(xs);
    case "mul": return tf.mul(xs[0], xs[1]);
    case "concat": return tf.concat(xs, a.axis + 1);
    case "reshape": return tf.reshape(xs[0], [batch, ...(a.shape as number[])]);
    case "slice": {
      const rank = xs[0].rank;
      const begin = Array.from({ length: rank }, (_, i) => (i === a.axis + 1 ? a.begin : 0));
      const size = Array.from({ length: rank }, (_, i) => (i === a.axis + 1 ? a.size : -1));
      const y = tf.slice(xs[0], begin, size);
      return a.squeeze ? tf.squeeze(y, [a.axis + 1]) : y;
    }
    default:
      throw new Error(`no TF.js translation for op "${node.kind}"`);
  }
}

/** The graph's loss as a function of its parameters (in graph.parameters order) on fixed data. */
function lossFunction(graph: Graph, feeds: Map<string, tf.Tensor>, target: tf.Tensor): (...params: tf.Tensor[]) => tf.Scalar {
  return (...params) => {
    const byName = new Map(graph.parameters.map((p, i) => [p.name, params[i]]));
    const values = new Map<string, tf.Tensor>();
    for (const node of graph.nodes) {
      const value = node.isInput
        ? feeds.get(node.name)!
        : applyNode(node, node.inputs.map((p) => values.get(p.name)!), node.params.map((p) => byName.get(p.name)!));
      values.set(node.name, value);
    }
    const mu = values.get(graph.output.name)!;
    const batch = mu.shape[0]!;
    if (graph.loss === "mse") return tf.div(tf.sum(tf.square(tf.sub(mu, target))), 2 * batch) as tf.Scalar;
    return tf.neg(tf.div(tf.sum(tf.mul(target, tf.logSoftmax(mu))), batch)) as tf.Scalar;
  };
}

interface TfResult {
  loss: number;
  gradients: Map<string, Float32Array>;
}

function tfGradients(graph: Graph, inputs: Map<string, { values: Float64Array; shape: number[] }>,
  target: { values: Float64Array; shape: number[] }): TfResult {
  const before = tf.memory().numTensors;
  let result: TfResult | undefined;
  tf.tidy(() => {
    const feeds = new Map([...inputs].map(([name, d]) => [name, tf.tensor(Float32Array.from(d.values), d.shape, "float32")]));
    const t = tf.tensor(Float32Array.from(target.values), target.shape, "float32");
    const params = graph.parameters.map((p) => tf.tensor(Float32Array.from(p.tensor.dataSync()), [...p.shape], "float32"));
    const { value, grads } = tf.valueAndGrads(lossFunction(graph, feeds, t))(params);
    result = {
      loss: value.dataSync()[0],
      gradients: new Map(graph.parameters.map((p, i) => [p.name, grads[i].dataSync() as Float32Array])),
    };
  });
  assert.is(tf.memory().numTensors, before, "no TF.js tensor leaked");
  return result!;
}

// ---- the comparison -----------------------------------------------------------------------

/**
 * Per-parameter relative divergence: for each parameter, max |pcgraph - tf| over its entries
 * divided by its own largest |tf| entry, and the worst of these over the parameters. A
 * parameter whose gradient is small cannot hide an error behind a large one elsewhere. Its
 * scale is floored at PARAMETER_FLOOR (1e-2) of the graph's largest gradient entry: below
 * that, f32 rounding of the deltas it shares with larger gradients (~2^-24 of them, summed
 * over a batch or a window) is of the size of the gradient itself.
 */
function divergence(actual: Map<string, Tensor>, expected: Map<string, Float32Array>): number {
  let largest = 0;
  for (const values of expected.values()) for (const v of values) largest = Math.max(largest, Math.abs(v));
  let worst = 0;
  for (const [name, e] of expected) {
    const a = actual.get(name)?.dataSync();
    if (!a || a.length !== e.length) return Infinity;
    let difference = 0;
    let scale = 0;
    for (let i = 0; i < e.length; i++) {
      const d = Math.abs(a[i] - e[i]);
      difference = Number.isNaN(d) ? Infinity : Math.max(difference, d);
      scale = Math.max(scale, Math.abs(e[i]));
    }
    const floor = Math.max(scale, PARAMETER_FLOOR * largest);
    worst = Math.max(worst, floor === 0 ? difference : difference / floor);
  }
  return worst;
}
const PARAMETER_FLOOR = 1e-2;

interface Outcome {
  gradient: number;
  loss: number;
  /** Largest |dL/dmu| entry times the batch size: |softmax(mu) - t| or |mu - t| (float64). */
  delta: number;
}

/** max over entries of |softmax(mu) - t| (cross-entropy) or |mu - t| (mse). */
function outputDelta(graph: Graph, feeds: Record<string, Tensor>, target: Float64Array): number {
  const mu = predict(graph, feeds);
  const values = Float64Array.from(mu.dataSync());
  mu.dispose();
  const classes = graph.output.size;
  let worst = 0;
  for (let b = 0; b < values.length / classes; b++) {
    const row = values.subarray(b * classes, (b + 1) * classes);
    const t = target.subarray(b * classes, (b + 1) * classes);
    if (graph.loss === "mse") row.forEach((v, j) => (worst = Math.max(worst, Math.abs(v - t[j]))));
    else {
      const max = Math.max(...row);
      const exps = Array.from(row, (v) => Math.exp(v - max));
      const sum = exps.reduce((a, e) => a + e, 0);
      exps.forEach((e, j) => (worst = Math.max(worst, Math.abs(e / sum - t[j]))));
    }
  }
  return worst;
}

/**
 * Builds the drawn graph on wasm-simd (weights initialised there, so f32-exact), draws f32
 * data, and runs pcgraph's backprop on `backend` (the same weights and data) and TF.js.
 */
function compare(drawn: RandomGraph, backend: BackendName): Outcome {
  const source = new Graph(drawn.spec, { seed: drawn.seed, backend: "wasm-simd" });
  const graph = backend === "wasm-simd" ? source : source.to(backend);
  const data = randomBatch(source, drawn.batch, drawn.seed + 1);
  const inputs = new Map(Object.entries(data.inputs).map(([name, t]) => [name, { values: Float64Array.from(t.dataSync()), shape: [...t.shape] }]));
  const target = { values: Float64Array.from(data.target.dataSync()), shape: [...data.target.shape] };
  const local: Tensor[] = [...Object.values(data.inputs), data.target];
  let gradients: Map<string, Tensor> | undefined;
  try {
    const feeds: Record<string, Tensor> = {};
    for (const [name, d] of inputs) local.push((feeds[name] = tensor(d.values, d.shape, { backend: graph.backend })));
    const t = tensor(target.values, target.shape, { backend: graph.backend });
    local.push(t);
    const result = backprop(graph, { inputs: feeds, target: t });
    gradients = result.gradients;
    const oracle = tfGradients(graph, inputs, target);
    return {
      gradient: divergence(gradients, oracle.gradients),
      loss: Math.abs(result.loss - oracle.loss) / Math.max(1, Math.abs(oracle.loss)),
      delta: outputDelta(graph, feeds, target.values),
    };
  } finally {
    for (const g of gradients?.values() ?? []) g.dispose();
    for (const x of local) x.dispose();
    if (graph !== source) graph.dispose();
    source.dispose();
  }
}

/**
 * Random graphs of one family. The generator's first draw picks the family (index into
 * ["dag", "dag", "cnn", "rnn"]); it is answered here and the rest drawn by fast-check.
 */
const familyArbitrary = (family: RandomGraph["family"], maxDepth = 12): fc.Arbitrary<RandomGraph> =>
  fc.gen().map((g) => {
    let first = true;
    const draw: Draw = {
      int: (min, max) => {
        if (!first) return g(fc.integer, { min, max });
        first = false;
        return { dag: 0, cnn: 2, rnn: 3 }[family];
      },
    };
    const drawn = randomGraph(draw, maxDepth);
    if (drawn.family !== family) throw new Error(`drew a ${drawn.family} graph, wanted ${family}`);
    return drawn;
  });

function expectAgreement(label: string, backend: BackendName, gradientTolerance: number, lossTolerance: number, runs: number,
  family?: RandomGraph["family"]): void {
  let worst = { gradient: 0, loss: 0 };
  let worstGraph = "";
  let count = 0;
  const graphs = family ? familyArbitrary(family) : graphArbitrary();
  fc.assert(
    fc.property(graphs, (drawn) => {
      const outcome = compare(drawn, backend);
      count++;
      if (outcome.gradient > worst.gradient) worstGraph = `${drawn.family}, ${drawn.spec.nodes.length} nodes, loss ${drawn.spec.loss}`;
      worst = { gradient: Math.max(worst.gradient, outcome.gradient), loss: Math.max(worst.loss, outcome.loss) };
      const allowed = allowedDivergence(gradientTolerance, outcome.delta);
      if (!(outcome.gradient <= allowed))
        throw new Error(`${label}: gradient divergence ${outcome.gradient.toExponential(3)} > ${allowed} (output delta ${outcome.delta}) on\n${describeGraph(drawn)}`);
      if (!(outcome.loss <= lossTolerance))
        throw new Error(`${label}: loss differs by ${outcome.loss.toExponential(3)} > ${lossTolerance} on\n${describeGraph(drawn)}`);
    }),
    { numRuns: runs },
  );
  console.log(`  ${label}: max gradient divergence ${worst.gradient.toExponential(2)} (${worstGraph}), max loss difference ` +
    `${worst.loss.toExponential(2)}, over ${count} graphs`);
}

// Tolerances. TF.js computes in float32 (unit roundoff 2^-24 ~ 6e-8), so its gradients carry
// f32 rounding that grows with depth (up to 12 blocks, sums over batches of up to 32 and
// over conv windows). Measured per parameter (see divergence(): relative to the parameter's
// own largest gradient, floored at 1e-2 of the graph's largest), the worst over the seven
// properties below was 3.1e-5 over 14 seeds (FC_SEED=1..14; under 1e-5 typical), except
// where the output delta is tiny (see allowedDivergence). A tighter floor does not hold: a
// parameter whose gradient is a sum of terms that nearly cancel has f32 rounding of the
// terms' size, not of the sum's. 5e-5 stays far below any wrong derivative (a missing term,
// a transposed kernel or a misrouted pooling gradient is off by O(1); the negative controls
// below see 1e-2, also in the parameter with the smallest gradients). The loss is compared
// relative to max(1, |loss|): measured at most 4.4e-7, allowed 1e-5.
const GRADIENT_TOLERANCE = 5e-5;

/**
 * Every gradient is a linear image of the output delta dL/dmu (p - t or mu - t per entry),
 * which f32 computes to a few ulp of |p| + |t| ~ 1 in absolute terms: when the largest
 * delta entry D is small (a confident, correct classifier: D ~ 1e-4), the relative f32
 * error of every gradient grows like 2^-24 / D. The allowance grows in proportion below
 * D = 1e-2 (so 5e-5 * 1e-2 / D ~ 8 ulp / D); above it, the fixed tolerance applies.
 */
function allowedDivergence(tolerance: number, delta: number): number {
  return tolerance * Math.max(1, 1e-2 / delta);
}
const LOSS_TOLERANCE = 1e-5;

bp("backprop on reference-f64 equals TF.js gradients on random DAGs, CNNs and RNNs, both losses", async () => {
  await tfReady();
  expectAgreement("reference-f64 vs TF.js", "reference-f64", GRADIENT_TOLERANCE, LOSS_TOLERANCE, 80);
});

bp("backprop on wasm-simd (f32) equals TF.js gradients on random DAGs, CNNs and RNNs, both losses", async () => {
  await tfReady();
  expectAgreement("wasm-simd vs TF.js", "wasm-simd", GRADIENT_TOLERANCE, LOSS_TOLERANCE, 80);
});

bp("backprop equals TF.js on CNNs in particular (strides, padding, dilation, groups, pooling)", async () => {
  await tfReady();
  expectAgreement("reference-f64 vs TF.js, CNNs", "reference-f64", GRADIENT_TOLERANCE, LOSS_TOLERANCE, 40, "cnn");
});

bp("backprop equals TF.js on RNNs (weights shared across steps)", async () => {
  await tfReady();
  expectAgreement("reference-f64 vs TF.js, RNNs", "reference-f64", GRADIENT_TOLERANCE, LOSS_TOLERANCE, 30, "rnn");
});

/**
 * CNN specs beyond the random generator's: any stride with any dilation, groups, padded max
 * and average pooling with strides, concat and slice on every axis of [C, H, W].
 */
const attributeCnn: fc.Arbitrary<RandomGraph> = fc
  .record({
    groups: fc.integer({ min: 1, max: 2 }), inPerGroup: fc.integer({ min: 1, max: 2 }), outPerGroup: fc.integer({ min: 1, max: 3 }),
    kernel: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })),
    strides: fc.tuple(fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 2 })),
    padding: fc.tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 2 })),
    dilation: fc.tuple(fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 2 })),
    activation: fc.constantFrom("leakyRelu", "gelu", "softplus", "tanh"), slope: fc.double({ min: 0.01, max: 0.5, noNaN: true }),
    pool: fc.constantFrom("maxPool2d", "avgPool2d"), window: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })),
    poolStrides: fc.tuple(fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 2 })), poolPad: fc.tuple(fc.boolean(), fc.boolean()),
    axis: fc.integer({ min: 0, max: 2 }), sliceAt: fc.nat(), size: fc.integer({ min: 6, max: 9 }),
    loss: fc.constantFrom("mse", "softmaxCrossEntropy"), classes: fc.integer({ min: 2, max: 4 }),
    batch: fc.integer({ min: 1, max: 4 }), seed: fc.integer({ min: 0, max: 1_000_000 }),
  })
  .map((r) => {
    const g = new GraphBuilder();
    const x = g.input([r.groups * r.inPerGroup, r.size, r.size], "x");
    const conv = g.conv2d(x, r.groups * r.outPerGroup, r.kernel, { strides: r.strides, padding: r.padding, dilation: r.dilation, groups: r.groups });
    const act = r.activation === "leakyRelu" ? g.leakyRelu(conv, r.slope) : g.activation(r.activation as "gelu", conv);
    const convSize = [0, 1].map((a) => Math.floor((r.size + 2 * r.padding[a] - r.dilation[a] * (r.kernel[a] - 1) - 1) / r.strides[a]) + 1);
    const window = [0, 1].map((a) => Math.min(r.window[a], convSize[a])) as [number, number];
    const padding = [0, 1].map((a) => (r.poolPad[a] ? Math.floor(window[a] / 2) : 0)) as [number, number];
    const pooled = r.pool === "maxPool2d"
      ? g.maxPool2d(act, window, { strides: r.poolStrides, padding })
      : g.avgPool2d(act, window, { strides: r.poolStrides, padding });
    // The pooled shape, to place a slice on the chosen axis.
    const poolSize = (a: number) => Math.floor((convSize[a] + 2 * padding[a] - window[a]) / r.poolStrides[a]) + 1;
    const shape = [r.groups * r.outPerGroup, poolSize(0), poolSize(1)];
    const length = shape[r.axis];
    const begin = r.sliceAt % length;
    const part = g.slice(pooled, r.axis, begin, 1 + ((r.sliceAt >> 3) % (length - begin)));
    const joined = g.concat([pooled, part], r.axis);
    const output = g.dense(g.flatten(joined), r.classes, { name: "output" });
    return { spec: g.toSpec(output, r.loss as "mse"), family: "cnn" as const, batch: r.batch, seed: r.seed };
  });

bp("backprop equals TF.js on CNNs with any stride and dilation, groups, padded strided pools, concat and slice on every axis", async () => {
  await tfReady();
  let worst = 0;
  fc.assert(
    fc.property(attributeCnn, (drawn) => {
      const outcome = compare(drawn, "wasm-simd");
      const reference = compare(drawn, "reference-f64");
      worst = Math.max(worst, outcome.gradient, reference.gradient);
      for (const o of [outcome, reference])
        if (!(o.gradient <= allowedDivergence(GRADIENT_TOLERANCE, o.delta) && o.loss <= LOSS_TOLERANCE))
          throw new Error(`divergence ${o.gradient.toExponential(3)}, loss difference ${o.loss.toExponential(3)} on\n${describeGraph(drawn)}\n${JSON.stringify(drawn.spec.nodes.map((n) => n.attrs ?? n.shape))}`);
    }),
    { numRuns: 60 },
  );
  console.log(`  attribute CNNs (both backends): max gradient divergence ${worst.toExponential(2)} over 60 graphs`);
});

bp("the comparison sees a wrong gradient (negative control)", async () => {
  await tfReady();
  const drawn = fc.sample(familyArbitrary("dag", 4), { numRuns: 1, seed: 7 })[0];
  const source = new Graph(drawn.spec, { seed: drawn.seed, backend: "reference-f64" });
  const data = randomBatch(source, drawn.batch, drawn.seed + 1);
  try {
    const { gradients } = backprop(source, data);
    const inputs = new Map(Object.entries(data.inputs).map(([name, t]) => [name, { values: Float64Array.from(t.dataSync()), shape: [...t.shape] }]));
    const oracle = tfGradients(source, inputs, { values: Float64Array.from(data.target.dataSync()), shape: [...data.target.shape] });
    const name = graphFirstWeight(source);
    const g = gradients.get(name)!;
    const values = Float64Array.from(g.dataSync());
    values[0] += 0.01 * Math.max(...[...oracle.gradients.values()].flatMap((v) => [...v].map(Math.abs)));
    g.assign(values);
    assert.ok(divergence(gradients, oracle.gradients) > GRADIENT_TOLERANCE, "a 1% error in one entry is seen");
    for (const t of gradients.values()) t.dispose();
  } finally {
    for (const t of [...Object.values(data.inputs), data.target]) t.dispose();
    source.dispose();
  }
});

bp("an error of 1% in the parameter with the smallest gradients is seen, which a graph-relative tolerance would miss", async () => {
  await tfReady();
  const scaleOf = (values: ArrayLike<number>) => Math.max(...Array.from(values, Math.abs));
  // The first drawn graph (seeds 1, 2, ...) with a parameter whose gradients are between
  // 1e-4 (well above f32 rounding) and 2e-3 of the graph's largest.
  for (let seed = 1; seed <= 50; seed++) {
    const drawn = fc.sample(familyArbitrary("dag", 6), { numRuns: 1, seed })[0];
    const source = new Graph(drawn.spec, { seed: drawn.seed, backend: "reference-f64" });
    const data = randomBatch(source, drawn.batch, drawn.seed + 1);
    let gradients: Map<string, Tensor> | undefined;
    try {
      gradients = backprop(source, data).gradients;
      const inputs = new Map(Object.entries(data.inputs).map(([name, t]) => [name, { values: Float64Array.from(t.dataSync()), shape: [...t.shape] }]));
      const oracle = tfGradients(source, inputs, { values: Float64Array.from(data.target.dataSync()), shape: [...data.target.shape] });
      const largest = Math.max(...[...oracle.gradients.values()].map(scaleOf));
      const small = [...oracle.gradients].find(([, v]) => scaleOf(v) > 1e-4 * largest && scaleOf(v) < 2e-3 * largest);
      if (!small) continue;
      const [name, values] = small;
      const g = gradients.get(name)!;
      const wrong = Float64Array.from(g.dataSync());
      const at = Array.from(values, Math.abs).indexOf(scaleOf(values));
      wrong[at] += 0.01 * scaleOf(values);
      g.assign(wrong);
      const context = `a 1% error in ${name} (gradients up to ${scaleOf(values).toExponential(2)}, the graph's up to ${largest.toExponential(2)}, seed ${seed})`;
      const seen = divergence(gradients, oracle.gradients);
      assert.ok(seen > GRADIENT_TOLERANCE, `${context} reads ${seen}`);
      // Measured against the graph's largest gradient instead, the same error passes.
      const graphRelative = gradientDivergence(gradients, oracle.gradients);
      assert.ok(graphRelative < GRADIENT_TOLERANCE, `${context}: graph-relative ${graphRelative}`);
      return;
    } finally {
      for (const t of [...(gradients?.values() ?? []), ...Object.values(data.inputs), data.target]) t.dispose();
      source.dispose();
    }
  }
  assert.unreachable("no drawn graph has a parameter with gradients between 1e-4 and 2e-3 of the largest");
});

function graphFirstWeight(graph: Graph): string {
  return graph.parameters[0].name;
}

bp.run();
