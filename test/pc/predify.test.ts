// Predify's claims, each against an oracle independent of the code under test:
// - beta = 1, lambda = 0, alpha = 0 gives the feedforward network exactly, at every step,
//   on random graphs (oracle: the plain forward pass, `predict`);
// - the error-gradient term is the gradient of the reconstruction error (central finite
//   differences in float64 of the decoders' forward rules);
// - the whole recurrence equals a float64 reference written here by hand for an MLP with
//   dense decoders (closed-form gradients, the update rule as the paper states it);
// - the decoder gradients for training equal finite differences of the reconstruction loss.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import fc from "fast-check";
import { GraphBuilder } from "../../src/graph/builder.js";
import { predict } from "../../src/graph/forward.js";
import { Graph, type GraphNode } from "../../src/graph/graph.js";
import { predify, type PredifiedNetwork } from "../../src/pc/predify.js";
import { fitTransposedConv } from "../../src/pc/predify-decoders.js";
import { PredifyConfigError, type PcoderConfig, type PredifyConfig } from "../../src/pc/predify-config.js";
import { randomBatch } from "../../src/pc/random-graph.js";
import { tensor, type Tensor } from "../../src/tensor.js";
import { describeGraph, graphArbitrary, randomArray } from "../arbitraries.js";
import { leakChecked } from "../util/leaks.js";

const predifySuite = suite("predify");
const test = leakChecked(predifySuite);

function ancestors(node: GraphNode): GraphNode[] {
  const seen = new Set<GraphNode>();
  const stack = [...node.inputs];
  while (stack.length) {
    const n = stack.pop()!;
    if (seen.has(n)) continue;
    seen.add(n);
    stack.push(...n.inputs);
  }
  return [...seen];
}

type Smooth = "tanh" | "sigmoid" | undefined;

/**
 * Up to three pcoders on distinct nodes of a built graph, each predicting a distinct node
 * upstream of it (so some pcoders feed back into others), with a transposed-conv decoder
 * where one fits and a dense one otherwise; decoder activations are smooth (for finite
 * differences).
 */
function randomPcoders(graph: Graph, choices: number[]): PcoderConfig[] {
  let c = 0;
  const next = (n: number) => choices[c++ % choices.length] % n;
  const candidates = graph.nodes.filter((n) => !n.isInput && ancestors(n).length > 0);
  const pcoders: PcoderConfig[] = [];
  const used = new Set<string>();
  const targets = new Set<string>();
  const count = 1 + next(3);
  for (let i = 0; i < count && candidates.length > 0; i++) {
    const node = candidates.splice(next(candidates.length), 1)[0];
    if (used.has(node.name)) continue;
    const below = ancestors(node).filter((a) => !targets.has(a.name));
    if (below.length === 0) continue;
    const target = below[next(below.length)];
    const activation = (["tanh", "sigmoid", undefined] as Smooth[])[next(3)];
    let decoder: PcoderConfig["decoder"] = { kind: "dense", activation };
    if (node.shape.length === 3 && target.shape.length === 3) {
      const conv = { kind: "conv2dTranspose" as const, kernelSize: 1 + next(3), activation };
      if (fitTransposedConv(node.shape, target.shape, conv)) decoder = conv;
    }
    pcoders.push({ node: node.name, target: target.name, decoder });
    used.add(node.name);
    targets.add(target.name);
  }
  return pcoders;
}

const caseArb = fc.record({ drawn: graphArbitrary(6), choices: fc.array(fc.nat(1000), { minLength: 8, maxLength: 8 }) });

function withCase<T>(drawn: ReturnType<typeof graphArbitrary> extends fc.Arbitrary<infer R> ? R : never, choices: number[],
  backend: "reference-f64" | "wasm-simd", extra: Partial<PredifyConfig>,
  body: (graph: Graph, net: PredifiedNetwork, inputs: Record<string, Tensor>) => T): T | undefined {
  const graph = new Graph(drawn.spec, { seed: drawn.seed, backend });
  const batch = randomBatch(graph, Math.min(drawn.batch, 4), drawn.seed + 1);
  let net: PredifiedNetwork | undefined;
  try {
    const pcoders = randomPcoders(graph, choices);
    if (pcoders.length === 0) return undefined;
    net = predify(graph, { pcoders, seed: drawn.seed, ...extra });
    return body(graph, net, batch.inputs);
  } finally {
    net?.dispose();
    for (const t of [...Object.values(batch.inputs), batch.target]) t.dispose();
    graph.dispose();
  }
}

for (const backend of ["reference-f64", "wasm-simd"] as const)
  test(`with beta = 1, lambda = 0, alpha = 0 the predified network equals the feedforward one exactly at every step (${backend})`, () => {
    fc.assert(fc.property(caseArb, ({ drawn, choices }) => {
      withCase(drawn, choices, backend, { beta: 1, lambda: 0, alpha: 0 }, (graph, net, inputs) => {
        const expected = predict(graph, inputs);
        try {
          const want = Array.from(expected.dataSync());
          let count = 0;
          for (const s of net.steps(inputs, 4)) {
            assert.equal(Array.from(s.prediction.dataSync()), want, `step ${s.step}\n${describeGraph(drawn)}\n${JSON.stringify(net.config.pcoders)}`);
            count++;
          }
          assert.is(count, 5);
        } finally {
          expected.dispose();
        }
      });
    }), { numRuns: backend === "wasm-simd" ? 40 : 60 });
  });

test("the equality is not vacuous: lambda > 0 or alpha > 0 moves the output after step 0 (negative control)", () => {
  const g = new GraphBuilder();
  const x = g.input([6], "x");
  const h1 = g.tanh(g.dense(x, 5), "h1");
  const h2 = g.tanh(g.dense(h1, 4), "h2");
  const graph = g.build({ output: g.dense(h2, 3), loss: "mse", seed: 3, backend: "reference-f64" });
  const inputs = tensor(randomArray(12, 9), [2, 6], { backend: "reference-f64" });
  const feedforward = predict(graph, inputs);
  const expected = Array.from(feedforward.dataSync());
  feedforward.dispose();
  const config = (lambda: number, alpha: number): PredifyConfig => ({
    beta: 0.5, lambda, alpha,
    pcoders: [{ node: "h1", target: "x", decoder: { kind: "dense" } }, { node: "h2", target: "h1", decoder: { kind: "dense" } }],
  });
  // With neither feedback nor gradient, memory only mixes r with the same feedforward drive: a fixed point.
  for (const [label, lambda, alpha, moves] of [["lambda", 0.3, 0, true], ["alpha", 0, 0.5, true], ["memory only", 0, 0, false]] as const) {
    const net = predify(graph, config(lambda, alpha));
    const run = net.run(inputs, 2);
    assert.equal(Array.from(run.predictions[0].dataSync()), expected, `${label}: step 0 is feedforward`);
    const last = Array.from(run.predictions[2].dataSync());
    if (moves) assert.not.equal(last, expected, `${label}: step 2 moved`);
    else assert.equal(last, expected, `${label}: step 2 stayed`);
    for (const t of run.predictions) t.dispose();
    net.dispose();
  }
  graph.dispose();
  inputs.dispose();
});

/** Sum over the batch of each sample's MSE between the target and the decoder chain's output from r (plain forward rules). */
function reconstructionSum(net: PredifiedNetwork, i: number, r: Tensor): number {
  const p = net.pcoders[i];
  const state = net.lastState!;
  let input = r;
  const owned: Tensor[] = [];
  for (const v of p.decoder) {
    const out = state.value[v.index].clone();
    owned.push(out);
    v.op!.forward([input], v.params.map((q) => q.tensor), out);
    input = out;
  }
  const prediction = input.dataSync();
  const target = state.value[p.target.index].dataSync();
  let total = 0;
  for (let j = 0; j < target.length; j++) total += (target[j] - prediction[j]) ** 2;
  for (const t of owned) t.dispose();
  return total / p.targetSize;
}

// Central differences with h = 1e-5 in float64: truncation ~h^2 |E'''| and rounding
// ~1e-16 |E| / h, both below 1e-9 of the gradient's scale here; 1e-6 of the largest entry
// (plus 1e-12) leaves margin and still sees any wrong factor (2/n, a sign, a missed chain link).
test("the error-gradient term equals the gradient of the reconstruction error (central differences, float64)", () => {
  fc.assert(fc.property(caseArb, fc.integer({ min: 0, max: 3 }), ({ drawn, choices }, stopAt) => {
    withCase(drawn, choices, "reference-f64", { beta: 0.6, lambda: 0.2, alpha: 0.3 }, (_graph, net, inputs) => {
      for (const s of net.steps(inputs, stopAt)) void s;
      net.pcoders.forEach((p, i) => {
        const r = net.representation(i).clone();
        const gradient = net.errorGradient(i).dataSync();
        const values = Float64Array.from(r.dataSync());
        const fd = new Float64Array(values.length);
        const h = 1e-5;
        for (let j = 0; j < values.length; j++) {
          r.backend.write(r.address + j, [values[j] + h]);
          const plus = reconstructionSum(net, i, r);
          r.backend.write(r.address + j, [values[j] - h]);
          const minus = reconstructionSum(net, i, r);
          r.backend.write(r.address + j, [values[j]]);
          fd[j] = (plus - minus) / (2 * h);
        }
        r.dispose();
        const scale = Math.max(...fd.map(Math.abs));
        for (let j = 0; j < fd.length; j++)
          if (!(Math.abs(gradient[j] - fd[j]) <= 1e-6 * scale + 1e-12))
            throw new Error(`pcoder ${p.name} entry ${j}: ${gradient[j]} vs finite difference ${fd[j]} (scale ${scale}) at step ${stopAt}\n` +
              `${describeGraph(drawn)}\n${JSON.stringify(net.config.pcoders)}`);
      });
    });
  }), { numRuns: 40 });
});

// ---- a float64 reference written from the paper's equations ---------------------------------

type Matrix = { rows: number; cols: number; data: Float64Array };
const matrix = (rows: number, cols: number, data: ArrayLike<number>): Matrix => ({ rows, cols, data: Float64Array.from(data) });

/** y[b] = x[b] W + bias, rows of x are samples. */
function affine(x: Matrix, w: Matrix, bias: Float64Array): Matrix {
  const out = matrix(x.rows, w.cols, new Float64Array(x.rows * w.cols));
  for (let b = 0; b < x.rows; b++)
    for (let j = 0; j < w.cols; j++) {
      let s = bias[j];
      for (let k = 0; k < x.cols; k++) s += x.data[b * x.cols + k] * w.data[k * w.cols + j];
      out.data[b * w.cols + j] = s;
    }
  return out;
}
const map = (m: Matrix, f: (v: number, i: number) => number) => matrix(m.rows, m.cols, m.data.map(f));
/** g[b] = -(2/n) (e[b] * slope[b]) W^T: d/dr of |target - act(r W + c)|^2 / n for each sample. */
function decoderGradient(e: Matrix, slope: Matrix, w: Matrix): Matrix {
  const out = matrix(e.rows, w.rows, new Float64Array(e.rows * w.rows));
  const n = e.cols;
  for (let b = 0; b < e.rows; b++)
    for (let k = 0; k < w.rows; k++) {
      let s = 0;
      for (let j = 0; j < w.cols; j++) s += e.data[b * n + j] * slope.data[b * n + j] * w.data[k * w.cols + j];
      out.data[b * w.rows + k] = (-2 / n) * s;
    }
  return out;
}

test("the recurrence equals a float64 reference of the paper's update rule (MLP, two pcoders, dense decoders)", () => {
  const g = new GraphBuilder();
  const x = g.input([5], "x");
  const h1 = g.tanh(g.dense(x, 4, { name: "d1" }), "h1");
  const h2 = g.tanh(g.dense(h1, 3, { name: "d2" }), "h2");
  const graph = g.build({ output: g.dense(h2, 2, { name: "out" }), loss: "mse", seed: 11, backend: "reference-f64" });
  const config: PredifyConfig = {
    beta: 0.7, lambda: 0.2, alpha: 0.4, seed: 5,
    pcoders: [
      { name: "low", node: "h1", target: "x", decoder: { kind: "dense" } },
      { name: "high", node: "h2", target: "h1", decoder: { kind: "dense", activation: "tanh" }, beta: 0.5, alpha: 0.9 },
    ],
  };
  const net = predify(graph, config);
  const batch = 3;
  const data = randomArray(batch * 5, 21);
  const inputs = tensor(data, [batch, 5], { backend: "reference-f64" });
  const W = net.graph.getWeights();
  const m = (name: string, rows: number, cols: number) => matrix(rows, cols, W.get(name)!);
  const [W1, W2, W3] = [m("d1.weight", 5, 4), m("d2.weight", 4, 3), m("out.weight", 3, 2)];
  const [D1, D2] = [m("low.decoder.weight", 4, 5), m("high.decoder.weight", 3, 4)];
  const [b1, b2, b3, c1, c2] = ["d1.bias", "d2.bias", "out.bias", "low.decoder.bias", "high.decoder.bias"].map((n) => W.get(n)!);
  const X = matrix(batch, 5, data);
  // Step 0: feedforward.
  let r1 = map(affine(X, W1, b1), Math.tanh);
  let r2 = map(affine(r1, W2, b2), Math.tanh);
  const expected: number[][] = [];
  const reconstruct = () => {
    const p1 = affine(r1, D1, c1);
    const e1 = map(p1, (v, i) => X.data[i] - v);
    const p2 = map(affine(r2, D2, c2), Math.tanh);
    const e2 = map(p2, (v, i) => r1.data[i] - v);
    return {
      fb: p2, // high's prediction of h1: low's feedback
      g1: decoderGradient(e1, map(e1, () => 1), D1),
      g2: decoderGradient(e2, map(p2, (v) => 1 - v * v), D2),
      errors: [e1, e2].map((e) => e.data.reduce((s, v) => s + v * v, 0) / (e.cols * batch)),
    };
  };
  let rec = reconstruct();
  const energies = [rec.errors[0] + rec.errors[1]];
  expected.push(Array.from(affine(r2, W3, b3).data));
  for (let t = 1; t <= 4; t++) {
    // low: beta 0.7, lambda 0.2, alpha 0.4; high: beta 0.5, no feedback (lambda 0), alpha 0.9.
    const ff1 = map(affine(X, W1, b1), Math.tanh);
    r1 = map(ff1, (v, i) => 0.7 * v + 0.2 * rec.fb.data[i] + 0.1 * r1.data[i] - 0.4 * rec.g1.data[i]);
    const ff2 = map(affine(r1, W2, b2), Math.tanh);
    r2 = map(ff2, (v, i) => 0.5 * v + 0.5 * r2.data[i] - 0.9 * rec.g2.data[i]);
    expected.push(Array.from(affine(r2, W3, b3).data));
    rec = reconstruct();
    energies.push(rec.errors[0] + rec.errors[1]);
  }
  assert.equal(net.pcoders.map((p) => [p.name, p.rates, p.feedbackFrom?.name ?? null]), [
    ["low", { beta: 0.7, lambda: 0.2, alpha: 0.4 }, "high"],
    ["high", { beta: 0.5, lambda: 0, alpha: 0.9 }, null],
  ]);
  const run = net.run(inputs, 4);
  // float64: the same operations in a different order; 1e-12 of values of order 1.
  run.predictions.forEach((p, t) => {
    const actual = p.dataSync();
    expected[t].forEach((v, j) => assert.ok(Math.abs(actual[j] - v) <= 1e-12, `step ${t} entry ${j}: ${actual[j]} vs ${v}`));
  });
  run.energies.forEach((e, t) => assert.ok(Math.abs(e - energies[t]) <= 1e-12 * Math.max(1, energies[t]), `energy at step ${t}: ${e} vs ${energies[t]}`));
  assert.ok(Math.abs(expected[4][0] - expected[0][0]) > 1e-3, "the dynamics moved the output (the comparison is not vacuous)");
  for (const t of run.predictions) t.dispose();
  inputs.dispose();
  net.dispose();
  graph.dispose();
});

// ---- decoder training gradients ---------------------------------------------------------------

test("decoder gradients equal central differences of the batch-mean reconstruction loss; the feedforward weights get none", () => {
  const g = new GraphBuilder();
  const x = g.input([1, 6, 6], "x");
  const c1 = g.relu(g.conv2d(x, 2, 3, { padding: "same" }), "c1");
  const c2 = g.tanh(g.conv2d(g.avgPool2d(c1, 2), 3, 3, { padding: "same" }), "c2");
  const graph = g.build({ output: g.dense(g.flatten(c2), 2), loss: "mse", seed: 4, backend: "reference-f64" });
  const net = predify(graph, {
    pcoders: [
      { node: "c1", target: "x", decoder: { kind: "conv2dTranspose", kernelSize: 3 } },
      { node: "c2", target: "c1", decoder: { kind: "conv2dTranspose", kernelSize: 4, activation: "sigmoid" } },
    ],
  });
  const inputs = tensor(randomArray(2 * 36, 8), [2, 1, 6, 6], { backend: "reference-f64" });
  const { gradients } = net.reconstructionGradients(inputs);
  assert.equal([...gradients.keys()].sort(), net.decoderParameters.map((p) => p.name).sort());
  const loss = () => net.reconstructionGradients(inputs).loss;
  for (const p of net.decoderParameters) {
    const analytic = Float64Array.from(gradients.get(p.name)!.dataSync());
    const values = Float64Array.from(p.tensor.dataSync());
    const h = 1e-6;
    let scale = 0;
    const fd = values.map((v, j) => {
      p.tensor.backend.write(p.tensor.address + j, [v + h]);
      const plus = loss();
      p.tensor.backend.write(p.tensor.address + j, [v - h]);
      const minus = loss();
      p.tensor.backend.write(p.tensor.address + j, [v]);
      const d = (plus - minus) / (2 * h);
      scale = Math.max(scale, Math.abs(d));
      return d;
    });
    fd.forEach((d, j) => assert.ok(Math.abs(analytic[j] - d) <= 1e-6 * scale + 1e-12, `${p.name}[${j}]: ${analytic[j]} vs ${d}`));
  }
  inputs.dispose();
  net.dispose();
  graph.dispose();
});

// ---- the stream -------------------------------------------------------------------------------

test("the step stream reports T + 1 steps with each pcoder's error; a newer stream ends the older one", () => {
  const g = new GraphBuilder();
  const x = g.input([4], "x");
  const h = g.relu(g.dense(x, 6), "h");
  const graph = g.build({ output: g.dense(h, 3), loss: "mse", seed: 1, backend: "wasm-simd" });
  const net = predify(graph, { steps: 3, pcoders: [{ node: "h", target: "x", decoder: { kind: "dense" } }] });
  const inputs = tensor(randomArray(8, 3), [2, 4], { backend: "wasm-simd" });
  const steps = [...net.steps(inputs)].map((s) => ({ step: s.step, energy: s.energy, errors: s.reconstructionErrors }));
  assert.equal(steps.map((s) => s.step), [0, 1, 2, 3]);
  for (const s of steps) {
    assert.is(s.errors.length, 1);
    assert.ok(Number.isFinite(s.energy) && s.energy === s.errors[0]);
  }
  const first = net.steps(inputs, 5);
  first.next();
  const second = net.steps(inputs, 1);
  second.next();
  assert.throws(() => first.next(), /newer run/);
  [...second];
  inputs.dispose();
  net.dispose();
  graph.dispose();
});

// ---- configs that do not fit the graph --------------------------------------------------------

function cnnGraph(): Graph {
  const g = new GraphBuilder();
  const x = g.input([1, 8, 8], "x");
  const c1 = g.relu(g.conv2d(x, 3, 3, { padding: "same" }), "c1");
  const c2 = g.relu(g.conv2d(g.maxPool2d(c1, 2), 4, 3, { padding: "same" }), "c2");
  const h = g.relu(g.dense(g.flatten(c2), 5), "h");
  return g.build({ output: g.dense(h, 2, { name: "out" }), loss: "softmaxCrossEntropy", seed: 2, backend: "reference-f64" });
}

const good = (): PredifyConfig => ({
  pcoders: [
    { node: "c1", target: "x", decoder: { kind: "conv2dTranspose", kernelSize: 3 } },
    { node: "c2", target: "c1", decoder: { kind: "conv2dTranspose", kernelSize: 4, activation: "relu" } },
    { node: "h", target: "c2", decoder: { kind: "dense", activation: "relu" } },
  ],
});

test("bad configs are typed errors naming the field: unknown node, shape mismatch, beta + lambda > 1, negative rates, ...", () => {
  const graph = cnnGraph();
  const expectField = (mutate: (c: PredifyConfig) => void, field: string, pattern: RegExp) => {
    const config = good();
    mutate(config);
    try {
      predify(graph, config).dispose();
      assert.unreachable(`accepted ${JSON.stringify(config)}`);
    } catch (error) {
      if (!(error instanceof PredifyConfigError)) throw error;
      assert.is(error.field, field, error.message);
      assert.match(error.message, pattern);
      assert.ok(error.message.includes(field), error.message);
    }
  };
  expectField((c) => (c.pcoders[1].node = "nope"), "pcoders[1].node", /no node "nope"/);
  expectField((c) => (c.pcoders[0].target = "ghost"), "pcoders[0].target", /no node "ghost"/);
  expectField((c) => (c.pcoders[1].decoder = { kind: "conv2dTranspose", kernelSize: 3, strides: 1, padding: 0 }), "pcoders[1].decoder", /\[3,8,8\]/);
  expectField((c) => (c.pcoders[2].decoder = { kind: "conv2dTranspose", kernelSize: 3 }), "pcoders[2].decoder.kind", /dense decoder/);
  expectField((c) => { c.beta = 0.8; c.lambda = 0.3; }, "lambda", /exceeds 1/);
  expectField((c) => (c.pcoders[0].beta = 0.95), "pcoders[0].beta", /exceeds 1/);
  expectField((c) => (c.alpha = -0.01), "alpha", />= 0/);
  expectField((c) => (c.pcoders[1].lambda = -1), "pcoders[1].lambda", />= 0/);
  expectField((c) => (c.pcoders[2].lambda = 0.1), "pcoders[2].lambda", /no feedback/);
  expectField((c) => (c.pcoders[0].target = "c2"), "pcoders[0].target", /not below/);
  expectField((c) => (c.pcoders[2].target = "c1"), "pcoders[2].target", /both predict "c1"/);
  expectField((c) => (c.pcoders[1].node = "x"), "pcoders[1].node", /is an input/);
  expectField((c) => (c.pcoders[0].node = "x"), "pcoders[0].target", /its own node/);
  expectField((c) => (c.pcoders[1].name = "pcoder1"), "pcoders[1].name", /two pcoders/);
  expectField((c) => (c.pcoders[2].node = "c1"), "pcoders[2].node", /two pcoders/);
  expectField((c) => ((c.pcoders[0].decoder as { kernelSize: unknown }).kernelSize = [3]), "pcoders[0].decoder.kernelSize", /pair/);
  expectField((c) => ((c.pcoders[0].decoder as { kind: string }).kind = "deconv"), "pcoders[0].decoder.kind", /"conv2dTranspose", "dense"/);
  expectField((c) => ((c as { step?: number }).step = 3), "step", /not a known field/);
  expectField((c) => ((c.pcoders[0] as { note?: string }).note = "x"), "pcoders[0].note", /not a known field/);
  expectField((c) => ((c as { beta?: unknown }).beta = "0.8"), "beta", /number/);
  expectField((c) => (c.pcoders[0].beta = Number.NaN), "pcoders[0].beta", /number/);
  expectField((c) => (c.pcoders = []), "pcoders", /at least 1/);
  const net = predify(graph, good());
  const other = good();
  other.pcoders[0].decoder = { kind: "conv2dTranspose", kernelSize: 5 };
  assert.throws(() => predify(net.graph, other), (e: unknown) => e instanceof PredifyConfigError && e.field === "pcoders[0].name" &&
    /already has a node "pcoder1.decoder"/.test(e.message));
  assert.throws(() => net.setRates({ beta: 0.95 }), (e: unknown) => e instanceof PredifyConfigError && /exceeds 1/.test((e as Error).message));
  assert.throws(() => net.setRates({ pcoders: { pcoder3: { lambda: 0.2 } } }), /no feedback/);
  assert.throws(() => net.setRates({ pcoders: { nobody: { beta: 0.5 } } }), /no pcoder is named "nobody"/);
  net.setRates({ beta: 0.6, lambda: 0.3, pcoders: { pcoder2: { alpha: 2 } } });
  assert.equal(net.pcoders.map((p) => p.rates), [
    { beta: 0.6, lambda: 0.3, alpha: 0.01 }, { beta: 0.6, lambda: 0.3, alpha: 2 }, { beta: 0.6, lambda: 0, alpha: 0.01 },
  ]);
  net.dispose();
  graph.dispose();
});

test("a predified graph (decoders included) predifies again with its decoders' weights; the backbone is left unchanged", () => {
  const graph = cnnGraph();
  const before = graph.getWeights();
  const net = predify(graph, good());
  assert.equal(graph.getWeights(), before, "predify does not write into the given graph");
  for (const [name, w] of before) assert.equal(Array.from(net.graph.getWeights().get(name)!), Array.from(w), name);
  const again = predify(net.graph, { ...good(), seed: 99 });
  assert.equal(again.graph.getWeights(), net.graph.getWeights(), "decoders kept, not re-initialised with the new seed");
  again.dispose();
  // Another activation on the same decoder: a new node after the kept one, and the old one is not used.
  const changed = good();
  changed.pcoders[1].decoder = { kind: "conv2dTranspose", kernelSize: 4, activation: "tanh" };
  const other = predify(net.graph, changed);
  assert.equal(other.pcoders[1].decoder.map((v) => v.name), ["pcoder2.decoder", "pcoder2.decoder.tanh"]);
  other.dispose();
  net.dispose();
  graph.dispose();
});

predifySuite.run();
