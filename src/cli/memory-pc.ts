// `pcgraph memory store --method pc` and `memory recall` of its file: a generative PC memory
// trained on images drawn from a dataset, saved as a PC-graph checkpoint (the container of
// `pcgraph graph train`) whose progress records the memory's settings and where its images
// came from, so that recall can draw the same images again to query it.
import { readFileSync } from "node:fs";
import { getBackend } from "../backend/load.js";
import { SerializationError } from "../graph/errors.js";
import { drawPatterns } from "../memory/capacity.js";
import { corruptQueries, queryCorruptionLabel, type ImageShape, type QueryCorruption } from "../memory/corruption.js";
import { PCMemory, type PCMemorySettings } from "../memory/pc-memory.js";
import { loadPCGraphCheckpoint, savePCGraphCheckpoint } from "../node/checkpoint-files.js";
import { CHECKPOINT_MAGIC } from "../train/checkpoint.js";
import { UsageError } from "./args.js";

/** What `memory store --method pc` records in the checkpoint's progress. */
export interface PCMemoryProgress {
  kind: "pc-memory";
  settings: PCMemorySettings;
  /** Epochs trained (the next epoch's pattern order depends on it). */
  epochs: number;
  /** Where the stored images came from: `--data`, how many, drawn with which seed. */
  patterns: { data: string; count: number; seed: number; description: string; imageShape: [number, number, number] };
  training: { epochs: number; lossPerEntry: number; converged: boolean; seconds: number };
}

/** Images a memory command reads: values in [0, 1], their layout and a description. */
export interface ImagePool {
  images: Float32Array;
  count: number;
  shape: ImageShape;
  description: string;
}

type Out = (line: string) => void;

/** True when the file starts like a checkpoint (a PC memory) rather than a memory file (a UHN). */
export function isCheckpointFile(path: string): boolean {
  let head: Buffer;
  try {
    head = readFileSync(path).subarray(0, CHECKPOINT_MAGIC.length);
  } catch (error) {
    throw new SerializationError(`${path}: cannot read the memory file: ${(error as Error).message}`);
  }
  return head.toString("latin1") === CHECKPOINT_MAGIC;
}

function rows(data: Float32Array, count: number, d: number): Float32Array[] {
  return Array.from({ length: count }, (_, i) => data.subarray(i * d, (i + 1) * d));
}

/** Trains a PC memory on `count` images drawn with `seed` and writes its checkpoint. */
export function storePCMemory(options: { pool: ImagePool; data: string; count: number; seed: number; hidden: number; epochs: number; path: string }, out: Out): void {
  const { pool, count, seed, path } = options;
  const d = pool.shape.channels * pool.shape.height * pool.shape.width;
  const patterns = drawPatterns(pool.images, pool.count, d, count, seed);
  const memory = new PCMemory({
    hiddenSizes: [options.hidden], seed, backend: getBackend(), training: { epochs: options.epochs },
    onEpoch: (r) => {
      if (r.epoch % 50 === 0) out(`epoch ${r.epoch}: energy per entry ${r.lossPerEntry.toExponential(2)}`);
    },
  });
  try {
    memory.append(rows(patterns, count, d));
    const training = memory.train();
    const progress: PCMemoryProgress = {
      kind: "pc-memory", settings: memory.settings, epochs: memory.epochs, training,
      patterns: { data: options.data, count, seed, description: pool.description, imageShape: [pool.shape.channels, pool.shape.height, pool.shape.width] },
    };
    savePCGraphCheckpoint(path, { model: memory.network!.model, optimizer: memory.optimizerState()!, progress: progress as unknown as Record<string, unknown> });
    out(`PC memory (memory ${memory.settings.memorySize} -> hidden ${options.hidden} -> ${d}, ${memory.settings.activation}, ` +
      `${memory.settings.training.algorithm}): ${count} images of ${pool.description} (seed ${seed}); ` +
      `${training.epochs} epochs, energy per entry ${training.lossPerEntry.toExponential(2)}${training.converged ? "" : ` (tolerance ${memory.settings.training.tolerance} not reached)`}, ` +
      `${training.seconds.toFixed(1)} s`);
    out(`wrote ${path} (a PC-graph checkpoint; recall with: pcgraph memory recall ${path})`);
  } finally {
    memory.dispose();
  }
}

function readProgress(path: string, progress: Record<string, unknown>): PCMemoryProgress {
  const p = progress as unknown as PCMemoryProgress;
  if (p?.kind !== "pc-memory" || typeof p.settings !== "object" || p.settings === null)
    throw new SerializationError(`${path}: a PC-graph checkpoint without a PC memory in its progress (write one with pcgraph memory store --method pc)`);
  const q = p.patterns;
  if (!q || typeof q.data !== "string" || !Number.isInteger(q.count) || q.count < 1 || !Number.isInteger(q.seed) || !Array.isArray(q.imageShape))
    throw new SerializationError(`${path}: progress.patterns must be { data, count, seed, imageShape }, got ${JSON.stringify(q)}`);
  if (!Number.isInteger(p.epochs) || p.epochs < 0) throw new SerializationError(`${path}: progress.epochs must be an integer >= 0, got ${JSON.stringify(p.epochs)}`);
  return p;
}

/** Loads the PC memory of a checkpoint: the network, and its images drawn again from their source. */
export function openPCMemory(path: string, loadPool: (data: string) => ImagePool): { memory: PCMemory; progress: PCMemoryProgress; patterns: Float32Array; shape: ImageShape } {
  const decoded = loadPCGraphCheckpoint(path, { backend: getBackend() });
  try {
    const progress = readProgress(path, decoded.progress);
    const pool = loadPool(progress.patterns.data);
    const d = pool.shape.channels * pool.shape.height * pool.shape.width;
    if (d !== progress.settings.patternSize || pool.count < progress.patterns.count)
      throw new SerializationError(`${path}: its images came from ${progress.patterns.data} (${progress.patterns.count} of ${progress.settings.patternSize} values), ` +
        `but that now has ${pool.count} of ${d}`);
    const patterns = drawPatterns(pool.images, pool.count, d, progress.patterns.count, progress.patterns.seed);
    const memory = PCMemory.restore(decoded.model, progress.settings, rows(patterns, progress.patterns.count, d), { optimizer: decoded.optimizer, epochs: progress.epochs });
    const [channels, height, width] = progress.patterns.imageShape;
    return { memory, progress, patterns, shape: { channels, height, width } };
  } catch (error) {
    decoded.model.dispose();
    throw error;
  }
}

/** The PC paper's criteria: MSE below 0.001 from part of an image (a mask), 0.005 otherwise. */
export function pcCriterion(corruption: QueryCorruption): number {
  return corruption.kind === "masked" ? 0.001 : 0.005;
}

/**
 * Recalls the first `shown` stored images of a PC memory from corrupted copies; prints each
 * error and returns the rows stored / query / recalled for a grid.
 */
export function recallPCMemory(path: string, loadPool: (data: string) => ImagePool, corruption: QueryCorruption, count: number, seed: number, out: Out):
  { rows: Float32Array[][]; shape: ImageShape } {
  const { memory, progress, patterns, shape } = openPCMemory(path, loadPool);
  try {
    const d = progress.settings.patternSize;
    const shown = Math.min(count, memory.size);
    if (shown < 1) throw new UsageError("--count must be at least 1");
    const { queries, mask } = corruptQueries(patterns.subarray(0, shown * d), shown, shape, corruption, seed);
    const recalledTensor = memory.recall(rows(queries, shown, d), mask ?? undefined);
    const recalled = Float32Array.from(recalledTensor.dataSync());
    recalledTensor.dispose();
    const threshold = pcCriterion(corruption);
    out(`memory: ${path} (PC memory of ${memory.size} images from ${progress.patterns.description}, seed ${progress.patterns.seed}; ` +
      `hidden ${progress.settings.hiddenSizes.join(", ")}, memory ${progress.settings.memorySize}; energy per entry ${progress.training.lossPerEntry.toExponential(2)})`);
    out(`queries: ${queryCorruptionLabel(corruption)}${mask ? " (the hidden rows given as unknown)" : ""}`);
    out(`| stored image | MSE | recalled (MSE < ${threshold}) |`);
    out("| ---: | ---: | --- |");
    let passed = 0;
    for (let b = 0; b < shown; b++) {
      let sum = 0;
      for (let k = 0; k < d; k++) sum += (recalled[b * d + k] - patterns[b * d + k]) ** 2;
      const ok = sum / d < threshold;
      passed += ok ? 1 : 0;
      out(`| ${b} | ${(sum / d).toFixed(5)} | ${ok ? "yes" : "no"} |`);
    }
    out(`recalled ${passed} of ${shown} (MSE < ${threshold})`);
    return { rows: Array.from({ length: shown }, (_, r) => [patterns.slice(r * d, (r + 1) * d), queries.slice(r * d, (r + 1) * d), recalled.slice(r * d, (r + 1) * d)]), shape };
  } finally {
    memory.dispose();
  }
}
