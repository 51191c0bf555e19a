// Non-finite values never reach the weights or a checkpoint: loaders refuse numbers that
// are not finite in float32 (naming file:line:col), datasets refuse NaN features, the
// optimizers refuse non-finite gradients (changing nothing) and name an overflowed
// parameter, fit stops with a TrainingError naming it, and no checkpoint stores NaN.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { InvalidArgumentError } from "../../src/backend/errors.js";
import { SerializationError } from "../../src/graph/errors.js";
import { layers, sequential } from "../../src/graph/builder.js";
import type { Graph } from "../../src/graph/graph.js";
import { tensor } from "../../src/tensor.js";
import { encodeCheckpoint } from "../../src/train/checkpoint.js";
import { parseCsv } from "../../src/train/data/csv.js";
import { makeDataset, type Dataset } from "../../src/train/data/dataset.js";
import { DataFormatError } from "../../src/train/data/errors.js";
import { TrainingError } from "../../src/train/errors.js";
import { fit, type TrainingCheckpoint } from "../../src/train/fit.js";
import { createOptimizer, optimizerKinds } from "../../src/train/optimizers.js";
import { leakChecked as leakCheckedTest } from "../util/leaks.js";

const test = suite("non-finite values");

/** A test that checks, inside itself, that it freed every tensor. */
const leakChecked = leakCheckedTest(test);

function throwsWith(fn: () => unknown, type: Function, ...parts: string[]): void {
  try {
    fn();
  } catch (error) {
    assert.instance(error, type);
    for (const part of parts) assert.match((error as Error).message, part);
    return;
  }
  assert.unreachable(`expected a ${type.name} mentioning ${parts.join(", ")}`);
}

async function rejectsWith(fn: () => Promise<unknown>, type: Function, ...parts: string[]): Promise<void> {
  try {
    await fn();
  } catch (error) {
    assert.instance(error, type);
    for (const part of parts) assert.match((error as Error).message, part);
    return;
  }
  assert.unreachable(`expected a ${type.name} mentioning ${parts.join(", ")}`);
}

test("a CSV value beyond float32's range is refused naming file:line:col; the largest finite float32 is accepted", () => {
  throwsWith(() => parseCsv("a,b,label\n1,2,0\n3,1e39,1\n", { fileName: "big.csv" }), DataFormatError, "big.csv:3:2", "1e39", "float32", 'column "b"');
  throwsWith(() => parseCsv("1,2,0\n-4e38,1,1\n", { fileName: "neg.csv" }), DataFormatError, "neg.csv:2:1", "-4e38");
  const ok = parseCsv("3.4028234e38,-3.4028234e38,0\n1e-50,0,1\n", { fileName: "edge.csv" });
  assert.ok(ok.features.every(Number.isFinite));
});

test("makeDataset refuses NaN and infinite features, naming the sample and the feature", () => {
  throwsWith(() => makeDataset("d", [1, 2, 3, NaN], [0, 1], [2], 2), InvalidArgumentError, '"d"', "feature 1 of sample 1", "NaN");
  throwsWith(() => makeDataset("d", new Float32Array([Infinity, 0]), new Int32Array([0]), [2], 1), InvalidArgumentError, "feature 0 of sample 0", "Infinity");
});

function relu(seed: number): Graph {
  return sequential([3], [layers.dense(8), layers.relu(), layers.dense(2)], { loss: "softmaxCrossEntropy", seed, backend: "wasm-simd" });
}

leakChecked("every optimizer refuses a gradient with a NaN, names the parameter and leaves every weight as it was", () => {
  for (const kind of optimizerKinds) {
    const graph = relu(1);
    const optimizer = createOptimizer({ kind, learningRate: 0.1 });
    const gradients = new Map(graph.parameters.map((p) => [p.name, tensor(new Float32Array(p.size).fill(0.5), [...p.shape], { backend: graph.backend })]));
    try {
      const bad = graph.parameters[2];
      const values = new Float32Array(bad.size).fill(0.5);
      values[3] = NaN;
      gradients.get(bad.name)!.assign(values);
      const before = graph.getWeights();
      throwsWith(() => optimizer.step(graph, gradients), TrainingError, `"${bad.name}"`, "1 non-finite entry", "no parameter was updated");
      for (const [name, w] of graph.getWeights()) assert.equal(Array.from(w), Array.from(before.get(name)!), `${kind}: ${name} unchanged`);
      assert.is(optimizer.steps, 0, `${kind}: no step counted`);
    } finally {
      for (const g of gradients.values()) g.dispose();
      optimizer.dispose();
      graph.dispose();
    }
  }
});

/** Two-class data built without makeDataset's checks: one NaN feature in sample 5. */
function dataWithNaN(): Dataset {
  const features = new Float32Array(24 * 3).map((_, i) => Math.sin(i));
  features[5 * 3 + 1] = NaN;
  return { name: "raw", size: 24, featureShape: [3], numClasses: 2, features, labels: Int32Array.from({ length: 24 }, (_, i) => i % 2) };
}

leakChecked("fit stops with a TrainingError naming the parameter when a NaN in the data meets a ReLU network, and saves no checkpoint", async () => {
  for (const algorithm of ["bp", "zil", "il", "fpa"] as const) {
    const graph = relu(2);
    const saved: TrainingCheckpoint[] = [];
    try {
      await rejectsWith(() => fit(graph, { train: dataWithNaN() }, {
        algorithm, epochs: 2, batchSize: 8, seed: 1, optimizer: { kind: "adam", learningRate: 0.01 },
        checkpointPath: "unused.ckpt", saveCheckpoint: (_path, checkpoint) => void saved.push(checkpoint),
      }), TrainingError, "epoch 1, batch", "non-finite", "dense");
      assert.is(saved.length, 0, `${algorithm}: no checkpoint written`);
      for (const [name, w] of graph.getWeights()) assert.ok(w.every(Number.isFinite), `${algorithm}: ${name} stays finite`);
    } finally {
      graph.dispose();
    }
  }
});

leakChecked("fit stops naming the parameter when an update overflows the weights, and saves no checkpoint", async () => {
  const graph = relu(3);
  const saved: TrainingCheckpoint[] = [];
  const features = new Float32Array(8 * 3).map((_, i) => Math.cos(i));
  try {
    // One batch per epoch: the overflowing step ends the epoch, whose check names the parameter.
    await rejectsWith(() => fit(graph, { train: makeDataset("d", features, Int32Array.from({ length: 8 }, (_, i) => i % 2), [3], 2) }, {
      algorithm: "bp", epochs: 2, batchSize: 8, seed: 1, optimizer: { kind: "sgd", learningRate: 1e39 },
      checkpointPath: "unused.ckpt", saveCheckpoint: (_path, checkpoint) => void saved.push(checkpoint),
    }), TrainingError, "epoch 1:", 'parameter "dense', "non-finite", "lower the learning rate");
    assert.is(saved.length, 0, "no checkpoint written");
  } finally {
    graph.dispose();
  }
});

leakChecked("encodeCheckpoint refuses a graph with a non-finite weight, naming the parameter", () => {
  const graph = relu(4);
  try {
    const name = graph.parameters[0].name;
    const w = graph.getWeights().get(name)!;
    w[7] = -Infinity;
    graph.setWeights(new Map([[name, w]]));
    throwsWith(() => encodeCheckpoint({ graph, optimizer: { kind: "sgd", config: {}, step: 0, slots: [] }, progress: {} }),
      SerializationError, `"${name}"`, "non-finite");
  } finally {
    graph.dispose();
  }
});

test.run();
