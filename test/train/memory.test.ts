// Long runs keep flat memory: after the first steps, training allocates no tensors and the
// wasm memory stops growing.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { createBackend } from "../../src/backend/load.js";
import type { ThreadedBackend } from "../../src/backend/threaded.js";
import { GraphBuilder } from "../../src/graph/builder.js";
import type { Graph } from "../../src/graph/graph.js";
import { randomBatch } from "../../src/pc/random-graph.js";
import { releaseScratch } from "../../src/scratch.js";
import { memory } from "../../src/tensor.js";
import { gradientEngine, type Algorithm } from "../../src/train/gradients.js";
import { createOptimizer } from "../../src/train/optimizers.js";

const flat = suite("flat memory");

function models(): [string, () => Graph][] {
  return [
    ["mlp with a skip connection", () => {
      const g = new GraphBuilder();
      const x = g.input([32], "x");
      const h = g.relu(g.dense(x, 24));
      const out = g.dense(g.add([g.tanh(g.dense(h, 24)), g.dense(x, 24)]), 5);
      return g.build({ output: out, loss: "softmaxCrossEntropy", seed: 1, backend: "wasm-simd" });
    }],
    ["cnn", () => {
      const g = new GraphBuilder();
      const x = g.input([1, 12, 12], "x");
      const h = g.maxPool2d(g.relu(g.conv2d(x, 4, 3, { padding: "same" })), 2);
      return g.build({ output: g.dense(g.flatten(h), 5), loss: "softmaxCrossEntropy", seed: 1, backend: "wasm-simd" });
    }],
  ];
}

for (const [name, make] of models())
  for (const algorithm of ["bp", "zil", "fpa", "il"] as Algorithm[])
    flat(`${algorithm} training of a ${name} allocates nothing after warm-up and wasm memory stays flat`, () => {
      releaseScratch();
      const initial = memory().numTensors;
      const graph = make();
      const batch = randomBatch(graph, 16, 3);
      const engine = gradientEngine(graph, algorithm, algorithm === "il" ? { steps: 5, recordEnergy: false } : {});
      const optimizer = createOptimizer({ kind: "adam", learningRate: 1e-3 });
      const step = () => optimizer.step(graph, engine.run(batch).gradients);
      for (let i = 0; i < 5; i++) step();
      const tensors = memory().numTensors + memory().scratch.numTensors;
      const reserved = graph.backend.reservedBytes();
      for (let i = 0; i < 300; i++) step();
      assert.is(memory().numTensors + memory().scratch.numTensors, tensors, "live tensors and scratch");
      assert.is(graph.backend.reservedBytes(), reserved, "wasm memory");
      optimizer.dispose();
      engine.dispose();
      for (const t of [...Object.values(batch.inputs), batch.target]) t.dispose();
      graph.dispose();
      releaseScratch();
      assert.is(memory().numTensors, initial, "everything freed");
    });

flat("10,000 threaded training steps keep flat memory and the same workers", async () => {
  releaseScratch();
  const initial = memory().numTensors;
  // A backend of its own that splits every kernel between the calling thread and one worker.
  const backend = createBackend("wasm-simd-threads", { threads: 2, parallelThreshold: 0 }) as ThreadedBackend;
  await backend.whenStarted();
  const g = new GraphBuilder();
  const x = g.input([12], "x");
  const graph = g.build({ output: g.dense(g.tanh(g.dense(x, 16)), 3), loss: "softmaxCrossEntropy", seed: 2, backend });
  const batch = randomBatch(graph, 8, 5);
  const engine = gradientEngine(graph, "zil");
  const optimizer = createOptimizer({ kind: "adam", learningRate: 1e-3 });
  const step = () => optimizer.step(graph, engine.run(batch).gradients);
  for (let i = 0; i < 5; i++) step();
  const tensors = memory().numTensors;
  const reserved = backend.reservedBytes();
  const jobs = backend.threadInfo().stats.jobs;
  for (let i = 0; i < 10_000; i++) step();
  const info = backend.threadInfo();
  assert.is(memory().numTensors, tensors, "live tensors");
  assert.is(backend.reservedBytes(), reserved, "wasm memory");
  assert.equal([info.stats.workers, info.readyWorkers, info.stats.workersStarted], [1, 1, 1], "one worker, started once");
  assert.ok(info.stats.jobs - jobs >= 10_000 * 10, `kernels shared with the worker: ${info.stats.jobs - jobs}`);
  // How many blocks the worker takes depends on how often the OS runs it; it takes some.
  assert.ok(info.stats.blocksRun[1] > 0, `blocks the worker ran: ${info.stats.blocksRun[1]}`);
  optimizer.dispose();
  engine.dispose();
  for (const t of [...Object.values(batch.inputs), batch.target]) t.dispose();
  graph.dispose();
  releaseScratch();
  assert.is(memory().numTensors, initial, "everything freed");
  backend.dispose();
  assert.equal([backend.threadInfo().stats.workers, backend.threadInfo().readyWorkers], [0, 0], "workers stopped");
});

flat.run();
