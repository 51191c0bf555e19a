import { suite } from "uvu";
import * as assert from "uvu/assert";
import fc from "fast-check";
import { FIRST_PAUSE_MS, MAX_PAUSE_MS, SplitGovernor } from "../../src/backend/threads/split-governor.js";

const governor = suite("when the thread pool stops splitting (split governor)");

/** A governor on a clock the test moves. */
function onClock(): { g: SplitGovernor; clock: { ms: number } } {
  const clock = { ms: 1000 };
  return { g: new SplitGovernor(() => clock.ms), clock };
}

// A 2-block split whose caller ran 1 block in 1 ms: one thread would have taken 2 ms.
const helped = (g: SplitGovernor) => g.judge(1.1, 1, 1, 2);
const notJudged = (g: SplitGovernor) => g.judge(2, 1, 2, 2);
const late = (g: SplitGovernor) => g.judge(2.5, 1, 1, 2);

/** How long, in ms of the clock, splitting stays paused from now (probing every 0.25 ms). */
function pausedFor(g: SplitGovernor, clock: { ms: number }): number {
  const start = clock.ms;
  while (!g.splitAllowed()) clock.ms += 0.25;
  return clock.ms - start;
}

governor("splits that help never pause, however many", () => {
  const { g } = onClock();
  for (let i = 0; i < 10_000; i++) {
    helped(g);
    assert.ok(g.splitAllowed());
  }
  assert.is(g.pauses, 0);
});

governor("a split counts as late when it was slower than the caller's estimate of one thread; one whose caller ran every block is not judged", () => {
  fc.assert(fc.property(fc.double({ min: 0.01, max: 100, noNaN: true }), fc.integer({ min: 2, max: 32 }),
    fc.integer({ min: 1, max: 32 }), fc.double({ min: 0.5, max: 1.5, noNaN: true }), (worked, blocks, ranDraw, share) => {
      const ran = 1 + (ranDraw % blocks);
      const oneThread = worked * (blocks / ran);
      const { g } = onClock();
      // Two judgments in a row pause exactly when both were late.
      g.judge(share * oneThread, worked, ran, blocks);
      g.judge(share * oneThread, worked, ran, blocks);
      const wasLate = ran < blocks && share > 1;
      assert.is(g.pauses, wasLate ? 1 : 0, `worked ${worked} ran ${ran}/${blocks} share ${share}`);
    }));
});

governor("calls the caller ran alone never pause, and do not break a run of late splits either", () => {
  const { g } = onClock();
  for (let i = 0; i < 1000; i++) notJudged(g);
  assert.is(g.pauses, 0);
  late(g);
  notJudged(g);
  late(g);
  assert.is(g.pauses, 1);
});

governor("two late splits pause for a time, not a number of calls: short calls do not end it early", () => {
  const { g, clock } = onClock();
  late(g);
  assert.ok(g.splitAllowed(), "one late split alone does not pause");
  late(g);
  assert.is(g.pauses, 1);
  // Ten thousand calls asking within the pause all stay on one thread.
  for (let i = 0; i < 10_000; i++) assert.not.ok(g.splitAllowed());
  clock.ms += FIRST_PAUSE_MS - 0.01;
  assert.not.ok(g.splitAllowed());
  clock.ms += 0.01;
  assert.ok(g.splitAllowed());
});

governor("each late split right after a pause doubles the next pause, up to the maximum; splits that help start it over", () => {
  const { g, clock } = onClock();
  late(g);
  late(g);
  const pauses = [pausedFor(g, clock)];
  for (let i = 0; i < 10; i++) {
    late(g);
    pauses.push(pausedFor(g, clock));
  }
  const expected = pauses.map((_, i) => Math.min(FIRST_PAUSE_MS * 2 ** i, MAX_PAUSE_MS));
  assert.equal(pauses, expected);
  // A run of splits that help, then contention again: the first pause again.
  for (let i = 0; i < 20; i++) helped(g);
  late(g);
  late(g);
  assert.is(pausedFor(g, clock), FIRST_PAUSE_MS);
});

governor.run();
