// `pcgraph graph train|query`: PC graphs of any topology from the command line. `train`
// fits a hierarchical, fully connected or user-given topology with PC or iPC (progress bar,
// checkpoint, training curves, energy per inference step as SVG); `query` loads a
// checkpoint and classifies, generates, completes or denoises, writing PNG grids and the
// energy per step.
import { mkdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { loadPCGraphCheckpoint, savePCGraphCheckpoint } from "../node/checkpoint-files.js";
import { loadFashionMnist } from "../node/fashion-mnist.js";
import { writeFileAtomic } from "../node/files.js";
import { gridPng } from "../node/image-grid.js";
import { fullyConnected, hierarchical, groupActivations, type GroupActivation, type PCGraphSpec } from "../pc/graph/topology.js";
import type { StepEvent } from "../pc/steps.js";
import { subset, type Dataset } from "../train/data/dataset.js";
import { datasetFingerprint } from "../train/data/fingerprint.js";
import { energyCurvesSvg } from "../train/energy-plot.js";
import { createOptimizer, optimizerKinds, type OptimizerConfig, type OptimizerKind } from "../train/optimizers.js";
import { PCGraph, type PCLearningAlgorithm } from "../train/pc-graph.js";
import { pcGraphCurves, type PCGraphCheckpoint, type PCGraphProgress } from "../train/pc-graph-fit.js";
import { trainingCurvesSvg } from "../train/plot.js";
import {
  completeImages, completionError, denoiseImages, denoisingError, generateImages, noisyImages, visibleMask, type CompletionRegion,
} from "../train/pc-graph-tasks.js";
import { UsageError, type CommandSpec } from "./args.js";
import { isEnergyBasedProgress } from "./ebm-flags.js";
import { loadData, withShiftedCopies, type LoadedData } from "./data.js";
import { ProgressReporter } from "./progress.js";
import { backendFlags, chooseBackend } from "./backend-flags.js";
import { percent } from "./train.js";

type Flags = Record<string, string | number | boolean>;

const trainOnly = ["topology", "hidden", "direction", "activation", "algo", "epochs", "batch-size", "lr", "optimizer", "augment", "resume", "train-steps", "train-gamma"];
const queryOnly = ["task", "count", "region", "fraction", "sigma"];

export const graphSpec: CommandSpec = {
  name: "graph",
  summary: "PC graphs of any topology: train (PC or iPC), then query (classify, generate, complete, denoise)",
  usage: "pcgraph graph train [options]\n       pcgraph graph query CHECKPOINT --task classify|generate|complete|denoise [options]",
  positionals: [
    { name: "train|query", required: true, help: "What to do" },
    { name: "CHECKPOINT", required: false, help: "query: a checkpoint written by pcgraph graph train" },
  ],
  flags: [
    { name: "topology", type: "string", values: ["hierarchical", "full"], orPath: true, meta: "hierarchical|full|FILE.json", help: "train: the topology (or a { groups, edges } spec file)", defaultText: "hierarchical" },
    { name: "hidden", type: "string", meta: "N[,N...]", help: "train: hidden group sizes (hierarchical: one group each; full: one group)", defaultText: "hierarchical 32,16; full 200" },
    { name: "direction", type: "string", values: ["forward", "backward"], help: "train: hierarchical edges image -> label (forward) or label -> image (backward)", defaultText: "forward" },
    { name: "activation", type: "string", values: groupActivations, help: "train: activation of the image and hidden groups", defaultText: "tanh" },
    { name: "algo", type: "string", values: ["pc", "ipc"], help: "train: PC (relax, then learn) or iPC (learn at every step); EqProp and CHL: pcgraph train --algo eqprop|chl", defaultText: "pc" },
    { name: "data", type: "string", values: ["mnist", "fashion"], orPath: true, meta: "mnist|fashion|DIR|FILE.csv", help: "Data (fashion: Debian's dataset-fashion-mnist)", defaultText: "mnist" },
    { name: "train-size", type: "integer", min: 1, meta: "N", help: "Use the first N training samples (before shifted copies)", defaultText: "all" },
    { name: "epochs", type: "integer", min: 1, meta: "N", help: "train: epochs", defaultText: "hierarchical 12, full 4" },
    { name: "batch-size", type: "integer", min: 1, meta: "N", help: "train: samples per batch", defaultText: "64" },
    { name: "lr", type: "number", min: 0, meta: "X", help: "train: learning rate", defaultText: "hierarchical 3e-3, full 3e-4" },
    { name: "optimizer", type: "string", values: optimizerKinds, help: "train: optimizer", defaultText: "adam" },
    { name: "train-steps", type: "integer", min: 1, meta: "T", help: "train: inference steps per batch", defaultText: "hierarchical 3, full 10" },
    { name: "train-gamma", type: "number", min: 0, meta: "X", help: "train: inference rate", defaultText: "0.1" },
    { name: "augment", type: "boolean", help: "train: add 4 one-pixel shifted copies of each 28x28 training image", defaultText: "on for hierarchical, off for full" },
    { name: "seed", type: "integer", meta: "N", help: "Seed of the weights, split and batch order", defaultText: "1" },
    { name: "resume", type: "string", meta: "CHECKPOINT", help: "train: continue the run saved in this checkpoint" },
    { name: "task", type: "string", values: ["classify", "generate", "complete", "denoise"], help: "query: what to ask", defaultText: "classify" },
    { name: "count", type: "integer", min: 1, meta: "N", help: "query: test samples (classify: all; images: 16; generate: N per class, 2)" },
    { name: "region", type: "string", values: ["top", "bottom", "left", "right", "random"], help: "complete: the visible part", defaultText: "top" },
    { name: "fraction", type: "number", min: 0, meta: "X", help: "complete --region random: share of visible pixels", defaultText: "0.25" },
    { name: "sigma", type: "number", min: 0, meta: "X", help: "denoise: std of the Gaussian noise", defaultText: "0.3" },
    { name: "steps", type: "integer", min: 0, meta: "N", help: "query: relaxation step budget", defaultText: "200" },
    { name: "gamma", type: "number", min: 0, meta: "X", help: "query: inference rate", defaultText: "0.05" },
    { name: "tolerance", type: "number", min: 0, meta: "X", help: "query: stop at this residual", defaultText: "1e-4" },
    ...backendFlags,
    { name: "out", type: "string", meta: "DIR", help: "Output directory", defaultText: "train: runs/graph-<topology>-<algo>-seed<seed>; query: beside the checkpoint" },
  ],
  details: "train writes checkpoint.ckpt, history.json, curves.svg and energy.svg (energy per inference step of a\n" +
    "training batch and of a classification query). query prints the accuracy or the MSE and writes <task>.png\n" +
    "(generate: one column per class; complete: original / visible part / completed; denoise: clean / noisy / denoised)\n" +
    "and <task>-energy.svg.",
};

function data(flags: Flags, seed: number, augment: boolean): LoadedData {
  const value = (flags.data as string | undefined) ?? "mnist";
  let loaded: LoadedData;
  if (value === "fashion") {
    const { train, test } = loadFashionMnist();
    loaded = {
      train, test, description: `Fashion-MNIST: ${train.size} train / ${test.size} test`, source: "fashion",
      fingerprint: datasetFingerprint(train, test), augmented: false,
    };
  } else loaded = loadData(value, { seed, testFraction: 0.2, augment: false });
  const size = flags["train-size"] as number | undefined;
  if (size !== undefined && size < loaded.train.size) {
    loaded = { ...loaded, train: subset(loaded.train, Array.from({ length: size }, (_, i) => i)), description: `${loaded.description}; first ${size} training samples` };
  }
  if (augment) {
    if (loaded.train.features.length !== loaded.train.size * 784) throw new UsageError("--augment needs 28x28 images");
    const train = withShiftedCopies(loaded.train);
    loaded = { ...loaded, train, augmented: true, description: `${loaded.description}; with 1-pixel shifted copies: ${train.size}` };
  }
  return loaded;
}

function topologyFor(flags: Flags, features: number, classes: number): { name: string; spec: PCGraphSpec } {
  const topology = (flags.topology as string | undefined) ?? "hierarchical";
  const activation = ((flags.activation as string | undefined) ?? "tanh") as GroupActivation;
  const sizes = ((flags.hidden as string | undefined) ?? (topology === "full" ? "200" : "32,16")).split(",").map((s) => Number(s.trim()));
  if (sizes.some((n) => !Number.isInteger(n) || n < 1)) throw new UsageError(`--hidden: expected sizes like 32,16, got ${JSON.stringify(flags.hidden)}`);
  if (topology === "hierarchical") {
    const groups: [string, number, GroupActivation][] = [["sensory", features, activation], ...sizes.map((n, i): [string, number, GroupActivation] => [`hidden${i + 1}`, n, activation]), ["label", classes, "identity"]];
    const direction = (flags.direction as "forward" | "backward" | undefined) ?? "forward";
    return { name: `hierarchical-${[features, ...sizes, classes].join("-")}${direction === "backward" ? "-backward" : ""}`, spec: hierarchical(groups, { direction }) };
  }
  if (topology === "full") {
    if (sizes.length !== 1) throw new UsageError("--hidden: the fully connected graph has one hidden group (e.g. --hidden 200)");
    return { name: `full-${sizes[0]}`, spec: fullyConnected([["label", classes, "identity"], ["hidden", sizes[0], activation], ["sensory", features, activation]]) };
  }
  let spec: PCGraphSpec;
  try {
    spec = JSON.parse(readFileSync(topology, "utf8"));
  } catch (error) {
    throw new UsageError(`--topology ${topology}: cannot read a JSON { groups, edges } spec: ${(error as Error).message}`);
  }
  return { name: topology.replace(/^.*[\\/]/, "").replace(/\.json$/, ""), spec };
}

const energyOf = (events: StepEvent[]) => events.map((e) => e.energy);

export async function graphCommand(positionals: string[], flags: Flags, out: (line: string) => void): Promise<number> {
  const [action, checkpoint] = positionals;
  if (action !== "train" && action !== "query") throw new UsageError(`expected "train" or "query", got ${JSON.stringify(action)}`);
  const foreign = Object.keys(flags).filter((f) => (action === "train" ? queryOnly : trainOnly).includes(f));
  if (foreign.length > 0) throw new UsageError(`--${foreign[0]} applies to pcgraph graph ${action === "train" ? "query" : "train"}, not ${action}`);
  if (action === "train") {
    if (checkpoint !== undefined) throw new UsageError(`graph train takes no CHECKPOINT (to continue a run: --resume ${checkpoint})`);
    return graphTrain(flags, out);
  }
  if (checkpoint === undefined) throw new UsageError("graph query needs a CHECKPOINT written by pcgraph graph train");
  return graphQuery(checkpoint, flags, out);
}

async function graphTrain(flags: Flags, out: (line: string) => void): Promise<number> {
  const backend = await chooseBackend(flags);
  const resumed = typeof flags.resume === "string" ? loadPCGraphCheckpoint(flags.resume, { backend }) : null;
  const progress = resumed?.progress as PCGraphProgress | undefined;
  if (resumed && isEnergyBasedProgress(resumed.progress)) {
    resumed.model.dispose();
    throw new UsageError(`--resume ${flags.resume}: an energy-based network (${progress!.algorithm}); continue it with pcgraph train --resume ${flags.resume}`);
  }
  const seed = progress?.seed ?? (flags.seed as number | undefined) ?? 1;
  const topologyName = (flags.topology as string | undefined) ?? "hierarchical";
  const full = topologyName === "full";
  const loaded = data(flags, seed, (flags.augment as boolean | undefined) ?? !full);
  const classes = loaded.train.numClasses;
  const features = loaded.train.features.length / Math.max(loaded.train.size, 1);
  const { name, spec } = topologyFor(flags, features, classes);
  const algorithm = (flags.algo as PCLearningAlgorithm | undefined) ?? progress?.algorithm ?? "pc";
  const epochs = (flags.epochs as number | undefined) ?? (full ? 4 : 12);
  const batchSize = (flags["batch-size"] as number | undefined) ?? progress?.batchSize ?? 64;
  const kind = (flags.optimizer as OptimizerKind | undefined) ?? "adam";
  if (resumed && (flags.lr !== undefined || flags.optimizer !== undefined)) throw new UsageError("--optimizer and --lr cannot change a resumed run; they come from the checkpoint");
  const optimizerConfig: OptimizerConfig = resumed
    ? (resumed.optimizer.config as unknown as OptimizerConfig)
    : { kind, learningRate: (flags.lr as number | undefined) ?? (full ? 3e-4 : 3e-3) };
  const steps = (flags["train-steps"] as number | undefined) ?? (full ? 10 : 3);
  const gamma = (flags["train-gamma"] as number | undefined) ?? 0.1;
  const net = resumed ? new PCGraph(resumed.model) : new PCGraph(spec, { seed, backend });
  const dir = (flags.out as string | undefined) ?? join("runs", `graph-${name}-${algorithm}-seed${seed}`);
  mkdirSync(dir, { recursive: true });
  const checkpointPath = join(dir, "checkpoint.ckpt");
  const optimizer = createOptimizer(optimizerConfig);
  const perEpoch = Math.ceil(loaded.train.size / batchSize);
  const reporter = new ProgressReporter(process.stderr, algorithm === "pc" ? "PC" : "iPC", (epochs - (progress?.epoch ?? 0)) * perEpoch - (progress?.batch ?? 0), "energy");
  const controller = new AbortController();
  const onSigint = () => {
    if (controller.signal.aborted) process.exit(130);
    process.stderr.write("\nstopping after this batch (Ctrl-C again to quit at once)\n");
    controller.abort();
  };
  process.on("SIGINT", onSigint);
  try {
    process.stderr.write(`${loaded.description}\n${resumed ? `resuming ${flags.resume}` : `topology ${name}`}: ${net.groups.map((g) => `${g.name} ${g.size}`).join(", ")}; ` +
      `${net.model.edges.length} edges, ${net.parameterCount.toLocaleString("en-US")} parameters; ${algorithm === "pc" ? "PC" : "iPC"} T=${steps} gamma=${gamma}, ${net.backend.name}\n`);
    const started = performance.now();
    const history = await net.fit({ train: loaded.train, test: loaded.test }, {
      algorithm, epochs, batchSize, optimizer, seed: resumed ? undefined : seed, steps, gamma,
      resume: resumed ? { optimizer: resumed.optimizer, progress: resumed.progress } : undefined,
      onBatch: (info) => reporter.onBatch({ ...info, loss: info.energy }),
      onEpoch: (record) => reporter.onEpoch({ epoch: record.epoch, trainLoss: record.trainEnergy, testAccuracy: record.testAccuracy, seconds: record.seconds, learningRate: record.learningRate }),
      checkpointPath, signal: controller.signal,
      saveCheckpoint: (path: string, c: PCGraphCheckpoint) =>
        savePCGraphCheckpoint(path, { model: c.pcGraph.model, optimizer: c.optimizer, progress: c.progress as unknown as Record<string, unknown> }),
    });
    const seconds = (performance.now() - started) / 1000;
    writeFileAtomic(join(dir, "history.json"), JSON.stringify(history, null, 2) + "\n");
    writeFileAtomic(join(dir, "curves.svg"), trainingCurvesSvg([{ label: algorithm === "pc" ? "PC" : "iPC", history: pcGraphCurves(history) }],
      { title: `PC graph ${name}: energy per sample and test accuracy` }));
    // Energy per inference step: one training batch (image and label clamped) and one classification query.
    const batch = subset(loaded.test, Array.from({ length: Math.min(64, loaded.test.size) }, (_, i) => i));
    const oneHot = new Float32Array(batch.size * classes);
    batch.labels.forEach((l, i) => (oneHot[i * classes + l] = 1));
    const trainingEvents: StepEvent[] = [];
    const queryEvents: StepEvent[] = [];
    const hidden = net.groups.find((g) => g.name !== "sensory" && g.name !== "label");
    if (hidden)
      net.query({ clamp: { sensory: batch.features, label: oneHot }, read: [hidden.name], steps: Math.max(steps, 20), gamma, tolerance: 0, onStep: (e) => trainingEvents.push(e) });
    net.query({ clamp: { sensory: batch.features }, read: ["label"], onStep: (e) => queryEvents.push(e) });
    const energyPath = join(dir, "energy.svg");
    writeFileAtomic(energyPath, energyCurvesSvg([
      { label: "image + label clamped", energies: energyOf(trainingEvents) },
      { label: "image clamped (classify)", energies: energyOf(queryEvents) },
    ], { title: `${name}: energy per inference step (${batch.size} test images)` }));
    const last = history.epochs[history.epochs.length - 1];
    if (history.interrupted) out(`interrupted; continue with: pcgraph graph train --resume ${checkpointPath}`);
    out(`test accuracy: ${percent(last?.testAccuracy)}`);
    out(`training took ${seconds.toFixed(1)} s`);
    out(`checkpoint: ${checkpointPath}`);
    out(`energy per step: ${energyPath}`);
    return 0;
  } finally {
    process.off("SIGINT", onSigint);
    optimizer.dispose();
    net.dispose();
  }
}

function tile(values: ArrayLike<number>, index: number, n: number): Float32Array {
  return Float32Array.from(Array.prototype.slice.call(values, index * n, (index + 1) * n) as number[]);
}

async function graphQuery(path: string, flags: Flags, out: (line: string) => void): Promise<number> {
  const loadedCheckpoint = loadPCGraphCheckpoint(path, { backend: await chooseBackend(flags) });
  if (isEnergyBasedProgress(loadedCheckpoint.progress)) {
    loadedCheckpoint.model.dispose();
    throw new UsageError(`${path}: an energy-based network (${String(loadedCheckpoint.progress.algorithm)}), whose energy is not the PC energy; evaluate it with pcgraph eval ${path}`);
  }
  const net = new PCGraph(loadedCheckpoint.model);
  try {
    const task = (flags.task as string | undefined) ?? "classify";
    const seed = (loadedCheckpoint.progress as { seed?: number }).seed ?? 1;
    const relax = { steps: flags.steps as number | undefined, gamma: flags.gamma as number | undefined, tolerance: flags.tolerance as number | undefined };
    const dir = (flags.out as string | undefined) ?? dirname(path);
    mkdirSync(dir, { recursive: true });
    const events: StepEvent[] = [];
    const watch = { ...relax, onStep: (e: StepEvent) => events.push(e) };
    const sensory = net.model.group("sensory").size;
    const side = Math.round(Math.sqrt(sensory));
    const writePng = (tiles: (Float32Array | null)[], columns: number) => {
      const rows = Array.from({ length: Math.ceil(tiles.length / columns) }, (_, r) => tiles.slice(r * columns, (r + 1) * columns));
      const file = join(dir, `${task}.png`);
      writeFileAtomic(file, gridPng(rows, { imageHeight: side, imageWidth: side, scale: 2 }));
      return file;
    };
    let test: Dataset | null = null;
    if (task !== "generate") test = data(flags, seed, false).test;
    if (task === "classify") {
      const count = Math.min((flags.count as number | undefined) ?? test!.size, test!.size);
      const part = subset(test!, Array.from({ length: count }, (_, i) => i));
      out(`accuracy: ${percent(net.accuracy(part, relax))} on ${count} test samples`);
      net.query({ clamp: { sensory: part.features.subarray(0, Math.min(count, 64) * sensory) }, read: ["label"], ...watch });
    } else if (task === "generate") {
      const perClass = (flags.count as number | undefined) ?? 2;
      const classes = net.model.group("label").size;
      const wanted = Array.from({ length: perClass * classes }, (_, i) => i % classes);
      const images = generateImages(net, wanted, { ...relax, init: { kind: "normal", std: 0.1, seed } });
      generateImages(net, wanted, { ...watch, init: { kind: "normal", std: 0.1, seed } });
      out(`generated ${wanted.length} images (${perClass} per class, one column per class): ${writePng(wanted.map((_, i) => tile(images, i, sensory)), classes)}`);
    } else {
      const count = Math.min((flags.count as number | undefined) ?? 16, test!.size);
      const images = test!.features.subarray(0, count * sensory);
      if (task === "complete") {
        const regionName = (flags.region as string | undefined) ?? "top";
        const region: CompletionRegion = regionName === "random" ? { random: (flags.fraction as number | undefined) ?? 0.25, seed } : (regionName as CompletionRegion);
        const visible = visibleMask(Math.round(Math.sqrt(sensory)), region);
        const completed = completeImages(net, images, visible, watch);
        const { mse, meanImageMse } = completionError(net, subset(test!, Array.from({ length: count }, (_, i) => i)), region, relax);
        out(`completion MSE over the hidden pixels: ${mse.toFixed(5)} (filling them with the mean image: ${meanImageMse.toFixed(5)})`);
        const tiles: Float32Array[] = [];
        for (let i = 0; i < count; i++) {
          const original = tile(images, i, sensory);
          tiles.push(original, original.map((v, j) => (visible[j] ? v : 0.5)), tile(completed, i, sensory));
        }
        out(`original / visible part / completed: ${writePng(tiles, 6)}`);
      } else {
        const sigma = (flags.sigma as number | undefined) ?? 0.3;
        const noisy = noisyImages(images, sigma, seed);
        const restored = denoiseImages(net, noisy, watch);
        const { mse, noisyMse } = denoisingError(net, subset(test!, Array.from({ length: count }, (_, i) => i)), { ...relax, sigma, seed });
        out(`denoising MSE: ${mse.toFixed(5)} (the noisy input: ${noisyMse.toFixed(5)})`);
        const tiles: Float32Array[] = [];
        for (let i = 0; i < count; i++) tiles.push(tile(images, i, sensory), tile(noisy, i, sensory), tile(restored, i, sensory));
        out(`clean / noisy / denoised: ${writePng(tiles, 6)}`);
      }
    }
    const energyPath = join(dir, `${task}-energy.svg`);
    writeFileAtomic(energyPath, energyCurvesSvg([{ label: task, energies: energyOf(events) }], { title: `${task}: energy per inference step` }));
    out(`energy per step: ${energyPath}`);
    return 0;
  } finally {
    net.dispose();
  }
}
