// npm run experiment:predify — Predify's central claim at small scale: feedback decoders on a
// trained feedforward CNN make it more robust to input noise as time steps pass, while
// clean inputs stay about level (Choksi et al. 2021, arXiv 2106.02749).
//
// For each dataset (the bundled digits; Fashion-MNIST, subsampled): train a CNN with BP;
// predify it (pcoders after both convolutions' ReLUs, transposed-convolution decoders);
// train the decoders with the CNN frozen; pick rates (beta, lambda, alpha) from a small grid
// on a validation set held out from training (Gaussian noise sigma 0.5, accuracy at the
// last step); then measure test accuracy at time steps 0..T under Gaussian noise of each
// sigma and salt-and-pepper noise, for the paper's rates (0.8, 0.1, 0.01) and the chosen
// ones. Step 0 is the feedforward network. Everything is seeded; the tables and the SVG in
// the README come from one run of this script, which prints the same figures.
import { mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describeBackend, getBackend } from "../src/backend/load.js";
import { layers, sequential } from "../src/graph/builder.js";
import type { Graph } from "../src/graph/graph.js";
import { loadFashionMnist } from "../src/node/fashion-mnist.js";
import { predify, type PredifiedNetwork } from "../src/pc/predify.js";
import type { PredifyConfig } from "../src/pc/predify-config.js";
import { corruptionLabel, type Corruption } from "../src/train/data/corruptions.js";
import { shuffledIndices, subset, trainTestSplit, type Dataset } from "../src/train/data/dataset.js";
import { loadBundledMnist } from "../src/train/data/mnist.js";
import { evaluate } from "../src/train/evaluate.js";
import { fit } from "../src/train/fit.js";
import { lineChartSvg, type LinePanel } from "../src/train/plot.js";
import { evaluateOverSteps, reconstructionLoss, trainDecoders } from "../src/train/predify.js";

export interface Rates {
  beta: number;
  lambda: number;
  alpha: number;
}

export type DatasetName = "digits" | "fashion";

export interface PredifyExperimentOptions {
  datasets: DatasetName[];
  /** Training samples (after the validation set is held out); Fashion-MNIST is subsampled to this. */
  trainSamples: number;
  validationSamples: number;
  testSamples: number;
  backboneEpochs: number;
  decoderEpochs: number;
  batchSize: number;
  /** Time steps after step 0. */
  steps: number;
  sigmas: number[];
  saltAndPepper: number;
  /** Rates tried on the validation set; the paper's are always reported. */
  grid: Rates[];
  /** The noise the rates are chosen under. */
  selectionSigma: number;
  seed: number;
  /** Where the SVG and the JSON results go (nothing is written when absent). */
  outDir?: string;
  log(line: string): void;
}

export const paperRates: Rates = { beta: 0.8, lambda: 0.1, alpha: 0.01 };

export const defaultOptions: PredifyExperimentOptions = {
  datasets: ["digits", "fashion"],
  trainSamples: 7500,
  validationSamples: 500,
  testSamples: 1000,
  backboneEpochs: 3,
  decoderEpochs: 3,
  batchSize: 64,
  steps: 10,
  sigmas: [0, 0.25, 0.5, 1],
  saltAndPepper: 0.2,
  grid: [
    ...[[0.8, 0.1], [0.8, 0.2], [0.6, 0.2], [0.6, 0.4], [0.4, 0.4]].flatMap(([beta, lambda]) => [0.01, 100].map((alpha) => ({ beta, lambda, alpha }))),
    { beta: 0.8, lambda: 0.1, alpha: 1000 },
  ],
  selectionSigma: 0.5,
  seed: 1,
  log: (line) => console.log(line),
};

/** conv 5x5 (8) - relu - maxpool 2 - conv 5x5 (16) - relu - maxpool 2 - dense 64 - relu - dense 10, 'same' padding. */
export function predifyCnn(seed: number): Graph {
  return sequential([1, 28, 28], [
    layers.conv2d(8, 5, { padding: "same" }), layers.relu(), layers.maxPool2d(2),
    layers.conv2d(16, 5, { padding: "same" }), layers.relu(), layers.maxPool2d(2),
    layers.flatten(), layers.dense(64), layers.relu(), layers.dense(10),
  ], { loss: "softmaxCrossEntropy", seed });
}

/** Pcoders after both ReLUs (before pooling), as the reference places them in VGG16. */
export const predifyCnnConfig: PredifyConfig = {
  ...paperRates,
  steps: 10,
  seed: 2,
  pcoders: [
    { node: "relu1", target: "input", decoder: { kind: "conv2dTranspose", kernelSize: 5 } },
    { node: "relu2", target: "relu1", decoder: { kind: "conv2dTranspose", kernelSize: 4, activation: "relu" } },
  ],
};

interface Split {
  train: Dataset;
  validation: Dataset;
  test: Dataset;
  description: string;
}

function splits(name: DatasetName, o: PredifyExperimentOptions): Split {
  const take = (ds: Dataset, from: number, count: number, label: string) =>
    subset(ds, shuffledIndices(ds.size, o.seed + 17).slice(from, from + count), `${ds.name} ${label}`);
  if (name === "digits") {
    const { train, test } = trainTestSplit(loadBundledMnist({ shape: "image" }), 0.2, o.seed);
    const trainSize = Math.min(o.trainSamples, train.size - o.validationSamples);
    return {
      train: take(train, 0, trainSize, "train"),
      validation: take(train, train.size - o.validationSamples, o.validationSamples, "validation"),
      test: take(test, 0, Math.min(o.testSamples, test.size), "test"),
      description: `bundled MNIST digits: ${trainSize} train, ${o.validationSamples} validation (held out of the 8,000-digit training split), ` +
        `${Math.min(o.testSamples, test.size)} test (of the 2,000-digit test split)`,
    };
  }
  const { train, test } = loadFashionMnist({ shape: "image" });
  return {
    train: take(train, 0, o.trainSamples, "train"),
    validation: take(train, train.size - o.validationSamples, o.validationSamples, "validation"),
    test: take(test, 0, o.testSamples, "test"),
    description: `Fashion-MNIST subsampled: ${o.trainSamples} train and ${o.validationSamples} validation of the 60,000 training images, ` +
      `${o.testSamples} of the 10,000 test images`,
  };
}

export interface ConditionResult {
  corruption: string;
  rates: Rates;
  label: string;
  /** Test accuracy at steps 0..T. */
  accuracy: number[];
  /** Reconstruction energy at steps 0..T. */
  energies: number[];
}

export interface DatasetResult {
  dataset: DatasetName;
  description: string;
  backboneAccuracy: number;
  reconstruction: { before: number; after: number };
  grid: { rates: Rates; accuracy: number[] }[];
  chosen: Rates;
  conditions: ConditionResult[];
  seconds: number;
}

export interface PredifyExperimentResult {
  datasets: DatasetResult[];
  svg: string;
  markdown: string;
  seconds: number;
  host: string;
}

const pct = (x: number) => (100 * x).toFixed(1);
const ratesText = (r: Rates) => `${r.beta} / ${r.lambda} / ${r.alpha}`;

export function hostDescription(): string {
  const cpus = os.cpus();
  const load = os.loadavg().map((l) => l.toFixed(2)).join(", ");
  return `${cpus[0]?.model ?? "unknown cpu"}, ${cpus.length} cores, load average ${load}; backend ${describeBackend(getBackend())}`;
}

async function runDataset(name: DatasetName, o: PredifyExperimentOptions): Promise<DatasetResult> {
  const started = performance.now();
  const data = splits(name, o);
  const log = (line: string) => o.log(`[${name} ${((performance.now() - started) / 1000).toFixed(0)}s] ${line}`);
  log(data.description);
  const graph = predifyCnn(o.seed);
  let net: PredifiedNetwork | undefined;
  try {
    await fit(graph, { train: data.train }, {
      algorithm: "bp", epochs: o.backboneEpochs, batchSize: o.batchSize, seed: o.seed,
      optimizer: { kind: "adam", learningRate: 0.002 },
      onEpoch: (r) => log(`CNN epoch ${r.epoch}: train loss ${r.trainLoss.toFixed(4)}`),
    });
    const backboneAccuracy = evaluate(graph, data.test).accuracy;
    log(`CNN test accuracy ${pct(backboneAccuracy)}%`);
    net = predify(graph, { ...predifyCnnConfig, steps: o.steps });
    const before = reconstructionLoss(net, data.test);
    await trainDecoders(net, { train: data.train }, {
      epochs: o.decoderEpochs, batchSize: o.batchSize, seed: o.seed + 1, optimizer: { kind: "adam", learningRate: 0.002 },
      onEpoch: (r) => log(`decoders epoch ${r.epoch}: reconstruction loss ${r.trainLoss.toFixed(5)}`),
    });
    const after = reconstructionLoss(net, data.test);
    log(`test reconstruction energy (sum of the pcoders' MSE) at step 0: ${before.toFixed(5)} before decoder training, ${after.toFixed(5)} after`);

    const selection: Corruption = { kind: "gaussian", sigma: o.selectionSigma };
    const grid = o.grid.map((rates) => {
      net!.setRates(rates);
      const accuracy = evaluateOverSteps(net!, data.validation, { corruption: selection, seed: o.seed + 100, steps: o.steps }).accuracy;
      log(`validation, ${corruptionLabel(selection)}, rates ${ratesText(rates)}: ${pct(accuracy[0])}% -> ${pct(accuracy[o.steps])}%`);
      return { rates, accuracy };
    });
    const best = grid.reduce((a, b) => (b.accuracy[o.steps] > a.accuracy[o.steps] ? b : a), grid[0]);
    const chosen = best?.rates ?? paperRates;
    log(`chosen rates (beta / lambda / alpha): ${ratesText(chosen)}`);

    const corruptions: Corruption[] = [...o.sigmas.map((sigma) => ({ kind: "gaussian", sigma }) as Corruption), { kind: "saltAndPepper", amount: o.saltAndPepper }];
    const rateSets: [string, Rates][] = [["paper", paperRates]];
    if (ratesText(chosen) !== ratesText(paperRates)) rateSets.push(["chosen", chosen]);
    const conditions: ConditionResult[] = [];
    corruptions.forEach((corruption, c) => {
      for (const [label, rates] of rateSets) {
        net!.setRates(rates);
        const r = evaluateOverSteps(net!, data.test, { corruption, seed: o.seed + 1000 + c, steps: o.steps });
        conditions.push({ corruption: corruptionLabel(corruption), rates, label, accuracy: r.accuracy, energies: r.energies });
        log(`test, ${corruptionLabel(corruption)}, ${label} rates: ${r.accuracy.map(pct).join(" ")}`);
      }
    });
    return {
      dataset: name, description: data.description, backboneAccuracy, reconstruction: { before, after }, grid, chosen, conditions,
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    net?.dispose();
    graph.dispose();
  }
}

const datasetTitle: Record<DatasetName, string> = { digits: "Bundled MNIST digits", fashion: "Fashion-MNIST" };

/** The README tables: accuracy per step for each condition and dataset, then the rate grid. */
export function markdownTables(result: DatasetResult[], steps: number, selectionSigma = defaultOptions.selectionSigma): string {
  const lines: string[] = [];
  for (const d of result) {
    lines.push(`**${datasetTitle[d.dataset]}** (${d.description}; CNN test accuracy ${pct(d.backboneAccuracy)}%; ` +
      `reconstruction energy ${d.reconstruction.before.toFixed(4)} before and ${d.reconstruction.after.toFixed(4)} after decoder training; ` +
      `chosen rates ${ratesText(d.chosen)})`, "");
    const header = Array.from({ length: steps + 1 }, (_, t) => (t === 0 ? "t=0 (FF)" : String(t)));
    lines.push(`| input | beta / lambda / alpha | ${header.join(" | ")} | change |`);
    lines.push(`| --- | --- | ${header.map(() => "---:").join(" | ")} | ---: |`);
    for (const c of d.conditions) {
      const change = 100 * (c.accuracy[steps] - c.accuracy[0]);
      lines.push(`| ${c.corruption} | ${ratesText(c.rates)}${c.label === "paper" ? " (paper)" : " (chosen)"} | ${c.accuracy.map(pct).join(" | ")} | ` +
        `${change >= 0 ? "+" : ""}${change.toFixed(1)} |`);
    }
    lines.push("");
  }
  if (result.length > 0 && result[0].grid.length > 0) {
    lines.push(`Rate grid: validation accuracy (%) under Gaussian noise sigma ${selectionSigma}, at step 0 (feedforward) and step ${steps}:`, "");
    lines.push(`| beta / lambda / alpha | ${result.map((d) => `${d.dataset} t=0 | ${d.dataset} t=${steps}`).join(" | ")} |`);
    lines.push(`| --- | ${result.map(() => "---: | ---:").join(" | ")} |`);
    result[0].grid.forEach((g, i) =>
      lines.push(`| ${ratesText(g.rates)} | ${result.map((d) => `${pct(d.grid[i].accuracy[0])} | ${pct(d.grid[i].accuracy[steps])}`).join(" | ")} |`));
    lines.push("");
  }
  return lines.join("\n");
}

export function accuracySvg(result: DatasetResult[], steps: number): string {
  const panels: LinePanel[] = [];
  const labels = ["feedforward", "predified, paper rates", "predified, chosen rates"];
  for (const d of result) {
    const byCorruption = new Map<string, ConditionResult[]>();
    for (const c of d.conditions) byCorruption.set(c.corruption, [...(byCorruption.get(c.corruption) ?? []), c]);
    for (const [corruption, rows] of byCorruption) {
      const paper = rows.find((r) => r.label === "paper")!;
      const chosen = rows.find((r) => r.label === "chosen") ?? paper;
      const line = (acc: number[]) => acc.map((a, t) => [t, 100 * a] as [number, number]);
      panels.push({
        title: `${d.dataset === "digits" ? "digits" : "Fashion"}: ${corruption}`,
        series: [line(Array(steps + 1).fill(paper.accuracy[0])), line(paper.accuracy), line(chosen.accuracy)],
      });
    }
  }
  return lineChartSvg(panels, {
    title: "Test accuracy per time step, feedforward vs predified", labels, xLabel: "time step", yLabel: "accuracy (%)", percent: true, minYSpan: 6,
    columns: Math.max(1, Math.ceil(panels.length / Math.max(result.length, 1))), panelWidth: 300, panelHeight: 260,
  });
}

export async function runPredifyExperiment(options: Partial<PredifyExperimentOptions> = {}): Promise<PredifyExperimentResult> {
  const o: PredifyExperimentOptions = { ...defaultOptions, ...options };
  const started = performance.now();
  const hostBefore = hostDescription();
  o.log(`host: ${hostBefore}`);
  const datasets: DatasetResult[] = [];
  for (const name of o.datasets) datasets.push(await runDataset(name, o));
  const seconds = (performance.now() - started) / 1000;
  const host = `${hostBefore}; at the end: load average ${os.loadavg().map((l) => l.toFixed(2)).join(", ")}`;
  const markdown = markdownTables(datasets, o.steps, o.selectionSigma);
  const svg = accuracySvg(datasets, o.steps);
  if (o.outDir) {
    mkdirSync(o.outDir, { recursive: true });
    writeFileSync(join(o.outDir, "predify-accuracy.svg"), svg);
    writeFileSync(join(o.outDir, "predify-results.json"), JSON.stringify({ options: { ...o, log: undefined, outDir: undefined }, host, seconds, datasets }, null, 2) + "\n");
  }
  return { datasets, svg, markdown, seconds, host };
}

function argValue(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const root = join(dirname(fileURLToPath(import.meta.url)), "..");
  const datasets = (argValue("datasets")?.split(",") as DatasetName[] | undefined) ?? defaultOptions.datasets;
  const grid = argValue("grid")?.split(";").map((g) => {
    const [beta, lambda, alpha] = g.split(",").map(Number);
    return { beta, lambda, alpha };
  });
  const result = await runPredifyExperiment({
    datasets,
    ...(grid ? { grid } : {}),
    ...(argValue("test") ? { testSamples: Number(argValue("test")) } : {}),
    outDir: argValue("out") ?? join(root, "docs", "predify"),
  });
  console.log("");
  console.log(result.markdown);
  console.log(`host: ${result.host}`);
  console.log(`wall time: ${(result.seconds / 60).toFixed(1)} min (${result.seconds.toFixed(0)} s)`);
}
