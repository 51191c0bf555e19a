// npm run bench:train — the cost of one training step (gradients + SGD update) with BP,
// Z-IL, FPA and IL (T = 20) for an MLP 784-256-256-10 and a small CNN at batch 64; a depth
// sweep of Z-IL time / BP time; one epoch of the MLP beside TF.js's wasm backend (one
// thread) in this process; and PC-graph inference steps per second (bench/graph.ts).
// `npm run bench:train -- steps|depth|peer|graph` runs one part.
// The union package registers every gradient (the core bundle alone has none).
import * as tf from "@tensorflow/tfjs";
import { GraphBuilder, type NodeRef } from "../src/graph/builder.js";
import type { Graph } from "../src/graph/graph.js";
import { randomBatch } from "../src/pc/random-graph.js";
import { gradientEngine, type Algorithm } from "../src/train/gradients.js";
import { tfjsWasm } from "./peer.js";
import { secondsPerCall } from "./report.js";
import { graphBenchmark } from "./graph.js";

const BATCH = 64;
const EPOCH_SAMPLES = 10_000; // the bundled MNIST digits
const stepsPerEpoch = Math.ceil(EPOCH_SAMPLES / BATCH);

function mlp(depth = 3, width = 256, backend = "wasm-simd" as const): Graph {
  const g = new GraphBuilder();
  let x: NodeRef = g.input([784], "x");
  for (let i = 0; i < depth - 1; i++) x = g.relu(g.dense(x, width));
  return g.build({ output: g.dense(x, 10), loss: "softmaxCrossEntropy", seed: 1, backend });
}

function cnn(): Graph {
  const g = new GraphBuilder();
  const x = g.input([1, 28, 28], "x");
  let h = g.maxPool2d(g.relu(g.conv2d(x, 16, 3, { padding: "same" })), 2);
  h = g.maxPool2d(g.relu(g.conv2d(h, 32, 3, { padding: "same" })), 2);
  const out = g.dense(g.relu(g.dense(g.flatten(h), 128)), 10);
  return g.build({ output: out, loss: "softmaxCrossEntropy", seed: 1, backend: "wasm-simd" });
}

/** Seconds per training step: gradients from the engine, then an SGD update of every parameter. */
async function stepTime(graph: Graph, algorithm: Algorithm, minSamples = 8): Promise<number> {
  const batch = randomBatch(graph, BATCH, 7);
  const engine = gradientEngine(graph, algorithm, algorithm === "il" ? { steps: 20, gamma: 0.1, momentum: 0, tolerance: 0, recordEnergy: false } : {});
  const weights = graph.getWeights();
  const step = () => {
    const { gradients } = engine.run(batch);
    for (const p of graph.parameters) graph.backend.axpy(p.size, -1e-3, gradients.get(p.name)!.address, p.tensor.address);
  };
  step(); // warm up: first-run allocations
  const seconds = await secondsPerCall(`${algorithm}`, step, minSamples);
  graph.setWeights(weights);
  engine.dispose();
  for (const t of [...Object.values(batch.inputs), batch.target]) t.dispose();
  return seconds;
}

async function tfjsMlpStep(): Promise<number> {
  await tfjsWasm();
  const dims = [784, 256, 256, 10];
  const weights = dims.slice(1).map((out, i) => tf.variable(tf.randomNormal([dims[i], out], 0, Math.sqrt(2 / dims[i]))));
  const biases = dims.slice(1).map((out) => tf.variable(tf.zeros([out])));
  const x = tf.randomUniform([BATCH, 784]);
  const labels = tf.cast(tf.oneHot(tf.randomUniform([BATCH], 0, 10, "int32") as tf.Tensor1D, 10), "float32");
  const optimizer = tf.train.sgd(1e-3);
  const step = () => {
    const cost = optimizer.minimize(() => {
      let h: tf.Tensor2D = x as tf.Tensor2D;
      weights.forEach((w, i) => {
        h = tf.add(tf.matMul(h, w as tf.Variable<tf.Rank.R2>), biases[i]) as tf.Tensor2D;
        if (i < weights.length - 1) h = tf.relu(h);
      });
      return tf.losses.softmaxCrossEntropy(labels, h) as tf.Scalar;
    }, true);
    cost!.dataSync();
    cost!.dispose();
  };
  step();
  return secondsPerCall("tfjs", step, 8);
}

const ms = (s: number) => (s * 1000).toFixed(2);
const only = process.argv[2];

if (!only || only === "steps") {
  console.log(`\none training step at batch ${BATCH} (gradients + SGD update), wasm-simd backend`);
  console.log("| model | BP ms | Z-IL ms | FPA ms | IL (T=20) ms | Z-IL / BP |");
  console.log("| --- | ---: | ---: | ---: | ---: | ---: |");
  for (const [name, make] of [["MLP 784-256-256-10", () => mlp()], ["CNN conv16-pool-conv32-pool-128-10", cnn]] as const) {
    const graph = make();
    const times: Record<string, number> = {};
    for (const algorithm of ["bp", "zil", "fpa", "il"] as const) times[algorithm] = await stepTime(graph, algorithm);
    console.log(`| ${name} | ${ms(times.bp)} | ${ms(times.zil)} | ${ms(times.fpa)} | ${ms(times.il)} | ${(times.zil / times.bp).toFixed(3)} |`);
    graph.dispose();
  }
}

if (!only || only === "depth") {
  console.log(`\ndepth sweep: MLP of width 64, batch ${BATCH}; Z-IL step time / BP step time`);
  console.log("| layers | BP ms | Z-IL ms | Z-IL / BP |");
  console.log("| ---: | ---: | ---: | ---: |");
  for (const depth of [2, 4, 8, 16, 32]) {
    const graph = mlp(depth, 64);
    const bp = await stepTime(graph, "bp");
    const zil = await stepTime(graph, "zil");
    console.log(`| ${depth} | ${ms(bp)} | ${ms(zil)} | ${(zil / bp).toFixed(3)} |`);
    graph.dispose();
  }
}

if (!only || only === "peer") {
  console.log(`\none epoch of the MLP 784-256-256-10 (${stepsPerEpoch} steps of batch ${BATCH}, SGD) beside TF.js wasm, one thread`);
  const graph = mlp();
  const bp = await stepTime(graph, "bp");
  const zil = await stepTime(graph, "zil");
  graph.dispose();
  const peer = await tfjsMlpStep();
  console.log("| trainer | ms / step | s / epoch | TF.js time / this |");
  console.log("| --- | ---: | ---: | ---: |");
  for (const [name, s] of [["pcgraph BP", bp], ["pcgraph Z-IL", zil], ["TF.js wasm", peer]] as const)
    console.log(`| ${name} | ${ms(s)} | ${(s * stepsPerEpoch).toFixed(2)} | ${(peer / s).toFixed(2)}x |`);
}

if (!only || only === "graph") await graphBenchmark();
