// When the thread pool stops splitting kernel calls for a while: a split pays only while the
// workers get a core when they need one. On a machine whose other processes take the cores, a
// worker that has claimed a block can be preempted in the middle of it, and the caller must
// wait a whole scheduling slice for it: measured, that made split kernels up to 2x slower than
// one thread. So every split call is judged against what it would have taken on one thread,
// from the caller's own blocks; when recent splits were slower than that, the calls of the next
// FIRST_PAUSE_MS run on one thread, the pause doubling (up to MAX_PAUSE_MS) each time the next
// split is slow too, and starting over after a run of splits that are not.

/**
 * How long calls stay on one thread after contention, at first and at most: at most a few
 * training steps, so a pool judged late during a burst of load splits again soon after it
 * ends. A pause is a time, not a number of calls: a pause begun among short kernels would
 * otherwise hold long ones on one thread for seconds.
 */
export const FIRST_PAUSE_MS = 2;
export const MAX_PAUSE_MS = 100;

/** A split slower than this share of the caller's estimate of one thread was harmed by a late worker. */
const HARMED = 1;

export class SplitGovernor {
  /** Moving share of recent jobs in which the caller waited long for a worker. */
  private contention = 0;
  /** Until when calls run unsplit (0: not paused), and the next pause. */
  private pausedUntil = 0;
  private pauseMs = FIRST_PAUSE_MS;
  /** Pauses so far. */
  pauses = 0;

  constructor(private readonly now: () => number = () => performance.now()) {}

  /** Whether the next call may be split: false while paused. */
  splitAllowed(): boolean {
    if (this.pausedUntil === 0) return true;
    if (this.now() < this.pausedUntil) return false;
    this.pausedUntil = 0;
    return true;
  }

  /**
   * Judges one split call of `blocks` blocks, of which the caller ran `ran` (>= 1) in
   * `workedMs`, the whole call taking `totalMs`. The caller's own blocks show what the call
   * would have taken on one thread: blocks / ran times as long. A call whose caller ran every
   * block is not judged: no worker came in time, so the caller did the work it would have done
   * unsplit, at no cost; pausing guards against the call a worker began and then stalled.
   */
  judge(totalMs: number, workedMs: number, ran: number, blocks: number): void {
    if (ran >= blocks) return;
    const late = totalMs > HARMED * workedMs * (blocks / ran);
    this.contention = 0.8 * this.contention + (late ? 0.2 : 0);
    if (this.contention > 0.3) {
      this.pausedUntil = this.now() + this.pauseMs;
      this.pauseMs = Math.min(2 * this.pauseMs, MAX_PAUSE_MS);
      this.pauses++;
      this.contention = 0.2; // one more late job after the pause pauses again, for longer
    } else if (!late && this.contention < 0.05) {
      this.pauseMs = FIRST_PAUSE_MS;
    }
  }
}
