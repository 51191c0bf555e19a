import { suite } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { encodeIdx } from "../../src/train/data/idx.js";
import { DataFormatError } from "../../src/train/data/errors.js";
import { fashionMnistAvailable, loadFashionMnist } from "../../src/node/fashion-mnist.js";

const fashion = suite("Fashion-MNIST loader");

fashion("reads the four IDX .gz files of a directory: 28x28 images in [0, 1], labels 0..9", () => {
  const dir = mkdtempSync(join(tmpdir(), "pcgraph-fashion-"));
  try {
    const write = (name: string, bytes: Uint8Array) => writeFileSync(join(dir, name), gzipSync(bytes));
    const pixels = (n: number) => Array.from({ length: n * 784 }, (_, i) => (i * 7) % 256);
    write("train-images-idx3-ubyte.gz", encodeIdx("images", [3, 28, 28], pixels(3)));
    write("train-labels-idx1-ubyte.gz", encodeIdx("labels", [3], [9, 0, 4]));
    write("t10k-images-idx3-ubyte.gz", encodeIdx("images", [2, 28, 28], pixels(2)));
    write("t10k-labels-idx1-ubyte.gz", encodeIdx("labels", [2], [1, 2]));
    assert.ok(fashionMnistAvailable(dir));
    const { train, test } = loadFashionMnist({ directory: dir, shape: "image" });
    assert.is(train.size, 3);
    assert.is(test.size, 2);
    assert.equal(train.featureShape, [1, 28, 28]);
    assert.equal([...train.labels], [9, 0, 4]);
    assert.is(train.features[1], Math.fround(7 / 255));
    assert.is(Math.max(...train.features), 1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

fashion("an absent directory gives a DataFormatError that says how to install the package", () => {
  const dir = join(tmpdir(), "pcgraph-no-such-directory");
  assert.not.ok(fashionMnistAvailable(dir));
  try {
    loadFashionMnist({ directory: dir });
    assert.unreachable("should have thrown");
  } catch (error) {
    assert.instance(error, DataFormatError);
    assert.match((error as Error).message, "apt-get install dataset-fashion-mnist");
    assert.match((error as Error).message, dir);
  }
});

fashion.run();
