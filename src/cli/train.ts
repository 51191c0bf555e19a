// `pcgraph train`: one training run with progress, checkpoints and a training-curve SVG.
import { existsSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import type { Graph } from "../graph/graph.js";
import { loadCheckpoint, readCheckpointContents, saveCheckpoint } from "../node/checkpoint-files.js";
import { writeFileAtomic } from "../node/files.js";
import { algorithms, type Algorithm } from "../train/gradients.js";
import { fit, readProgress, type History, type ResumableCheckpoint } from "../train/fit.js";
import { createOptimizer, optimizerKinds, scheduledLearningRate, type OptimizerConfig, type OptimizerKind } from "../train/optimizers.js";
import { trainingCurvesSvg } from "../train/plot.js";
import { UsageError, type CommandSpec, type FlagSpec } from "./args.js";
import type { BackendName } from "../backend/load.js";
import { backendFlags, chooseBackend, describeBackend } from "./backend-flags.js";
import { loadData, type LoadedData } from "./data.js";
import { checkEnergyBasedFlags, energyBasedAlgorithms, energyBasedFlags } from "./ebm-flags.js";
import { energyBasedTrainCommand } from "./ebm-train.js";
import { chooseModel } from "./models.js";
import { ProgressReporter } from "./progress.js";
import { checkRunFolder, defaultRunFolder, makeRunFolder, modelId, readRunRecord, type RunRecord } from "./runs.js";

type Flags = Record<string, string | number | boolean>;

export { backendFlags, chooseBackend, describeBackend, parseThreads } from "./backend-flags.js";

export const algorithmLabels: Record<Algorithm, string> = { zil: "Z-IL", bp: "BP", il: "IL", fpa: "FPA" };

/** Flags shared by train and start. */
export const trainingFlags: FlagSpec[] = [
  { name: "epochs", type: "integer", min: 1, meta: "N", help: "Epochs to train (in total, when resuming; beyond the run's own total a cosine schedule is stretched over the new one)", defaultText: "mlp 6, cnn 3; when resuming, the run's" },
  { name: "batch-size", type: "integer", min: 1, meta: "N", help: "Samples per mini-batch", defaultText: "64" },
  { name: "lr", type: "number", min: 0, meta: "X", help: "Learning rate", defaultText: "adam 0.001, momentum 0.01, sgd 0.05; twice that for the CNN" },
  { name: "optimizer", type: "string", values: optimizerKinds, help: "Optimizer", defaultText: "adam" },
  { name: "schedule", type: "string", values: ["cosine", "constant"], help: "Learning-rate schedule: cosine decay to 0 over the run, or constant", defaultText: "cosine" },
  { name: "seed", type: "integer", meta: "N", help: "Seed of the initial weights, the train/test split and the batch order", defaultText: "1" },
  { name: "test-fraction", type: "number", min: 0, meta: "X", help: "Share of the samples held out for testing (mnist and CSV data)", defaultText: "0.2" },
  { name: "augment", type: "boolean", help: "Add 4 one-pixel shifted copies of each 28x28 training digit (5x the training set)", defaultText: "on for 28x28 data" },
  ...backendFlags,
];

export const trainSpec: CommandSpec = {
  name: "train",
  summary: "train a model with Z-IL, BP, IL or FPA, or an energy-based network with EqProp or CHL",
  usage: "pcgraph train [options]",
  flags: [
    { name: "model", type: "string", values: ["mlp", "cnn"], orPath: true, meta: "mlp|cnn|FILE.json", help: "Model: the MLP, the CNN or a graph spec file", defaultText: "mlp" },
    { name: "algo", type: "string", values: [...algorithms, ...energyBasedAlgorithms], help: "Learning algorithm (eqprop, chl: a layered energy-based network)", defaultText: "zil" },
    { name: "data", type: "string", values: ["mnist"], orPath: true, meta: "mnist|DIR|FILE.csv", help: "Data: the bundled MNIST digits, a directory of IDX files or a CSV file (label in the last column)", defaultText: "mnist" },
    ...trainingFlags,
    { name: "out", type: "string", meta: "DIR", help: "Output directory (never one holding another run's checkpoint)", defaultText: "runs/<model>[-<data>]-<algo>-seed<seed>; when resuming, the checkpoint's" },
    { name: "resume", type: "string", meta: "CHECKPOINT", help: "Continue the run saved in this checkpoint: its model, data, seed, algorithm, batch size and optimizer (flags that differ are refused)" },
    ...energyBasedFlags,
  ],
  details: "Progress goes to stderr. Writes checkpoint.ckpt (after every epoch), curves.svg and history.json to the output directory.\n" +
    "eqprop and chl train a layered energy-based network (784-<hidden>-10 on the digits; runs/ebm-<hidden>[-<data>]-<algo>-seed<seed>).\n" +
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
  if (flags.lr === 0) throw new UsageError("--lr: expected a number above 0 (at learning rate 0 training changes no weight)");
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
  /** The run's description, stored in its checkpoints. */
  run?: Record<string, unknown>;
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
      run: options.run,
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

/** The cosine schedule stretched to `totalSteps` when a resumed run goes beyond it (else unchanged). */
export function stretchedSchedule(config: OptimizerConfig, totalSteps: number): OptimizerConfig {
  const schedule = config.schedule;
  if (schedule?.kind !== "cosine" || schedule.totalSteps >= totalSteps) return config;
  return { ...config, schedule: { ...schedule, totalSteps } };
}

interface RunPlan {
  model: string;
  algorithm: Algorithm;
  settings: TrainingSettings;
  data: LoadedData;
  dir: string;
  record: RunRecord;
  /** The resumed run's optimizer (its schedule stretched when the run goes beyond it). */
  optimizer?: OptimizerConfig;
  notes: string[];
}

/** A new run: everything from the flags. */
function newRun(flags: Flags): RunPlan {
  const algorithm = (flags.algo as Algorithm | undefined) ?? "zil";
  const modelFlag = (flags.model as string | undefined) ?? "mlp";
  const model = chooseModel(modelFlag);
  let settings = trainingSettings(flags, model.name);
  const data = loadData((flags.data as string | undefined) ?? "mnist", settings);
  settings = withSchedule(settings, flags.schedule as string | undefined, data.train.size);
  const record: RunRecord = {
    model: modelId(modelFlag), data: { source: data.source, fingerprint: data.fingerprint },
    augment: data.augmented, testFraction: settings.testFraction, epochs: settings.epochs,
  };
  const dir = (flags.out as string | undefined) ?? defaultRunFolder(model.name, data.source, algorithm, settings.seed);
  return { model: model.name, algorithm, settings, data, dir, record, notes: [] };
}

/** Refuses a flag given with a value other than the one the resumed run recorded. */
export function refuseDiffering(flags: Flags, flag: string, value: unknown, recorded: unknown): void {
  if (flags[flag] !== undefined && value !== recorded)
    throw new UsageError(`--${flag} ${flags[flag]} differs from the resumed run's ${JSON.stringify(recorded)}; omit it to resume (it comes from the checkpoint)`);
}

/** What a checkpoint says about the run it continues. */
export interface ResumedRunState {
  progress: { seed: number; algorithm: string; batchSize: number; epoch: number };
  record: RunRecord | undefined;
  /** The model name for the settings' defaults ("mlp", "cnn", a spec file's name). */
  modelName: string;
  numClasses: number;
  optimizer: { config: OptimizerConfig; step: number };
}

/**
 * The part of resuming every trained run shares: flags that contradict the checkpoint (seed,
 * algorithm, batch size, optimizer, data options) are refused; the settings come from the
 * checkpoint, --epochs may extend the run (never below the epochs done); the data must be the
 * run's own (same fingerprint); a cosine schedule is stretched over the new total.
 */
export function continuedRun(flags: Flags, run: ResumedRunState): { settings: TrainingSettings; data: LoadedData; optimizer: OptimizerConfig; notes: string[] } {
  const { progress, record } = run;
  refuseDiffering(flags, "seed", flags.seed, progress.seed);
  refuseDiffering(flags, "algo", flags.algo, progress.algorithm);
  refuseDiffering(flags, "batch-size", flags["batch-size"], progress.batchSize);
  if (flags.optimizer !== undefined || flags.lr !== undefined || flags.schedule !== undefined)
    throw new UsageError("--optimizer, --lr and --schedule cannot change a resumed run; they come from the checkpoint");
  if (record) {
    refuseDiffering(flags, "augment", flags.augment, record.augment);
    refuseDiffering(flags, "test-fraction", flags["test-fraction"], record.testFraction);
  }
  const settings = trainingSettings(flags, run.modelName);
  settings.seed = progress.seed;
  settings.batchSize = progress.batchSize;
  settings.epochs = (flags.epochs as number | undefined) ?? record?.epochs ?? settings.epochs;
  if (record) {
    settings.augment = record.augment;
    settings.testFraction = record.testFraction;
  }
  if (settings.epochs <= progress.epoch)
    throw new UsageError(`the run already completed ${progress.epoch} epochs; pass --epochs N with N above ${progress.epoch} to train further`);
  const source = (flags.data as string | undefined) ?? record?.data.source ?? "mnist";
  if (flags.data === undefined && source !== "mnist" && !existsSync(source))
    throw new UsageError(`the run was trained on ${source}, which is no longer there; pass --data with the same samples`);
  const data = loadData(source, { ...settings, numClasses: run.numClasses });
  if (record && data.fingerprint !== record.data.fingerprint)
    throw new UsageError(`--data ${source}: these samples (fingerprint ${data.fingerprint}) are not the ones the run was trained on ` +
      `(${record.data.source}, fingerprint ${record.data.fingerprint})`);
  const notes: string[] = [];
  const stored = run.optimizer.config;
  const totalSteps = settings.epochs * Math.ceil(data.train.size / settings.batchSize);
  const optimizer = stretchedSchedule(stored, totalSteps);
  if (optimizer !== stored) {
    const before = (stored.schedule as { totalSteps: number }).totalSteps;
    const rate = scheduledLearningRate(optimizer.learningRate, optimizer.schedule!, run.optimizer.step);
    notes.push(`the cosine schedule is stretched from ${before} to ${totalSteps} steps (${settings.epochs} epochs): ` +
      `the learning rate continues at ${rate.toPrecision(3)} (${((100 * rate) / optimizer.learningRate).toFixed(0)}% of ${optimizer.learningRate})`);
  }
  return { settings, data, optimizer, notes };
}

/**
 * A resumed run: the model, data, data options, seed, algorithm, batch size and optimizer
 * come from the checkpoint, and a flag that contradicts them is refused; --epochs may
 * extend the run (a cosine schedule is then stretched over the new total).
 */
function resumedRun(flags: Flags, path: string, checkpoint: ResumableCheckpoint): RunPlan {
  const progress = readProgress(checkpoint.progress);
  const record = readRunRecord(progress.run);
  if (flags.model !== undefined) {
    if (!record) throw new UsageError("--model cannot be checked against this checkpoint (it records no run); omit it: the model comes from the checkpoint");
    refuseDiffering(flags, "model", modelId(flags.model as string), record.model);
  }
  const modelName = record ? (record.model === "mlp" || record.model === "cnn" ? record.model : basename(record.model, ".json")) : "model";
  const { settings, data, optimizer, notes } = continuedRun(flags, {
    progress, record, modelName, numClasses: checkpoint.graph.output.size,
    optimizer: { config: checkpoint.optimizer.config as unknown as OptimizerConfig, step: checkpoint.optimizer.step },
  });
  return {
    model: modelName, algorithm: progress.algorithm, settings, data, optimizer, notes,
    dir: (flags.out as string | undefined) ?? dirname(path),
    record: { ...(record ?? { model: modelName, data: { source: data.source, fingerprint: data.fingerprint }, augment: data.augmented, testFraction: settings.testFraction }), epochs: settings.epochs },
  };
}

export async function trainCommand(flags: Flags, out: (line: string) => void): Promise<number> {
  const resumePath = typeof flags.resume === "string" ? flags.resume : undefined;
  // An energy-based run (EqProp, CHL) is a PC graph's checkpoint; resuming one continues it whatever --algo says (a differing one is refused there).
  const energyBased = resumePath !== undefined ? readCheckpointContents(resumePath).kind === "pc-graph" : (energyBasedAlgorithms as readonly unknown[]).includes(flags.algo);
  if (energyBased) return energyBasedTrainCommand(flags, out);
  checkEnergyBasedFlags(flags, (flags.algo as string | undefined) ?? "zil");
  const backend = await chooseBackend(flags);
  const resume = resumePath ? loadCheckpoint(resumePath, { backend }) : undefined;
  let graph: Graph | undefined = resume?.graph;
  try {
    const plan = resume ? resumedRun(flags, resumePath!, resume) : newRun(flags);
    const { algorithm, settings, data, dir } = plan;
    checkRunFolder(dir, plan.record, algorithm, settings.seed, resumePath);
    graph ??= chooseModel((flags.model as string | undefined) ?? "mlp").build(settings.seed, data.train, backend);
    const removeIfEmpty = makeRunFolder(dir);
    const checkpointPath = join(dir, "checkpoint.ckpt");
    try {
      process.stderr.write(`${data.description}\n${resume ? `resuming ${resumePath}` : `model ${plan.model}, ${graph.parameterCount.toLocaleString("en-US")} parameters`}, ` +
        `${algorithmLabels[algorithm]}, ${describeBackend(graph.backend)}\n`);
      for (const note of plan.notes) process.stderr.write(`${note}\n`);
      const result = await trainWithProgress(graph, data, {
        label: algorithmLabels[algorithm], algorithm, settings, checkpointPath, resume, optimizer: plan.optimizer, run: { ...plan.record },
      });
      const svgPath = join(dir, "curves.svg");
      writeFileAtomic(svgPath, trainingCurvesSvg([{ label: algorithmLabels[algorithm], history: result.history }],
        { title: `${plan.model} on ${data.source === "mnist" ? "MNIST" : basename(data.source)}: ${algorithmLabels[algorithm]}` }));
      writeFileAtomic(join(dir, "history.json"), JSON.stringify(result.history, null, 2) + "\n");
      if (result.history.interrupted) out(`interrupted; continue with: pcgraph train --resume ${checkpointPath}`);
      if (data.test.size === 0) {
        const last = result.history.epochs[result.history.epochs.length - 1];
        out(`no test set (--test-fraction 0); final training loss: ${last ? last.trainLoss.toFixed(4) : "n/a"}`);
      } else out(`test accuracy: ${percent(result.testAccuracy)}${result.history.stoppedEarly ? " (stopped early)" : ""}`);
      out(`training took ${result.seconds.toFixed(1)} s`);
      out(`checkpoint: ${checkpointPath}`);
      out(`training curves: ${svgPath}`);
      return 0;
    } catch (error) {
      removeIfEmpty();
      throw error;
    }
  } finally {
    graph?.dispose();
  }
}
