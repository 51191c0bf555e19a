// The training loop: mini-batches in a seeded order, one gradient estimate per batch from
// BP, Z-IL, IL or FPA, one optimizer step, evaluation after every epoch, early stopping,
// checkpoints and exact resumption. Platform-neutral: saving a checkpoint is a function the
// caller passes in.
//
// Determinism: the initial weights come from the graph; the order of epoch e is a
// permutation drawn from (seed, e); nothing reads the clock except for the reported times.
// A checkpoint records the epoch and batch to continue from, so an interrupted run that is
// resumed ends with the same weights, bit for bit, as one that ran straight through.
import type { Graph } from "../graph/graph.js";
import type { PCOptions } from "../pc/engine.js";
import type { Tensor } from "../tensor.js";
import { batches, numBatches, type Dataset } from "./data/dataset.js";
import { BatchTensors, checkDatasetFits, evaluate } from "./evaluate.js";
import { checkFinite, TrainingError } from "./errors.js";
import { algorithms, gradientEngine, type Algorithm, type GradientEngine } from "./gradients.js";
import { createOptimizer, firstStepAtZeroRate, invalidOption, isOptimizer, scheduledLearningRate, type Optimizer, type OptimizerConfig, type OptimizerStateData } from "./optimizers.js";

/** One epoch of a `fit` history: losses, accuracies, learning rate and time. */
export interface EpochRecord {
  /** 1-based. */
  epoch: number;
  /** Mean loss over the epoch's batches, each at the weights before its update. */
  trainLoss: number;
  /** Accuracy on the whole training set after the epoch (only with `trainAccuracy: true`). */
  trainAccuracy?: number;
  testLoss?: number;
  testAccuracy?: number;
  /** Learning rate of the epoch's last step. */
  learningRate: number;
  /**
   * IL only: mean inference steps per batch, the largest final residual max |dF/dx| relative
   * to its value at the feedforward state, and the batches whose inference ended short of
   * the tolerance (stalled, or at the step budget).
   */
  inference?: { meanSteps: number; maxRelativeResidual: number; unconverged: number };
  /** Wall time of the epoch, evaluation included. */
  seconds: number;
}

/** What `fit` returns: a record per epoch and how the run ended. */
export interface History {
  epochs: EpochRecord[];
  stoppedEarly: boolean;
  /** True when `signal` stopped the run before its last epoch. */
  interrupted: boolean;
  /** Wall time of all epochs (of earlier runs too when resumed). */
  seconds: number;
}

/** Where a run stands: everything besides weights and optimizer state needed to continue it. */
export type TrainingProgress = {
  /** Epochs completed. */
  epoch: number;
  /** Batches of the next epoch already taken (0 at an epoch boundary). */
  batch: number;
  seed: number;
  algorithm: Algorithm;
  batchSize: number;
  history: EpochRecord[];
  stoppedEarly: boolean;
  /** Running sums of the epoch in progress (zeros at an epoch boundary). */
  partial: { lossSum: number; samples: number; seconds: number; inference?: InferenceTally };
  /** The caller's description of the run (FitOptions.run), stored in checkpoints as is. */
  run?: Record<string, unknown>;
};

/** IL's inference over the batches of an epoch so far. */
export interface InferenceTally {
  batches: number;
  steps: number;
  maxRelativeResidual: number;
  unconverged: number;
}

/** What a checkpoint holds (see checkpoint.ts for the file format). */
export interface TrainingCheckpoint {
  graph: Graph;
  optimizer: OptimizerStateData;
  progress: TrainingProgress;
}

/** A checkpoint as decoded from a file: progress is checked by fit when resuming. */
export interface ResumableCheckpoint {
  graph: Graph;
  optimizer: OptimizerStateData;
  progress: TrainingProgress | Record<string, unknown>;
}

/** Passed to `onBatch` after each step. */
export interface BatchInfo {
  /** 1-based epoch and batch numbers. */
  epoch: number;
  epochs: number;
  batch: number;
  batches: number;
  /** Loss of this batch (before the update). */
  loss: number;
  /** Training samples per second in this epoch so far. */
  samplesPerSecond: number;
  learningRate: number;
  /** IL only: inference steps taken on this batch, the final residual relative to the initial one, and whether it reached the tolerance. */
  inference?: { steps: number; relativeResidual: number; converged: boolean };
}

/** Stop when the monitored value has not improved for `patience` epochs. */
export interface EarlyStoppingOptions {
  /** Epochs without improvement before stopping. */
  patience: number;
  /** Smallest change that counts as an improvement (default 0). */
  minDelta?: number;
  /** Default: testLoss when there is test data, else trainLoss. */
  monitor?: "testLoss" | "testAccuracy" | "trainLoss";
}

/** How `fit` trains: the algorithm, epochs, batch size and optimizer, with callbacks, early stopping and checkpoints. */
export interface FitOptions {
  algorithm: Algorithm;
  epochs: number;
  batchSize: number;
  /** A config (the optimizer is created and freed by fit) or an optimizer you own. */
  optimizer: OptimizerConfig | Optimizer;
  /** Seed of the batch order. Optional when resuming (the checkpoint's seed is used). */
  seed?: number;
  /** Options of the PC algorithms (steps, gamma, ...). */
  pc?: Omit<PCOptions, "algorithm">;
  /** Skip each epoch's last, smaller batch (default false). */
  dropRemainder?: boolean;
  /** Also measure accuracy on the whole training set after each epoch (default false). */
  trainAccuracy?: boolean;
  /** Batch size of the evaluation passes (default 256). */
  evalBatchSize?: number;
  /** Called after every step (awaited when it returns a promise). */
  onBatch?(info: BatchInfo): void | Promise<void>;
  /** Called after every epoch with its record (awaited when it returns a promise). */
  onEpoch?(record: EpochRecord): void | Promise<void>;
  earlyStopping?: EarlyStoppingOptions;
  /** Continue a run from its checkpoint (e.g. `loadCheckpoint(path)` on Node). */
  resume?: ResumableCheckpoint;
  /** Where to save checkpoints; needs `saveCheckpoint`. */
  checkpointPath?: string;
  /** Save every N epochs (default 1) and at the end. */
  checkpointEvery?: number;
  /** Writes a checkpoint, e.g. `saveCheckpoint` from checkpoint.ts on Node. */
  saveCheckpoint?(path: string, checkpoint: TrainingCheckpoint): void | Promise<void>;
  /**
   * A JSON description of the run for the caller (e.g. the data it was trained on), stored
   * in every checkpoint as progress.run. When resuming, it replaces the checkpoint's own
   * (which is kept when this is not given).
   */
  run?: Record<string, unknown>;
  /**
   * Stops after the current batch when aborted, saving a checkpoint that resumes mid-epoch.
   * While a signal is given, fit yields to the event loop now and then so it can fire.
   */
  signal?: AbortSignal;
}

export { TrainingError };

function integerOption(field: string, value: unknown, min: number): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min)
    invalidOption(field, `must be an integer >= ${min}, got ${JSON.stringify(value)}`);
  return value;
}

/** The seed of epoch e's batch order: a cheap integer hash of (seed, epoch). */
export function epochSeed(seed: number, epoch: number): number {
  let h = Math.imul((seed | 0) ^ 0x5bd1e995, 0x9e3779b1) ^ Math.imul(epoch + 1, 0x85ebca6b);
  h ^= h >>> 15;
  return Math.imul(h, 0xc2b2ae35) >>> 0;
}

interface Monitor {
  key: "testLoss" | "testAccuracy" | "trainLoss";
  patience: number;
  minDelta: number;
}

/** Epochs since the monitored value last improved, replayed from the history. */
function epochsWithoutImprovement(history: EpochRecord[], m: Monitor): number {
  let best = NaN;
  let wait = 0;
  const higherIsBetter = m.key === "testAccuracy";
  for (const record of history) {
    const value = record[m.key];
    if (value === undefined || Number.isNaN(value)) continue;
    const improved = Number.isNaN(best) || (higherIsBetter ? value > best + m.minDelta : value < best - m.minDelta);
    if (improved) {
      best = value;
      wait = 0;
    } else wait++;
  }
  return wait;
}

function resolveMonitor(options: EarlyStoppingOptions | undefined, hasTest: boolean): Monitor | null {
  if (!options) return null;
  const patience = integerOption("earlyStopping.patience", options.patience, 1);
  const minDelta = options.minDelta ?? 0;
  if (typeof minDelta !== "number" || !(minDelta >= 0)) invalidOption("earlyStopping.minDelta", `must be a number >= 0, got ${JSON.stringify(minDelta)}`);
  const key = options.monitor ?? (hasTest ? "testLoss" : "trainLoss");
  if (!["testLoss", "testAccuracy", "trainLoss"].includes(key))
    invalidOption("earlyStopping.monitor", `must be "testLoss", "testAccuracy" or "trainLoss", got ${JSON.stringify(key)}`);
  if (key !== "trainLoss" && !hasTest) invalidOption("earlyStopping.monitor", `is "${key}" but no test data was given`);
  return { key, patience, minDelta };
}

/**
 * Steps at learning rate 0 change no weight: throws a TrainingError before any step when the
 * next `remaining` steps of `optimizer` would reach it (e.g. a cosine schedule shorter than the run).
 */
export function refuseZeroLearningRate(optimizer: Optimizer, remaining: number): void {
  const zeroAt = firstStepAtZeroRate(optimizer.config, optimizer.steps, optimizer.steps + remaining);
  if (zeroAt === null) return;
  const { schedule, learningRate } = optimizer.config;
  const why = learningRate === 0 ? "the learning rate is 0"
    : schedule.kind === "cosine" ? `the cosine schedule reaches 0 at its last step, ${schedule.totalSteps}`
    : `the ${schedule.kind} schedule has decayed to 0`;
  throw new TrainingError(`the learning rate would be 0 from step ${zeroAt + 1} of the ${optimizer.steps + remaining} this run takes ` +
    `(${why}), so training would change no weight; give the schedule at least ${optimizer.steps + remaining} steps ` +
    `(e.g. schedule.totalSteps) or train for fewer epochs`);
}

/** Reads the progress of a checkpoint written by fit; throws naming the field that is off. */
export function readProgress(value: unknown): TrainingProgress {
  const p = value as TrainingProgress;
  if (!p || typeof p !== "object") invalidOption("resume.progress", "is missing");
  for (const key of ["epoch", "batch", "seed", "batchSize"] as const)
    if (typeof p[key] !== "number" || !Number.isFinite(p[key])) invalidOption(`resume.progress.${key}`, `must be a number, got ${JSON.stringify(p[key])}`);
  if (!algorithms.includes(p.algorithm)) invalidOption("resume.progress.algorithm", `must be one of ${algorithms.join(", ")}, got ${JSON.stringify(p.algorithm)}`);
  if (!Array.isArray(p.history) || p.history.some((r) => !r || typeof r.epoch !== "number" || typeof r.trainLoss !== "number"))
    invalidOption("resume.progress.history", "must be a list of epoch records");
  return p;
}

function checkProgress(resume: ResumableCheckpoint, options: FitOptions, epochs: number, batches: number): TrainingProgress {
  const p = readProgress(resume.progress);
  if (options.seed !== undefined && options.seed !== p.seed)
    invalidOption("seed", `is ${options.seed} but the checkpoint was trained with seed ${p.seed}; omit it to resume`);
  if (p.algorithm !== options.algorithm) invalidOption("algorithm", `is "${options.algorithm}" but the checkpoint was trained with "${p.algorithm}"`);
  if (p.batchSize !== options.batchSize) invalidOption("batchSize", `is ${options.batchSize} but the checkpoint was trained with ${p.batchSize}`);
  if (!Number.isInteger(p.epoch) || p.epoch < 0 || !Number.isInteger(p.batch) || p.batch < 0 || p.batch >= Math.max(batches, 1))
    invalidOption("resume.progress", `epoch ${p.epoch}, batch ${p.batch} is not a position in this run (${batches} batches per epoch)`);
  if (p.epoch > epochs) invalidOption("epochs", `is ${epochs} but the checkpoint already completed ${p.epoch}`);
  return {
    ...structuredClone(p),
    stoppedEarly: p.stoppedEarly === true,
    partial: p.partial ? structuredClone(p.partial) : { lossSum: 0, samples: 0, seconds: 0 },
  };
}

/**
 * Trains `graph` in place on `data.train`, evaluating on `data.test` after each epoch.
 * Returns the per-epoch history. Callbacks may be async; fit awaits them.
 */
export async function fit(graph: Graph, data: { train: Dataset; test?: Dataset }, options: FitOptions): Promise<History> {
  if (!algorithms.includes(options.algorithm)) invalidOption("algorithm", `must be one of ${algorithms.join(", ")}, got ${JSON.stringify(options.algorithm)}`);
  const epochs = integerOption("epochs", options.epochs, 0);
  const batchSize = integerOption("batchSize", options.batchSize, 1);
  const evalBatchSize = integerOption("evalBatchSize", options.evalBatchSize ?? 256, 1);
  const checkpointEvery = integerOption("checkpointEvery", options.checkpointEvery ?? 1, 1);
  if (options.checkpointPath !== undefined && typeof options.saveCheckpoint !== "function")
    invalidOption("saveCheckpoint", "must be given with checkpointPath (a function that writes the file)");
  const train = data.train;
  if (!train) invalidOption("data.train", "is missing");
  checkDatasetFits(graph, train);
  if (data.test) checkDatasetFits(graph, data.test);
  // An empty test set is no test set: nothing to evaluate, no NaN in the history.
  const test = data.test && data.test.size > 0 ? data.test : undefined;
  const dropRemainder = options.dropRemainder ?? false;
  const perEpoch = numBatches(train.size, batchSize, dropRemainder);
  if (perEpoch === 0) invalidOption("data.train", `has ${train.size} samples: no batch of ${batchSize}`);
  const monitor = resolveMonitor(options.earlyStopping, test !== undefined);

  let progress: TrainingProgress;
  if (options.resume) {
    progress = checkProgress(options.resume, options, epochs, perEpoch);
    if (options.run !== undefined) progress.run = structuredClone(options.run);
  } else {
    if (options.seed === undefined || !Number.isFinite(options.seed)) invalidOption("seed", `must be a finite number, got ${JSON.stringify(options.seed)}`);
    progress = {
      epoch: 0, batch: 0, seed: options.seed, algorithm: options.algorithm, batchSize, history: [], stoppedEarly: false,
      partial: { lossSum: 0, samples: 0, seconds: 0 },
      ...(options.run !== undefined ? { run: structuredClone(options.run) } : {}),
    };
  }

  const ownsOptimizer = !isOptimizer(options.optimizer);
  const optimizer = isOptimizer(options.optimizer) ? options.optimizer : createOptimizer(options.optimizer);
  const engines = new Map<number, GradientEngine>();
  const tensors = new BatchTensors(graph);
  try {
    if (options.resume) {
      if (options.resume.graph !== graph) graph.setWeights(options.resume.graph.getWeights());
      optimizer.loadState(options.resume.optimizer);
    }
    refuseZeroLearningRate(optimizer, Math.max(0, (epochs - progress.epoch) * perEpoch - progress.batch));
    const save = async () => {
      if (options.checkpointPath === undefined) return;
      await options.saveCheckpoint!(options.checkpointPath, { graph, optimizer: optimizer.state(), progress: structuredClone(progress) });
    };
    const engineFor = (size: number): GradientEngine => {
      let engine = engines.get(size);
      if (!engine) engines.set(size, (engine = gradientEngine(graph, options.algorithm, options.pc)));
      return engine;
    };

    const finish = (interrupted: boolean): History => ({
      epochs: structuredClone(progress.history),
      stoppedEarly: progress.stoppedEarly,
      interrupted,
      seconds: progress.history.reduce((s, r) => s + r.seconds, 0) + progress.partial.seconds,
    });
    let lastYield = performance.now();

    while (progress.epoch < epochs && !progress.stoppedEarly) {
      const epochIndex = progress.epoch;
      const started = performance.now() - progress.partial.seconds * 1000;
      const order = batches(train, batchSize, { seed: epochSeed(progress.seed, epochIndex), shuffle: true, dropRemainder, reuseBuffers: true });
      let b = 0;
      for (const batch of order) {
        if (b++ < progress.batch) continue; // already taken before the checkpoint
        const { inputs, target } = tensors.load(batch);
        const learningRate = optimizer.learningRate();
        const { loss, gradients, inference } = engineFor(batch.size).run({ inputs, target });
        if (!Number.isFinite(loss))
          throw new TrainingError(`the loss became ${loss} at epoch ${epochIndex + 1}, batch ${b}; try a lower learning rate`);
        try {
          optimizer.step(graph, gradients);
        } catch (error) {
          if (error instanceof TrainingError) throw new TrainingError(`epoch ${epochIndex + 1}, batch ${b}: ${error.message}`);
          throw error;
        }
        progress.batch = b;
        progress.partial.lossSum += loss * batch.size;
        progress.partial.samples += batch.size;
        let batchInference: BatchInfo["inference"];
        if (inference) {
          const tally = (progress.partial.inference ??= { batches: 0, steps: 0, maxRelativeResidual: 0, unconverged: 0 });
          const relativeResidual = inference.initialResidual > 0 ? inference.residual / inference.initialResidual : 0;
          tally.batches++;
          tally.steps += inference.steps;
          tally.maxRelativeResidual = Math.max(tally.maxRelativeResidual, relativeResidual);
          if (!inference.converged) tally.unconverged++;
          batchInference = { steps: inference.steps, relativeResidual, converged: inference.converged };
        }
        const elapsed = (performance.now() - started) / 1000;
        progress.partial.seconds = elapsed;
        await options.onBatch?.({
          epoch: epochIndex + 1, epochs, batch: b, batches: perEpoch, loss, learningRate,
          samplesPerSecond: progress.partial.samples / Math.max(elapsed, 1e-9),
          ...(batchInference ? { inference: batchInference } : {}),
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

      // Finite gradients can still overflow a parameter (a huge learning rate): caught here,
      // before the epoch is evaluated or saved.
      try {
        checkFinite("parameter", graph.parameters.map((p): [string, Tensor] => [p.name, p.tensor]), "the updates overflowed it; lower the learning rate");
      } catch (error) {
        throw new TrainingError(`epoch ${epochIndex + 1}: ${(error as Error).message}`);
      }
      const record: EpochRecord = {
        epoch: epochIndex + 1,
        trainLoss: progress.partial.lossSum / progress.partial.samples,
        learningRate: scheduledRateOfLastStep(optimizer),
        seconds: 0,
      };
      const tally = progress.partial.inference;
      if (tally && tally.batches > 0)
        record.inference = { meanSteps: tally.steps / tally.batches, maxRelativeResidual: tally.maxRelativeResidual, unconverged: tally.unconverged };
      if (options.trainAccuracy) record.trainAccuracy = evaluate(graph, train, { batchSize: evalBatchSize }).accuracy;
      if (test) {
        const result = evaluate(graph, test, { batchSize: evalBatchSize });
        record.testLoss = result.loss;
        record.testAccuracy = result.accuracy;
      }
      record.seconds = (performance.now() - started) / 1000;
      progress.history.push(record);
      progress.epoch = epochIndex + 1;
      progress.batch = 0;
      progress.partial = { lossSum: 0, samples: 0, seconds: 0 };
      if (monitor && epochsWithoutImprovement(progress.history, monitor) >= monitor.patience) progress.stoppedEarly = true;
      await options.onEpoch?.(record);
      const aborted = options.signal?.aborted === true;
      const last = progress.epoch === epochs || progress.stoppedEarly || aborted;
      if (last || progress.epoch % checkpointEvery === 0) await save();
      if (aborted && progress.epoch < epochs && !progress.stoppedEarly) return finish(true);
    }
    return finish(false);
  } finally {
    for (const engine of engines.values()) engine.dispose();
    tensors.dispose();
    if (ownsOptimizer) optimizer.dispose();
  }
}

/** The rate the optimizer used on its most recent step. */
function scheduledRateOfLastStep(optimizer: Optimizer): number {
  const { learningRate, schedule } = optimizer.config;
  return scheduledLearningRate(learningRate, schedule, Math.max(optimizer.steps - 1, 0));
}
