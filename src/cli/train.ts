// `pcgraph train`: one training run with progress, checkpoints and a training-curve SVG.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { BackendName } from "../backend/load.js";
import type { Graph } from "../graph/graph.js";
import { loadCheckpoint, saveCheckpoint } from "../node/checkpoint-files.js";
import { algorithms, type Algorithm } from "../train/gradients.js";
import { fit, readProgress, type History, type ResumableCheckpoint } from "../train/fit.js";
import { createOptimizer, optimizerKinds, type OptimizerConfig, type OptimizerKind } from "../train/optimizers.js";
import { trainingCurvesSvg } from "../train/plot.js";
import { UsageError, type CommandSpec, type FlagSpec } from "./args.js";
import { loadData, type LoadedData } from "./data.js";
import { chooseModel } from "./models.js";
import { ProgressReporter } from "./progress.js";

export const backendNames: readonly BackendName[] = ["wasm-simd", "wasm-scalar", "reference-f64"];

export const algorithmLabels: Record<Algorithm, string> = { zil: "Z-IL", bp: "BP", il: "IL", fpa: "FPA" };

/** Flags shared by train and start. */
export const trainingFlags: FlagSpec[] = [
  { name: "epochs", type: "integer", min: 1, meta: "N", help: "Epochs to train (in total, when resuming)", defaultText: "mlp 6, cnn 3" },
  { name: "batch-size", type: "integer", min: 1, meta: "N", help: "Samples per mini-batch", defaultText: "64" },
  { name: "lr", type: "number", min: 0, meta: "X", help: "Learning rate", defaultText: "adam 0.001, momentum 0.01, sgd 0.05; twice that for the CNN" },
  { name: "optimizer", type: "string", values: optimizerKinds, help: "Optimizer", defaultText: "adam" },
  { name: "schedule", type: "string", values: ["cosine", "constant"], help: "Learning-rate schedule: cosine decay to 0 over the run, or constant", defaultText: "cosine" },
  { name: "seed", type: "integer", meta: "N", help: "Seed of the initial weights, the train/test split and the batch order", defaultText: "1" },
  { name: "test-fraction", type: "number", min: 0, meta: "X", help: "Share of the samples held out for testing (mnist and CSV data)", defaultText: "0.2" },
  { name: "augment", type: "boolean", help: "Add 4 one-pixel shifted copies of each 28x28 training digit (5x the training set)", defaultText: "on for 28x28 data" },
  { name: "backend", type: "string", values: backendNames, help: "Numeric backend", defaultText: "wasm-simd when supported" },
];

export const trainSpec: CommandSpec = {
  name: "train",
  summary: "train a model with Z-IL, BP, IL or FPA",
  usage: "pcgraph train [options]",
  flags: [
    { name: "model", type: "string", values: ["mlp", "cnn"], orPath: true, meta: "mlp|cnn|FILE.json", help: "Model: the MLP, the CNN or a graph spec file", defaultText: "mlp" },
    { name: "algo", type: "string", values: algorithms, help: "Learning algorithm", defaultText: "zil" },
    { name: "data", type: "string", values: ["mnist"], orPath: true, meta: "mnist|DIR|FILE.csv", help: "Data: the bundled MNIST digits, a directory of IDX files or a CSV file (label in the last column)", defaultText: "mnist" },
    ...trainingFlags,
    { name: "out", type: "string", meta: "DIR", help: "Output directory", defaultText: "runs/<model>-<algo>-seed<seed>" },
    { name: "resume", type: "string", meta: "CHECKPOINT", help: "Continue the run saved in this checkpoint (its seed, algorithm and batch size)" },
  ],
  details: "Progress goes to stderr. Writes checkpoint.ckpt (after every epoch), curves.svg and history.json to the output directory.\n" +
    "Ctrl-C stops after the current batch and saves a checkpoint that --resume continues exactly.",
};

export interface TrainingSettings {
  epochs: number;
  batchSize: number;
  optimizer: OptimizerConfig;
  seed: number;
  testFraction: number;
  augment: boolean | "auto";
  backend?: BackendName;
}

const defaultRates: Record<OptimizerKind, number> = { adam: 0.001, momentum: 0.01, sgd: 0.05 };

/** Sets the cosine schedule's length once the number of batches per epoch is known. */
export function withSchedule(settings: TrainingSettings, schedule: string | undefined, trainSize: number): TrainingSettings {
  if ((schedule ?? "cosine") === "constant") return settings;
  const totalSteps = Math.max(1, settings.epochs * Math.ceil(trainSize / settings.batchSize));
  return { ...settings, optimizer: { ...settings.optimizer, schedule: { kind: "cosine", totalSteps } } };
}

/** Settings from the shared flags, with per-model defaults. */
export function trainingSettings(flags: Record<string, string | number | boolean>, modelName: string): TrainingSettings {
  const kind = (flags.optimizer as OptimizerKind | undefined) ?? "adam";
  const testFraction = (flags["test-fraction"] as number | undefined) ?? 0.2;
  if (testFraction >= 1) throw new UsageError(`--test-fraction: expected a number below 1, got ${testFraction}`);
  return {
    epochs: (flags.epochs as number | undefined) ?? (modelName === "cnn" ? 3 : 6),
    batchSize: (flags["batch-size"] as number | undefined) ?? 64,
    optimizer: { kind, learningRate: (flags.lr as number | undefined) ?? defaultRates[kind] * (modelName === "cnn" ? 2 : 1) },
    seed: (flags.seed as number | undefined) ?? 1,
    testFraction,
    augment: (flags.augment as boolean | undefined) ?? "auto",
    backend: flags.backend as BackendName | undefined,
  };
}

export interface RunResult {
  history: History;
  testAccuracy: number | undefined;
  seconds: number;
}

/**
 * Trains `graph` with progress on stderr, saving checkpoints to `checkpointPath`; Ctrl-C
 * stops after the current batch (the checkpoint then resumes mid-epoch).
 */
export async function trainWithProgress(graph: Graph, data: LoadedData, options: {
  label: string; algorithm: Algorithm; settings: TrainingSettings; checkpointPath: string; resume?: ResumableCheckpoint;
  optimizer?: OptimizerConfig;
}): Promise<RunResult> {
  const { settings } = options;
  const done = options.resume ? readProgress(options.resume.progress) : undefined;
  const perEpoch = Math.ceil(data.train.size / settings.batchSize);
  const remaining = (settings.epochs - (done?.epoch ?? 0)) * perEpoch - (done?.batch ?? 0);
  const reporter = new ProgressReporter(process.stderr, options.label, remaining);
  const controller = new AbortController();
  const onSigint = () => {
    if (controller.signal.aborted) process.exit(130);
    process.stderr.write(`\n${options.label}: stopping after this batch (Ctrl-C again to quit at once)\n`);
    controller.abort();
  };
  process.on("SIGINT", onSigint);
  const optimizer = createOptimizer(options.optimizer ?? settings.optimizer);
  const started = performance.now();
  try {
    const history = await fit(graph, data, {
      algorithm: options.algorithm,
      epochs: settings.epochs,
      batchSize: settings.batchSize,
      optimizer,
      seed: options.resume ? undefined : settings.seed,
      resume: options.resume,
      onBatch: reporter.onBatch,
      onEpoch: reporter.onEpoch,
      checkpointPath: options.checkpointPath,
      saveCheckpoint,
      signal: controller.signal,
    });
    const last = history.epochs[history.epochs.length - 1];
    return { history, testAccuracy: last?.testAccuracy, seconds: (performance.now() - started) / 1000 };
  } finally {
    process.off("SIGINT", onSigint);
    optimizer.dispose();
  }
}

export function percent(x: number | undefined): string {
  return x === undefined ? "n/a" : `${(100 * x).toFixed(2)}%`;
}

export async function trainCommand(flags: Record<string, string | number | boolean>, out: (line: string) => void): Promise<number> {
  let resume: ResumableCheckpoint | undefined;
  let algorithm = (flags.algo as Algorithm | undefined) ?? "zil";
  const model = chooseModel((flags.model as string | undefined) ?? "mlp");
  let settings = trainingSettings(flags, model.name);
  let optimizer: OptimizerConfig | undefined;
  if (typeof flags.resume === "string") {
    resume = loadCheckpoint(flags.resume, { backend: settings.backend });
    const progress = readProgress(resume.progress);
    if (flags.seed !== undefined && flags.seed !== progress.seed)
      throw new UsageError(`--seed ${flags.seed} differs from the checkpoint's seed ${progress.seed}; omit --seed to resume`);
    if (flags.algo === undefined) algorithm = progress.algorithm;
    settings.seed = progress.seed;
    if (flags["batch-size"] === undefined) settings.batchSize = progress.batchSize;
    // The optimizer as it was configured; --lr and --optimizer would change the run.
    optimizer = resume.optimizer.config as unknown as OptimizerConfig;
    if (flags.optimizer !== undefined || flags.lr !== undefined)
      throw new UsageError("--optimizer and --lr cannot change a resumed run; they come from the checkpoint");
  }
  const data = loadData((flags.data as string | undefined) ?? "mnist", settings);
  if (!resume) settings = withSchedule(settings, flags.schedule as string | undefined, data.train.size);
  else if (flags.schedule !== undefined) throw new UsageError("--schedule cannot change a resumed run; it comes from the checkpoint");
  const dir = (flags.out as string | undefined) ?? join("runs", `${model.name}-${algorithm}-seed${settings.seed}`);
  mkdirSync(dir, { recursive: true });
  const checkpointPath = join(dir, "checkpoint.ckpt");
  const graph = resume?.graph ?? model.build(settings.seed, data.train, settings.backend);
  try {
    process.stderr.write(`${data.description}\n${resume ? `resuming ${flags.resume}` : `model ${model.name}, ${graph.parameterCount.toLocaleString("en-US")} parameters`}, ` +
      `${algorithmLabels[algorithm]}, ${graph.backend.name}\n`);
    const result = await trainWithProgress(graph, data, { label: algorithmLabels[algorithm], algorithm, settings, checkpointPath, resume, optimizer });
    const svgPath = join(dir, "curves.svg");
    writeFileSync(svgPath, trainingCurvesSvg([{ label: algorithmLabels[algorithm], history: result.history }],
      { title: `${model.name} on ${(flags.data as string | undefined) ?? "mnist"}: ${algorithmLabels[algorithm]}` }));
    writeFileSync(join(dir, "history.json"), JSON.stringify(result.history, null, 2) + "\n");
    if (result.history.interrupted) out(`interrupted; continue with: pcgraph train --resume ${checkpointPath}`);
    out(`test accuracy: ${percent(result.testAccuracy)}${result.history.stoppedEarly ? " (stopped early)" : ""}`);
    out(`training took ${result.seconds.toFixed(1)} s`);
    out(`checkpoint: ${checkpointPath}`);
    out(`training curves: ${svgPath}`);
    return 0;
  } finally {
    graph.dispose();
  }
}
