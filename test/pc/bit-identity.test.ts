// The headline claim, asserted exactly: in float32, training with Z-IL and training with
// backprop from the same weights on the same batches end with bit-identical weights (max
// difference exactly 0, every bit pattern equal), on chains and on the CNN of `npm start`,
// on both wasm builds. Oracle: the reference backprop, trained side by side.
//
// Why exact and not merely close: on a chain every vertex has one child, and on the error
// wavefront Z-IL's error units change by exactly the feedback J^T e_child that backprop
// computes as its delta, with the same kernels in the same order (docs/zil-schedule.md); no
// sum is reordered, so f32 rounding is the same on both sides.
//
// The same runs are fingerprinted (CRC-32 of the weights' f32 bytes) and recorded: every
// runtime (Node, Deno, Bun, Chromium) must produce the same fingerprints bit for bit, which
// scripts/summarize-tests.mjs checks across the runtimes' results.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import fc from "fast-check";
import type { BackendName } from "../../src/backend/load.js";
import { layers, sequential, type Layer } from "../../src/graph/builder.js";
import type { Graph } from "../../src/graph/graph.js";
import type { LossName } from "../../src/graph/loss.js";
import { Random } from "../../src/random.js";
import { makeDataset, type Dataset } from "../../src/train/data/dataset.js";
import { crc32 } from "../../src/train/crc32.js";
import { fit } from "../../src/train/fit.js";
import type { OptimizerConfig } from "../../src/train/optimizers.js";
import type { Algorithm } from "../../src/train/gradients.js";
import "../arbitraries.js"; // the fixed fast-check seed
import { record } from "../harness/records.js";
import { leakChecked } from "../util/leaks.js";

const bits = leakChecked(suite("float32 Z-IL and BP end with bit-identical weights"));

/** Weights in parameter order as their float32 bit patterns. */
function weightBits(graph: Graph): Map<string, Uint32Array> {
  const out = new Map<string, Uint32Array>();
  for (const p of graph.parameters) out.set(p.name, new Uint32Array(Float32Array.from(p.tensor.dataSync()).buffer));
  return out;
}

/** CRC-32 over every parameter's f32 bytes, in parameter order, with the parameter count. */
export function fingerprint(weights: Map<string, Uint32Array>): string {
  const parts = [...weights.values()];
  const total = parts.reduce((n, w) => n + w.length, 0);
  const all = new Uint32Array(total);
  let offset = 0;
  for (const w of parts) {
    all.set(w, offset);
    offset += w.length;
  }
  return `${crc32(new Uint8Array(all.buffer)).toString(16).padStart(8, "0")}/${total}`;
}

interface Difference {
  /** Largest |a - b| over every weight. */
  max: number;
  /** Weights whose bit patterns differ (0 and -0 count as different). */
  mismatched: number;
  first: string;
}

function compareBits(a: Map<string, Uint32Array>, b: Map<string, Uint32Array>): Difference {
  let max = 0;
  let mismatched = 0;
  let first = "";
  for (const [name, x] of a) {
    const y = b.get(name)!;
    const fx = new Float32Array(x.buffer);
    const fy = new Float32Array(y.buffer);
    for (let i = 0; i < x.length; i++) {
      if (x[i] === y[i]) continue;
      mismatched++;
      max = Math.max(max, Math.abs(fx[i] - fy[i]));
      first ||= `${name}[${i}]: ${fx[i]} vs ${fy[i]}`;
    }
  }
  return { max, mismatched, first };
}

interface Run {
  build: (backend: BackendName) => Graph;
  data: Dataset;
  batchSize: number;
  optimizer: OptimizerConfig;
  seed: number;
}

/** Trains a fresh copy with `algorithm` for one pass over `data` (data.size / batchSize steps). */
async function train(run: Run, algorithm: Algorithm, backend: BackendName): Promise<Map<string, Uint32Array>> {
  const graph = run.build(backend);
  try {
    await fit(graph, { train: run.data }, { algorithm, epochs: 1, batchSize: run.batchSize, optimizer: run.optimizer, seed: run.seed });
    return weightBits(graph);
  } finally {
    graph.dispose();
  }
}

/** Random features in [0, 1) and labels in [0, classes), from a seed. */
function randomData(seed: number, samples: number, featureShape: number[], classes: number): Dataset {
  const random = new Random(seed);
  const size = featureShape.reduce((a, b) => a * b, 1);
  const features = Float32Array.from({ length: samples * size }, () => random.next());
  const labels = Int32Array.from({ length: samples }, () => random.int(classes));
  return makeDataset("random", features, labels, featureShape, classes);
}

const activations = ["relu", "tanh", "sigmoid", "gelu", "leakyRelu", "softplus"] as const;

/** A chain: dense layers of random widths, each followed by an activation, then the output layer. */
const chainArbitrary = fc.record({
  inputs: fc.integer({ min: 1, max: 12 }),
  hidden: fc.array(fc.record({ units: fc.integer({ min: 1, max: 12 }), activation: fc.constantFrom(...activations) }), { minLength: 0, maxLength: 5 }),
  classes: fc.integer({ min: 2, max: 6 }),
  loss: fc.constantFrom<LossName>("mse", "softmaxCrossEntropy"),
  batchSize: fc.integer({ min: 1, max: 8 }),
  steps: fc.integer({ min: 1, max: 4 }),
  optimizer: fc.constantFrom<OptimizerConfig>(
    { kind: "sgd", learningRate: 0.05 },
    { kind: "momentum", learningRate: 0.01 },
    { kind: "adam", learningRate: 0.001 },
  ),
  seed: fc.integer({ min: 0, max: 1_000_000 }),
});

type Chain = typeof chainArbitrary extends fc.Arbitrary<infer T> ? T : never;

function chainRun(c: Chain): Run {
  const body: Layer[] = c.hidden.flatMap(({ units, activation }) => [
    layers.dense(units),
    activation === "leakyRelu" ? layers.activation("leakyRelu", 0.1) : layers.activation(activation),
  ]);
  return {
    build: (backend) => sequential([c.inputs], [...body, layers.dense(c.classes)], { loss: c.loss, seed: c.seed, backend }),
    data: randomData(c.seed + 1, c.batchSize * c.steps, [c.inputs], c.classes),
    batchSize: c.batchSize,
    optimizer: c.optimizer,
    seed: c.seed,
  };
}

const describeChain = (c: Chain) =>
  `${c.inputs}-${c.hidden.map((h) => `${h.units}${h.activation}`).join("-")}${c.hidden.length ? "-" : ""}${c.classes} ${c.loss}, ` +
  `batch ${c.batchSize}, ${c.steps} ${c.optimizer.kind} steps, seed ${c.seed}`;

async function expectIdenticalChains(backend: BackendName, runs: number): Promise<void> {
  await fc.assert(
    fc.asyncProperty(chainArbitrary, async (c) => {
      const run = chainRun(c);
      const zil = await train(run, "zil", backend);
      const bp = await train(run, "bp", backend);
      const d = compareBits(zil, bp);
      if (d.mismatched !== 0)
        throw new Error(`${backend}: ${d.mismatched} weights differ (max |difference| ${d.max}; first ${d.first}) on ${describeChain(c)}`);
    }),
    { numRuns: runs },
  );
}

// Exactly zero: no tolerance. Any reordered sum or recomputed error shows up here.
bits("chains on wasm-simd: after k SGD, momentum or Adam steps the Z-IL and BP weights are bit-identical", async () => {
  await expectIdenticalChains("wasm-simd", 40);
});

bits("chains on wasm-scalar: after k steps the Z-IL and BP weights are bit-identical", async () => {
  await expectIdenticalChains("wasm-scalar", 15);
});

/** The CNN of `npm start -- --model cnn` (src/cli/models.ts), on 28x28 one-channel images. */
function cnn(seed: number, backend: BackendName): Graph {
  return sequential([1, 28, 28], [
    layers.conv2d(8, 3), layers.relu(), layers.maxPool2d(2),
    layers.conv2d(16, 3), layers.relu(), layers.maxPool2d(2),
    layers.flatten(), layers.dense(64), layers.relu(), layers.dense(10),
  ], { loss: "softmaxCrossEntropy", seed, backend });
}

const CNN_STEPS = 3;
const CNN_BATCH = 8;
const cnnRun: Run = {
  build: (backend) => cnn(7, backend),
  data: randomData(8, CNN_STEPS * CNN_BATCH, [1, 28, 28], 10),
  batchSize: CNN_BATCH,
  // As `npm start -- --model cnn`: Adam at 0.002 with a cosine schedule over the run.
  optimizer: { kind: "adam", learningRate: 0.002, schedule: { kind: "cosine", totalSteps: CNN_STEPS } },
  seed: 7,
};

for (const backend of ["wasm-simd", "wasm-scalar"] as const) {
  bits(`the npm start CNN on ${backend}: after ${CNN_STEPS} Adam steps the Z-IL and BP weights are bit-identical; fingerprint recorded`, async () => {
    const zil = await train(cnnRun, "zil", backend);
    const bp = await train(cnnRun, "bp", backend);
    const d = compareBits(zil, bp);
    assert.is(d.mismatched, 0, `${d.mismatched} weights differ (max |difference| ${d.max}; first ${d.first})`);
    assert.is(d.max, 0);
    const initial = cnn(7, backend);
    const start = weightBits(initial);
    initial.dispose();
    assert.ok(compareBits(start, zil).mismatched > 1000, "training changed the weights (the comparison is not of untouched copies)");
    record(`weights after ${CNN_STEPS} Z-IL steps: npm start CNN, batch ${CNN_BATCH}, Adam + cosine, ${backend}`, fingerprint(zil));
    record(`weights after ${CNN_STEPS} BP steps: npm start CNN, batch ${CNN_BATCH}, Adam + cosine, ${backend}`, fingerprint(bp));
  });
}

bits("an MLP chain's fingerprint after 5 Z-IL steps is recorded for the cross-runtime comparison", async () => {
  const run: Run = {
    // heNormal draws through Box-Muller (Math.log, Math.cos, Math.sin), so the initial weights
    // depend on each engine's transcendental functions, as well as training on the wasm kernels.
    build: (backend) => sequential([64], [layers.dense(32, { kernelInit: "heNormal" }), layers.tanh(), layers.dense(32), layers.gelu(), layers.dense(10)],
      { loss: "softmaxCrossEntropy", seed: 11, backend }),
    data: randomData(12, 5 * 16, [64], 10),
    batchSize: 16,
    optimizer: { kind: "momentum", learningRate: 0.05 },
    seed: 11,
  };
  for (const backend of ["wasm-simd", "wasm-scalar"] as const) {
    const zil = await train(run, "zil", backend);
    const bp = await train(run, "bp", backend);
    assert.is(compareBits(zil, bp).mismatched, 0);
    record(`weights after 5 Z-IL steps: MLP 64-32tanh-32gelu-10 (heNormal), batch 16, momentum, ${backend}`, fingerprint(zil));
  }
});

bits("the fingerprint sees a one-bit change in any weight", () => {
  const weights = new Map([["a", Uint32Array.from([1, 2, 3])], ["b", Uint32Array.from([4, 5])]]);
  const base = fingerprint(weights);
  for (const [name, w] of weights)
    for (let i = 0; i < w.length; i++) {
      w[i] ^= 1;
      assert.is.not(fingerprint(weights), base, `${name}[${i}]`);
      w[i] ^= 1;
    }
  assert.is(fingerprint(weights), base);
});

bits.run();
