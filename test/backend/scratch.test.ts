// The scratch pool is the library's, not the user's: memory() counts it apart, so a program
// that frees its tensors sees 0 live ones; and a pooled tensor first made inside tidy()
// outlives the scope, so the pool stays usable.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { lossValue } from "../../src/graph/loss.js";
import { releaseScratch, withScratch } from "../../src/scratch.js";
import { memory, tensor, tidy } from "../../src/tensor.js";

const test = suite("scratch pool");

test("memory() counts the user's tensors; the scratch pool is reported apart and emptied by releaseScratch()", () => {
  releaseScratch();
  const before = memory();
  const prediction = tensor([[0.5, 1, -1], [2, 0, 0]]);
  const target = tensor([[0, 1, 0], [1, 0, 0]]);
  lossValue("softmaxCrossEntropy", prediction, target); // uses a [2, 3] scratch tensor
  prediction.dispose();
  target.dispose();
  const after = memory();
  assert.is(after.numTensors, before.numTensors, "no live tensor left by the user's code");
  assert.is(after.numBytes, before.numBytes);
  assert.is(after.scratch.numTensors, before.scratch.numTensors + 1, "the pool holds the scratch tensor");
  assert.is(after.scratch.numBytes, before.scratch.numBytes + 6 * prediction.backend.bytesPerElement);
  releaseScratch();
  assert.is(memory().scratch.numTensors, 0);
  assert.is(memory().scratch.numBytes, 0);
});

test("a scratch tensor first made inside tidy() is not disposed with the scope and serves the next call", () => {
  releaseScratch();
  const prediction = tensor([[0.5, 1, -1, 3, 2]]);
  const target = tensor([[0, 1, 0, 0, 0]]);
  const inside = tidy(() => lossValue("softmaxCrossEntropy", prediction, target));
  const outside = lossValue("softmaxCrossEntropy", prediction, target);
  assert.is(outside, inside);
  const shape = [7, 3];
  tidy(() => withScratch(prediction.backend, shape, (s) => s.size));
  assert.is(withScratch(prediction.backend, shape, (s) => s.isDisposed), false);
  prediction.dispose();
  target.dispose();
  releaseScratch();
  assert.is(memory().numTensors, 0);
});

test.run();
