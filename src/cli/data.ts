// Dataset choices of the CLI: the bundled MNIST digits, a directory of IDX files, or a CSV
// file; each gives a train and a test part.
import { existsSync, readdirSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { loadCsvDataset, loadIdxDataset } from "../node/datasets.js";
import { makeDataset, trainTestSplit, type Dataset } from "../train/data/dataset.js";
import { datasetFingerprint } from "../train/data/fingerprint.js";
import { loadBundledMnist } from "../train/data/mnist.js";
import { UsageError } from "./args.js";

export interface LoadedData {
  train: Dataset;
  test: Dataset;
  /** One line for the console. */
  description: string;
  /** "mnist" or the absolute path of the file or directory. */
  source: string;
  /** datasetFingerprint of the samples as loaded (before the split and shifted copies). */
  fingerprint: string;
  /** Whether shifted copies were added to the training set. */
  augmented: boolean;
}

/** The IDX images/labels pair of a split ("train" or "t10k"), if the directory has it. */
function idxPair(dir: string, files: string[], split: "train" | "t10k"): { images: string; labels: string } | null {
  const find = (kind: string) => files.find((f) => f.startsWith(split) && f.includes(kind) && /idx\d-ubyte(\.gz)?$/.test(f));
  const images = find("images");
  const labels = find("labels");
  return images && labels ? { images: join(dir, images), labels: join(dir, labels) } : null;
}

/**
 * Loads `--data`: "mnist" (the 10,000 bundled digits, split by seed), a directory with IDX
 * files (train-* and, if present, t10k-* as the test set) or a CSV file (split by seed).
 */
export function loadData(value: string, options: DataOptions): LoadedData {
  return augment(loadSplit(value, options), options.augment ?? "auto");
}

export interface DataOptions {
  seed: number;
  testFraction: number;
  /** Add one-pixel shifted copies of 28x28 training digits; "auto" (default): for 28x28 data. */
  augment?: boolean | "auto";
  /** Classes of a CSV file (e.g. a trained model's outputs); default: its largest label + 1. */
  numClasses?: number;
}

function isDigitImage(ds: Dataset): boolean {
  return ds.features.length === ds.size * 784;
}

function augment(data: LoadedData, mode: boolean | "auto"): LoadedData {
  if (mode === false || (mode === "auto" && !isDigitImage(data.train))) return data;
  if (!isDigitImage(data.train)) throw new UsageError(`--augment needs 28x28 images; the data has samples of shape [${data.train.featureShape.join(",")}]`);
  const train = withShiftedCopies(data.train);
  return { ...data, train, augmented: true, description: `${data.description}; training set with 1-pixel shifted copies: ${train.size}` };
}

function loadSplit(value: string, options: DataOptions): LoadedData {
  const source = value === "mnist" ? value : resolve(value);
  const split = (ds: Dataset, what: string): LoadedData => {
    const { train, test } = trainTestSplit(ds, options.testFraction, options.seed);
    return {
      train, test, source, fingerprint: datasetFingerprint(ds), augmented: false,
      description: `${what}: ${train.size} train / ${test.size} test (split with seed ${options.seed})`,
    };
  };
  if (value === "mnist") return split(loadBundledMnist(), "bundled MNIST (10,000 digits)");
  if (!existsSync(value)) throw new UsageError(`--data: no such file or directory: ${value} (expected mnist, a directory of IDX files or a .csv file)`);
  if (statSync(value).isDirectory()) {
    const files = readdirSync(value).sort();
    const train = idxPair(value, files, "train");
    if (!train) throw new UsageError(`--data ${value}: no train-images-idx3-ubyte / train-labels-idx1-ubyte files (optionally .gz)`);
    const trainSet = loadIdxDataset(train.images, train.labels, "idx-train");
    const test = idxPair(value, files, "t10k");
    if (!test) return split(trainSet, `IDX ${value}`);
    const testSet = loadIdxDataset(test.images, test.labels, "idx-test");
    return {
      train: trainSet, test: testSet, source, fingerprint: datasetFingerprint(trainSet, testSet), augmented: false,
      description: `IDX ${value}: ${trainSet.size} train / ${testSet.size} test`,
    };
  }
  if (value.toLowerCase().endsWith(".csv")) return split(loadCsvDataset(value, { numClasses: options.numClasses }), `CSV ${value}`);
  throw new UsageError(`--data ${value}: expected mnist, a directory of IDX files or a .csv file`);
}

/**
 * The training set plus copies of every 28x28 digit shifted by one pixel in each of the
 * given directions (a classic augmentation for MNIST: small translations keep the label).
 */
export function withShiftedCopies(ds: Dataset, shifts: readonly [number, number][] = [[0, 1], [0, -1], [1, 0], [-1, 0]]): Dataset {
  const side = Math.round(Math.sqrt(ds.features.length / Math.max(ds.size, 1)));
  const pixels = side * side;
  if (ds.size === 0 || pixels * ds.size !== ds.features.length) return ds;
  const copies = shifts.length + 1;
  const features = new Float32Array(ds.features.length * copies);
  const labels = new Int32Array(ds.size * copies);
  features.set(ds.features);
  labels.set(ds.labels);
  shifts.forEach(([dy, dx], c) => {
    const base = (c + 1) * ds.size;
    for (let s = 0; s < ds.size; s++) {
      const from = s * pixels;
      const to = (base + s) * pixels;
      for (let y = 0; y < side; y++) {
        const sy = y - dy;
        if (sy < 0 || sy >= side) continue;
        for (let x = 0; x < side; x++) {
          const sx = x - dx;
          if (sx >= 0 && sx < side) features[to + y * side + x] = ds.features[from + sy * side + sx];
        }
      }
      labels[base + s] = ds.labels[s];
    }
  });
  return makeDataset(`${ds.name}+shifts`, features, labels, ds.featureShape, ds.numClasses);
}
