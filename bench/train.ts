// npm run bench:train [steps|depth|batch|rounds|epoch|graph] — training on pcgraph's threaded backend with 1
// and with 2 threads, and beside TF.js's wasm backend, in this process:
//   steps  one training step (gradients + SGD update) at batch 64 with BP, Z-IL, FPA and IL
//          (T = 20) for the MLP 784-256-256-10 and the CNN of `npm start -- --model cnn`, and
//          TF.js's MLP step (autodiff + SGD), all in interleaved rounds;
//   depth  Z-IL step time / BP step time for MLPs of width 256 and 2 to 32 layers;
//   batch  steps at batch 1, 8 and 64, with the kernel calls and allocations per step: the
//          fixed cost per step that dominates small batches;
//   rounds the MLP step's 2-thread speed-up round by round, with the share of blocks the
//          worker ran and the machine's ceiling just after each round;
//   epoch  one epoch of `npm start` (the MLP, Z-IL, Adam, 40,000 digits with shifted copies,
//          batch 64) and one of the PC-graph experiment's generative hierarchy, wall clock,
//          1 thread against 2;
//   graph  PC-graph inference steps per second (bench/graph.ts).
// Every table prints the host and its load average.
import * as tf from "@tensorflow/tfjs";
import type { Backend } from "../src/backend/kernels.js";
import { createBackend } from "../src/backend/load.js";
import { WasmBackend } from "../src/backend/wasm.js";
import type { ThreadedBackend } from "../src/backend/threaded.js";
import { loadData } from "../src/cli/data.js";
import { GraphBuilder, type NodeRef } from "../src/graph/builder.js";
import type { Graph } from "../src/graph/graph.js";
import { randomBatch } from "../src/pc/random-graph.js";
import { fit } from "../src/train/fit.js";
import { hierarchical } from "../src/pc/graph/topology.js";
import { PCGraph } from "../src/train/pc-graph.js";
import { gradientEngine, type Algorithm } from "../src/train/gradients.js";
import { createOptimizer } from "../src/train/optimizers.js";
import { graphBenchmark } from "./graph.js";
import { CEILING_COLUMN, ceilingCell, SLICED_CEILING_COLUMN, startCeiling } from "./kernels/ceiling.js";
import { peerDescription, tfjsWasm } from "./peer.js";
import { threadSamples, workerSharesCallersCpu } from "./thread-cpus.js";
import { beginTable, endTable, markdownTable, median, medianRatio, timeInterleaved, type Timing } from "./report.js";

const BATCH = 64;
const only = process.argv[2];

function mlp(backend: Backend, depth = 3, width = 256): Graph {
  const g = new GraphBuilder();
  let x: NodeRef = g.input([784], "x");
  for (let i = 0; i < depth - 1; i++) x = g.relu(g.dense(x, width));
  return g.build({ output: g.dense(x, 10), loss: "softmaxCrossEntropy", seed: 1, backend });
}

function cnn(backend: Backend): Graph {
  const g = new GraphBuilder();
  const x = g.input([1, 28, 28], "x");
  let h = g.maxPool2d(g.relu(g.conv2d(x, 16, 3, { padding: "same" })), 2);
  h = g.maxPool2d(g.relu(g.conv2d(h, 32, 3, { padding: "same" })), 2);
  const out = g.dense(g.relu(g.dense(g.flatten(h), 128)), 10);
  return g.build({ output: out, loss: "softmaxCrossEntropy", seed: 1, backend });
}

/** One training step of `graph` (gradients, then an SGD update of every parameter), ready to time. */
function trainingStep(graph: Graph, algorithm: Algorithm, batchSize = BATCH) {
  const batch = randomBatch(graph, batchSize, 7);
  const engine = gradientEngine(graph, algorithm,
    algorithm === "il" ? { steps: 20, gamma: 0.1, momentum: 0, tolerance: 0, recordEnergy: false } : {});
  const step = () => {
    const { gradients } = engine.run(batch);
    for (const p of graph.parameters) graph.backend.axpy(p.size, -1e-3, gradients.get(p.name)!.address, p.tensor.address);
  };
  step(); // first-run allocations
  return {
    step,
    dispose: () => {
      engine.dispose();
      for (const t of [...Object.values(batch.inputs), batch.target]) t.dispose();
    },
  };
}

/** TF.js's step for the MLP 784-256-256-10: autodiff through softmax cross-entropy, SGD, loss read back. */
async function tfjsMlpStep(batchSize = BATCH) {
  await tfjsWasm();
  const dims = [784, 256, 256, 10];
  const weights = dims.slice(1).map((out, i) => tf.variable(tf.randomNormal([dims[i], out], 0, Math.sqrt(2 / dims[i]))));
  const biases = dims.slice(1).map((out) => tf.variable(tf.zeros([out])));
  const x = tf.randomUniform([batchSize, 784]);
  const labels = tf.cast(tf.oneHot(tf.randomUniform([batchSize], 0, 10, "int32") as tf.Tensor1D, 10), "float32");
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
  return { step, dispose: () => [...weights, ...biases, x, labels].forEach((t) => t.dispose()) };
}

async function threadBackends(): Promise<[ThreadedBackend, ThreadedBackend]> {
  const one = createBackend("wasm-simd-threads", { threads: 1 }) as ThreadedBackend;
  const two = createBackend("wasm-simd-threads", { threads: 2 }) as ThreadedBackend;
  await two.whenStarted();
  if (two.threadInfo().readyWorkers !== 1) throw new Error(`the 2-thread backend has no worker: ${JSON.stringify(two.threadInfo())}`);
  return [one, two];
}

const ms = (t: Timing) => (t.seconds * 1000).toFixed(2);
const times = (a: Timing, b: Timing) => `${medianRatio(a, b).toFixed(2)}x`;

console.log(`pcgraph training benchmarks; peer: ${await peerDescription()}`);
const [one, two] = await threadBackends();
// The machine's two-thread ceiling, run in the same rounds as the 1- and 2-thread contenders.
const ceiling = await startCeiling();

if (!only || only === "steps") {
  beginTable(`one training step at batch ${BATCH} (gradients + SGD update), ms (median of interleaved rounds)`);
  const rows: string[][] = [];
  const models: [string, (b: Backend) => Graph][] = [["MLP 784-256-256-10", (b) => mlp(b)], ["CNN conv16-pool-conv32-pool-128-10", cnn]];
  const peer = await tfjsMlpStep();
  for (const [name, make] of models) {
    const graphs = [make(one), make(two)];
    // Before the first row of a model, its steps run for a while on both backends (and
    // TF.js's): the engine tiers hot wasm functions up in the background, on a core the
    // worker would otherwise need, and the first rows of a run came out below the rest.
    {
      const warm = graphs.map((g) => trainingStep(g, "bp"));
      timeInterleaved({ one: warm[0].step, two: warm[1].step, ...(name.startsWith("MLP") ? { tfjs: peer.step } : {}) },
        { rounds: 3, roundMs: 300 });
      warm.forEach((w) => w.dispose());
    }
    for (const algorithm of ["bp", "zil", "fpa", "il"] as Algorithm[]) {
      const [s1, s2] = graphs.map((g) => trainingStep(g, algorithm));
      const pausesBefore = two.threadInfo().stats.pauses;
      const withPeer = name.startsWith("MLP") && (algorithm === "bp" || algorithm === "zil");
      const t = timeInterleaved({ one: s1.step, two: s2.step, ...(withPeer ? { tfjs: peer.step } : {}), ...ceiling.slicedContenders },
        { rounds: 9, roundMs: algorithm === "il" ? 200 : 60 });
      s1.dispose();
      s2.dispose();
      rows.push([name, algorithm === "il" ? "IL (T=20)" : algorithm === "zil" ? "Z-IL" : algorithm.toUpperCase(),
        ms(t.one), ms(t.two), times(t.one, t.two), t.tfjs ? ms(t.tfjs) : "-", t.tfjs ? times(t.tfjs, t.two) : "-",
        String(two.threadInfo().stats.pauses - pausesBefore), ceilingCell(ceiling, t), ceiling.threadsSliced(t).toFixed(2)]);
    }
    graphs.forEach((g) => g.dispose());
  }
  peer.dispose();
  markdownTable(["model", "algorithm", "1 thread", "2 threads", "2 threads / 1", "TF.js (MLP)", "TF.js / pcgraph 2 threads",
    "pauses of splitting (workers late)", CEILING_COLUMN,
    SLICED_CEILING_COLUMN],
    rows, ["l", "l"]);
  endTable();
}

if (!only || only === "depth") {
  beginTable(`depth sweep: MLP of width 256, batch ${BATCH}, 2 threads; Z-IL step time / BP step time (median of per-round ratios)`);
  const rows: string[][] = [];
  for (const depth of [2, 4, 8, 16, 32]) {
    const graph = mlp(two, depth, 256);
    const bp = trainingStep(graph, "bp");
    const zil = trainingStep(graph, "zil");
    const t = timeInterleaved({ bp: bp.step, zil: zil.step }, { rounds: 11 });
    bp.dispose();
    zil.dispose();
    graph.dispose();
    rows.push([String(depth), ms(t.bp), ms(t.zil), medianRatio(t.zil, t.bp).toFixed(3)]);
  }
  markdownTable(["layers", "BP ms", "Z-IL ms", "Z-IL / BP"], rows);
  endTable();
}

/**
 * Kernel calls, allocations and the time spent inside backend calls, per call of `fn`, over
 * `repeats` calls (the backend's methods wrapped for the count); the rest of the step is
 * JavaScript: the graph and PC logic around the kernels.
 */
function countCalls(backend: Backend, fn: () => void, repeats = 200): { calls: number; allocations: number; kernelSeconds: number; stepSeconds: number } {
  const counts = { calls: 0, allocations: 0, kernelSeconds: 0, stepSeconds: 0 };
  const own = backend as unknown as Record<string, unknown>;
  const wrapped: string[] = [];
  // The Backend interface's methods, as WasmBackend defines them (not the threaded backend's helpers).
  {
    for (const name of Object.getOwnPropertyNames(WasmBackend.prototype)) {
      if (name === "constructor" || typeof own[name] !== "function") continue;
      if (["view", "read", "write", "reservedBytes", "free"].includes(name)) continue;
      const original = own[name] as (...args: unknown[]) => unknown;
      own[name] = (...args: unknown[]) => {
        if (name === "alloc") counts.allocations++;
        else counts.calls++;
        const start = performance.now();
        const result = original.apply(backend, args);
        counts.kernelSeconds += (performance.now() - start) / 1000;
        return result;
      };
      wrapped.push(name);
    }
  }
  const start = performance.now();
  try {
    for (let i = 0; i < repeats; i++) fn();
  } finally {
    for (const name of wrapped) delete own[name];
  }
  counts.stepSeconds = (performance.now() - start) / 1000;
  return {
    calls: counts.calls / repeats, allocations: counts.allocations / repeats,
    kernelSeconds: counts.kernelSeconds / repeats, stepSeconds: counts.stepSeconds / repeats,
  };
}

if (!only || only === "batch") {
  beginTable("small batches: MLP 784-256-256-10 step time by batch size; kernel calls, allocations and JavaScript time per step (the fixed cost), timed with every backend call wrapped");
  const rows: string[][] = [];
  const peers = new Map<number, Awaited<ReturnType<typeof tfjsMlpStep>>>();
  for (const batchSize of [1, 8, 64]) {
    peers.set(batchSize, await tfjsMlpStep(batchSize));
    for (const algorithm of ["bp", "zil"] as Algorithm[]) {
      const graphs = [mlp(one), mlp(two)];
      const [s1, s2] = graphs.map((g) => trainingStep(g, algorithm, batchSize));
      const counted = countCalls(one, s1.step);
      const t = timeInterleaved({ one: s1.step, two: s2.step, tfjs: peers.get(batchSize)!.step, ...ceiling.slicedContenders }, { rounds: 7 });
      s1.dispose();
      s2.dispose();
      graphs.forEach((g) => g.dispose());
      rows.push([String(batchSize), algorithm === "zil" ? "Z-IL" : "BP", ms(t.one), ms(t.two), times(t.one, t.two), ms(t.tfjs),
        times(t.tfjs, t.two), String(counted.calls), String(counted.allocations),
        ((counted.stepSeconds - counted.kernelSeconds) * 1e6).toFixed(0),
        `${((100 * (counted.stepSeconds - counted.kernelSeconds)) / counted.stepSeconds).toFixed(0)}%`, ceilingCell(ceiling, t),
        ceiling.threadsSliced(t).toFixed(2)]);
    }
    peers.get(batchSize)!.dispose();
  }
  markdownTable(["batch", "algorithm", "1 thread ms", "2 threads ms", "2 threads / 1", "TF.js ms", "TF.js / pcgraph 2 threads",
    "kernel calls / step", "allocations / step", "µs / step outside kernels (JS), 1 thread", "share of the step", CEILING_COLUMN,
    SLICED_CEILING_COLUMN], rows);
  endTable();
}

if (!only || only === "rounds") {
  // The MLP step's 2-thread speed-up, round by round, beside the work split in that round and
  // the machine's ceiling measured right after it: whether a slow 2-thread round is one in
  // which the pool did not split (a worker late, splitting paused) or one in which it split
  // evenly and both threads ran slowly (the machine).
  const SECONDS = 20, ROUND_MS = 60;
  beginTable(`MLP 784-256-256-10 BP step at batch ${BATCH}, ${SECONDS} s of ${ROUND_MS}-ms rounds (1 thread, 2 threads, then the ceiling's micro-kernel alone and on two threads), grouped by the round's 2 threads / 1`);
  const graphs = [mlp(one), mlp(two)];
  const [s1, s2] = graphs.map((g) => trainingStep(g, "bp"));
  const pool = () => two.threadInfo().stats;
  const msPerCall = (fn: () => void): number => {
    const started = performance.now();
    let calls = 0;
    while (performance.now() - started < ROUND_MS) {
      fn();
      calls++;
    }
    return (performance.now() - started) / calls;
  };
  timeInterleaved({ one: s1.step, two: s2.step }, { rounds: 3, roundMs: 300 }); // warm-up (see the steps table)
  const rounds: { ratio: number; workerShare: number; pauses: number; ceiling: number; sharedCpu: number[] }[] = [];
  for (const until = performance.now() + SECONDS * 1000; performance.now() < until;) {
    const oneMs = msPerCall(s1.step);
    const before = pool();
    // Every 8th step, whether the worker (the busiest other thread) last ran on this thread's CPU.
    const threadsAtStart = threadSamples();
    const sharedCpu: number[] = [];
    let steps = 0;
    const twoMs = msPerCall(() => {
      s2.step();
      if (++steps % 8 === 0) {
        const shared = workerSharesCallersCpu(threadsAtStart);
        if (shared !== undefined) sharedCpu.push(shared ? 1 : 0);
      }
    });
    const after = pool();
    const ceilingOne = msPerCall(ceiling.contenders.ceilingOne), ceilingTwo = msPerCall(ceiling.contenders.ceilingTwo);
    const mainBlocks = after.blocksRun[0] - before.blocksRun[0], workerBlocks = after.blocksRun[1] - before.blocksRun[1];
    rounds.push({
      ratio: oneMs / twoMs, workerShare: workerBlocks / Math.max(1, mainBlocks + workerBlocks), pauses: after.pauses - before.pauses,
      ceiling: (2 * ceilingOne) / ceilingTwo, sharedCpu,
    });
  }
  s1.dispose();
  s2.dispose();
  graphs.forEach((g) => g.dispose());
  function summary(label: string, group: typeof rounds): string[] {
    const samples = group.flatMap((r) => r.sharedCpu);
    return [label, String(group.length), `${(100 * median(group.map((r) => r.workerShare))).toFixed(0)}%`,
      String(group.reduce((t, r) => t + r.pauses, 0)),
      samples.length ? `${samples.reduce((t, v) => t + v, 0)} of ${samples.length}` : "-",
      median(group.map((r) => r.ceiling)).toFixed(2)];
  }
  const groups: [string, number, number][] = [["below 1.1x", 0, 1.1], ["1.1-1.3x", 1.1, 1.3], ["1.3-1.5x", 1.3, 1.5], ["1.5-1.7x", 1.5, 1.7], ["1.7x and up", 1.7, Infinity]];
  const rows = groups.map(([label, lo, hi]) => {
    const inGroup = rounds.filter((r) => r.ratio >= lo && r.ratio < hi);
    if (inGroup.length === 0) return [label, "0", "-", "-", "-", "-"];
    return summary(label, inGroup);
  });
  rows.push(summary("all", rounds));
  markdownTable(["2 threads / 1 in the round", "rounds", "blocks the worker ran (median)", "pauses of splitting",
    "samples with the worker on the caller's CPU", "threads' worth the machine gave just after (median)"], rows, ["l"]);
  console.log(`median 2 threads / 1 over all rounds: ${median(rounds.map((r) => r.ratio)).toFixed(2)}x`);
  endTable();
}

/** The ceiling over a few short rounds, measured between epochs (which are too long to interleave with). */
const ceilingNow = (): [number, number] => {
  const t = timeInterleaved(ceiling.contenders, { rounds: 5 });
  return [ceiling.threads(t), ceiling.memoryThreads(t)];
};
/** Medians of the arithmetic and memory ceilings taken between rounds. */
const ceilingsCell = (taken: [number, number][]) =>
  `${median(taken.map((c) => c[0])).toFixed(2)} / ${median(taken.map((c) => c[1])).toFixed(2)}`;
const EPOCH_CEILING_COLUMN = "threads' worth the machine gave: arithmetic / memory (between rounds)";

if (!only || only === "epoch") {
  const data = loadData("mnist", { seed: 1, testFraction: 0.2, augment: "auto" });
  beginTable(`one epoch of npm start: MLP 784-256-256-10, Z-IL, Adam, batch 64, ${data.train.size.toLocaleString("en-US")} training digits (shifted copies included), wall clock s, 3 interleaved rounds`);
  const seconds: Record<string, number[]> = { one: [], two: [] };
  const ceilings: [number, number][] = [];
  for (let round = 0; round < 3; round++) {
    for (const [name, backend] of (round % 2 ? [["two", two], ["one", one]] : [["one", one], ["two", two]]) as [string, Backend][]) {
      const graph = mlp(backend);
      const started = performance.now();
      await fit(graph, { train: data.train }, {
        algorithm: "zil", epochs: 1, batchSize: 64, seed: 1,
        optimizer: createOptimizer({ kind: "adam", learningRate: 1e-3 }),
      });
      seconds[name].push((performance.now() - started) / 1000);
      graph.dispose();
    }
    ceilings.push(ceilingNow());
  }
  const t1: Timing = { seconds: median(seconds.one), perRound: seconds.one };
  const t2: Timing = { seconds: median(seconds.two), perRound: seconds.two };
  markdownTable(["1 thread s", "2 threads s", "2 threads / 1", EPOCH_CEILING_COLUMN],
    [[t1.seconds.toFixed(2), t2.seconds.toFixed(2), times(t1, t2), ceilingsCell(ceilings)]]);
  endTable();

  // One epoch of the PC-graph experiment's generative hierarchy (npm run experiment:pcgraph).
  const digits = loadData("mnist", { seed: 1, testFraction: 0.2, augment: false });
  beginTable(`one epoch of the PC-graph experiment's generative hierarchy label 10 -> 128 -> 784 (PC, T = 20, γ = 0.1, Adam 1e-3, batch 64, ${digits.train.size.toLocaleString("en-US")} digits), wall clock s, 3 interleaved rounds`);
  const graphSeconds: Record<string, number[]> = { one: [], two: [] };
  const graphCeilings: [number, number][] = [];
  const generative = hierarchical([["sensory", 784, "tanh"], ["hidden", 128, "tanh"], ["label", 10]], { direction: "backward" });
  for (let round = 0; round < 3; round++) {
    for (const [name, backend] of (round % 2 ? [["two", two], ["one", one]] : [["one", one], ["two", two]]) as [string, Backend][]) {
      const net = new PCGraph(generative, { seed: 1, backend });
      const started = performance.now();
      await net.fit({ train: digits.train }, {
        algorithm: "pc", epochs: 1, batchSize: 64, optimizer: { kind: "adam", learningRate: 1e-3 }, seed: 1, steps: 20, gamma: 0.1,
      });
      graphSeconds[name].push((performance.now() - started) / 1000);
      net.dispose();
    }
    graphCeilings.push(ceilingNow());
  }
  const g1: Timing = { seconds: median(graphSeconds.one), perRound: graphSeconds.one };
  const g2: Timing = { seconds: median(graphSeconds.two), perRound: graphSeconds.two };
  markdownTable(["1 thread s", "2 threads s", "2 threads / 1", EPOCH_CEILING_COLUMN],
    [[g1.seconds.toFixed(2), g2.seconds.toFixed(2), times(g1, g2), ceilingsCell(graphCeilings)]]);
  endTable();
}

two.dispose();
ceiling.dispose();

if (!only || only === "graph") await graphBenchmark();
