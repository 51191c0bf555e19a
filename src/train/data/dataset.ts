// In-memory classification datasets: a flat float32 feature matrix (one row per sample)
// plus an int32 class label per sample, with seeded shuffling, splits and mini-batches.
// Platform-neutral: the file loaders (IDX, CSV, bundled MNIST) build these.
import { InvalidArgumentError, ShapeError } from "../../backend/errors.js";
import { Random } from "../../random.js";

/** Samples in memory: float32 features (row-major, one row per sample), integer labels and the number of classes. */
export interface Dataset {
  readonly name: string;
  /** Number of samples. */
  readonly size: number;
  /** Per-sample feature shape, e.g. [784] or [1, 28, 28]. */
  readonly featureShape: number[];
  readonly numClasses: number;
  /** size × prod(featureShape) values, row-major, one row per sample. */
  readonly features: Float32Array;
  /** Class index per sample, in 0..numClasses-1. */
  readonly labels: Int32Array;
}

/** Number of feature values per sample. */
export function featureSize(featureShape: readonly number[]): number {
  let n = 1;
  for (const d of featureShape) n *= d;
  return n;
}

function checkFeatureShape(name: string, featureShape: readonly number[]): void {
  if (!Array.isArray(featureShape) || featureShape.length === 0 || featureShape.some((d) => !Number.isInteger(d) || d < 1))
    throw new ShapeError(`dataset "${name}": featureShape must be a non-empty list of positive sizes, got ${JSON.stringify(featureShape)}`);
}

function checkLabels(name: string, labels: Int32Array, numClasses: number): void {
  for (let i = 0; i < labels.length; i++) {
    const label = labels[i];
    if (label < 0 || label >= numClasses)
      throw new InvalidArgumentError(`dataset "${name}": label ${label} of sample ${i} is outside 0..${numClasses - 1}`);
  }
}

/** Throws naming the first sample and feature that is NaN or infinite (in float32). */
function checkFinite(name: string, features: Float32Array, rowSize: number): void {
  for (let i = 0; i < features.length; i++) {
    const v = features[i];
    if (v - v !== 0)
      throw new InvalidArgumentError(`dataset "${name}": feature ${i % rowSize} of sample ${Math.floor(i / rowSize)} is ${v}; features must be finite in float32`);
  }
}

/**
 * A dataset from features and labels, after checking that the sizes agree, every feature
 * is finite in float32 and every label lies in 0..numClasses-1. Typed arrays of the right kind are used as they are (not copied).
 */
export function makeDataset(
  name: string,
  features: Float32Array | ArrayLike<number>,
  labels: Int32Array | ArrayLike<number>,
  featureShape: readonly number[],
  numClasses: number,
): Dataset {
  checkFeatureShape(name, featureShape);
  if (!Number.isInteger(numClasses) || numClasses < 1)
    throw new InvalidArgumentError(`dataset "${name}": numClasses must be a positive integer, got ${numClasses}`);
  let labelArray: Int32Array;
  if (labels instanceof Int32Array) labelArray = labels;
  else {
    labelArray = new Int32Array(labels.length);
    for (let i = 0; i < labels.length; i++) {
      const label = labels[i];
      if (!Number.isInteger(label))
        throw new InvalidArgumentError(`dataset "${name}": label ${label} of sample ${i} is not an integer`);
      labelArray[i] = label;
    }
  }
  const rowSize = featureSize(featureShape);
  const size = labelArray.length;
  if (features.length !== size * rowSize)
    throw new ShapeError(
      `dataset "${name}": ${features.length} feature values for ${size} labels of shape [${featureShape.join(",")}] ` +
        `(expected ${size} × ${rowSize} = ${size * rowSize})`,
    );
  checkLabels(name, labelArray, numClasses);
  const featureArray = features instanceof Float32Array ? features : Float32Array.from(features);
  checkFinite(name, featureArray, rowSize);
  return Object.freeze({ name, size, featureShape: [...featureShape], numClasses, features: featureArray, labels: labelArray });
}

function checkIndex(ds: Dataset, index: number, op: string): void {
  if (!Number.isInteger(index) || index < 0 || index >= ds.size)
    throw new InvalidArgumentError(`${op}: index ${index} is outside dataset "${ds.name}" (size ${ds.size})`);
}

/** The samples at `indices`, in that order (copied). */
export function subset(ds: Dataset, indices: ArrayLike<number>, name = `${ds.name}[subset]`): Dataset {
  const rowSize = featureSize(ds.featureShape);
  const features = new Float32Array(indices.length * rowSize);
  const labels = new Int32Array(indices.length);
  for (let i = 0; i < indices.length; i++) {
    const index = indices[i];
    checkIndex(ds, index, "subset");
    features.set(ds.features.subarray(index * rowSize, (index + 1) * rowSize), i * rowSize);
    labels[i] = ds.labels[index];
  }
  return Object.freeze({ name, size: indices.length, featureShape: [...ds.featureShape], numClasses: ds.numClasses, features, labels });
}

/** A seeded permutation of 0..size-1 (Fisher-Yates with src/random.ts). */
export function shuffledIndices(size: number, seed: number): Int32Array {
  if (!Number.isInteger(size) || size < 0) throw new InvalidArgumentError(`shuffledIndices: size must be an integer >= 0, got ${size}`);
  const indices = new Int32Array(size);
  for (let i = 0; i < size; i++) indices[i] = i;
  new Random(seed).shuffle(indices);
  return indices;
}

/**
 * Splits a dataset at random (seeded) into disjoint train and test parts covering every
 * sample; the test part has round(size × testFraction) samples. Each part keeps the
 * shuffled order.
 */
export function trainTestSplit(ds: Dataset, testFraction: number, seed: number): { train: Dataset; test: Dataset } {
  if (!(testFraction >= 0 && testFraction <= 1))
    throw new InvalidArgumentError(`trainTestSplit: testFraction must lie in [0, 1], got ${testFraction} (dataset "${ds.name}")`);
  const order = shuffledIndices(ds.size, seed);
  const testSize = Math.round(ds.size * testFraction);
  return {
    test: subset(ds, order.subarray(0, testSize), `${ds.name}[test]`),
    train: subset(ds, order.subarray(testSize), `${ds.name}[train]`),
  };
}

/** One row per label with a 1 in the label's column. */
export function oneHot(labels: Int32Array | ArrayLike<number>, numClasses: number): Float32Array {
  if (!Number.isInteger(numClasses) || numClasses < 1)
    throw new InvalidArgumentError(`oneHot: numClasses must be a positive integer, got ${numClasses}`);
  const out = new Float32Array(labels.length * numClasses);
  for (let i = 0; i < labels.length; i++) {
    const label = labels[i];
    if (!Number.isInteger(label) || label < 0 || label >= numClasses)
      throw new InvalidArgumentError(`oneHot: label ${label} at row ${i} is outside 0..${numClasses - 1}`);
    out[i * numClasses + label] = 1;
  }
  return out;
}

/** One batch drawn by `batches()`: its samples' features, labels and one-hot targets. */
export interface MiniBatch {
  /** Samples in this batch (the last batch may be smaller unless dropRemainder). */
  size: number;
  /** Dataset index of each sample. */
  indices: Int32Array;
  /** size × prod(featureShape), row-major. */
  features: Float32Array;
  labels: Int32Array;
  /** size × numClasses. */
  oneHot: Float32Array;
}

/** How `batches()` walks a dataset: seeded shuffling and whether to drop a last, smaller batch. */
export interface BatchOptions {
  /** Seed of the order when shuffling (default 0); pass e.g. baseSeed + epoch for a new order each epoch. */
  seed?: number;
  /** Visit samples in a seeded random order (default true) or in dataset order. */
  shuffle?: boolean;
  /** Skip the last batch when it is smaller than batchSize (default false). */
  dropRemainder?: boolean;
  /**
   * Fill the same buffers for every batch (default false). A batch is then valid only until
   * the next one is produced: do not collect them into an array.
   */
  reuseBuffers?: boolean;
}

/** One epoch of mini-batches: iterable (lazily filled) with the number of batches up front. */
export interface Batches extends Iterable<MiniBatch> {
  readonly length: number;
  readonly batchSize: number;
  /** Dataset indices in visiting order (all of them, including a dropped remainder). */
  readonly order: Int32Array;
}

/** Number of batches in one epoch. */
export function numBatches(size: number, batchSize: number, dropRemainder = false): number {
  return dropRemainder ? Math.floor(size / batchSize) : Math.ceil(size / batchSize);
}

/**
 * One epoch of mini-batches over `ds`: every sample once (except a dropped remainder),
 * in an order fixed by the seed.
 */
export function batches(ds: Dataset, batchSize: number, options: BatchOptions = {}): Batches {
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new InvalidArgumentError(`batches: batchSize must be a positive integer, got ${batchSize} (dataset "${ds.name}")`);
  const { seed = 0, shuffle = true, dropRemainder = false, reuseBuffers = false } = options;
  const order = shuffle ? shuffledIndices(ds.size, seed) : Int32Array.from({ length: ds.size }, (_, i) => i);
  const count = numBatches(ds.size, batchSize, dropRemainder);
  const rowSize = featureSize(ds.featureShape);
  const classes = ds.numClasses;
  const allocate = (n: number) => ({
    features: new Float32Array(n * rowSize),
    labels: new Int32Array(n),
    oneHot: new Float32Array(n * classes),
  });

  function* generate(): Generator<MiniBatch> {
    const shared = reuseBuffers ? allocate(Math.min(batchSize, ds.size)) : null;
    for (let b = 0; b < count; b++) {
      const start = b * batchSize;
      const n = Math.min(batchSize, ds.size - start);
      const indices = order.slice(start, start + n);
      const buffers = shared
        ? { features: shared.features.subarray(0, n * rowSize), labels: shared.labels.subarray(0, n), oneHot: shared.oneHot.subarray(0, n * classes) }
        : allocate(n);
      if (shared) buffers.oneHot.fill(0);
      for (let i = 0; i < n; i++) {
        const index = indices[i];
        buffers.features.set(ds.features.subarray(index * rowSize, (index + 1) * rowSize), i * rowSize);
        const label = ds.labels[index];
        buffers.labels[i] = label;
        buffers.oneHot[i * classes + label] = 1;
      }
      yield { size: n, indices, ...buffers };
    }
  }

  return { length: count, batchSize, order, [Symbol.iterator]: generate };
}
