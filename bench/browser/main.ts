// The MLP 784-256-256-10 training step (batch 64, gradients + SGD update) in a cross-origin
// isolated page: pcgraph on wasm-simd-threads with 1 and with all the hardware threads, beside
// TF.js's wasm backend with its own threads (it multithreads in browsers when the page is
// isolated), in interleaved rounds on the page's main thread. Driven by
// scripts/bench-browser.mjs, which reads window.__pcgraphBench.
import * as tf from "@tensorflow/tfjs";
import { getThreadsCount, setThreadsCount, setWasmPaths } from "@tensorflow/tfjs-backend-wasm";
import { createBackend, type Backend } from "../../src/index.js";
import type { ThreadedBackend } from "../../src/backend/threaded.js";
import { GraphBuilder, type NodeRef } from "../../src/graph/builder.js";
import type { Graph } from "../../src/graph/graph.js";
import { randomBatch } from "../../src/pc/random-graph.js";
import { gradientEngine, type Algorithm } from "../../src/train/gradients.js";
import { medianRatio, timeInterleaved, type Timing } from "../timing.js";

declare global {
  interface Window {
    __pcgraphBench?: { rows: string[][]; header: string[]; notes: string[]; error?: string };
  }
}

const BATCH = 64;

function mlp(backend: Backend): Graph {
  const g = new GraphBuilder();
  let x: NodeRef = g.input([784], "x");
  for (let i = 0; i < 2; i++) x = g.relu(g.dense(x, 256));
  return g.build({ output: g.dense(x, 10), loss: "softmaxCrossEntropy", seed: 1, backend });
}

function step(graph: Graph, algorithm: Algorithm): () => void {
  const batch = randomBatch(graph, BATCH, 7);
  const engine = gradientEngine(graph, algorithm);
  return () => {
    const { gradients } = engine.run(batch);
    for (const p of graph.parameters) graph.backend.axpy(p.size, -1e-3, gradients.get(p.name)!.address, p.tensor.address);
  };
}

async function tfjsStep(): Promise<() => void> {
  setWasmPaths(new URL("./", location.href).href);
  // Ask for every logical core; TF.js caps its thread pool at half of them (it assumes two
  // hardware threads per core), so getThreadsCount() reports what it really uses.
  setThreadsCount(navigator.hardwareConcurrency);
  await tf.setBackend("wasm");
  await tf.ready();
  const dims = [784, 256, 256, 10];
  const weights = dims.slice(1).map((out, i) => tf.variable(tf.randomNormal([dims[i], out], 0, Math.sqrt(2 / dims[i]))));
  const biases = dims.slice(1).map((out) => tf.variable(tf.zeros([out])));
  const x = tf.randomUniform([BATCH, 784]);
  const labels = tf.cast(tf.oneHot(tf.randomUniform([BATCH], 0, 10, "int32") as tf.Tensor1D, 10), "float32");
  const optimizer = tf.train.sgd(1e-3);
  return () => {
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
}

async function main(): Promise<void> {
  if (!crossOriginIsolated) throw new Error("the page is not cross-origin isolated: no threads for either library");
  const one = createBackend("wasm-simd-threads", { threads: 1 }) as ThreadedBackend;
  const all = createBackend("wasm-simd-threads", { threads: "auto" }) as ThreadedBackend;
  await all.whenStarted();
  const threads = all.threadInfo().threads;
  const peer = await tfjsStep();
  const notes = [
    `${navigator.userAgent}; hardwareConcurrency ${navigator.hardwareConcurrency}`,
    `pcgraph: ${all.threadInfo().threads} threads (${all.threadInfo().readyWorkers} workers started); ` +
      `TF.js ${tf.version_core} wasm backend: threaded build ${String(await tf.env().getAsync("WASM_HAS_MULTITHREAD_SUPPORT"))}, ` +
      `SIMD ${String(await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT"))}, ${getThreadsCount()} thread(s) used of ${navigator.hardwareConcurrency} asked for ` +
      "(its pool is capped at half the logical cores)",
  ];
  const rows: string[][] = [];
  for (const algorithm of ["bp", "zil"] as Algorithm[]) {
    const graphs = [mlp(one), mlp(all)];
    const t = timeInterleaved({ one: step(graphs[0], algorithm), all: step(graphs[1], algorithm), tfjs: peer }, { rounds: 9, roundMs: 60 });
    graphs.forEach((g) => g.dispose());
    const ms = (x: Timing) => (x.seconds * 1000).toFixed(2);
    rows.push([algorithm === "zil" ? "Z-IL" : "BP", ms(t.one), ms(t.all), `${medianRatio(t.one, t.all).toFixed(2)}x`, ms(t.tfjs),
      `${medianRatio(t.tfjs, t.all).toFixed(2)}x`]);
  }
  all.dispose();
  window.__pcgraphBench = {
    notes,
    header: ["pcgraph algorithm", "pcgraph 1 thread ms", `pcgraph ${threads} threads ms`,
      "threads / 1", "TF.js wasm, its threads, ms", "TF.js / pcgraph threads"],
    rows,
  };
}

main().catch((error: unknown) => {
  window.__pcgraphBench = { rows: [], header: [], notes: [], error: error instanceof Error ? error.stack ?? error.message : String(error) };
});
