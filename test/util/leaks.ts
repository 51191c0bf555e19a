// A uvu test whose body is checked for leaked tensors inside the test itself (a failure in
// an after-each hook would be swallowed by uvu and skip the rest of the suite).
import type { Test } from "uvu";
import * as assert from "uvu/assert";
import { releaseScratch } from "../../src/scratch.js";
import { memory } from "../../src/tensor.js";

export function leakChecked(test: Test): (name: string, body: () => void | Promise<void>) => void {
  return (name, body) =>
    test(name, async () => {
      const before = memory().numTensors;
      await body();
      releaseScratch();
      assert.is(memory().numTensors, before, `${name}: no tensor leaked`);
    });
}

/** The same check around one test body: `suite("name", leakFree(() => { ... }))`. */
export function leakFree(body: () => void | Promise<void>): () => Promise<void> {
  return async () => {
    releaseScratch();
    const before = memory().numTensors;
    await body();
    releaseScratch();
    assert.is(memory().numTensors, before, "no tensor leaked");
  };
}
