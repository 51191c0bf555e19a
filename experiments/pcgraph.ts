// npm run experiment:pcgraph — PC graphs on the bundled MNIST digits and on Fashion-MNIST:
// one table per dataset (topology | algorithm | classification accuracy | completion MSE of
// the bottom half | denoising MSE | training time), image grids of label-clamped
// generations and of completions, and the energy per inference step of a classification
// query. Writes the images to docs/images/pcgraph/ and the tables into README.md between
// the experiment's markers, and prints the same tables. Fixed seeds throughout.
//
//   npx tsx experiments/pcgraph.ts [--smoke] [--out DIR] [--no-readme] [--datasets mnist,fashion] [--threads N]
//
// Runs on one thread (wasm-simd) unless --threads asks for more (wasm-simd-threads), so its
// times compare with the one-thread anchor. Time budget: about 10 minutes on one thread of a
// 2-core machine (the smoke version: seconds).
import { mkdirSync, readFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { getBackend, ready, setBackend, type BackendName } from "../src/backend/load.js";
import { withShiftedCopies } from "../src/cli/data.js";
import { layers, sequential } from "../src/graph/builder.js";
import { fashionMnistAvailable, loadFashionMnist } from "../src/node/fashion-mnist.js";
import { hostLine } from "../src/node/host.js";
import { writeFileAtomic } from "../src/node/files.js";
import { gridPng } from "../src/node/image-grid.js";
import type { ValueInit } from "../src/pc/graph/init.js";
import { fullyConnected, hierarchical, type PCGraphSpec } from "../src/pc/graph/topology.js";
import type { StepEvent } from "../src/pc/steps.js";
import { subset, trainTestSplit, type Dataset } from "../src/train/data/dataset.js";
import { loadBundledMnist } from "../src/train/data/mnist.js";
import { energyCurvesSvg } from "../src/train/energy-plot.js";
import { fit } from "../src/train/fit.js";
import type { OptimizerConfig } from "../src/train/optimizers.js";
import { PCGraph, type PCLearningAlgorithm } from "../src/train/pc-graph.js";
import { completeImages, completionError, denoisingError, generateImages, visibleMask } from "../src/train/pc-graph-tasks.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

interface PCRow {
  kind: "pc";
  topology: string;
  label: string;
  spec: PCGraphSpec;
  algorithm: PCLearningAlgorithm;
  settings: string;
  optimizer: OptimizerConfig;
  epochs: number;
  batchSize: number;
  steps: number;
  gamma: number;
  shifted: boolean;
  weightInit?: "glorotUniform" | { kind: "normal"; std: number };
  trainInit?: ValueInit;
  /** Show its generations and completions in the figures. */
  figures: boolean;
  /** Measure completion and denoising (the discriminative hierarchy has no prediction of the image). */
  imageTasks: boolean;
}

interface BPRow {
  kind: "bp";
  topology: string;
  settings: string;
  epochs: number;
  batchSize: number;
  optimizer: OptimizerConfig;
  shifted: boolean;
}

type Row = PCRow | BPRow;

interface Profile {
  smoke: boolean;
  /** Training samples used (before shifted copies); undefined: all. */
  trainSize?: number;
  testSize?: number;
  /** Test images for completion and denoising. */
  imageCount: number;
  /** Relaxation of the image queries and of classification by relaxation. */
  query: { steps: number; gamma: number; tolerance: number };
  epochScale: number;
}

const fullProfile: Profile = { smoke: false, imageCount: 500, query: { steps: 200, gamma: 0.05, tolerance: 1e-4 }, epochScale: 1 };
const smokeProfile: Profile = { smoke: true, trainSize: 300, testSize: 100, imageCount: 20, query: { steps: 10, gamma: 0.05, tolerance: 1e-4 }, epochScale: 0 };

function rows(dataset: "mnist" | "fashion"): Row[] {
  const tanh = "tanh" as const;
  const discriminative = hierarchical([["sensory", 784, tanh], ["hidden1", 32, tanh], ["hidden2", 16, tanh], ["label", 10]]);
  const generative = hierarchical([["sensory", 784, tanh], ["hidden", 128, tanh], ["label", 10]], { direction: "backward" });
  const full = fullyConnected([["label", 10], ["hidden", 200, tanh], ["sensory", 784, tanh]]);
  const out: Row[] = [
    { kind: "bp", topology: "MLP 784-32-16-10 (tanh, MSE)", settings: "Adam 3e-3, batch 64", epochs: 12, batchSize: 64, optimizer: { kind: "adam", learningRate: 3e-3 }, shifted: true },
    {
      kind: "pc", topology: "hierarchical 784-32-16-10", label: "discriminative", spec: discriminative, algorithm: "pc", settings: "T=3, γ=0.1, Adam 3e-3, batch 64",
      optimizer: { kind: "adam", learningRate: 3e-3 }, epochs: 12, batchSize: 64, steps: 3, gamma: 0.1, shifted: true, figures: false, imageTasks: false,
    },
    {
      kind: "pc", topology: "hierarchical 784-32-16-10", label: "discriminative", spec: discriminative, algorithm: "ipc", settings: "T=3, γ=0.1, Adam 1e-3, batch 64",
      optimizer: { kind: "adam", learningRate: 1e-3 }, epochs: 12, batchSize: 64, steps: 3, gamma: 0.1, shifted: true, figures: false, imageTasks: false,
    },
  ];
  if (dataset === "mnist")
    out.push({
      kind: "pc", topology: "hierarchical 784-32-16-10", label: "PRECO's settings",
      spec: hierarchical([["sensory", 784, tanh], ["hidden1", 32, tanh], ["hidden2", 16, tanh], ["label", 10, tanh]]), algorithm: "ipc",
      settings: "PRECO's: T=5, γ=0.5, Adam 1e-5, batch 250, N(0, 0.05) weights",
      optimizer: { kind: "adam", learningRate: 1e-5 }, epochs: 30, batchSize: 250, steps: 5, gamma: 0.5, shifted: false,
      weightInit: { kind: "normal", std: 0.05 }, figures: false, imageTasks: false,
    });
  out.push(
    {
      kind: "pc", topology: "generative hierarchy 10-128-784", label: "generative", spec: generative, algorithm: "pc", settings: "T=20, γ=0.1, Adam 1e-3, batch 64",
      optimizer: { kind: "adam", learningRate: 1e-3 }, epochs: 4, batchSize: 64, steps: 20, gamma: 0.1, shifted: false, figures: true, imageTasks: true,
    },
    {
      kind: "pc", topology: "fully connected 10+200+784", label: "fully connected", spec: full, algorithm: "pc", settings: "T=10, γ=0.1, Adam 3e-4, batch 64",
      optimizer: { kind: "adam", learningRate: 3e-4 }, epochs: 4, batchSize: 64, steps: 10, gamma: 0.1, shifted: false, figures: true, imageTasks: true,
    },
    {
      kind: "pc", topology: "fully connected 10+200+784", label: "fully connected", spec: full, algorithm: "ipc", settings: "T=5, γ=0.1, Adam 1e-4, batch 64",
      optimizer: { kind: "adam", learningRate: 1e-4 }, epochs: 2, batchSize: 64, steps: 5, gamma: 0.1, shifted: false, figures: false, imageTasks: true,
    },
  );
  return out;
}

interface Result {
  row: Row;
  accuracy: number;
  completion?: number;
  denoising?: number;
  seconds: number;
  net?: PCGraph;
}

const pct = (x: number) => `${(100 * x).toFixed(2)}%`;
const mse = (x: number | undefined) => (x === undefined ? "–" : x.toFixed(4));

function loadDataset(name: "mnist" | "fashion", profile: Profile): { train: Dataset; test: Dataset; description: string } {
  let train: Dataset;
  let test: Dataset;
  let description: string;
  if (name === "mnist") {
    ({ train, test } = trainTestSplit(loadBundledMnist(), 0.2, 1));
    description = "bundled MNIST: 8,000 train / 2,000 test (split with seed 1)";
  } else {
    const full = loadFashionMnist();
    // Scaled down to the bundled digits' size: the first 10,000 training and 2,000 test images.
    train = subset(full.train, Array.from({ length: 10_000 }, (_, i) => i));
    test = subset(full.test, Array.from({ length: 2_000 }, (_, i) => i));
    description = "Fashion-MNIST, scaled down: the first 10,000 of the 60,000 training images and the first 2,000 of the 10,000 test images";
  }
  if (profile.trainSize !== undefined) train = subset(train, Array.from({ length: Math.min(profile.trainSize, train.size) }, (_, i) => i));
  if (profile.testSize !== undefined) test = subset(test, Array.from({ length: Math.min(profile.testSize, test.size) }, (_, i) => i));
  return { train, test, description };
}

function epochsOf(row: Row, profile: Profile): number {
  return Math.max(1, Math.round(row.epochs * profile.epochScale));
}

async function runRow(row: Row, data: { train: Dataset; test: Dataset }, shifted: Dataset, profile: Profile, log: (line: string) => void): Promise<Result> {
  const train = row.shifted ? shifted : data.train;
  const epochs = epochsOf(row, profile);
  if (row.kind === "bp") {
    const graph = sequential([784], [layers.tanh(), layers.dense(32), layers.tanh(), layers.dense(16), layers.tanh(), layers.dense(10)], { loss: "mse", seed: 1 });
    const started = performance.now();
    const history = await fit(graph, { train, test: data.test }, { algorithm: "bp", epochs, batchSize: row.batchSize, optimizer: row.optimizer, seed: 1 });
    const seconds = history.epochs.reduce((s, r) => s + r.seconds, 0);
    void started;
    graph.dispose();
    return { row, accuracy: history.epochs[history.epochs.length - 1].testAccuracy!, seconds };
  }
  const net = new PCGraph(row.spec, { seed: 1, weightInit: row.weightInit });
  const history = await net.fit({ train }, {
    algorithm: row.algorithm, epochs, batchSize: row.batchSize, optimizer: row.optimizer, seed: 1, steps: row.steps, gamma: row.gamma, init: row.trainInit,
  });
  const seconds = history.seconds;
  const discriminative = row.label !== "generative" && row.label !== "fully connected";
  // The discriminative hierarchy is at rest after its forward pass: classification reads it
  // (the relaxation starts and stops there). The others classify by relaxing.
  const accuracy = net.accuracy(data.test, discriminative ? { steps: 0 } : profile.query);
  const result: Result = { row, accuracy, seconds, net };
  if (row.imageTasks) {
    const images = subset(data.test, Array.from({ length: Math.min(profile.imageCount, data.test.size) }, (_, i) => i));
    result.completion = completionError(net, images, "top", { ...profile.query, reference: data.train }).mse;
    result.denoising = denoisingError(net, images, { ...profile.query, sigma: 0.3, seed: 1 }).mse;
  }
  log(`  ${row.topology} (${row.label}), ${row.algorithm === "pc" ? "PC" : "iPC"}: accuracy ${pct(accuracy)}, completion ${mse(result.completion)}, denoising ${mse(result.denoising)}, ${seconds.toFixed(1)} s`);
  return result;
}

function table(results: Result[], baselines: { completion: number; denoising: number }, profile: Profile): string {
  const lines = [
    "| topology | algorithm | classification acc | completion MSE (bottom half) | denoising MSE (σ 0.3) | training time |",
    "| --- | --- | ---: | ---: | ---: | ---: |",
  ];
  for (const r of results) {
    const settings = `${r.row.settings}, ${epochsOf(r.row, profile)} epochs${r.row.shifted ? " with shifted copies" : ""}`;
    const algorithm = r.row.kind === "bp" ? `BP (reference; ${settings})` : `${r.row.algorithm === "pc" ? "PC" : "iPC"} (${settings})`;
    const topology = r.row.kind === "pc" && r.row.label === "PRECO's settings" ? `${r.row.topology}, PRECO's settings` : r.row.topology;
    lines.push(`| ${topology} | ${algorithm} | ${pct(r.accuracy)} | ${mse(r.completion)} | ${mse(r.denoising)} | ${r.seconds.toFixed(1)} s |`);
  }
  lines.push(`| no model: the mean training image / the noisy input | – | 10% | ${baselines.completion.toFixed(4)} | ${baselines.denoising.toFixed(4)} | – |`);
  return lines.join("\n");
}

function tiles(values: ArrayLike<number>, count: number, n: number, normalize: boolean): Float32Array[] {
  return Array.from({ length: count }, (_, i) => {
    const t = Float32Array.from(Array.prototype.slice.call(values, i * n, (i + 1) * n) as number[]);
    if (!normalize) return t;
    let lo = Infinity;
    let hi = -Infinity;
    for (const v of t) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    return t.map((v) => (v - lo) / (hi - lo || 1));
  });
}

function writePng(path: string, cells: (Float32Array | null)[], columns: number): void {
  const rows = Array.from({ length: Math.ceil(cells.length / columns) }, (_, r) => cells.slice(r * columns, (r + 1) * columns));
  writeFileAtomic(path, gridPng(rows, { imageHeight: 28, imageWidth: 28, scale: 2 }));
}

/** Figures from the rows marked `figures`: generations (one row per graph), completions, energy per step. */
function figures(results: Result[], test: Dataset, profile: Profile, dir: string, prefix: string): string[] {
  const shown = results.filter((r): r is Result & { row: PCRow; net: PCGraph } => r.row.kind === "pc" && r.row.figures && !!r.net);
  const written: string[] = [];
  const classes = Array.from({ length: 10 }, (_, i) => i);
  const generation: Float32Array[] = [];
  for (const r of shown) generation.push(...tiles(generateImages(r.net, classes, profile.query), 10, 784, true));
  let path = join(dir, `${prefix}-generation.png`);
  writePng(path, generation, 10);
  written.push(path);
  const count = 8;
  const visible = visibleMask(28, "top");
  const originals = tiles(test.features, count, 784, false);
  const completed = shown.map((r) => tiles(completeImages(r.net, test.features.subarray(0, count * 784), visible, profile.query), count, 784, false));
  const cells: Float32Array[] = [];
  for (let i = 0; i < count; i++) cells.push(originals[i], originals[i].map((v, j) => (visible[j] ? v : 0.5)), ...completed.map((c) => c[i]));
  path = join(dir, `${prefix}-completion.png`);
  writePng(path, cells, 2 + shown.length);
  written.push(path);
  const series = shown.map((r) => {
    const events: StepEvent[] = [];
    r.net.query({ clamp: { sensory: test.features.subarray(0, 64 * 784) }, read: ["label"], steps: profile.query.steps, gamma: profile.query.gamma, tolerance: 0, onStep: (e) => events.push(e) });
    return { label: `${r.row.label} (${r.row.algorithm === "pc" ? "PC" : "iPC"})`, energies: events.map((e) => e.energy) };
  });
  path = join(dir, `${prefix}-energy.svg`);
  writeFileAtomic(path, energyCurvesSvg(series, { title: "Classification query: energy per inference step (64 test images)" }));
  written.push(path);
  return written;
}

export interface ExperimentOptions {
  smoke?: boolean;
  /** Image directory (default docs/images/pcgraph). */
  out?: string;
  /** Update README.md between the markers (default: true unless smoke). */
  readme?: boolean;
  datasets?: ("mnist" | "fashion")[];
  /** Threads to compute on: 1 (default) runs wasm-simd, more run wasm-simd-threads. */
  threads?: number;
  log?: (line: string) => void;
}

export interface ExperimentReport {
  markdown: string;
  files: string[];
  results: { dataset: string; topology: string; label: string; algorithm: string; accuracy: number; completion?: number; denoising?: number; seconds: number }[];
}

export async function runPCGraphExperiment(options: ExperimentOptions = {}): Promise<ExperimentReport> {
  const threads = options.threads ?? 1;
  if (!Number.isInteger(threads) || threads < 1) throw new RangeError(`threads: expected an integer >= 1, got ${threads}`);
  const backend: BackendName = threads === 1 ? "wasm-simd" : "wasm-simd-threads";
  await ready(backend, threads === 1 ? undefined : { threads });
  const previous = getBackend().name as BackendName;
  setBackend(backend, threads === 1 ? undefined : { threads });
  try {
    return await runOnDefaultBackend(options, threads === 1 ? "one thread, wasm-simd" : `${threads} threads, wasm-simd-threads`);
  } finally {
    setBackend(previous);
  }
}

async function runOnDefaultBackend(options: ExperimentOptions, backendText: string): Promise<ExperimentReport> {
  const profile = options.smoke ? smokeProfile : fullProfile;
  const log = options.log ?? ((line: string) => console.log(line));
  const dir = options.out ?? join(root, "docs", "images", "pcgraph");
  mkdirSync(dir, { recursive: true });
  const started = performance.now();
  const sections: string[] = [];
  const files: string[] = [];
  const report: ExperimentReport["results"] = [];
  const host = hostLine();
  log(`${host}; ${backendText}`);
  for (const name of options.datasets ?? ["mnist", "fashion"]) {
    if (name === "fashion" && !fashionMnistAvailable()) {
      log("Fashion-MNIST is not installed (sudo apt-get install dataset-fashion-mnist): skipped");
      sections.push("### Fashion-MNIST\n\nNot measured: the data was not installed (`sudo apt-get install dataset-fashion-mnist`).");
      continue;
    }
    const data = loadDataset(name, profile);
    const shifted = withShiftedCopies(data.train);
    log(`\n${data.description}`);
    const results: Result[] = [];
    for (const row of rows(name)) results.push(await runRow(row, data, shifted, profile, log));
    const mean = new Float64Array(784);
    for (let s = 0; s < data.train.size; s++) for (let i = 0; i < 784; i++) mean[i] += data.train.features[s * 784 + i] / data.train.size;
    const images = subset(data.test, Array.from({ length: Math.min(profile.imageCount, data.test.size) }, (_, i) => i));
    const visible = visibleMask(28, "top");
    let meanError = 0;
    let hidden = 0;
    for (let s = 0; s < images.size; s++)
      for (let i = 0; i < 784; i++) if (!visible[i]) {
        meanError += (mean[i] - images.features[s * 784 + i]) ** 2;
        hidden++;
      }
    const first = results.find((r) => r.row.kind === "pc" && r.row.imageTasks)!;
    const noisy = denoisingError(first.net!, images, { steps: 0, sigma: 0.3, seed: 1 }).noisyMse;
    const prefix = name;
    files.push(...figures(results, data.test, profile, dir, prefix));
    for (const r of results) {
      report.push({
        dataset: name, topology: r.row.topology, label: r.row.kind === "pc" ? r.row.label : "BP", algorithm: r.row.kind === "pc" ? r.row.algorithm : "bp",
        accuracy: r.accuracy, completion: r.completion, denoising: r.denoising, seconds: r.seconds,
      });
      r.net?.dispose();
    }
    const title = name === "mnist" ? "Bundled MNIST" : "Fashion-MNIST";
    const md = table(results, { completion: meanError / hidden, denoising: noisy }, profile);
    const rel = (file: string) => relative(root, file).split("\\").join("/");
    sections.push(`### ${title}\n\n${data.description}. Rows with shifted copies train on ${shifted.size.toLocaleString("en-US")} images ` +
      `(the ${data.train.size.toLocaleString("en-US")} plus 4 one-pixel shifts of each); the others on the ${data.train.size.toLocaleString("en-US")}. ` +
      `Completion and denoising on the first ${images.size} test images, ${profile.query.steps} relaxation steps at γ ${profile.query.gamma}.\n\n${md}\n\n` +
      `Label-clamped generations (top: generative hierarchy; bottom: fully connected; each image scaled to its own range) and ` +
      `completions (original / top half clamped / generative hierarchy / fully connected):\n\n` +
      `![${title} generations](${rel(join(dir, `${prefix}-generation.png`))}) ![${title} completions](${rel(join(dir, `${prefix}-completion.png`))})\n\n` +
      `Energy per inference step of a classification query on both graphs: [${rel(join(dir, `${prefix}-energy.svg`))}](${rel(join(dir, `${prefix}-energy.svg`))}).`);
    log(`\n${md}`);
  }
  const total = (performance.now() - started) / 1000;
  const markdown = `Measured by \`npm run experiment:pcgraph\` (${total.toFixed(0)} s in all, ${backendText}); ${host.replace(/^host: /, "on ")}. ` +
    `Times are wall-clock training times on a shared machine: rerun for your own.\n\n${sections.join("\n\n")}`;
  log(`\nexperiment time: ${total.toFixed(1)} s`);
  if (options.readme ?? !options.smoke) {
    const readme = join(root, "README.md");
    const text = readFileSync(readme, "utf8");
    const begin = "<!-- experiment:pcgraph:begin -->";
    const end = "<!-- experiment:pcgraph:end -->";
    const a = text.indexOf(begin);
    const b = text.indexOf(end);
    if (a < 0 || b < a) throw new Error(`README.md has no ${begin} ... ${end} section`);
    writeFileAtomic(readme, `${text.slice(0, a + begin.length)}\n${markdown}\n${text.slice(b)}`);
    log(`README.md updated`);
  }
  return { markdown, files, results: report };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const args = process.argv.slice(2);
  const value = (flag: string) => {
    const i = args.indexOf(flag);
    return i >= 0 ? args[i + 1] : undefined;
  };
  await runPCGraphExperiment({
    smoke: args.includes("--smoke"),
    out: value("--out"),
    readme: args.includes("--no-readme") ? false : undefined,
    datasets: value("--datasets")?.split(",") as ("mnist" | "fashion")[] | undefined,
    threads: value("--threads") === undefined ? undefined : Number(value("--threads")),
  });
}
