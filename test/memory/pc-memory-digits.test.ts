// The PC memory and the autoencoder memory on the bundled MNIST digits (Node: the digits
// are read from the package's files): three digits stored, each recalled from its top half
// — the known pixels held — and from itself.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { AutoencoderMemory } from "../../src/memory/autoencoder-memory.js";
import { drawPatterns } from "../../src/memory/capacity.js";
import { visibleRowsMask } from "../../src/memory/corruption.js";
import { PCMemory, type PCMemoryOptions } from "../../src/memory/pc-memory.js";
import { loadBundledMnist } from "../../src/train/data/mnist.js";
import { leakChecked } from "../util/leaks.js";
import { rowsOf } from "./util.js";

const test = suite("PC memory and autoencoder memory on digits");
const check = leakChecked(test);

const mse = (a: ArrayLike<number>, b: ArrayLike<number>, from = 0, length = b.length) => {
  let s = 0;
  for (let k = 0; k < length; k++) s += (a[from + k] - b[k]) ** 2;
  return s / length;
};

let digits: Float32Array | null = null;
/** Three digits of the bundled MNIST (the same every run). */
function threeDigits(): Float32Array[] {
  if (!digits) {
    const ds = loadBundledMnist();
    digits = drawPatterns(ds.features, ds.size, 784, 3, 7);
  }
  return rowsOf(digits, 784).map((r) => Float32Array.from(r));
}

const smallMemory: PCMemoryOptions = { hiddenSizes: [48], seed: 1, training: { epochs: 400 } };

check("stored digits are recalled from their top half, and are fixed points of the corrupted recall (N = 3)", () => {
  const stored = threeDigits();
  const memory = new PCMemory(smallMemory).store(stored);
  assert.ok(memory.converged, `trained to the tolerance (last loss ${memory.history.at(-1)?.lossPerEntry})`);
  const half = visibleRowsMask({ channels: 1, height: 28, width: 28 }, 0.5);
  const queries = stored.map((s) => Float32Array.from(s, (v, k) => (half[k] === 1 ? v : 0)));
  const recalled = memory.recall(queries, half);
  const values = recalled.dataSync();
  recalled.dispose();
  stored.forEach((s, b) => {
    assert.ok(mse(values, s, b * 784, 784) < 0.001, `digit ${b} from its top half: MSE ${mse(values, s, b * 784, 784)}`);
    for (let k = 0; k < 392; k++) assert.is(values[b * 784 + k], s[k], "known pixels are the query's");
  });
  const again = memory.recall(stored);
  const fixed = again.dataSync();
  again.dispose();
  stored.forEach((s, b) => assert.ok(mse(fixed, s, b * 784, 784) < 0.001, `digit ${b} recalls itself: MSE ${mse(fixed, s, b * 784, 784)}`));
  memory.dispose();
});

check("the autoencoder memory recalls stored digits from their top half (the known pixels held) and itself from itself", () => {
  const stored = threeDigits();
  const memory = new AutoencoderMemory({ hiddenSizes: [48], seed: 1, training: { epochs: 600 } }).store(stored);
  assert.ok(memory.converged, `trained to the tolerance (last loss ${memory.history.at(-1)?.lossPerEntry})`);
  const half = visibleRowsMask({ channels: 1, height: 28, width: 28 }, 0.5);
  const queries = stored.map((s) => Float32Array.from(s, (v, k) => (half[k] === 1 ? v : 0)));
  const recalled = memory.recall(queries, half);
  const values = recalled.dataSync();
  recalled.dispose();
  stored.forEach((s, b) => {
    // The baseline's completions are good but not always below the PC memory's 0.001: the
    // query itself (the bottom half black) is far above 0.01.
    assert.ok(mse(values, s, b * 784, 784) < 0.005, `digit ${b}: MSE ${mse(values, s, b * 784, 784)}`);
    assert.ok(mse(queries[b], s) > 0.01);
    for (let k = 0; k < 392; k++) assert.is(values[b * 784 + k], s[k], "known pixels are the query's");
  });
  const one = memory.recall(stored[0]);
  assert.equal(one.shape, [784], "one query in, one recall out");
  assert.ok(mse(one.dataSync(), stored[0]) < 0.001);
  one.dispose();
  memory.dispose();
});

test.run();
