// Training and evaluating a predified network (src/pc/predify.ts) on datasets.
//
// trainDecoders: the fit loop for the feedback decoders alone: seeded mini-batch order,
// the reconstruction loss of each decoder at the feedforward pass (the MSE of the layer
// below, summed over pcoders), one optimizer step per batch on the decoder parameters with
// every feedforward weight frozen, a checkpoint (the predified graph, the optimizer and the
// progress, config included) after each epoch, and exact resumption.
//
// evaluateOverSteps: accuracy at every time step 0..T on a dataset, optionally corrupted;
// step 0 is the feedforward network's accuracy.
import type { Graph } from "../graph/graph.js";
import { predify, type PredifiedNetwork, type PredifyOptions } from "../pc/predify.js";
import { checkPredifyConfig, type PredifyConfig } from "../pc/predify-config.js";
import { Tensor, sizeOf } from "../tensor.js";
import type { CheckpointData } from "./checkpoint.js";
import { corruptedDataset, type Corruption } from "./data/corruptions.js";
import { batches, numBatches, type Dataset } from "./data/dataset.js";
import { BatchTensors, checkDatasetFits } from "./evaluate.js";
import { epochSeed, TrainingError, type BatchInfo, type EpochRecord, type History } from "./fit.js";
import { createOptimizer, invalidOption, isOptimizer, scheduledLearningRate, type Optimizer, type OptimizerConfig, type OptimizerStateData } from "./optimizers.js";

/** What a decoder-training checkpoint's progress holds. */
export interface DecoderTrainingProgress {
  kind: "predify-decoders";
  config: PredifyConfig;
  epoch: number;
  batch: number;
  seed: number;
  batchSize: number;
  history: EpochRecord[];
  partial: { lossSum: number; samples: number; seconds: number };
}

/** How `trainDecoders` trains a predified network's decoders (the feedforward weights stay frozen). */
export interface DecoderTrainingOptions {
  epochs: number;
  batchSize: number;
  optimizer: OptimizerConfig | Optimizer;
  /** Seed of the batch order (optional when resuming). */
  seed?: number;
  /** Batch size of the test-set reconstruction loss (default 256). */
  evalBatchSize?: number;
  /** Called after every step (awaited when it returns a promise). */
  onBatch?(info: BatchInfo): void | Promise<void>;
  /** Called after every epoch with its record (awaited when it returns a promise). */
  onEpoch?(record: EpochRecord): void | Promise<void>;
  /** Continue from a checkpoint written by trainDecoders (its optimizer state and progress). */
  resume?: { optimizer: OptimizerStateData; progress: unknown };
  checkpointPath?: string;
  /** Writes a checkpoint, e.g. `saveCheckpoint` from pcgraph/node. */
  saveCheckpoint?(path: string, checkpoint: CheckpointData): void | Promise<void>;
  /** Stops after the current batch, saving a checkpoint that resumes mid-epoch. */
  signal?: AbortSignal;
}

/** Reads the progress of a decoder-training checkpoint; throws naming the field that is off. */
export function readDecoderProgress(value: unknown): DecoderTrainingProgress {
  const p = value as DecoderTrainingProgress;
  if (!p || typeof p !== "object" || p.kind !== "predify-decoders")
    invalidOption("resume.progress", "is not the progress of a predify decoder training (kind \"predify-decoders\")");
  for (const key of ["epoch", "batch", "seed", "batchSize"] as const)
    if (typeof p[key] !== "number" || !Number.isInteger(p[key]) || p[key] < 0) invalidOption(`resume.progress.${key}`, `must be an integer >= 0, got ${JSON.stringify(p[key])}`);
  if (!Array.isArray(p.history)) invalidOption("resume.progress.history", "must be a list of epoch records");
  return { ...structuredClone(p), config: checkPredifyConfig(p.config, "in the checkpoint"), partial: p.partial ? { ...p.partial } : { lossSum: 0, samples: 0, seconds: 0 } };
}

/**
 * The predified network a checkpoint of trainDecoders holds (its graph includes the
 * decoders; the config comes from its progress). The caller disposes both the network and
 * `checkpoint.graph`.
 */
export function predifiedFromCheckpoint(checkpoint: { graph: Graph; progress: unknown }, options: PredifyOptions = {}): PredifiedNetwork {
  return predify(checkpoint.graph, readDecoderProgress(checkpoint.progress).config, options);
}

/** Mean over the samples of the reconstruction energy at the feedforward pass. */
export function reconstructionLoss(net: PredifiedNetwork, dataset: Dataset, batchSize = 256): number {
  checkDatasetFits(net.graph, dataset);
  const tensors = new BatchTensors(net.graph);
  let total = 0;
  try {
    for (const batch of batches(dataset, batchSize, { shuffle: false, reuseBuffers: true })) {
      const { inputs } = tensors.load(batch);
      for (const s of net.steps(inputs, 0)) total += s.energy * batch.size;
    }
  } finally {
    tensors.dispose();
  }
  return total / dataset.size;
}

/** Trains the decoders of `net` in place (the feedforward weights stay as they are). */
export async function trainDecoders(net: PredifiedNetwork, data: { train: Dataset; test?: Dataset }, options: DecoderTrainingOptions): Promise<History> {
  const integer = (field: string, v: unknown, min: number) => {
    if (typeof v !== "number" || !Number.isInteger(v) || v < min) invalidOption(field, `must be an integer >= ${min}, got ${JSON.stringify(v)}`);
    return v;
  };
  const epochs = integer("epochs", options.epochs, 0);
  const batchSize = integer("batchSize", options.batchSize, 1);
  const evalBatchSize = integer("evalBatchSize", options.evalBatchSize ?? 256, 1);
  if (options.checkpointPath !== undefined && typeof options.saveCheckpoint !== "function")
    invalidOption("saveCheckpoint", "must be given with checkpointPath (a function that writes the file)");
  checkDatasetFits(net.graph, data.train);
  if (data.test) checkDatasetFits(net.graph, data.test);
  const perEpoch = numBatches(data.train.size, batchSize);
  if (perEpoch === 0) invalidOption("data.train", "has no samples");

  let progress: DecoderTrainingProgress;
  if (options.resume) {
    progress = readDecoderProgress(options.resume.progress);
    if (options.seed !== undefined && options.seed !== progress.seed) invalidOption("seed", `is ${options.seed} but the checkpoint was trained with seed ${progress.seed}`);
    if (progress.batchSize !== batchSize) invalidOption("batchSize", `is ${batchSize} but the checkpoint was trained with ${progress.batchSize}`);
    if (progress.batch >= perEpoch) invalidOption("resume.progress.batch", `${progress.batch} is not a batch of this run (${perEpoch} per epoch)`);
    if (progress.epoch > epochs) invalidOption("epochs", `is ${epochs} but the checkpoint already completed ${progress.epoch}`);
    progress.config = structuredClone(net.config);
  } else {
    if (options.seed === undefined || !Number.isFinite(options.seed)) invalidOption("seed", `must be a finite number, got ${JSON.stringify(options.seed)}`);
    progress = {
      kind: "predify-decoders", config: structuredClone(net.config), epoch: 0, batch: 0, seed: options.seed, batchSize, history: [],
      partial: { lossSum: 0, samples: 0, seconds: 0 },
    };
  }
  const ownsOptimizer = !isOptimizer(options.optimizer);
  const optimizer = isOptimizer(options.optimizer) ? options.optimizer : createOptimizer(options.optimizer);
  const tensors = new BatchTensors(net.graph);
  const save = async () => {
    if (options.checkpointPath === undefined) return;
    await options.saveCheckpoint!(options.checkpointPath, {
      graph: net.graph, optimizer: optimizer.state(), progress: structuredClone(progress) as unknown as Record<string, unknown>,
    });
  };
  const history = (interrupted: boolean): History => ({
    epochs: structuredClone(progress.history), stoppedEarly: false, interrupted,
    seconds: progress.history.reduce((s, r) => s + r.seconds, 0) + progress.partial.seconds,
  });
  try {
    if (options.resume) optimizer.loadState(options.resume.optimizer);
    let lastYield = performance.now();
    while (progress.epoch < epochs) {
      const started = performance.now() - progress.partial.seconds * 1000;
      let b = 0;
      for (const batch of batches(data.train, batchSize, { seed: epochSeed(progress.seed, progress.epoch), shuffle: true, reuseBuffers: true })) {
        if (b++ < progress.batch) continue;
        const { inputs } = tensors.load(batch);
        const learningRate = optimizer.learningRate();
        const { loss, gradients } = net.reconstructionGradients(inputs);
        if (!Number.isFinite(loss))
          throw new TrainingError(`the reconstruction loss became ${loss} at epoch ${progress.epoch + 1}, batch ${b}; try a lower learning rate`);
        optimizer.step(net.graph, gradients, net.decoderParameters);
        progress.batch = b;
        progress.partial.lossSum += loss * batch.size;
        progress.partial.samples += batch.size;
        const elapsed = (performance.now() - started) / 1000;
        progress.partial.seconds = elapsed;
        await options.onBatch?.({
          epoch: progress.epoch + 1, epochs, batch: b, batches: perEpoch, loss, learningRate,
          samplesPerSecond: progress.partial.samples / Math.max(elapsed, 1e-9),
        });
        if (options.signal && performance.now() - lastYield > 100) {
          await new Promise((resolve) => setTimeout(resolve, 0));
          lastYield = performance.now();
        }
        if (options.signal?.aborted && b < perEpoch) {
          await save();
          return history(true);
        }
      }
      const record: EpochRecord = {
        epoch: progress.epoch + 1,
        trainLoss: progress.partial.lossSum / progress.partial.samples,
        learningRate: scheduledLearningRate(optimizer.config.learningRate, optimizer.config.schedule, Math.max(optimizer.steps - 1, 0)),
        seconds: 0,
      };
      if (data.test) record.testLoss = reconstructionLoss(net, data.test, evalBatchSize);
      record.seconds = (performance.now() - started) / 1000;
      progress.history.push(record);
      progress.epoch++;
      progress.batch = 0;
      progress.partial = { lossSum: 0, samples: 0, seconds: 0 };
      await options.onEpoch?.(record);
      await save();
      if (options.signal?.aborted && progress.epoch < epochs) return history(true);
    }
    return history(false);
  } finally {
    tensors.dispose();
    if (ownsOptimizer) optimizer.dispose();
  }
}

/** Accuracy and energy at each time step over a dataset. */
export interface StepEvaluation {
  /** Fraction of samples classified correctly at each step 0..T (step 0: the feedforward network). */
  accuracy: number[];
  /** Mean reconstruction energy per sample at each step. */
  energies: number[];
  /** Mean reconstruction error of each pcoder at each step: [step][pcoder]. */
  reconstructionErrors: number[][];
  samples: number;
}

/** Options of `evaluateOverSteps`: the number of time steps, the batch size and a progress callback. */
export interface StepEvaluationOptions {
  /** Time steps after step 0 (default: the config's). */
  steps?: number;
  batchSize?: number;
  corruption?: Corruption;
  /** Seed of the corruption (default 0): the same seed gives the same corrupted images. */
  seed?: number;
  /** Called after each batch with the samples done. */
  onBatch?(done: number, total: number): void;
}

/** Accuracy, energy and reconstruction errors at every time step on `dataset`. */
export function evaluateOverSteps(net: PredifiedNetwork, dataset: Dataset, options: StepEvaluationOptions = {}): StepEvaluation {
  checkDatasetFits(net.graph, dataset);
  const batchSize = options.batchSize ?? 256;
  if (!Number.isInteger(batchSize) || batchSize < 1) invalidOption("batchSize", `must be an integer >= 1, got ${JSON.stringify(batchSize)}`);
  const data = options.corruption && options.corruption.kind !== "none" ? corruptedDataset(dataset, options.corruption, options.seed ?? 0) : dataset;
  const steps = options.steps ?? net.config.steps ?? 10;
  const correct = new Float64Array(steps + 1);
  const energies = new Float64Array(steps + 1);
  const errors = Array.from({ length: steps + 1 }, () => new Float64Array(net.pcoders.length));
  const tensors = new BatchTensors(net.graph);
  const classes = sizeOf(net.graph.output.shape);
  const argmax = new Map<number, Tensor>();
  let done = 0;
  try {
    for (const batch of batches(data, batchSize, { shuffle: false, reuseBuffers: true })) {
      const { inputs } = tensors.load(batch);
      let predicted = argmax.get(batch.size);
      if (!predicted) argmax.set(batch.size, (predicted = new Tensor([batch.size], net.graph.backend)));
      for (const s of net.steps(inputs, steps)) {
        net.graph.backend.argmaxRows(batch.size, classes, s.prediction.address, predicted.address);
        const labels = predicted.dataSync();
        for (let i = 0; i < batch.size; i++) if (labels[i] === batch.labels[i]) correct[s.step]++;
        energies[s.step] += s.energy * batch.size;
        s.reconstructionErrors.forEach((e, i) => (errors[s.step][i] += e * batch.size));
      }
      done += batch.size;
      options.onBatch?.(done, data.size);
    }
  } finally {
    tensors.dispose();
    for (const t of argmax.values()) t.dispose();
  }
  const n = Math.max(data.size, 1);
  return {
    accuracy: Array.from(correct, (c) => c / n),
    energies: Array.from(energies, (e) => e / n),
    reconstructionErrors: errors.map((row) => Array.from(row, (e) => e / n)),
    samples: data.size,
  };
}
