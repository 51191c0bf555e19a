// The leak check, run inside each test rather than in an after-each hook: a hook that throws
// after a failed test makes uvu drop that test's failure and skip the rest of its suite.
import type { Test } from "uvu";
import { releaseScratch } from "../../src/scratch.js";
import { memory } from "../../src/tensor.js";

type Body<T> = Parameters<Test<T>>[1];

/**
 * Wraps a test body: when it passes, the scratch pool is released and every tensor the
 * test created must have been freed (the count is compared with the test's own start, so
 * one leaking test does not fail the next ones). A failing body reports its own error.
 */
export function noLeaks<T>(body: Body<T>): Body<T> {
  return async (context) => {
    releaseScratch();
    const before = memory().numTensors;
    await body(context);
    releaseScratch();
    const leaked = memory().numTensors - before;
    if (leaked !== 0) throw new Error(`${leaked} tensor(s) leaked: the test must dispose every tensor it creates`);
  };
}

/** A uvu suite whose every test (and `only`) runs inside `noLeaks`. */
export function leakChecked<T>(test: Test<T>): Test<T> {
  const checked = ((name: string, body: Body<T>) => test(name, noLeaks(body))) as Test<T>;
  checked.only = (name, body) => test.only(name, noLeaks(body));
  checked.skip = test.skip;
  checked.before = test.before;
  checked.after = test.after;
  checked.run = test.run;
  return checked;
}

/** The same check around one test body: `suite("name", leakFree(() => { ... }))`. */
export const leakFree = noLeaks;
