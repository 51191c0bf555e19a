// PC graphs as a user meets them: topologies from edge lists, builders and N x N masks;
// typed errors for bad input that leave nothing half-built; options that change what they
// say; the three PRECO pitfalls; queries on one set of weights.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { InvalidArgumentError, ShapeError } from "../../src/backend/errors.js";
import { Energy, PredictionErrors } from "../../src/pc/graph/energy.js";
import { PCGraphModel } from "../../src/pc/graph/model.js";
import { relax, RelaxationError } from "../../src/pc/graph/relax.js";
import { gradientBuffers, pcLearning, type ParameterUpdater } from "../../src/pc/graph/schedules.js";
import { PCGraphState } from "../../src/pc/graph/state.js";
import { fullyConnected, hierarchical, topologyFromMask, TopologyError, type PCGraphSpec } from "../../src/pc/graph/topology.js";
import { memory, type Tensor } from "../../src/tensor.js";
import { createOptimizer } from "../../src/train/optimizers.js";
import { PCGraph } from "../../src/train/pc-graph.js";
import { randomArray } from "../arbitraries.js";
import { leakFree } from "../util/leaks.js";

const api = suite("PC graph API");

const oneHot = (labels: number[], k: number) => {
  const out = new Float32Array(labels.length * k);
  labels.forEach((l, i) => (out[i * k + l] = 1));
  return out;
};

function throwsTyped(fn: () => unknown, type: new (...a: never[]) => Error, pattern: RegExp): void {
  try {
    fn();
  } catch (error) {
    assert.instance(error, type, `expected a ${type.name}, got ${(error as Error)?.constructor?.name}: ${(error as Error)?.message}`);
    assert.match((error as Error).message, pattern);
    return;
  }
  assert.unreachable(`expected a ${type.name} matching ${pattern}`);
}

// ---- topologies --------------------------------------------------------------------------

api("builders: fully connected has every ordered pair and masked self edges; a hierarchy chains the groups either way", leakFree(() => {
  const fc = fullyConnected([["x", 3], ["h", 2], ["y", 1]]);
  assert.equal(fc.edges.map((e) => `${e.from}>${e.to}`), ["x>x", "x>h", "x>y", "h>x", "h>h", "h>y", "y>x", "y>h"]);
  const model = new PCGraphModel(fc, { seed: 1 });
  const self = model.edges.find((e) => e.from.name === "x" && e.to.name === "x")!;
  const w = model.weight(self).dataSync();
  for (let i = 0; i < 3; i++) assert.is(w[i * 3 + i], 0, "no neuron predicts itself");
  model.dispose();
  assert.equal(hierarchical([["a", 2], ["b", 2], ["c", 2]]).edges, [{ from: "a", to: "b" }, { from: "b", to: "c" }]);
  assert.equal(hierarchical([["a", 2], ["b", 2], ["c", 2]], { direction: "backward" }).edges, [{ from: "b", to: "a" }, { from: "c", to: "b" }]);
}));

api("an N x N mask is cut into blocks: the same predictions as the edge list it describes", leakFree(() => {
  const groups: [string, number][] = [["x", 3], ["h", 2], ["y", 2]];
  const n = 7;
  const mask = Array.from({ length: n }, () => new Array(n).fill(0));
  for (let i = 0; i < 3; i++) for (let j = 3; j < 5; j++) mask[i][j] = 1; // x -> h full
  for (let i = 3; i < 5; i++) for (let j = 5; j < 7; j++) mask[i][j] = 1; // h -> y full
  mask[5][3] = 1; // y -> h, one weight
  mask[3][4] = 1; // h -> h, one weight off the diagonal
  const spec = topologyFromMask(groups, mask);
  assert.equal(spec.edges.map((e) => `${e.from}>${e.to}${e.mask ? ` ${Array.from(e.mask).join("")}` : ""}`), ["x>h", "h>h 0100", "h>y", "y>h 1000"]);
  const model = new PCGraphModel(spec, { seed: 2 });
  const yh = model.edges.find((e) => e.from.name === "y" && e.to.name === "h")!;
  assert.equal(Array.from(model.weight(yh).dataSync()).map((v, i) => (i === 0 ? v !== 0 : v === 0)), [true, true, true, true], "masked entries start at zero");
  model.dispose();
}));

api("bad topologies get typed errors naming the group; nothing stays allocated", leakFree(() => {
  const before = memory().numTensors;
  throwsTyped(() => new PCGraphModel({ groups: [{ name: "a", size: 2 }], edges: [{ from: "a", to: "b" }] }), TopologyError, /group "b".*unknown group/);
  throwsTyped(() => new PCGraphModel({ groups: [{ name: "a", size: 2 }, { name: "b", size: 2 }, { name: "c", size: 1 }], edges: [{ from: "a", to: "b" }] }), TopologyError, /group "c": the group has no edges/);
  throwsTyped(() => new PCGraphModel({ groups: [{ name: "a", size: 2 }, { name: "b", size: 3 }], edges: [{ from: "a", to: "b", mask: [1, 0, 1] }] }), ShapeError, /group "a".*a->b has 3 entries, expected 2 x 3 = 6/);
  throwsTyped(() => topologyFromMask([["a", 2], ["b", 2]], [[0, 1, 1, 1], [1, 0, 1, 1], [1, 1, 1, 1], [1, 1, 1, 0]]), TopologyError, /group "b".*diagonal at unit 2.*no neuron predicts itself/);
  throwsTyped(() => topologyFromMask([["a", 2], ["b", 2]], new Array(15).fill(0)), ShapeError, /15 entries, expected 4 x 4 = 16/);
  throwsTyped(() => new PCGraphModel({ groups: [{ name: "a", size: 1 }], edges: [{ from: "a", to: "a" }] }), TopologyError, /group "a": self edge a->a on a group of one unit/);
  throwsTyped(() => new PCGraphModel({ groups: [{ name: "a", size: 2, activation: "cube" as never }, { name: "b", size: 1 }], edges: [{ from: "a", to: "b" }] }), TopologyError, /group "a": unknown activation "cube"/);
  throwsTyped(() => new PCGraphModel({ groups: [{ name: "a", size: 2 }, { name: "a", size: 1 }], edges: [] }), TopologyError, /group "a": duplicate group name/);
  throwsTyped(() => new PCGraphModel(hierarchical([["a", 2], ["b", 2]]), { weightInit: { kind: "normal", std: -1 } as never }), InvalidArgumentError, /weightInit/);
  assert.is(memory().numTensors, before);
}));

// ---- queries -------------------------------------------------------------------------------

function trainedGraph(): PCGraph {
  const net = new PCGraph(fullyConnected([["image", 4, "tanh"], ["hidden", 3, "tanh"], ["label", 2]]), { seed: 7, backend: "reference-f64" });
  const optimizer = createOptimizer({ kind: "adam", learningRate: 0.01 });
  const images = Float32Array.from(randomArray(8 * 4, 3, 0.5).map((v) => v + 0.5));
  const labels = oneHot([0, 1, 0, 1, 1, 0, 0, 1], 2);
  for (let i = 0; i < 20; i++) net.learn({ clamp: { image: images, label: labels } }, optimizer, { steps: 5 });
  optimizer.dispose();
  return net;
}

api("bad queries get typed errors naming the group, and leave the state as it was", leakFree(() => {
  const net = trainedGraph();
  const image = new Float32Array(2 * 4).fill(0.5);
  const ok = net.query({ clamp: { image }, read: ["label"] });
  const state = net.state(2);
  const before = state.values.map((v) => Array.from(v.dataSync()));
  throwsTyped(() => net.query({ clamp: { image }, read: ["image"] }), InvalidArgumentError, /group "image" is read but entirely clamped/);
  throwsTyped(() => net.query({ clamp: { image: { values: image, mask: [1, 1, 0] } }, read: ["image"] }), ShapeError, /group "image": clamp mask has 3 entries, expected 4 \(one per unit\) or 8/);
  throwsTyped(() => net.query({ clamp: { image: { values: image, mask: [1, 1, 0, 2] } }, read: ["image"] }), InvalidArgumentError, /group "image": clamp mask has 2 at entry 3/);
  const nan = image.slice();
  nan[6] = NaN;
  throwsTyped(() => net.query({ clamp: { image: nan }, read: ["label"] }), InvalidArgumentError, /group "image": clamp values has NaN at sample 1, unit 2/);
  throwsTyped(() => net.query({ clamp: { image: new Float32Array(7) }, read: ["label"] }), ShapeError, /group "image": clamp values has 7 values, not a whole number of samples of 4/);
  throwsTyped(() => net.query({ clamp: { image, label: new Float32Array(6) }, read: ["hidden"] }), ShapeError, /group "label".*3 samples, but the query has batch 2/);
  throwsTyped(() => net.query({ clamp: { pixels: image }, read: ["label"] }), InvalidArgumentError, /unknown group "pixels"/);
  throwsTyped(() => net.query({ clamp: { image }, read: ["label"], gamma: -1 }), InvalidArgumentError, /gamma must be a finite number > 0/);
  throwsTyped(() => net.query({ clamp: { image }, read: ["label"], init: "ones" as never }), InvalidArgumentError, /init must be/);
  assert.equal(state.values.map((v) => Array.from(v.dataSync())), before, "the failed queries changed nothing");
  assert.equal(Array.from(net.query({ clamp: { image }, read: ["label"] }).values.label), Array.from(ok.values.label));
  net.dispose();
}));

api("one set of weights answers classification, generation, completion and denoising queries; clamped units keep the data", leakFree(() => {
  const net = trainedGraph();
  const image = Float32Array.from([0.9, 0.1, 0.8, 0.2]);
  const classified = net.query({ clamp: { image }, read: ["label", "hidden"] });
  assert.is(classified.values.label.length, 2);
  const generated = net.query({ clamp: { label: [1, 0] }, read: ["image"] });
  assert.is(generated.values.image.length, 4);
  const completed = net.query({ clamp: { image: { values: image, mask: [1, 1, 0, 0] } }, read: ["image"] });
  assert.equal(Array.from(completed.values.image.slice(0, 2)), [Math.fround(0.9), Math.fround(0.1)].map((v) => v), "visible pixels are the data");
  const denoised = net.query({ start: { image: [0.7, 0.3, 0.6, 0.4] }, read: ["image"], steps: 3, tolerance: 0 });
  assert.not.equal(Array.from(denoised.values.image), [0.7, 0.3, 0.6, 0.4], "the noisy image moved");
  net.dispose();
}));

api("every query option changes the result: steps, gamma, tolerance, init, start, requireConvergence", leakFree(() => {
  const net = trainedGraph();
  const image = Float32Array.from([0.9, 0.1, 0.8, 0.2]);
  const base = { clamp: { image }, read: ["label"], tolerance: 0 };
  const a = net.query({ ...base, steps: 5 });
  assert.is(a.steps, 5);
  assert.not.equal(Array.from(net.query({ ...base, steps: 6 }).values.label), Array.from(a.values.label), "steps");
  assert.not.equal(Array.from(net.query({ ...base, steps: 5, gamma: 0.2 }).values.label), Array.from(a.values.label), "gamma");
  assert.not.equal(Array.from(net.query({ ...base, steps: 5, init: "zeros" }).values.label), Array.from(a.values.label), "init");
  const early = net.query({ ...base, steps: 10_000, tolerance: 1e-3 });
  assert.ok(early.converged && early.steps < 10_000 && early.residual <= 1e-3, `tolerance: ${early.steps} steps, residual ${early.residual}`);
  const started = net.query({ start: { image: [0.5, 0.5, 0.5, 0.5] }, read: ["image"], steps: 0 });
  assert.equal(Array.from(started.values.image), [0.5, 0.5, 0.5, 0.5], "start values are where relaxation starts");
  throwsTyped(() => net.query({ ...base, steps: 2, tolerance: 1e-12, requireConvergence: true }), RelaxationError, /did not converge: residual .* > tolerance 1e-12 after 2 steps/);
  net.dispose();
}));

// ---- the PRECO pitfalls ------------------------------------------------------------------

/** Records copies of every gradient map it is given, and applies plain SGD. */
class RecordingUpdater implements ParameterUpdater {
  readonly received: Map<string, Float64Array>[] = [];
  constructor(private readonly rate: number) {}
  step(model: PCGraphModel, gradients: Map<string, Tensor>): void {
    this.received.push(new Map([...gradients].map(([k, t]) => [k, Float64Array.from(t.dataSync())])));
    for (const p of model.parameters) model.backend.axpy(p.size, -this.rate, gradients.get(p.name)!.address, p.tensor.address);
  }
}

api("iPC applies each batch's own gradient at each step (not the previous batch's, computed once after inference)", leakFree(() => {
  const spec: PCGraphSpec = hierarchical([["x", 5, "tanh"], ["h", 4, "tanh"], ["y", 3]]);
  const batchA = { clamp: { x: randomArray(2 * 5, 1), y: oneHot([0, 2], 3) } };
  const batchB = { clamp: { x: randomArray(2 * 5, 2), y: oneHot([1, 1], 3) } };
  const net = new PCGraph(spec, { seed: 3, backend: "reference-f64" });
  const recorder = new RecordingUpdater(0.05);
  net.learn(batchA, recorder, { algorithm: "ipc", steps: 3 });
  const weightsBeforeB = net.getWeights();
  net.learn(batchB, recorder, { algorithm: "ipc", steps: 3 });
  assert.is(recorder.received.length, 6, "one update per inference step");
  // The first update of batch B must be PC's one-step gradient of batch B at those weights.
  const twin = new PCGraph(spec, { seed: 99, backend: "reference-f64" });
  twin.setWeights(weightsBeforeB);
  const twinRecorder = new RecordingUpdater(0.05);
  twin.learn(batchB, twinRecorder, { algorithm: "pc", steps: 1 });
  for (const [name, expected] of twinRecorder.received[0]) {
    assert.equal(Array.from(recorder.received[3].get(name)!), Array.from(expected), name);
    assert.not.equal(Array.from(recorder.received[2].get(name)!), Array.from(expected), `${name}: batch A's last gradient differs`);
  }
  net.dispose();
  twin.dispose();
}));

api("gradient clipping changes what the optimizer receives: entries within the value, the norm within the bound", leakFree(() => {
  const spec: PCGraphSpec = hierarchical([["x", 5, "tanh"], ["h", 4, "tanh"], ["y", 3]]);
  const batch = { clamp: { x: randomArray(4 * 5, 5, 3), y: oneHot([0, 2, 1, 1], 3) } };
  const run = (clip?: { value?: number; norm?: number }) => {
    const net = new PCGraph(spec, { seed: 4, backend: "reference-f64", weightInit: { kind: "normal", std: 1 } });
    try {
      const recorder = new RecordingUpdater(0.1);
      net.learn(batch, recorder, { steps: 4, clip });
      return { gradients: recorder.received[0], weights: net.getWeights() };
    } finally {
      net.dispose();
    }
  };
  const free = run();
  const largest = Math.max(...[...free.gradients.values()].flatMap((g) => Array.from(g).map(Math.abs)));
  const value = largest / 4;
  const byValue = run({ value });
  for (const g of byValue.gradients.values()) for (const v of g) assert.ok(Math.abs(v) <= value, `${v} beyond ${value}`);
  assert.not.equal([...byValue.weights.values()].map((w) => Array.from(w)), [...free.weights.values()].map((w) => Array.from(w)), "the update changed");
  const norm = Math.sqrt([...free.gradients.values()].reduce((s, g) => s + g.reduce((a, v) => a + v * v, 0), 0));
  const byNorm = run({ norm: norm / 2 });
  const clippedNorm = Math.sqrt([...byNorm.gradients.values()].reduce((s, g) => s + g.reduce((a, v) => a + v * v, 0), 0));
  assert.ok(Math.abs(clippedNorm - norm / 2) < 1e-9 * norm, `norm ${clippedNorm}, bound ${norm / 2}`);
  throwsTyped(() => run({ value: 0 }), InvalidArgumentError, /clip.value must be a finite number > 0/);
}));

api("the learning step pairs errors and activations of the same (final) values", leakFree(() => {
  // After PC's relaxation, the gradient of W_xh must be -(1/B) f(x)^T E_h with E_h
  // recomputed at the final values; pairing E from one step earlier gives another number.
  const spec: PCGraphSpec = hierarchical([["x", 3, "tanh"], ["h", 3, "tanh"], ["y", 2]]);
  const model = new PCGraphModel(spec, { seed: 5, backend: "reference-f64", weightInit: { kind: "normal", std: 1 } });
  const energy = new Energy([new PredictionErrors(model)]);
  const state = new PCGraphState(model, 2);
  const x = model.group("x"), h = model.group("h"), y = model.group("y");
  state.values[x.index].assign(randomArray(6, 8));
  state.values[y.index].assign([1, 0, 0, 1]);
  state.values[h.index].assign(randomArray(6, 9));
  for (const g of model.groups) state.valuesChanged(g);
  state.setFreedom(x, "clamped");
  state.setFreedom(y, "clamped");
  const gradients = gradientBuffers(model);
  const recorder = new RecordingUpdater(0);
  pcLearning(state, energy, recorder, gradients, { steps: 2, gamma: 0.3 });
  const hFinal = state.values[h.index].dataSync();
  const xv = state.values[x.index].dataSync();
  const w = model.getWeights().get("x->h.weight")!;
  const b = model.getWeights().get("h.bias")!;
  const expected = new Float64Array(9);
  for (let s = 0; s < 2; s++)
    for (let j = 0; j < 3; j++) {
      let mu = b[j];
      for (let i = 0; i < 3; i++) mu += Math.tanh(xv[s * 3 + i]) * w[i * 3 + j];
      const e = hFinal[s * 3 + j] - mu;
      for (let i = 0; i < 3; i++) expected[i * 3 + j] -= (Math.tanh(xv[s * 3 + i]) * e) / 2;
    }
  const got = recorder.received[0].get("x->h.weight")!;
  for (let i = 0; i < 9; i++) assert.ok(Math.abs(got[i] - expected[i]) < 1e-12, `entry ${i}: ${got[i]} vs ${expected[i]}`);
  for (const t of gradients.values()) t.dispose();
  state.dispose();
  model.dispose();
}));

api("relaxation that diverges raises a RelaxationError instead of returning NaN", leakFree(() => {
  const model = new PCGraphModel(fullyConnected([["a", 3], ["b", 3]]), { seed: 1, backend: "reference-f64", weightInit: { kind: "normal", std: 3 } });
  const state = new PCGraphState(model, 1);
  const energy = new Energy([new PredictionErrors(model)]);
  state.values[0].assign([1, 2, 3]);
  state.valuesChanged(model.groups[0]);
  throwsTyped(() => relax(state, energy, { steps: 500, gamma: 5 }), RelaxationError, /diverged/);
  state.dispose();
  model.dispose();
}));

api.run();
