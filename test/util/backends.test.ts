// The tolerance check every numeric suite relies on (worstError / assertClose): values
// within absTol + relTol * scale pass, anything else fails, including the non-finite cases
// where the tolerance itself is infinite or undefined.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { assertClose, worstError } from "./backends.js";

const test = suite("tolerance check");

test("entries within absTol + relTol |expected| pass; the worst entry beyond it is named with its ratio", () => {
  const within = worstError([1.04, -2.1, 1e-9], [1, -2, 0], 0.05, 1e-8);
  assert.ok(within.ratio <= 1, JSON.stringify(within));
  const beyond = worstError([1, 3, 2.5], [1, 2, 2], 0.1, 0);
  assert.is(beyond.index, 1);
  assert.ok(Math.abs(beyond.ratio - 1 / 0.2) < 1e-12, String(beyond.ratio));
  assert.throws(() => assertClose("beyond", [1, 3], [1, 2], 0.1, 0), /entry 1 is 3, expected 2/);
});

test("a non-finite entry passes only when both sides hold it: an infinite tolerance accepts no finite value", () => {
  // Equal infinities and NaN against NaN agree.
  assert.is(worstError([Infinity, -Infinity, NaN], [Infinity, -Infinity, NaN], 1e-6, 0).ratio, 0);
  // With scale |expected| = Infinity the tolerance is infinite too; the entry must still fail.
  for (const [actual, expected] of [[0, Infinity], [1e300, Infinity], [-Infinity, Infinity], [Infinity, 5], [NaN, 1], [1, NaN], [NaN, Infinity]])
    assert.is(worstError([0, actual], [0, expected], 1e-6, 1e-30).ratio, Infinity, `${actual} against ${expected}`);
  assert.is(worstError([1, 2], [1], 1, 1).ratio, Infinity, "lengths differ");
});

test.run();
