// Training a PC graph on a dataset: mini-batches in a seeded order (the same order `fit`
// draws), each clamped to the input group (and the one-hot labels to the label group),
// one PC or iPC learning step per batch through an optimizer, a classification query on
// the test set after every epoch, checkpoints and exact resumption.
import { InvalidArgumentError } from "../backend/errors.js";
import type { ValueInit } from "../pc/graph/init.js";
import type { EquilibriumSettings } from "./equilibrium-learning.js";
import type { ClipOptions } from "../pc/graph/schedules.js";
import type { OptimizerStateData } from "./checkpoint.js";
import { batches, numBatches, type Dataset } from "./data/dataset.js";
import { epochSeed, refuseZeroLearningRate, TrainingError, type History } from "./fit.js";
import { createOptimizer, invalidOption, isOptimizer, scheduledLearningRate, type Optimizer, type OptimizerConfig } from "./optimizers.js";
import type { PCGraph, PCLearningAlgorithm, RelaxSettings } from "./pc-graph.js";
import { pcLearningAlgorithms } from "./pc-graph.js";

/** One epoch of `fitPCGraph`: energy, residual, accuracy and time. */
export interface PCGraphEpochRecord {
  /** 1-based. */
  epoch: number;
  /** Mean energy per sample over the epoch's batches, where each update was computed. */
  trainEnergy: number;
  /**
   * EqProp and CHL: the mean cost per sample at the free fixed points of the epoch's batches
   * (1/2 |output - target|^2, the loss the updates descend); absent for PC and iPC.
   */
  trainLoss?: number;
  /** Classification accuracy on the test set after the epoch (when there is one and a label group). */
  testAccuracy?: number;
  learningRate: number;
  /** Wall time of the epoch, evaluation included. */
  seconds: number;
}

/** What `fitPCGraph` returns: a record per epoch and whether it was interrupted. */
export interface PCGraphHistory {
  epochs: PCGraphEpochRecord[];
  interrupted: boolean;
  seconds: number;
}

/** Passed to `onBatch` after each learning step. */
export interface PCGraphBatchInfo {
  epoch: number;
  epochs: number;
  batch: number;
  batches: number;
  /** Energy per sample where the batch's update was computed. */
  energy: number;
  /** EqProp and CHL: the cost per sample at the batch's free fixed point. */
  loss?: number;
  samplesPerSecond: number;
  learningRate: number;
}

/** Where a run stands, stored in checkpoints. */
export interface PCGraphProgress {
  epoch: number;
  batch: number;
  seed: number;
  algorithm: PCLearningAlgorithm;
  batchSize: number;
  history: PCGraphEpochRecord[];
  /** The epoch so far (`lossSum` when the learning steps report a loss). */
  partial: { energySum: number; samples: number; seconds: number; lossSum?: number };
  /** The caller's description of the run (PCGraphFitOptions.run), stored as is. */
  run?: Record<string, unknown>;
}

/** What `fitPCGraph` saves: the model, the optimizer state and the progress. */
export interface PCGraphCheckpoint {
  pcGraph: PCGraph;
  optimizer: OptimizerStateData;
  progress: PCGraphProgress;
}

/** How `fitPCGraph` trains a PC graph: groups for data and labels, epochs, batches, optimizer, callbacks and checkpoints. */
export interface PCGraphFitOptions {
  /** "pc" (default), "ipc", or "eqprop" / "chl" (the labels are the nudged group's target). */
  algorithm?: PCLearningAlgorithm;
  /** EqProp and CHL settings (beta, nudging or clamp, the second phase). */
  equilibrium?: EquilibriumSettings;
  epochs: number;
  batchSize: number;
  optimizer: OptimizerConfig | Optimizer;
  /** Seed of the batch order (optional when resuming). */
  seed?: number;
  /** Inference steps per batch (default 20). */
  steps?: number;
  /** Inference rate (default 0.1). */
  gamma?: number;
  /** PC only: stop relaxing at this residual. */
  tolerance?: number;
  clip?: ClipOptions;
  /** How the free units start for each batch (default "forward"). */
  init?: ValueInit;
  /** The group clamped to the features (default "sensory"). */
  inputGroup?: string;
  /** The group clamped to the one-hot labels (default "label"); null trains on the features alone. */
  labelGroup?: string | null;
  /** The classification query of the test evaluation (defaults of `query`). */
  evaluation?: RelaxSettings & { init?: ValueInit };
  dropRemainder?: boolean;
  /** Batch size of the test queries (default 256). */
  evalBatchSize?: number;
  /** Called after every step (awaited when it returns a promise). */
  onBatch?(info: PCGraphBatchInfo): void | Promise<void>;
  /** Called after every epoch with its record (awaited when it returns a promise). */
  onEpoch?(record: PCGraphEpochRecord): void | Promise<void>;
  signal?: AbortSignal;
  checkpointPath?: string;
  checkpointEvery?: number;
  /** Writes a checkpoint, e.g. `savePCGraphCheckpoint` from pcgraph/node. */
  saveCheckpoint?(path: string, checkpoint: PCGraphCheckpoint): void | Promise<void>;
  /**
   * A JSON description of the run for the caller (e.g. the data it was trained on), stored in
   * every checkpoint as progress.run; when resuming, it replaces the checkpoint's own.
   */
  run?: Record<string, unknown>;
  /** Continue from a checkpoint's optimizer state and progress (the weights are set from `resume.weights` when given). */
  resume?: { optimizer: OptimizerStateData; progress: PCGraphProgress | Record<string, unknown>; weights?: Map<string, ArrayLike<number>> };
}

function integer(field: string, value: unknown, min: number): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min) invalidOption(field, `must be an integer >= ${min}, got ${JSON.stringify(value)}`);
  return value;
}

function readPCGraphProgress(value: unknown): PCGraphProgress {
  const p = value as PCGraphProgress;
  if (!p || typeof p !== "object") invalidOption("resume.progress", "is missing");
  for (const key of ["epoch", "batch", "seed", "batchSize"] as const)
    if (typeof p[key] !== "number" || !Number.isFinite(p[key])) invalidOption(`resume.progress.${key}`, `must be a number, got ${JSON.stringify(p[key])}`);
  if (!pcLearningAlgorithms.includes(p.algorithm)) invalidOption("resume.progress.algorithm", `must be one of ${pcLearningAlgorithms.join(", ")}, got ${JSON.stringify(p.algorithm)}`);
  if (!Array.isArray(p.history)) invalidOption("resume.progress.history", "must be a list of epoch records");
  return structuredClone({ ...p, partial: p.partial ?? { energySum: 0, samples: 0, seconds: 0 } });
}

/** Accuracy of a classification query (clamp the input group, read the label group). */
export function pcGraphAccuracy(net: PCGraph, data: Dataset, o: { inputGroup?: string; labelGroup?: string; batchSize?: number } & RelaxSettings & { init?: ValueInit } = {}): number {
  const inputGroup = o.inputGroup ?? "sensory";
  const labelGroup = o.labelGroup ?? "label";
  const classes = net.model.group(labelGroup).size;
  if (classes !== data.numClasses) throw new InvalidArgumentError(`group "${labelGroup}" has ${classes} units, the data ${data.numClasses} classes`);
  let correct = 0;
  for (const batch of batches(data, o.batchSize ?? 256, { shuffle: false, reuseBuffers: true })) {
    const { values } = net.query({
      clamp: { [inputGroup]: batch.features }, read: [labelGroup], init: o.init, steps: o.steps, gamma: o.gamma, tolerance: o.tolerance,
    });
    const y = values[labelGroup];
    for (let i = 0; i < batch.size; i++) {
      let best = 0;
      for (let j = 1; j < classes; j++) if (y[i * classes + j] > y[i * classes + best]) best = j;
      if (best === batch.labels[i]) correct++;
    }
  }
  return data.size === 0 ? NaN : correct / data.size;
}

/** Trains `net` in place (see PCGraphFitOptions); returns the per-epoch history. */
export async function fitPCGraph(net: PCGraph, data: { train: Dataset; test?: Dataset }, options: PCGraphFitOptions): Promise<PCGraphHistory> {
  const algorithm = options.algorithm ?? "pc";
  if (!pcLearningAlgorithms.includes(algorithm)) invalidOption("algorithm", `must be one of ${pcLearningAlgorithms.join(", ")}, got ${JSON.stringify(algorithm)}`);
  const epochs = integer("epochs", options.epochs, 0);
  const batchSize = integer("batchSize", options.batchSize, 1);
  const evalBatchSize = integer("evalBatchSize", options.evalBatchSize ?? 256, 1);
  const checkpointEvery = integer("checkpointEvery", options.checkpointEvery ?? 1, 1);
  if (options.checkpointPath !== undefined && typeof options.saveCheckpoint !== "function")
    invalidOption("saveCheckpoint", "must be given with checkpointPath (a function that writes the file)");
  const { train, test } = data;
  if (!train) invalidOption("data.train", "is missing");
  const inputGroup = options.inputGroup ?? "sensory";
  const labelGroup = options.labelGroup === undefined ? "label" : options.labelGroup;
  const input = net.model.group(inputGroup);
  const rowSize = train.features.length / Math.max(train.size, 1);
  if (input.size !== rowSize) throw new InvalidArgumentError(`group "${inputGroup}" has ${input.size} units, the samples of "${train.name}" ${rowSize} values`);
  if (labelGroup !== null) {
    const label = net.model.group(labelGroup);
    if (label.size !== train.numClasses) throw new InvalidArgumentError(`group "${labelGroup}" has ${label.size} units, "${train.name}" has ${train.numClasses} classes`);
  }
  const dropRemainder = options.dropRemainder ?? false;
  const perEpoch = numBatches(train.size, batchSize, dropRemainder);
  if (perEpoch === 0) invalidOption("data.train", `has ${train.size} samples: no batch of ${batchSize}`);

  let progress: PCGraphProgress;
  if (options.resume) {
    progress = readPCGraphProgress(options.resume.progress);
    if (options.seed !== undefined && options.seed !== progress.seed) invalidOption("seed", `is ${options.seed} but the checkpoint was trained with seed ${progress.seed}; omit it to resume`);
    if (progress.algorithm !== algorithm) invalidOption("algorithm", `is "${algorithm}" but the checkpoint was trained with "${progress.algorithm}"`);
    if (progress.batchSize !== batchSize) invalidOption("batchSize", `is ${batchSize} but the checkpoint was trained with ${progress.batchSize}`);
    if (progress.batch >= perEpoch || progress.epoch > epochs) invalidOption("resume.progress", `epoch ${progress.epoch}, batch ${progress.batch} is not a position in this run`);
  } else {
    if (options.seed === undefined || !Number.isFinite(options.seed)) invalidOption("seed", `must be a finite number, got ${JSON.stringify(options.seed)}`);
    progress = { epoch: 0, batch: 0, seed: options.seed, algorithm, batchSize, history: [], partial: { energySum: 0, samples: 0, seconds: 0 } };
  }
  if (options.run !== undefined) progress.run = structuredClone(options.run);

  const ownsOptimizer = !isOptimizer(options.optimizer);
  const optimizer = isOptimizer(options.optimizer) ? options.optimizer : createOptimizer(options.optimizer);
  try {
    if (options.resume) {
      if (options.resume.weights) net.setWeights(options.resume.weights);
      optimizer.loadState(options.resume.optimizer);
    }
    refuseZeroLearningRate(optimizer, Math.max(0, (epochs - progress.epoch) * perEpoch - progress.batch));
    const save = async () => {
      if (options.checkpointPath === undefined) return;
      await options.saveCheckpoint!(options.checkpointPath, { pcGraph: net, optimizer: optimizer.state(), progress: structuredClone(progress) });
    };
    const finish = (interrupted: boolean): PCGraphHistory => ({
      epochs: structuredClone(progress.history), interrupted,
      seconds: progress.history.reduce((s, r) => s + r.seconds, 0) + progress.partial.seconds,
    });
    const learn = { algorithm, steps: options.steps, gamma: options.gamma, tolerance: options.tolerance, clip: options.clip, equilibrium: options.equilibrium };
    let lastYield = performance.now();
    while (progress.epoch < epochs) {
      const epochIndex = progress.epoch;
      const started = performance.now() - progress.partial.seconds * 1000;
      let b = 0;
      for (const batch of batches(train, batchSize, { seed: epochSeed(progress.seed, epochIndex), shuffle: true, dropRemainder, reuseBuffers: true })) {
        if (b++ < progress.batch) continue;
        const learningRate = optimizer.learningRate();
        const clamp: Record<string, Float32Array> = { [inputGroup]: batch.features };
        if (labelGroup !== null) clamp[labelGroup] = batch.oneHot;
        const result = net.learn({ clamp, init: options.init }, optimizer, learn);
        if (!Number.isFinite(result.energy))
          throw new TrainingError(`the energy became ${result.energy} at epoch ${epochIndex + 1}, batch ${b}; try a lower learning rate or inference rate`);
        progress.batch = b;
        progress.partial.energySum += result.energy * batch.size;
        progress.partial.samples += batch.size;
        if ("loss" in result && Number.isFinite(result.loss)) progress.partial.lossSum = (progress.partial.lossSum ?? 0) + result.loss * batch.size;
        const elapsed = (performance.now() - started) / 1000;
        progress.partial.seconds = elapsed;
        await options.onBatch?.({
          epoch: epochIndex + 1, epochs, batch: b, batches: perEpoch, energy: result.energy, learningRate,
          ...("loss" in result ? { loss: result.loss } : {}),
          samplesPerSecond: progress.partial.samples / Math.max(elapsed, 1e-9),
        });
        if (options.signal && performance.now() - lastYield > 100) {
          await new Promise((resolve) => setTimeout(resolve, 0));
          lastYield = performance.now();
        }
        if (options.signal?.aborted && b < perEpoch) {
          await save();
          return finish(true);
        }
      }
      const record: PCGraphEpochRecord = {
        epoch: epochIndex + 1,
        trainEnergy: progress.partial.energySum / progress.partial.samples,
        ...(progress.partial.lossSum !== undefined ? { trainLoss: progress.partial.lossSum / progress.partial.samples } : {}),
        learningRate: scheduledLearningRate(optimizer.config.learningRate, optimizer.config.schedule, Math.max(optimizer.steps - 1, 0)),
        seconds: 0,
      };
      if (test && labelGroup !== null)
        record.testAccuracy = pcGraphAccuracy(net, test, { inputGroup, labelGroup, batchSize: evalBatchSize, ...options.evaluation });
      record.seconds = (performance.now() - started) / 1000;
      progress.history.push(record);
      progress.epoch = epochIndex + 1;
      progress.batch = 0;
      progress.partial = { energySum: 0, samples: 0, seconds: 0 };
      await options.onEpoch?.(record);
      const aborted = options.signal?.aborted === true;
      if (progress.epoch === epochs || aborted || progress.epoch % checkpointEvery === 0) await save();
      if (aborted && progress.epoch < epochs) return finish(true);
    }
    return finish(false);
  } finally {
    if (ownsOptimizer) optimizer.dispose();
  }
}

/**
 * The history in the shape of `fit`'s, for the shared training-curve plot: the loss is the
 * training cost where the algorithm reports one (EqProp, CHL), else the energy per sample.
 */
export function pcGraphCurves(history: PCGraphHistory): History {
  return {
    epochs: history.epochs.map((r) => ({
      epoch: r.epoch, trainLoss: r.trainLoss ?? r.trainEnergy, learningRate: r.learningRate, seconds: r.seconds,
      ...(r.testAccuracy !== undefined ? { testAccuracy: r.testAccuracy } : {}),
    })),
    stoppedEarly: false, interrupted: history.interrupted, seconds: history.seconds,
  };
}
