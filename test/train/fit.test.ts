import { suite } from "uvu";
import * as assert from "uvu/assert";
import { InvalidArgumentError } from "../../src/backend/errors.js";
import type { BackendName } from "../../src/backend/load.js";
import { layers, sequential } from "../../src/graph/builder.js";
import type { Graph } from "../../src/graph/graph.js";
import { decodeCheckpoint, encodeCheckpoint } from "../../src/train/checkpoint.js";
import { Random } from "../../src/random.js";
import { makeDataset, trainTestSplit, type Dataset } from "../../src/train/data/dataset.js";
import { evaluate } from "../../src/train/evaluate.js";
import { fit, type BatchInfo, type EpochRecord, type FitOptions, type ResumableCheckpoint, type TrainingCheckpoint } from "../../src/train/fit.js";
import { createOptimizer } from "../../src/train/optimizers.js";
import { memory } from "../../src/tensor.js";

const test = suite("fit");

/** Three Gaussian blobs in 4-D, well separated: a linearly separable 3-class problem. */
function blobs(size: number, seed: number): Dataset {
  const random = new Random(seed);
  const centres = [[2, 0, 0, 1], [-2, 1, 0, -1], [0, -2, 2, 0]];
  const features = new Float32Array(size * 4);
  const labels = new Int32Array(size);
  for (let i = 0; i < size; i++) {
    const label = i % 3;
    labels[i] = label;
    for (let j = 0; j < 4; j++) features[i * 4 + j] = centres[label][j] + 0.7 * random.normal();
  }
  return makeDataset("blobs", features, labels, [4], 3);
}

const data = trainTestSplit(blobs(150, 1), 0.2, 2);

function mlp(backend: BackendName, seed = 3): Graph {
  return sequential([4], [layers.dense(8), layers.tanh(), layers.dense(3)], { loss: "softmaxCrossEntropy", seed, backend });
}

function maxRelativeDifference(a: Map<string, Float64Array>, b: Map<string, Float64Array>): number {
  let worst = 0;
  for (const [name, x] of a) {
    const y = b.get(name)!;
    for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(x[i] - y[i]) / Math.max(Math.abs(y[i]), 1e-3));
  }
  return worst;
}

function identical(a: Map<string, Float64Array>, b: Map<string, Float64Array>): boolean {
  for (const [name, x] of a) {
    const y = b.get(name)!;
    for (let i = 0; i < x.length; i++) if (!Object.is(x[i], y[i])) return false;
  }
  return true;
}

const base: FitOptions = { algorithm: "bp", epochs: 6, batchSize: 16, seed: 7, optimizer: { kind: "momentum", learningRate: 0.05 } };

async function trained(backend: BackendName, options: Partial<FitOptions> = {}): Promise<{ weights: Map<string, Float64Array>; history: Awaited<ReturnType<typeof fit>> }> {
  const graph = mlp(backend);
  try {
    const history = await fit(graph, data, { ...base, ...options });
    return { weights: graph.getWeights(), history };
  } finally {
    graph.dispose();
  }
}

test("loss falls and accuracy rises on separable data", async () => {
  const graph = mlp("wasm-simd");
  const before = evaluate(graph, data.test!);
  const history = await fit(graph, data, { ...base, epochs: 8, trainAccuracy: true });
  const after = evaluate(graph, data.test!);
  graph.dispose();
  const losses = history.epochs.map((r) => r.trainLoss);
  assert.ok(losses[losses.length - 1] < 0.5 * losses[0], `train loss ${losses.join(", ")}`);
  assert.ok(after.loss < before.loss);
  assert.ok(after.accuracy >= 0.95, `test accuracy ${after.accuracy}`);
  const last = history.epochs[history.epochs.length - 1];
  assert.is(last.testAccuracy, after.accuracy);
  assert.ok(last.trainAccuracy! >= 0.9);
  assert.is(history.epochs.length, 8);
  assert.is(history.stoppedEarly, false);
  assert.is(history.interrupted, false);
});

test("same seed, same weights; another seed, other weights", async () => {
  const a = await trained("wasm-simd");
  const b = await trained("wasm-simd");
  const c = await trained("wasm-simd", { seed: 8 });
  assert.ok(identical(a.weights, b.weights));
  assert.equal(a.history.epochs.map((r) => r.trainLoss), b.history.epochs.map((r) => r.trainLoss));
  assert.not.ok(identical(a.weights, c.weights));
});

test("Z-IL and BP fits end with equal weights", async () => {
  const options: Partial<FitOptions> = { epochs: 3, optimizer: { kind: "momentum", learningRate: 0.05 } };
  const bp = await trained("reference-f64", { ...options, algorithm: "bp" });
  const zil = await trained("reference-f64", { ...options, algorithm: "zil" });
  const difference = maxRelativeDifference(zil.weights, bp.weights);
  assert.ok(difference < 1e-10, `reference-f64: relative difference ${difference}`);
  const bpWasm = await trained("wasm-simd", { ...options, algorithm: "bp" });
  const zilWasm = await trained("wasm-simd", { ...options, algorithm: "zil" });
  const wasmDifference = maxRelativeDifference(zilWasm.weights, bpWasm.weights);
  assert.ok(wasmDifference < 1e-4, `wasm-simd: relative difference ${wasmDifference}`);
  // IL is only an approximation: it must not coincide with BP.
  const il = await trained("reference-f64", { ...options, algorithm: "il" });
  assert.ok(maxRelativeDifference(il.weights, bp.weights) > 1e-6);
});

/** The checkpoint after a trip through the file format (encoded bytes, decoded again). */
function snapshot(checkpoint: TrainingCheckpoint): ResumableCheckpoint {
  return decodeCheckpoint(encodeCheckpoint(checkpoint), { backend: checkpoint.graph.backend });
}

for (const backend of ["reference-f64", "wasm-simd"] as const) {
  test(`resume after epoch k ends bit for bit like a straight run (${backend})`, async () => {
    // 5 epochs of 8 batches: the cosine schedule spans the 40 steps.
    const options: Partial<FitOptions> = { epochs: 5, optimizer: { kind: "adam", learningRate: 0.02, schedule: { kind: "cosine", totalSteps: 40 } } };
    const straight = await trained(backend, options);
    const saved: ResumableCheckpoint[] = [];
    const first = mlp(backend);
    await fit(first, data, {
      ...base, ...options, epochs: 2, checkpointPath: "memory",
      saveCheckpoint: (_path, checkpoint) => void saved.push(snapshot(checkpoint)),
    });
    first.dispose();
    assert.is(saved.length, 2);
    const resumeFrom = saved[1];
    assert.is(resumeFrom.progress.epoch, 2);
    assert.is(resumeFrom.graph.backend.name, backend);
    // A graph with other initial weights: resuming must overwrite them.
    const second = mlp(backend, 99);
    const history = await fit(second, data, { ...base, ...options, seed: undefined, resume: resumeFrom });
    assert.ok(identical(second.getWeights(), straight.weights), "weights differ from the straight run");
    assert.is(history.epochs.length, 5);
    assert.equal(history.epochs.map((r) => r.trainLoss), straight.history.epochs.map((r) => r.trainLoss));
    second.dispose();
    for (const c of saved) c.graph.dispose();
  });
}

test("an aborted run resumes mid-epoch bit for bit", async () => {
  const options: Partial<FitOptions> = { epochs: 3, optimizer: { kind: "adam", learningRate: 0.02 } };
  const straight = await trained("wasm-simd", options);
  const controller = new AbortController();
  let saved: ResumableCheckpoint | undefined;
  const graph = mlp("wasm-simd");
  const partial = await fit(graph, data, {
    ...base, ...options, signal: controller.signal, checkpointPath: "memory",
    saveCheckpoint: (_path, checkpoint) => {
      saved?.graph.dispose(); // a newer checkpoint replaces the older one
      saved = snapshot(checkpoint);
    },
    onBatch: (info) => {
      if (info.epoch === 2 && info.batch === 3) controller.abort();
    },
  });
  graph.dispose();
  assert.is(partial.interrupted, true);
  assert.is(partial.epochs.length, 1);
  assert.is(saved!.progress.epoch, 1);
  assert.is(saved!.progress.batch, 3);
  const resumed = mlp("wasm-simd", 5);
  await fit(resumed, data, { ...base, ...options, resume: saved });
  assert.ok(identical(resumed.getWeights(), straight.weights));
  resumed.dispose();
  saved!.graph.dispose();
});

test("resume rejects a mismatched seed, algorithm or batch size", async () => {
  let saved: ResumableCheckpoint | undefined;
  const graph = mlp("reference-f64");
  await fit(graph, data, { ...base, epochs: 1, checkpointPath: "x", saveCheckpoint: (_p, c) => void (saved = snapshot(c)) });
  for (const [change, field] of [[{ seed: 8 }, /^seed/], [{ algorithm: "zil" }, /^algorithm/], [{ batchSize: 5 }, /^batchSize/], [{ epochs: 0 }, /^epochs/]] as const) {
    try {
      await fit(graph, data, { ...base, ...change, resume: saved } as FitOptions);
      assert.unreachable(JSON.stringify(change));
    } catch (error) {
      assert.instance(error, InvalidArgumentError);
      assert.match((error as Error).message, field);
    }
  }
  graph.dispose();
  saved!.graph.dispose();
});

test("early stopping stops when the monitored value stalls", async () => {
  // A learning rate of 1e-30 changes no float32 weight (fit refuses 0 itself): stop after 1 + patience epochs.
  const stalled = await trained("wasm-simd", { epochs: 10, optimizer: { kind: "sgd", learningRate: 1e-30 }, earlyStopping: { patience: 2 } });
  assert.is(stalled.history.stoppedEarly, true);
  assert.is(stalled.history.epochs.length, 3);
  // A huge minDelta makes every real improvement too small.
  const strict = await trained("wasm-simd", { epochs: 10, earlyStopping: { patience: 1, minDelta: 10, monitor: "testAccuracy" } });
  assert.is(strict.history.epochs.length, 2);
  // Learning that keeps improving the train loss runs every epoch.
  const learning = await trained("wasm-simd", { epochs: 4, earlyStopping: { patience: 1, monitor: "trainLoss" } });
  assert.is(learning.history.stoppedEarly, false);
  assert.is(learning.history.epochs.length, 4);
});

test("callbacks see sane values", async () => {
  const batchInfos: BatchInfo[] = [];
  const records: EpochRecord[] = [];
  const graph = mlp("wasm-simd");
  const history = await fit(graph, data, {
    ...base, epochs: 2, batchSize: 32,
    optimizer: { kind: "sgd", learningRate: 0.1, schedule: { kind: "step", stepSize: 4, gamma: 0.5 } },
    onBatch: async (info) => void batchInfos.push(info),
    onEpoch: (record) => void records.push(record),
  });
  graph.dispose();
  // 120 training samples in batches of 32: 4 batches per epoch (the last has 24).
  assert.is(batchInfos.length, 8);
  assert.equal(batchInfos.map((i) => `${i.epoch}.${i.batch}/${i.batches}`), ["1.1/4", "1.2/4", "1.3/4", "1.4/4", "2.1/4", "2.2/4", "2.3/4", "2.4/4"]);
  assert.equal(batchInfos.map((i) => i.learningRate), [0.1, 0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.05]);
  for (const info of batchInfos) {
    assert.ok(Number.isFinite(info.loss) && info.loss > 0);
    assert.ok(info.samplesPerSecond > 0 && Number.isFinite(info.samplesPerSecond));
    assert.is(info.epochs, 2);
  }
  assert.equal(records, history.epochs);
  assert.equal(records.map((r) => r.epoch), [1, 2]);
  for (const r of records) {
    assert.ok(r.seconds >= 0);
    assert.ok(r.testAccuracy! >= 0 && r.testAccuracy! <= 1);
    assert.ok(r.testLoss! > 0);
    assert.is(r.trainAccuracy, undefined);
  }
  // Mean of the batch losses, weighted by batch size.
  const first = batchInfos.slice(0, 4);
  const weighted = (first[0].loss + first[1].loss + first[2].loss) * 32 + first[3].loss * 24;
  assert.ok(Math.abs(records[0].trainLoss - weighted / 120) < 1e-12);
});

test("options reach the engine and the batching", async () => {
  const plain = await trained("reference-f64", { epochs: 1, algorithm: "il" });
  const moreSteps = await trained("reference-f64", { epochs: 1, algorithm: "il", pc: { steps: 3 } });
  assert.not.ok(identical(plain.weights, moreSteps.weights), "pc options were ignored");
  const batchSize = 32;
  const keep = await trained("reference-f64", { epochs: 1, batchSize });
  const drop = await trained("reference-f64", { epochs: 1, batchSize, dropRemainder: true });
  assert.not.ok(identical(keep.weights, drop.weights), "dropRemainder was ignored");
  const evalSmall = await trained("reference-f64", { epochs: 1, evalBatchSize: 7 });
  const evalLarge = await trained("reference-f64", { epochs: 1, evalBatchSize: 500 });
  assert.ok(Math.abs(evalSmall.history.epochs[0].testLoss! - evalLarge.history.epochs[0].testLoss!) < 1e-12);
  // A caller's optimizer is used as is and left alive.
  const optimizer = createOptimizer({ kind: "sgd", learningRate: 0.1 });
  await trained("reference-f64", { epochs: 1, batchSize: 40, optimizer });
  assert.is(optimizer.steps, 3);
  optimizer.dispose();
});

test("checkpoints are saved every N epochs and at the end", async () => {
  const epochsSaved: number[] = [];
  await trained("wasm-simd", {
    epochs: 5, checkpointEvery: 2, checkpointPath: "p",
    saveCheckpoint: (path, c) => {
      assert.is(path, "p");
      epochsSaved.push(c.progress.epoch);
    },
  });
  assert.equal(epochsSaved, [2, 4, 5]);
});

test("no tensor outlives fit, even when a callback throws", async () => {
  const before = memory().numTensors;
  const graph = mlp("wasm-simd");
  try {
    await fit(graph, data, { ...base, onBatch: (info) => {
      if (info.batch === 2) throw new Error("stop here");
    } });
    assert.unreachable();
  } catch (error) {
    assert.match((error as Error).message, "stop here");
  }
  await fit(graph, data, { ...base, epochs: 1 });
  graph.dispose();
  assert.is(memory().numTensors, before);
});

test("invalid options name the field", async () => {
  const graph = mlp("reference-f64");
  const bad: [Partial<FitOptions>, RegExp][] = [
    [{ epochs: -1 }, /^epochs/],
    [{ batchSize: 0 }, /^batchSize/],
    [{ algorithm: "sgd" as never }, /^algorithm/],
    [{ seed: undefined }, /^seed/],
    [{ optimizer: { kind: "sgd", learningRate: -1 } }, /optimizer\.learningRate/],
    [{ earlyStopping: { patience: 0 } }, /earlyStopping\.patience/],
    [{ checkpointPath: "x" }, /saveCheckpoint/],
    [{ checkpointEvery: 0 }, /checkpointEvery/],
  ];
  for (const [change, pattern] of bad) {
    try {
      await fit(graph, data, { ...base, ...change });
      assert.unreachable(JSON.stringify(change));
    } catch (error) {
      assert.instance(error, InvalidArgumentError, JSON.stringify(change));
      assert.match((error as Error).message, pattern);
    }
  }
  const noTest = await fit(graph, { train: data.train }, { ...base, epochs: 1 });
  assert.is(noTest.epochs[0].testLoss, undefined);
  try {
    await fit(graph, { train: data.train }, { ...base, earlyStopping: { patience: 1, monitor: "testLoss" } });
    assert.unreachable();
  } catch (error) {
    assert.match((error as Error).message, /earlyStopping\.monitor/);
  }
  graph.dispose();
});

test.run();
