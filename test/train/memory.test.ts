// Long runs keep flat memory: after the first steps, training allocates no tensors and the
// wasm memory stops growing.
import { suite } from "uvu";
import * as assert from "uvu/assert";
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

flat.run();
