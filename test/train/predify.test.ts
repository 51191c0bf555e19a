// Decoder training with the feedforward weights frozen, its checkpoints and exact resumption,
// and the accuracy-per-step evaluation under input corruptions.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { GraphBuilder } from "../../src/graph/builder.js";
import type { Graph } from "../../src/graph/graph.js";
import { predify } from "../../src/pc/predify.js";
import type { PredifyConfig } from "../../src/pc/predify-config.js";
import { Random } from "../../src/random.js";
import { decodeCheckpoint, encodeCheckpoint, type CheckpointData } from "../../src/train/checkpoint.js";
import { corrupt, corruptedDataset } from "../../src/train/data/corruptions.js";
import { makeDataset, type Dataset } from "../../src/train/data/dataset.js";
import { evaluate } from "../../src/train/evaluate.js";
import { evaluateOverSteps, predifiedFromCheckpoint, reconstructionLoss, trainDecoders } from "../../src/train/predify.js";
import { leakChecked } from "../util/leaks.js";

const predifyTraining = suite("predify training");
const test = leakChecked(predifyTraining);

/** Blobs on an 8x8 grid whose position gives the class: a task a small CNN learns at once. */
function blobs(size: number, seed: number): Dataset {
  const random = new Random(seed);
  const features = new Float32Array(size * 64);
  const labels = new Int32Array(size);
  for (let s = 0; s < size; s++) {
    const label = random.int(3);
    labels[s] = label;
    const cx = 1 + 3 * label;
    const cy = 1 + random.int(6);
    for (let y = 0; y < 8; y++)
      for (let x = 0; x < 8; x++) features[s * 64 + y * 8 + x] = Math.exp(-((x - cx) ** 2 + (y - cy) ** 2) / 2) + 0.1 * random.next();
  }
  return makeDataset("blobs", features, labels, [1, 8, 8], 3);
}

function cnn(backend: "reference-f64" | "wasm-simd" = "wasm-simd"): Graph {
  const g = new GraphBuilder();
  const x = g.input([1, 8, 8], "x");
  const c1 = g.relu(g.conv2d(x, 3, 3, { padding: "same" }), "c1");
  const c2 = g.relu(g.conv2d(g.maxPool2d(c1, 2), 4, 3, { padding: "same" }), "c2");
  return g.build({ output: g.dense(g.flatten(c2), 3), loss: "softmaxCrossEntropy", seed: 7, backend });
}

const config: PredifyConfig = {
  seed: 1,
  pcoders: [
    { node: "c1", target: "x", decoder: { kind: "conv2dTranspose", kernelSize: 3 } },
    { node: "c2", target: "c1", decoder: { kind: "conv2dTranspose", kernelSize: 4, activation: "relu" } },
  ],
};

test("decoder training lowers the reconstruction loss and leaves every feedforward weight bit-identical", async () => {
  const graph = cnn();
  const data = { train: blobs(96, 1), test: blobs(32, 2) };
  const net = predify(graph, config);
  const backbone = graph.getWeights();
  const initial = net.graph.getWeights();
  const before = reconstructionLoss(net, data.test);
  const history = await trainDecoders(net, data, { epochs: 3, batchSize: 16, optimizer: { kind: "adam", learningRate: 0.01 }, seed: 3 });
  assert.is(history.epochs.length, 3);
  const after = history.epochs[2].testLoss!;
  assert.ok(after < 0.7 * before, `test reconstruction loss ${before} -> ${after}`);
  const weights = net.graph.getWeights();
  for (const [name, w] of backbone) assert.equal(Array.from(weights.get(name)!), Array.from(w), `${name} is frozen`);
  for (const p of net.decoderParameters) assert.not.equal(Array.from(weights.get(p.name)!), Array.from(initial.get(p.name)!), `${p.name} was trained`);
  net.dispose();
  graph.dispose();
});

test("a checkpoint holds the predified graph and its config; resuming gives the weights of a straight run, bit for bit", async () => {
  const graph = cnn();
  const data = { train: blobs(80, 3) };
  const options = { batchSize: 16, optimizer: { kind: "adam" as const, learningRate: 0.01 }, seed: 4 };
  const straight = predify(graph, config);
  await trainDecoders(straight, data, { ...options, epochs: 2 });

  const saved: Uint8Array[] = [];
  const save = (_path: string, c: CheckpointData) => void saved.push(encodeCheckpoint(c));
  const first = predify(graph, config);
  await trainDecoders(first, data, { ...options, epochs: 1, checkpointPath: "mem", saveCheckpoint: save });
  first.dispose();
  const decoded = decodeCheckpoint(saved[saved.length - 1], { backend: graph.backend });
  const resumed = predifiedFromCheckpoint(decoded);
  assert.equal(resumed.config, straight.config);
  await trainDecoders(resumed, data, { ...options, seed: undefined, epochs: 2, resume: decoded });
  assert.equal(resumed.graph.getWeights(), straight.graph.getWeights());

  // The loaded network runs the same steps as the one trained straight through.
  const a = evaluateOverSteps(straight, blobs(20, 9), { steps: 3 });
  const b = evaluateOverSteps(resumed, blobs(20, 9), { steps: 3 });
  assert.equal(b, a);
  for (const n of [straight, resumed]) n.dispose();
  decoded.graph.dispose();
  graph.dispose();
});

test("an abort stops after the batch and saves a checkpoint that resumes mid-epoch to the same weights", async () => {
  const graph = cnn();
  const data = { train: blobs(80, 5) };
  const options = { batchSize: 16, optimizer: { kind: "sgd" as const, learningRate: 0.05 }, seed: 6, epochs: 2 };
  const straight = predify(graph, config);
  await trainDecoders(straight, data, options);
  const controller = new AbortController();
  let saved: Uint8Array | undefined;
  const stopped = predify(graph, config);
  const history = await trainDecoders(stopped, data, {
    ...options, signal: controller.signal, checkpointPath: "mem", saveCheckpoint: (_p, c) => void (saved = encodeCheckpoint(c)),
    onBatch: (info) => { if (info.epoch === 1 && info.batch === 2) controller.abort(); },
  });
  assert.ok(history.interrupted);
  stopped.dispose();
  const decoded = decodeCheckpoint(saved!, { backend: graph.backend });
  const resumed = predifiedFromCheckpoint(decoded);
  await trainDecoders(resumed, data, { ...options, seed: undefined, resume: decoded });
  assert.equal(resumed.graph.getWeights(), straight.graph.getWeights());
  for (const n of [straight, resumed]) n.dispose();
  decoded.graph.dispose();
  graph.dispose();
});

test("step 0 of the evaluation is the feedforward network's accuracy; corruptions are seeded and clipped to [0, 1]", () => {
  const graph = cnn();
  const data = blobs(60, 8);
  const net = predify(graph, config);
  const steps = evaluateOverSteps(net, data, { steps: 2, batchSize: 7 });
  assert.is(steps.accuracy.length, 3);
  assert.is(steps.accuracy[0], evaluate(graph, data).accuracy);
  assert.equal(evaluateOverSteps(net, data, { steps: 2, batchSize: 7, corruption: { kind: "gaussian", sigma: 0 } }), steps, "sigma 0 is clean");
  const noisy = (seed: number) => evaluateOverSteps(net, data, { steps: 1, corruption: { kind: "gaussian", sigma: 0.8 }, seed });
  assert.equal(noisy(1), noisy(1));
  const a = corruptedDataset(data, { kind: "gaussian", sigma: 2 }, 3).features;
  assert.ok(a.every((v) => v >= 0 && v <= 1) && a.some((v) => v === 0) && a.some((v) => v === 1), "clipped");
  const values = new Float32Array(20000).fill(0.5);
  corrupt(values, { kind: "saltAndPepper", amount: 0.2 }, new Random(1));
  const flipped = values.filter((v) => v !== 0.5).length / values.length;
  const ones = values.filter((v) => v === 1).length / values.length;
  assert.ok(Math.abs(flipped - 0.2) < 0.015 && Math.abs(ones - 0.1) < 0.01, `salt and pepper: ${flipped} flipped, ${ones} ones`);
  assert.throws(() => corrupt(values, { kind: "gaussian", sigma: -1 }, new Random(1)), /sigma must be a number >= 0/);
  net.dispose();
  graph.dispose();
});

predifyTraining.run();
