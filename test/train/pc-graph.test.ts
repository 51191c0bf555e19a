// Training PC graphs: fit on a dataset with the existing optimizers, checkpoints in the
// versioned, checksummed container (with shapes, keys and masks checked on load), exact
// resumption, and flat memory over long runs.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { SerializationError } from "../../src/graph/errors.js";
import { GraphBuilder } from "../../src/graph/builder.js";
import { fullyConnected, hierarchical } from "../../src/pc/graph/topology.js";
import { releaseScratch } from "../../src/scratch.js";
import { memory } from "../../src/tensor.js";
import { decodeCheckpoint, decodePCGraphCheckpoint, encodeCheckpoint, encodePCGraphCheckpoint } from "../../src/train/checkpoint.js";
import { makeDataset, type Dataset } from "../../src/train/data/dataset.js";
import { createOptimizer } from "../../src/train/optimizers.js";
import { PCGraph } from "../../src/train/pc-graph.js";
import type { PCGraphCheckpoint } from "../../src/train/pc-graph-fit.js";
import { randomArray } from "../arbitraries.js";
import { leakFree } from "../util/leaks.js";

const training = suite("PC graph training");

/** Two classes of 6-pixel "images": bright left half or bright right half, with noise. */
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

training("fit learns a toy task with PC and with iPC, and reports its history", leakFree(async () => {
  for (const algorithm of ["pc", "ipc"] as const) {
    const net = new PCGraph(hierarchical([["sensory", 6, "tanh"], ["hidden", 4, "tanh"], ["label", 2]]), { seed: 1 });
    const epochs: number[] = [];
    const history = await net.fit({ train: toyData(64, 1), test: toyData(32, 2) }, {
      algorithm, epochs: 8, batchSize: 8, optimizer: { kind: "adam", learningRate: 0.03 }, seed: 3, steps: 3, gamma: 0.1,
      onEpoch: (r) => void epochs.push(r.epoch),
    });
    assert.equal(epochs, [1, 2, 3, 4, 5, 6, 7, 8]);
    const last = history.epochs[history.epochs.length - 1];
    assert.ok(last.testAccuracy! >= 0.95, `${algorithm}: accuracy ${last.testAccuracy}`);
    assert.ok(last.trainEnergy < history.epochs[0].trainEnergy, `${algorithm}: energy falls`);
    net.dispose();
  }
}));

training("a PC graph checkpoint restores topology, masks and weights; queries give the same answers", leakFree(() => {
  const net = new PCGraph(fullyConnected([["sensory", 5, "tanh"], ["hidden", 3, "leakyRelu"], ["label", 2]]), { seed: 2 });
  const optimizer = createOptimizer({ kind: "adam", learningRate: 0.01 });
  const sensory = randomArray(8 * 5, 4);
  const label = new Float32Array(8 * 2).map((_, j) => (j % 2 === (j >> 1) % 2 ? 1 : 0));
  for (let i = 0; i < 3; i++) net.learn({ clamp: { sensory, label } }, optimizer);
  const bytes = encodePCGraphCheckpoint({ model: net.model, optimizer: optimizer.state(), progress: { note: "x" } });
  const decoded = decodePCGraphCheckpoint(bytes, { source: "a.ckpt" });
  const copy = new PCGraph(decoded.model);
  assert.equal(copy.model.spec, net.model.spec);
  for (const [name, w] of net.getWeights()) assert.equal(Array.from(copy.getWeights().get(name)!), Array.from(w), name);
  const q = { clamp: { sensory: [0.9, 0.9, 0.1, 0.1, 0.5] }, read: ["label"] };
  assert.equal(Array.from(copy.query(q).values.label), Array.from(net.query(q).values.label));
  assert.equal(decoded.progress, { note: "x" });
  assert.is(decoded.optimizer.slots.length, optimizer.state().slots.length);
  // a graph checkpoint is not a PC graph checkpoint, and the reverse
  try {
    decodeCheckpoint(bytes, { source: "a.ckpt" });
    assert.unreachable();
  } catch (error) {
    assert.instance(error, SerializationError);
    assert.match((error as Error).message, /a\.ckpt: this checkpoint holds a PC graph/);
  }
  const g = new GraphBuilder();
  const graph = g.build({ output: g.dense(g.input([2]), 1), loss: "mse" });
  try {
    decodePCGraphCheckpoint(encodeCheckpoint({ graph, optimizer: { kind: "sgd", config: {}, step: 0, slots: [] }, progress: {} }), { source: "b.ckpt" });
    assert.unreachable();
  } catch (error) {
    assert.instance(error, SerializationError);
    assert.match((error as Error).message, /b\.ckpt: this checkpoint holds a "pcgraph-model" model, not a PC graph/);
  }
  graph.dispose();
  copy.dispose();
  optimizer.dispose();
  net.dispose();
}));

training("loading refuses a weight on a masked entry (a neuron predicting itself) and a flipped byte, naming the file", leakFree(() => {
  const net = new PCGraph(fullyConnected([["a", 3], ["b", 2]]), { seed: 1 });
  const bytes = encodePCGraphCheckpoint({ model: net.model, optimizer: { kind: "sgd", config: {}, step: 0, slots: [] }, progress: {} });
  const before = memory().numTensors;
  const corrupt = bytes.slice();
  corrupt[corrupt.length - 9] ^= 0x40;
  try {
    decodePCGraphCheckpoint(corrupt, { source: "c.ckpt" });
    assert.unreachable();
  } catch (error) {
    assert.match((error as Error).message, /c\.ckpt: checksum mismatch/);
  }
  // A diagonal weight set on the self edge a->a: encode a model whose mask was bypassed.
  const self = net.model.edges.find((e) => e.from.name === "a" && e.to.name === "a")!;
  const w = net.model.weight(self);
  const values = w.dataSync();
  values[0] = 0.5;
  w.assign(values);
  const bad = encodePCGraphCheckpoint({ model: net.model, optimizer: { kind: "sgd", config: {}, step: 0, slots: [] }, progress: {} });
  try {
    decodePCGraphCheckpoint(bad, { source: "d.ckpt" });
    assert.unreachable();
  } catch (error) {
    assert.instance(error, SerializationError);
    assert.match((error as Error).message, /d\.ckpt: .*edge a->a has 0\.5 at \[0, 0\], where its mask is 0 \(no neuron predicts itself\)/);
  }
  assert.is(memory().numTensors, before, "nothing half-built stays allocated");
  net.dispose();
}));

training("an interrupted fit resumed from its checkpoint ends with the same weights, bit for bit", leakFree(async () => {
  const spec = hierarchical([["sensory", 6, "tanh"], ["hidden", 4, "tanh"], ["label", 2]]);
  const data = { train: toyData(40, 5) };
  const options = { algorithm: "ipc" as const, epochs: 3, batchSize: 8, optimizer: { kind: "adam" as const, learningRate: 0.02 }, seed: 9, steps: 3 };
  const straight = new PCGraph(spec, { seed: 4 });
  await straight.fit(data, options);
  const first = new PCGraph(spec, { seed: 4 });
  const controller = new AbortController();
  let saved: Uint8Array | null = null;
  let batchesSeen = 0;
  const history = await first.fit(data, {
    ...options, signal: controller.signal, checkpointPath: "mem",
    onBatch: () => {
      if (++batchesSeen === 7) controller.abort();
    },
    saveCheckpoint: (_path: string, c: PCGraphCheckpoint) => {
      saved = encodePCGraphCheckpoint({ model: c.pcGraph.model, optimizer: c.optimizer, progress: c.progress as never });
    },
  });
  assert.ok(history.interrupted);
  const decoded = decodePCGraphCheckpoint(saved!);
  const resumed = new PCGraph(decoded.model);
  await resumed.fit(data, { ...options, seed: undefined, resume: { optimizer: decoded.optimizer, progress: decoded.progress } });
  for (const [name, w] of straight.getWeights()) assert.equal(Array.from(resumed.getWeights().get(name)!), Array.from(w), name);
  for (const n of [straight, first, resumed]) n.dispose();
}));

training("long runs keep flat memory: training (PC, iPC) and queries allocate nothing after warm-up", leakFree(() => {
  const net = new PCGraph(fullyConnected([["sensory", 16, "tanh"], ["hidden", 8, "tanh"], ["label", 4]]), { seed: 1, backend: "wasm-simd" });
  const optimizer = createOptimizer({ kind: "adam", learningRate: 1e-3 });
  const sensory = Float32Array.from(randomArray(8 * 16, 1));
  const label = new Float32Array(8 * 4).map((_, i) => (i % 5 === 0 ? 1 : 0));
  const round = () => {
    net.learn({ clamp: { sensory, label } }, optimizer, { steps: 5 });
    net.learn({ clamp: { sensory, label } }, optimizer, { algorithm: "ipc", steps: 5 });
    net.query({ clamp: { sensory }, read: ["label"], steps: 20, tolerance: 0 });
    net.query({ clamp: { sensory: { values: sensory, mask: new Array(16).fill(0).map((_, i) => (i < 8 ? 1 : 0)) } }, read: ["sensory"], steps: 20, tolerance: 0 });
  };
  for (let i = 0; i < 3; i++) round();
  const tensors = memory().numTensors;
  const reserved = net.backend.reservedBytes();
  for (let i = 0; i < 150; i++) round();
  assert.is(memory().numTensors, tensors, "live tensors");
  assert.is(net.backend.reservedBytes(), reserved, "wasm memory");
  optimizer.dispose();
  net.dispose();
  releaseScratch();
}));

training.run();
