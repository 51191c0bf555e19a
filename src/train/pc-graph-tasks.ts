// The queries of docs/pc-graphs.md on image data, with their error measures: completion
// (clamp part of an image, read the rest), denoising (start the free image at a noisy copy)
// and generation (clamp a label, read the image). Each is one `query` on the same weights.
import { InvalidArgumentError } from "../backend/errors.js";
import type { ValueInit } from "../pc/graph/init.js";
import { Random } from "../random.js";
import { batches, type Dataset } from "./data/dataset.js";
import type { PCGraph, RelaxSettings } from "./pc-graph.js";

/** Which pixels are visible (clamped) in a completion query. */
export type CompletionRegion = "top" | "bottom" | "left" | "right" | { random: number; seed?: number };

export interface TaskOptions extends RelaxSettings {
  /** The image group (default "sensory"). */
  inputGroup?: string;
  /** The label group (default "label"). */
  labelGroup?: string;
  init?: ValueInit;
  /** Queries per batch (default 250). */
  batchSize?: number;
}

/** A 0/1 mask over a side x side image: 1 where the pixel is visible (clamped). */
export function visibleMask(side: number, region: CompletionRegion): Uint8Array {
  const mask = new Uint8Array(side * side);
  for (let y = 0; y < side; y++)
    for (let x = 0; x < side; x++) {
      let visible: boolean;
      if (region === "top") visible = y < side / 2;
      else if (region === "bottom") visible = y >= side / 2;
      else if (region === "left") visible = x < side / 2;
      else if (region === "right") visible = x >= side / 2;
      else continue;
      mask[y * side + x] = visible ? 1 : 0;
    }
  if (typeof region === "object") {
    if (!(region.random > 0 && region.random < 1)) throw new InvalidArgumentError(`completion: random fraction must lie in (0, 1), got ${region.random}`);
    const random = new Random(region.seed ?? 0);
    for (let i = 0; i < mask.length; i++) mask[i] = random.next() < region.random ? 1 : 0;
  }
  return mask;
}

function sideOf(size: number): number {
  const side = Math.round(Math.sqrt(size));
  if (side * side !== size) throw new InvalidArgumentError(`image tasks need square images; the group has ${size} units`);
  return side;
}

/** Completes `images` (B x n) from their visible pixels; returns the image group after relaxing. */
export function completeImages(net: PCGraph, images: Float32Array, visible: ArrayLike<number>, o: TaskOptions = {}): Float32Array | Float64Array {
  const inputGroup = o.inputGroup ?? "sensory";
  const { values } = net.query({
    clamp: { [inputGroup]: { values: images, mask: visible } }, read: [inputGroup], init: o.init, steps: o.steps, gamma: o.gamma, tolerance: o.tolerance,
  });
  return values[inputGroup];
}

/**
 * Mean squared error over the hidden pixels of the first `count` samples, and the error of
 * filling them with the mean of `reference` (the training images) for scale.
 */
export function completionError(net: PCGraph, data: Dataset, region: CompletionRegion, o: TaskOptions & { count?: number; reference?: Dataset } = {}):
  { mse: number; meanImageMse: number; samples: number } {
  const n = data.features.length / Math.max(data.size, 1);
  const visible = visibleMask(sideOf(n), region);
  const mean = meanImage(o.reference ?? data);
  let sum = 0;
  let baseline = 0;
  let hidden = 0;
  let samples = 0;
  const count = Math.min(o.count ?? data.size, data.size);
  for (const batch of batches(data, o.batchSize ?? 250, { shuffle: false })) {
    if (samples >= count) break;
    const size = Math.min(batch.size, count - samples);
    const images = batch.features.subarray(0, size * n);
    const completed = completeImages(net, images, visible, o);
    for (let s = 0; s < size; s++)
      for (let i = 0; i < n; i++) {
        if (visible[i]) continue;
        const truth = images[s * n + i];
        sum += (completed[s * n + i] - truth) ** 2;
        baseline += (mean[i] - truth) ** 2;
        hidden++;
      }
    samples += size;
  }
  return { mse: sum / hidden, meanImageMse: baseline / hidden, samples };
}

/** The per-pixel mean of a dataset's images. */
export function meanImage(data: Dataset): Float64Array {
  const n = data.features.length / Math.max(data.size, 1);
  const mean = new Float64Array(n);
  for (let s = 0; s < data.size; s++) for (let i = 0; i < n; i++) mean[i] += data.features[s * n + i];
  for (let i = 0; i < n; i++) mean[i] /= Math.max(data.size, 1);
  return mean;
}

/** Copies of `images` with Gaussian noise of std `sigma`, clipped to [0, 1] (seeded). */
export function noisyImages(images: Float32Array, sigma: number, seed: number): Float32Array {
  const random = new Random(seed);
  const out = new Float32Array(images.length);
  for (let i = 0; i < images.length; i++) out[i] = Math.min(1, Math.max(0, images[i] + sigma * random.normal()));
  return out;
}

/** Relaxes every group from the noisy images (nothing clamped); returns the image group. */
export function denoiseImages(net: PCGraph, noisy: Float32Array, o: TaskOptions = {}): Float32Array | Float64Array {
  const inputGroup = o.inputGroup ?? "sensory";
  const { values } = net.query({ start: { [inputGroup]: noisy }, read: [inputGroup], init: o.init, steps: o.steps, gamma: o.gamma, tolerance: o.tolerance });
  return values[inputGroup];
}

/** Denoising MSE against the clean images, and the MSE of the noisy input itself. */
export function denoisingError(net: PCGraph, data: Dataset, o: TaskOptions & { sigma?: number; seed?: number; count?: number } = {}):
  { mse: number; noisyMse: number; samples: number } {
  const sigma = o.sigma ?? 0.3;
  const n = data.features.length / Math.max(data.size, 1);
  let sum = 0;
  let noisySum = 0;
  let samples = 0;
  const count = Math.min(o.count ?? data.size, data.size);
  for (const batch of batches(data, o.batchSize ?? 250, { shuffle: false })) {
    if (samples >= count) break;
    const size = Math.min(batch.size, count - samples);
    const clean = batch.features.subarray(0, size * n);
    const noisy = noisyImages(clean, sigma, (o.seed ?? 0) + samples);
    const restored = denoiseImages(net, noisy, o);
    for (let i = 0; i < clean.length; i++) {
      sum += (restored[i] - clean[i]) ** 2;
      noisySum += (noisy[i] - clean[i]) ** 2;
    }
    samples += size;
  }
  return { mse: sum / (samples * n), noisyMse: noisySum / (samples * n), samples };
}

/** Images generated by clamping one-hot labels (one per entry of `classes`); returns B x n values. */
export function generateImages(net: PCGraph, classes: readonly number[], o: TaskOptions = {}): Float32Array | Float64Array {
  const inputGroup = o.inputGroup ?? "sensory";
  const labelGroup = o.labelGroup ?? "label";
  const k = net.model.group(labelGroup).size;
  const labels = new Float32Array(classes.length * k);
  classes.forEach((c, i) => {
    if (!Number.isInteger(c) || c < 0 || c >= k) throw new InvalidArgumentError(`generate: class ${c} is outside 0..${k - 1}`);
    labels[i * k + c] = 1;
  });
  const { values } = net.query({ clamp: { [labelGroup]: labels }, read: [inputGroup], init: o.init, steps: o.steps, gamma: o.gamma, tolerance: o.tolerance });
  return values[inputGroup];
}
