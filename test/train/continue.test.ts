// Continuing and describing runs in the library: fit never trains at learning rate 0
// silently (a cosine schedule that ended, a resumed run past its schedule, a rate of 0),
// an empty test set is no test set, and a run's description travels in its checkpoints.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { layers, sequential } from "../../src/graph/builder.js";
import type { Graph } from "../../src/graph/graph.js";
import { Random } from "../../src/random.js";
import { decodeCheckpoint, encodeCheckpoint } from "../../src/train/checkpoint.js";
import { makeDataset, type Dataset } from "../../src/train/data/dataset.js";
import { datasetFingerprint } from "../../src/train/data/fingerprint.js";
import { parseCsv } from "../../src/train/data/csv.js";
import { TrainingError } from "../../src/train/errors.js";
import { fit, type FitOptions, type ResumableCheckpoint } from "../../src/train/fit.js";
import { firstStepAtZeroRate, resolveOptimizerConfig } from "../../src/train/optimizers.js";
import { leakChecked as leakCheckedTest } from "../util/leaks.js";

const test = suite("continuing runs");

/** A test that checks, inside itself, that it freed every tensor. */
const leakChecked = leakCheckedTest(test);

function blobs(size: number, seed: number): Dataset {
  const random = new Random(seed);
  const features = new Float32Array(size * 4);
  const labels = new Int32Array(size);
  for (let i = 0; i < size; i++) {
    labels[i] = i % 3;
    for (let j = 0; j < 4; j++) features[i * 4 + j] = (j === labels[i] ? 2 : 0) + 0.5 * random.normal();
  }
  return makeDataset("blobs", features, labels, [4], 3);
}

const train = blobs(64, 1); // 4 batches of 16 per epoch
const mlp = (seed = 1): Graph => sequential([4], [layers.dense(6), layers.tanh(), layers.dense(3)], { loss: "softmaxCrossEntropy", seed, backend: "wasm-simd" });
const base: FitOptions = { algorithm: "bp", epochs: 2, batchSize: 16, seed: 3, optimizer: { kind: "sgd", learningRate: 0.1 } };

async function rejectsWith(fn: () => Promise<unknown>, ...parts: string[]): Promise<void> {
  try {
    await fn();
  } catch (error) {
    assert.instance(error, TrainingError);
    for (const part of parts) assert.match((error as Error).message, part);
    return;
  }
  assert.unreachable(`expected a TrainingError mentioning ${parts.join(", ")}`);
}

test("firstStepAtZeroRate finds the first step at rate 0, or none", () => {
  const cosine = resolveOptimizerConfig({ kind: "sgd", learningRate: 0.1, schedule: { kind: "cosine", totalSteps: 8 } });
  assert.is(firstStepAtZeroRate(cosine, 0, 8), null);
  assert.is(firstStepAtZeroRate(cosine, 0, 9), 8);
  assert.is(firstStepAtZeroRate(cosine, 8, 20), 8);
  assert.is(firstStepAtZeroRate(resolveOptimizerConfig({ kind: "sgd", learningRate: 0.1, schedule: { kind: "cosine", totalSteps: 8, minLearningRate: 0.01 } }), 0, 100), null);
  assert.is(firstStepAtZeroRate(resolveOptimizerConfig({ kind: "sgd", learningRate: 0 }), 3, 4), 3);
  assert.is(firstStepAtZeroRate(resolveOptimizerConfig({ kind: "sgd", learningRate: 0.1, schedule: { kind: "step", stepSize: 1, gamma: 2 } }), 0, 50), null);
});

leakChecked("fit refuses a run whose steps would train at learning rate 0, before changing any weight", async () => {
  const graph = mlp();
  try {
    const before = graph.getWeights();
    // 2 epochs x 4 batches = 8 steps, but the cosine schedule ends after 6.
    await rejectsWith(() => fit(graph, { train }, { ...base, optimizer: { kind: "adam", learningRate: 0.01, schedule: { kind: "cosine", totalSteps: 6 } } }),
      "learning rate would be 0 from step 7 of the 8", "cosine", "at least 8 steps");
    await rejectsWith(() => fit(graph, { train }, { ...base, optimizer: { kind: "sgd", learningRate: 0 } }), "from step 1", "learning rate is 0");
    for (const [name, w] of graph.getWeights()) assert.equal(Array.from(w), Array.from(before.get(name)!), `${name} unchanged`);
  } finally {
    graph.dispose();
  }
});

leakChecked("resuming a finished cosine run for more epochs is refused with the schedule as it was, and trains with the schedule stretched", async () => {
  const optimizer = { kind: "sgd" as const, learningRate: 0.1, schedule: { kind: "cosine" as const, totalSteps: 8 } };
  let saved: ResumableCheckpoint | undefined;
  const first = mlp();
  await fit(first, { train }, { ...base, optimizer, checkpointPath: "memory", saveCheckpoint: (_p, c) => {
    saved?.graph.dispose(); // the newer checkpoint replaces the older
    saved = decodeCheckpoint(encodeCheckpoint(c), { backend: c.graph.backend });
  } });
  first.dispose();
  const graph = mlp();
  try {
    await rejectsWith(() => fit(graph, { train }, { ...base, seed: undefined, epochs: 3, optimizer, resume: saved }), "from step 9 of the 12");
    const before = graph.getWeights();
    const history = await fit(graph, { train }, { ...base, seed: undefined, epochs: 3, optimizer: { ...optimizer, schedule: { kind: "cosine", totalSteps: 12 } }, resume: saved });
    assert.is(history.epochs.length, 3);
    assert.ok(history.epochs[2].learningRate > 0, `epoch 3 trains at ${history.epochs[2].learningRate}`);
    const after = graph.getWeights();
    assert.ok([...after].some(([name, w]) => w.some((v, i) => v !== saved!.graph.getWeights().get(name)![i])), "the third epoch changes the weights");
    assert.ok(before.size > 0);
  } finally {
    graph.dispose();
    saved?.graph.dispose();
  }
});

leakChecked("an empty test set is no test set: no NaN in the history", async () => {
  const graph = mlp();
  try {
    const history = await fit(graph, { train, test: makeDataset("empty", new Float32Array(0), new Int32Array(0), [4], 3) }, base);
    for (const record of history.epochs) {
      assert.is(record.testLoss, undefined);
      assert.is(record.testAccuracy, undefined);
      assert.ok(Number.isFinite(record.trainLoss));
    }
  } finally {
    graph.dispose();
  }
});

leakChecked("the run's description is stored in every checkpoint, kept on resume and replaced when given", async () => {
  const run = { data: { source: "blobs", fingerprint: datasetFingerprint(train) }, note: "first" };
  const saved: ResumableCheckpoint[] = [];
  const save = (_p: string, c: Parameters<NonNullable<FitOptions["saveCheckpoint"]>>[1]) =>
    void saved.push(decodeCheckpoint(encodeCheckpoint(c), { backend: c.graph.backend }));
  const graph = mlp();
  try {
    await fit(graph, { train }, { ...base, epochs: 1, run, checkpointPath: "m", saveCheckpoint: save });
    assert.equal(saved[0].progress.run, run);
    await fit(graph, { train }, { ...base, seed: undefined, epochs: 2, resume: saved[0], checkpointPath: "m", saveCheckpoint: save });
    assert.equal(saved[1].progress.run, run, "kept on resume");
    await fit(graph, { train }, { ...base, seed: undefined, epochs: 3, resume: saved[1], run: { ...run, note: "second" }, checkpointPath: "m", saveCheckpoint: save });
    assert.is((saved[2].progress.run as typeof run).note, "second");
  } finally {
    graph.dispose();
    for (const c of saved) c.graph.dispose();
  }
});

test("the data fingerprint tells other data apart, and not the same data elsewhere", () => {
  const a = parseCsv("1,2,0\n3,4,1\n", { fileName: "a.csv" });
  const moved = parseCsv("1,2,0\n3,4,1\n", { fileName: "elsewhere/a.csv" });
  assert.is(datasetFingerprint(a), datasetFingerprint(moved));
  assert.match(datasetFingerprint(a), /^[0-9a-f]{16}$/);
  for (const other of ["1,2,0\n3,4.0001,1\n", "1,2,0\n3,4,0\n", "3,4,1\n1,2,0\n", "1,2,0\n"])
    assert.is.not(datasetFingerprint(parseCsv(other, { fileName: "b.csv" })), datasetFingerprint(a), other);
  const reshaped = makeDataset("r", a.features, a.labels, [1, 2], 2);
  assert.is.not(datasetFingerprint(reshaped), datasetFingerprint(a));
});

test("a CSV lacking the top class loads with a given number of classes; a label beyond them is refused", () => {
  const ds = parseCsv("1,2,0\n3,4,1\n", { fileName: "few.csv", numClasses: 10 });
  assert.is(ds.numClasses, 10);
  try {
    parseCsv("1,2,0\n3,4,10\n", { fileName: "few.csv", numClasses: 10 });
    assert.unreachable();
  } catch (error) {
    assert.match((error as Error).message, "few.csv:2:3: label 10 is outside the 10 classes 0..9");
  }
});

test.run();
