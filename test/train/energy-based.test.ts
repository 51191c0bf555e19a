// Energy-based networks and nudged PC through the PC-graph API: learn with the existing
// optimizers, fit with checkpoints and exact resumption, the per-step stream with its phases,
// float32 against the float64 reference, flat memory, and bad input (typed errors that leave
// the state untouched; non-convergence reported with its residual).
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { InvalidArgumentError, ShapeError } from "../../src/backend/errors.js";
import { RelaxationError } from "../../src/pc/graph/relax.js";
import { hierarchical, TopologyError } from "../../src/pc/graph/topology.js";
import { equilibriumReference } from "../../src/reference/equilibrium.js";
import { releaseScratch } from "../../src/scratch.js";
import { memory } from "../../src/tensor.js";
import { decodePCGraphCheckpoint, encodePCGraphCheckpoint } from "../../src/train/checkpoint.js";
import { makeDataset, type Dataset } from "../../src/train/data/dataset.js";
import { EnergyBasedNetwork, layeredNetwork, nudgedPCEnergy } from "../../src/train/energy-based.js";
import { createOptimizer } from "../../src/train/optimizers.js";
import { PCGraph } from "../../src/train/pc-graph.js";
import type { PCGraphCheckpoint, PCGraphFitOptions } from "../../src/train/pc-graph-fit.js";
import { randomArray } from "../arbitraries.js";
import { leakFree } from "../util/leaks.js";

const ebm = suite("energy-based networks");

/** Two classes of 6-pixel images in [0, 1]: bright left half or bright right half, with noise. */
function toyData(size: number, seed: number): Dataset {
  const noise = randomArray(size * 6, seed, 0.15);
  const features = new Float32Array(size * 6);
  const labels = new Int32Array(size);
  for (let s = 0; s < size; s++) {
    labels[s] = s % 2;
    for (let i = 0; i < 6; i++) features[s * 6 + i] = Math.min(1, Math.max(0, ((i < 3) === (s % 2 === 0) ? 0.9 : 0.1) + noise[s * 6 + i]));
  }
  return makeDataset("toy", features, labels, [6], 2);
}

const sensory = Float64Array.from(randomArray(4 * 6, 3).map((v) => 0.5 * (v + 1)));
const label = Float64Array.from({ length: 8 }, (_, i) => (i % 2 === Math.floor(i / 2) % 2 ? 1 : 0));
const noUpdate = { step: () => {} };

ebm("learn applies the optimizer to the EqProp estimate; the state ends at the free fixed point; queries read it", leakFree(() => {
  const net = new EnergyBasedNetwork(layeredNetwork([6, 5, 2]), { seed: 1, backend: "reference-f64" });
  const before = net.getWeights();
  const optimizer = createOptimizer({ kind: "sgd", learningRate: 0.1 });
  const result = net.learn({ clamp: { sensory, label } }, optimizer, { steps: 400, gamma: 0.5, tolerance: 1e-12, equilibrium: { beta: 0.1, nudging: "symmetric" } });
  assert.equal(result.phases.map((p) => p.phase), ["free", "nudged+", "nudged-"]);
  assert.ok("converged" in result && result.converged, "every phase converged");
  const after = net.getWeights();
  for (const [name, g] of net.lastGradients!) {
    const grad = g.dataSync();
    before.get(name)!.forEach((w, i) => assert.ok(Math.abs(after.get(name)![i] - (w - 0.1 * grad[i])) < 1e-15, `${name}[${i}] moved by -lr * estimate`));
  }
  // The state holds the free fixed point of the weights it learned on.
  const state = net.state(4);
  const reference = equilibriumReference({ topology: net.model.topology, weights: before, batch: 4, clamped: { sensory }, output: "label", target: label });
  assert.ok(Math.abs(result.loss - reference.loss) < 1e-10, `loss ${result.loss} vs ${reference.loss}`);
  const hidden = state.values[net.model.group("hidden").index].dataSync();
  reference.fixedPoint.hidden.forEach((v, i) => assert.ok(Math.abs(hidden[i] - v) < 1e-9));
  const answer = net.query({ clamp: { sensory }, read: ["label"], tolerance: 1e-10, steps: 1000 });
  assert.ok(answer.converged);
  optimizer.dispose();
  net.dispose();
}));

ebm("the per-step stream reports every phase (step 0 is each phase's start), energy and the force on each group", leakFree(() => {
  const net = new EnergyBasedNetwork(layeredNetwork([6, 5, 2]), { seed: 1 });
  const events: { phase?: string; step: number; energy: number; keys: string[] }[] = [];
  net.learn({ clamp: { sensory, label } }, noUpdate, {
    steps: 10, gamma: 0.5, equilibrium: { beta: 0.5, second: { steps: 4 } }, onStep: (e) => events.push({ phase: e.phase, step: e.step, energy: e.energy, keys: Object.keys(e.errorNorms) }),
  });
  const phases = events.map((e) => e.phase);
  assert.equal([...new Set(phases)], ["free", "nudged+", "nudged-"]);
  assert.equal(events.filter((e) => e.phase === "nudged-").map((e) => e.step), [0, 1, 2, 3, 4]);
  assert.equal(events[0].keys.sort(), ["hidden", "label", "label:target"]);
  net.dispose();
}));

ebm("fit trains an energy-based network by EqProp (symmetric, one-sided) and by CHL, and nudged PC through the same interface", leakFree(async () => {
  const data = { train: toyData(64, 1), test: toyData(32, 2) };
  const runs: [string, PCGraph, Partial<PCGraphFitOptions>][] = [
    ["EqProp symmetric", new EnergyBasedNetwork(layeredNetwork([6, 8, 2]), { seed: 1 }), { equilibrium: { beta: 0.5 } }],
    ["EqProp one-sided", new EnergyBasedNetwork(layeredNetwork([6, 8, 2]), { seed: 1 }), { equilibrium: { beta: 0.5, nudging: "one-sided" } }],
    ["CHL", new EnergyBasedNetwork(layeredNetwork([6, 8, 2]), { seed: 1 }), { algorithm: "chl" }],
    ["nudged PC", new PCGraph(hierarchical([["sensory", 6], ["hidden", 8, "tanh"], ["label", 2]]), { seed: 1, energy: nudgedPCEnergy("label") }),
      { algorithm: "eqprop", equilibrium: { beta: 0.5, nudging: "one-sided" }, gamma: 0.2 }],
  ];
  for (const [name, net, extra] of runs) {
    const history = await net.fit(data, { epochs: 6, batchSize: 8, optimizer: { kind: "adam", learningRate: 0.03 }, seed: 3, steps: 40, tolerance: 1e-4,
      ...extra, equilibrium: { ...extra.equilibrium, onWarning: () => {} }, evaluation: { gamma: 0.2 } });
    const last = history.epochs[history.epochs.length - 1];
    assert.ok(last.testAccuracy! >= 0.95, `${name}: accuracy ${last.testAccuracy}`);
    net.dispose();
  }
}));

// Expectations from queries read here: the cost 1/2 |output - one-hot|^2 summed by hand, the
// argmax by hand; the losses recorded by fit are the costs of the free phases it learned from.
ebm("evaluate gives the cost and accuracy of the free fixed points; fit records the epoch's mean cost at them; a schedule that reaches rate 0 is refused", leakFree(async () => {
  const net = new EnergyBasedNetwork(layeredNetwork([6, 5, 2]), { seed: 4 });
  try {
    const data = toyData(10, 5);
    const { values } = net.query({ clamp: { sensory: data.features }, read: ["label"], steps: 80, gamma: 0.5, tolerance: 1e-6 });
    let cost = 0;
    let correct = 0;
    for (let s = 0; s < 10; s++) {
      const y = [values.label[2 * s], values.label[2 * s + 1]];
      cost += 0.5 * ((y[0] - (data.labels[s] === 0 ? 1 : 0)) ** 2 + (y[1] - (data.labels[s] === 1 ? 1 : 0)) ** 2);
      if ((y[1] > y[0] ? 1 : 0) === data.labels[s]) correct++;
    }
    const evaluation = net.evaluate(data, { steps: 80, gamma: 0.5, tolerance: 1e-6, batchSize: 4 });
    assert.ok(Math.abs(evaluation.loss - cost / 10) < 1e-6, `loss ${evaluation.loss} vs ${cost / 10}`);
    assert.is(evaluation.accuracy, correct / 10);
    const losses: number[] = [];
    const original = net.learn.bind(net);
    net.learn = (batch, updater, options) => {
      const result = original(batch, updater, options);
      losses.push(result.loss * (batch.clamp!.sensory as Float32Array).length / 6);
      return result;
    };
    const history = await net.fit({ train: data }, { epochs: 1, batchSize: 4, optimizer: { kind: "sgd", learningRate: 0.01 }, seed: 1, steps: 20, equilibrium: { beta: 0.5, onWarning: () => {} } });
    const meanCost = losses.reduce((a, b) => a + b) / 10;
    assert.ok(Math.abs(history.epochs[0].trainLoss! - meanCost) < 1e-12, `trainLoss ${history.epochs[0].trainLoss} vs ${meanCost}`);
    try {
      await net.fit({ train: data }, { epochs: 2, batchSize: 4, optimizer: { kind: "sgd", learningRate: 0.01, schedule: { kind: "cosine", totalSteps: 3 } }, seed: 1, steps: 5 });
      assert.unreachable("a cosine schedule of 3 steps in a run of 6 is refused");
    } catch (error) {
      assert.match((error as Error).message, "the learning rate would be 0 from step 4 of the 6 this run takes");
    }
  } finally {
    net.dispose();
  }
}));

ebm("an interrupted EqProp fit resumed from its checkpoint ends with the same weights, bit for bit", leakFree(async () => {
  const spec = layeredNetwork([6, 4, 2]);
  const data = { train: toyData(40, 5) };
  const options = { algorithm: "eqprop" as const, epochs: 3, batchSize: 8, optimizer: { kind: "adam" as const, learningRate: 0.02 }, seed: 9, steps: 20, equilibrium: { beta: 0.3, onWarning: () => {} } };
  const straight = new EnergyBasedNetwork(spec, { seed: 4 });
  await straight.fit(data, options);
  const first = new EnergyBasedNetwork(spec, { seed: 4 });
  const controller = new AbortController();
  let saved: Uint8Array | null = null;
  let batches = 0;
  const history = await first.fit(data, {
    ...options, signal: controller.signal, checkpointPath: "mem",
    onBatch: () => {
      if (++batches === 7) controller.abort();
    },
    saveCheckpoint: (_path: string, c: PCGraphCheckpoint) => {
      saved = encodePCGraphCheckpoint({ model: c.pcGraph.model, optimizer: c.optimizer, progress: c.progress as never });
    },
  });
  assert.ok(history.interrupted);
  const decoded = decodePCGraphCheckpoint(saved!);
  assert.is((decoded.progress as { algorithm: string }).algorithm, "eqprop");
  const resumed = new EnergyBasedNetwork(decoded.model);
  await resumed.fit(data, { ...options, seed: undefined, resume: { optimizer: decoded.optimizer, progress: decoded.progress } });
  for (const [name, w] of straight.getWeights()) assert.equal(Array.from(resumed.getWeights().get(name)!), Array.from(w), name);
  for (const n of [straight, first, resumed]) n.dispose();
}));

// Tolerance: float32 relaxation and the contrast G(x^beta) - G(x^-beta) of O(1) sums lose
// ~1e-7 |G| / beta; at beta 0.1 the symmetric estimate's own O(beta^2) error is ~1e-2, so
// within 5% of the float64 gradient; the float32 floor is stated in docs/energy-based.md.
ebm("on the float32 wasm backend the EqProp estimate is within its O(beta^2) error of the float64 reference gradient", leakFree(() => {
  const net = new EnergyBasedNetwork(layeredNetwork([6, 5, 2]), { seed: 2, backend: "wasm-simd" });
  net.learn({ clamp: { sensory, label } }, noUpdate, { steps: 2000, gamma: 0.5, tolerance: 1e-6, equilibrium: { beta: 0.1, nonConvergence: "error" } });
  const weights = net.getWeights();
  const reference = equilibriumReference({ topology: net.model.topology, weights, batch: 4, clamped: { sensory }, output: "label", target: label });
  let diff = 0;
  let size = 0;
  for (const [name, g] of net.lastGradients!) {
    const want = reference.gradients.get(name)!;
    g.dataSync().forEach((v, i) => ((diff += (v - want[i]) ** 2), (size += want[i] ** 2)));
  }
  assert.ok(Math.sqrt(diff / size) < 0.05, `relative error ${Math.sqrt(diff / size)}`);
  net.dispose();
}));

ebm("long runs keep flat memory: EqProp, CHL and queries allocate nothing after warm-up", leakFree(() => {
  const net = new EnergyBasedNetwork(layeredNetwork([6, 8, 2]), { seed: 1, backend: "wasm-simd" });
  const optimizer = createOptimizer({ kind: "adam", learningRate: 1e-3 });
  const round = () => {
    net.learn({ clamp: { sensory, label } }, optimizer, { steps: 5, equilibrium: { nonConvergence: "ignore" } });
    net.learn({ clamp: { sensory, label } }, optimizer, { algorithm: "chl", steps: 5, equilibrium: { clamp: "nudged", beta: 0.5, nonConvergence: "ignore" } });
    net.query({ clamp: { sensory }, read: ["label"], steps: 20, tolerance: 0 });
  };
  for (let i = 0; i < 3; i++) round();
  const tensors = memory().numTensors;
  const reserved = net.backend.reservedBytes();
  for (let i = 0; i < 100; i++) round();
  assert.is(memory().numTensors, tensors, "live tensors");
  assert.is(net.backend.reservedBytes(), reserved, "wasm memory");
  optimizer.dispose();
  net.dispose();
  releaseScratch();
}));

// ---- bad input ---------------------------------------------------------------------------------

function throwsTyped(fn: () => unknown, kind: abstract new (...args: never[]) => Error, pattern: RegExp): void {
  try {
    fn();
  } catch (error) {
    assert.instance(error, kind);
    assert.match((error as Error).message, pattern);
    return;
  }
  assert.unreachable(`expected ${kind.name} matching ${pattern}`);
}

ebm("beta of 0, negative or not finite is a typed error naming beta, and changes nothing", leakFree(() => {
  const net = new EnergyBasedNetwork(layeredNetwork([6, 5, 2]), { seed: 1 });
  net.learn({ clamp: { sensory, label } }, noUpdate, { steps: 5, equilibrium: { nonConvergence: "ignore" } });
  const weights = net.getWeights();
  const state = net.state(4);
  const values = state.values.map((t) => Array.from(t.dataSync()));
  const optimizer = createOptimizer({ kind: "sgd", learningRate: 0.1 });
  for (const beta of [0, -0.5, NaN, Infinity, -Infinity, "0.5" as unknown as number])
    for (const algorithm of ["eqprop", "chl"] as const)
      throwsTyped(() => net.learn({ clamp: { sensory, label } }, optimizer, { algorithm, equilibrium: { beta, ...(algorithm === "chl" ? { clamp: "nudged" } : {}) } }),
        InvalidArgumentError, /beta must be a finite number > 0/);
  throwsTyped(() => net.learn({ clamp: { sensory, label } }, optimizer, { algorithm: "chl", equilibrium: { clamp: "nudged", beta: 1.5 } }), InvalidArgumentError, /beta must be in \(0, 1\]/);
  throwsTyped(() => net.learn({ clamp: { sensory, label } }, optimizer, { algorithm: "chl", equilibrium: { beta: 0.5 } }), InvalidArgumentError, /full clamp has no beta/);
  throwsTyped(() => net.learn({ clamp: { sensory, label } }, optimizer, { equilibrium: { nudging: "both" as never } }), InvalidArgumentError, /nudging must be/);
  for (const [name, w] of net.getWeights()) assert.equal(Array.from(w), Array.from(weights.get(name)!), `${name} unchanged`);
  state.values.forEach((t, i) => assert.equal(Array.from(t.dataSync()), values[i], "values unchanged"));
  optimizer.dispose();
  net.dispose();
}));

ebm("asymmetric weights are refused: both directions of a pair, and lateral weights that are not symmetric", leakFree(() => {
  const before = memory().numTensors;
  throwsTyped(() => new EnergyBasedNetwork({ groups: [{ name: "sensory", size: 3 }, { name: "label", size: 2 }], edges: [{ from: "sensory", to: "label" }, { from: "label", to: "sensory" }] }),
    TopologyError, /edges sensory->label and label->sensory both couple the pair: .*one symmetric weight per pair/);
  assert.is(memory().numTensors, before, "nothing half-built stays allocated");
  const net = new EnergyBasedNetwork({
    groups: [{ name: "sensory", size: 3, activation: "hardSigmoid" }, { name: "hidden", size: 3, activation: "hardSigmoid" }, { name: "label", size: 2, activation: "hardSigmoid" }],
    edges: [{ from: "sensory", to: "hidden" }, { from: "hidden", to: "hidden" }, { from: "hidden", to: "label" }],
  }, { seed: 1 });
  const lateral = net.getWeights().get("hidden->hidden.weight")!;
  for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) assert.is(lateral[i * 3 + j], lateral[j * 3 + i], "initial lateral weights are symmetric");
  const asymmetric = Float64Array.from(lateral);
  asymmetric[1] = asymmetric[3] + 0.25;
  throwsTyped(() => net.setWeights(new Map([["hidden->hidden.weight", asymmetric]]), { partial: true }), InvalidArgumentError,
    /edge hidden->hidden: the weights are not symmetric: \[1, 0\] = .* but \[0, 1\] = /);
  assert.equal(Array.from(net.getWeights().get("hidden->hidden.weight")!), Array.from(lateral), "unchanged");
  net.dispose();
}));

ebm("a feedback gain must be a finite number > 0 and needs a layered network (a skip edge is named); the level weights follow the layers", leakFree(() => {
  const before = memory().numTensors;
  for (const bad of [0, -0.5, NaN, Infinity]) throwsTyped(() => new EnergyBasedNetwork(layeredNetwork([4, 3, 2]), { feedbackGain: bad }), InvalidArgumentError, /feedbackGain must be a finite number > 0/);
  const skip = {
    groups: [{ name: "sensory", size: 4 }, { name: "hidden", size: 3 }, { name: "label", size: 2 }],
    edges: [{ from: "sensory", to: "hidden" }, { from: "hidden", to: "label" }, { from: "sensory", to: "label" }],
  };
  throwsTyped(() => new EnergyBasedNetwork(skip, { feedbackGain: 0.1 }), TopologyError, /the edge (sensory->label|hidden->label|sensory->hidden) closes a path of another length \(a skip edge or a cycle\)/);
  assert.is(memory().numTensors, before, "nothing half-built stays allocated");
  new EnergyBasedNetwork(skip, { feedbackGain: 1 }).dispose(); // symmetric feedback takes any graph
  const net = new EnergyBasedNetwork(layeredNetwork([4, 3, 3, 2]), { feedbackGain: 0.1, seed: 1 });
  assert.equal(Array.from(net.hopfield.levelWeights).map((a) => Number(a.toPrecision(12))), [1000, 100, 10, 1], "a_g = g^-(levels below the output)");
  net.dispose();
}));

ebm("an energy-based network refuses PC and iPC; EqProp needs a nudged loss and the target", leakFree(() => {
  const net = new EnergyBasedNetwork(layeredNetwork([6, 5, 2]), { seed: 1 });
  throwsTyped(() => net.learn({ clamp: { sensory, label } }, noUpdate, { algorithm: "pc" }), InvalidArgumentError, /learns by "eqprop" or "chl", not "pc"/);
  throwsTyped(() => net.learn({ clamp: { sensory } }, noUpdate), InvalidArgumentError, /no data for the nudged group "label"/);
  throwsTyped(() => net.learn({ clamp: { sensory, label: label.slice(0, 6) } }, noUpdate), ShapeError, /group "label"/);
  const bad = Float64Array.from(label);
  bad[5] = NaN;
  throwsTyped(() => net.learn({ clamp: { sensory, label: bad } }, noUpdate), InvalidArgumentError, /group "label": the target has NaN at sample 2, unit 1/);
  net.dispose();
  const plain = new PCGraph(hierarchical([["sensory", 6], ["label", 2]]), { seed: 1 });
  throwsTyped(() => plain.learn({ clamp: { sensory, label } }, noUpdate, { algorithm: "eqprop" }), InvalidArgumentError, /needs a nudged loss in the energy/);
  plain.dispose();
}));

ebm("a relaxation that does not converge is reported with its residual: a warning, a RelaxationError, or nothing, as asked", leakFree(() => {
  const net = new EnergyBasedNetwork(layeredNetwork([6, 5, 2]), { seed: 1 });
  const warnings: string[] = [];
  const result = net.learn({ clamp: { sensory, label } }, noUpdate, { steps: 2, tolerance: 1e-9, equilibrium: { onWarning: (m) => warnings.push(m) } });
  assert.ok("converged" in result && !result.converged);
  assert.ok(result.residual > 1e-9);
  assert.is(warnings.length, 3, "one warning per phase");
  assert.match(warnings[0], /EqProp: the free phase did not converge: residual \d\.\d+e-\d+ > tolerance 1e-9 after 2 steps/);
  try {
    net.learn({ clamp: { sensory, label } }, noUpdate, { steps: 2, tolerance: 1e-9, equilibrium: { nonConvergence: "error" } });
    assert.unreachable("expected a RelaxationError");
  } catch (error) {
    assert.instance(error, RelaxationError);
    assert.ok((error as RelaxationError).result.residual > 1e-9, "the error carries the residual");
  }
  warnings.length = 0;
  net.learn({ clamp: { sensory, label } }, noUpdate, { steps: 2, tolerance: 1e-9, equilibrium: { nonConvergence: "ignore", onWarning: (m) => warnings.push(m) } });
  assert.is(warnings.length, 0);
  // After a failed phase the output is free again and the nudge is off.
  const answer = net.query({ clamp: { sensory }, read: ["label"] });
  assert.ok(answer.converged);
  net.dispose();
}));

ebm.run();
