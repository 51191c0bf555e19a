// npm run experiment:il-convergence — how close IL's inference gets to equilibrium, and in
// how many steps. IL's update is defined at the equilibrium of inference, where the residual
// max |dF/dx| over the free vertices is 0; this measures the residual (relative to its value
// at the feedforward state, where inference starts) on 5-layer MLPs (four hidden layers of
// 64 or 256 units, softmax cross-entropy, 784 inputs) and one batch of 64 bundled MNIST
// digits, at initialisation and after one epoch of backprop training (Adam, lr 1e-3, on
// 8,000 digits). Three tables:
//   1. fixed 20 steps at gamma 0.1 without momentum (the earlier default) beside the defaults;
//   2. steps to reach a relative residual of 1e-3 for inference rates x momenta (budget 1,000);
//   3. the defaults at output weight 0.001 (IL's BP-approximating regime) in float32 and float64.
// Budget: about 10 minutes on 2 cores. `--quick` runs a small version.
import { cpus, loadavg } from "node:os";
import type { BackendName } from "../src/backend/load.js";
import { layers, sequential } from "../src/graph/builder.js";
import type { Graph } from "../src/graph/graph.js";
import { IL_DEFAULTS, PCEngine, type PCOptions } from "../src/pc/engine.js";
import { tensor, type Tensor } from "../src/tensor.js";
import { batches, trainTestSplit } from "../src/train/data/dataset.js";
import { loadBundledMnist } from "../src/train/data/mnist.js";
import { fit } from "../src/train/fit.js";

const quick = process.argv.includes("--quick");
const BATCH = 64;
const widths = quick ? [64] : [64, 256];

type Activation = "tanh" | "gelu" | "relu";

interface Network {
  label: string;
  graph: Graph;
  inputs: Tensor;
  target: Tensor;
}

const { train } = trainTestSplit(loadBundledMnist(), 0.2, 1);
const sample = [...batches(train, BATCH, { seed: 3 })][0];

async function network(activation: Activation, width: number, trained: boolean, backend: BackendName = "wasm-simd"): Promise<Network> {
  const hidden = Array.from({ length: 4 }, () => [layers.dense(width), layers[activation]()]).flat();
  const graph = sequential([784], [...hidden, layers.dense(10)], { loss: "softmaxCrossEntropy", seed: 1, backend });
  if (trained) await fit(graph, { train }, { algorithm: "bp", epochs: 1, batchSize: 64, seed: 1, optimizer: { kind: "adam", learningRate: 1e-3 } });
  return {
    label: `${activation} 784-${width}x4-10, ${trained ? "after 1 epoch" : "initial"}${backend === "reference-f64" ? ", float64" : ""}`,
    graph,
    inputs: tensor(sample.features, [BATCH, 784], { backend: graph.backend }),
    target: tensor(sample.oneHot, [BATCH, 10], { backend: graph.backend }),
  };
}

function dispose(n: Network): void {
  n.inputs.dispose();
  n.target.dispose();
  n.graph.dispose();
}

interface Outcome {
  steps: number;
  relative: number;
  converged: boolean;
  stalled: boolean;
  seconds: number;
}

function relax(n: Network, options: Omit<PCOptions, "algorithm">): Outcome {
  const engine = new PCEngine(n.graph, { algorithm: "il", recordEnergy: false, ...options });
  try {
    const started = performance.now();
    const r = engine.run({ inputs: n.inputs, target: n.target });
    const { residual, initialResidual, converged, stalled } = r.inference!;
    return { steps: r.steps, relative: residual / initialResidual, converged, stalled, seconds: (performance.now() - started) / 1000 };
  } finally {
    engine.dispose();
  }
}

const fmt = (x: number) => (Number.isFinite(x) ? x.toExponential(1) : String(x));
/** Steps taken, and why inference stopped when it was not the tolerance. */
const stopped = (o: { steps: number; converged: boolean; stalled: boolean }) => (o.converged ? String(o.steps) : `${o.steps} (${o.stalled ? "stalled" : "budget"})`);
const stepsCell = (o: Outcome) => (o.converged ? String(o.steps) : `${stopped(o)}: ${fmt(o.relative)}`);

console.log(`host: ${cpus()[0]?.model ?? "unknown cpu"}, ${cpus().length} cores; load ${loadavg().map((l) => l.toFixed(2)).join(" ")}`);
console.log(`defaults: gamma ${IL_DEFAULTS.gamma}, momentum ${IL_DEFAULTS.momentum}, tolerance ${IL_DEFAULTS.tolerance} (relative), budget ${IL_DEFAULTS.maxSteps} steps\n`);

const nets: Network[] = [];
for (const width of widths) for (const trained of [false, true]) nets.push(await network("tanh", width, trained));
nets.push(await network("gelu", 64, false));
nets.push(await network("relu", 64, false));

console.log("1. Relative residual max |dF/dx| / its value at the feedforward state (output weight 1, float32)\n");
console.log("| network | 20 steps, gamma 0.1 | defaults: steps | defaults: residual | ms |");
console.log("| --- | ---: | ---: | ---: | ---: |");
for (const n of nets) {
  const old = relax(n, { steps: 20, gamma: 0.1, momentum: 0, tolerance: 0 });
  const now = relax(n, {});
  console.log(`| ${n.label} | ${fmt(old.relative)} | ${stopped(now)} | ${fmt(now.relative)} | ${(1000 * now.seconds).toFixed(0)} |`);
}

const gammas = quick ? [0.1, 0.2] : [0.1, 0.2, 0.3, 0.5];
const momenta = quick ? [0, 0.9] : [0, 0.8, 0.9, 0.95];
console.log(`\n2. Steps to a relative residual of 1e-3 (budget 1,000; "N (why): r": stopped after N steps with residual r)\n`);
console.log(`| network | momentum | ${gammas.map((g) => `gamma ${g}`).join(" | ")} |`);
console.log(`| --- | ---: | ${gammas.map(() => "---:").join(" | ")} |`);
for (const n of nets.filter((x) => x.label.startsWith("tanh"))) {
  for (const momentum of momenta) {
    const cells = gammas.map((gamma) => stepsCell(relax(n, { gamma, momentum, tolerance: 1e-3, steps: 1000 })));
    console.log(`| ${n.label} | ${momentum} | ${cells.join(" | ")} |`);
  }
}
for (const n of nets) dispose(n);

console.log("\n3. Defaults at output weight 0.001 (float32 rounding of e = x - mu floors the residual near 1e-6 absolute)\n");
console.log("| network | steps | relative residual | absolute residual |");
console.log("| --- | ---: | ---: | ---: |");
for (const backend of ["wasm-simd", "reference-f64"] as const) {
  const n = await network("tanh", 64, false, backend);
  const engine = new PCEngine(n.graph, { algorithm: "il", outputWeight: 1e-3, recordEnergy: false });
  const r = engine.run({ inputs: n.inputs, target: n.target });
  const { residual, initialResidual } = r.inference!;
  console.log(`| ${n.label} | ${stopped(r.inference!)} | ${fmt(residual / initialResidual)} | ${fmt(residual)} |`);
  engine.dispose();
  dispose(n);
}
