// Interleaved timing shared by every benchmark (platform-neutral: also runs in a browser page):
// each contender is timed in rounds, A B then B A and so on, each for about `roundMs`; a figure
// is the median of the rounds and a ratio the median of the per-round ratios.

export interface TimingOptions {
  /**
   * Per contender, called (untimed) before each batch of `calls` calls: to prepare inputs a
   * call consumes, such as a fresh tensor per call.
   */
  before?: Record<string, (calls: number) => void>;
  /** Interleaved rounds (default 9). */
  rounds?: number;
  /** Target duration of one contender's share of a round, in ms (default 40). */
  roundMs?: number;
  /** Warm-up per contender before the rounds, in ms (default 60). */
  warmupMs?: number;
}

export interface Timing {
  /** Median seconds per call over the rounds. */
  seconds: number;
  /** Seconds per call in each round, in round order. */
  perRound: number[];
}

export const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

/**
 * Times each contender in interleaved rounds: a round runs every contender once (in turn,
 * the order reversed every other round), each for about `roundMs`.
 */
export function timeInterleaved(contenders: Record<string, () => void>, options: TimingOptions = {}): Record<string, Timing> {
  const rounds = options.rounds ?? 9;
  const roundMs = options.roundMs ?? 40;
  const names = Object.keys(contenders);
  const perCall: Record<string, number> = {};
  for (const name of names) {
    // Warm-up in batches of 1, each prepared, until warmupMs of calls have run.
    const warmupMs = options.warmupMs ?? 60;
    let calls = 0;
    let spent = 0;
    while (spent < warmupMs) {
      options.before?.[name]?.(1);
      const start = performance.now();
      contenders[name]();
      spent += performance.now() - start;
      calls++;
    }
    perCall[name] = spent / calls;
  }
  // Calls per round: enough for roundMs at the warm-up speed.
  const calls = Object.fromEntries(names.map((name) => [name, Math.max(1, Math.round(roundMs / perCall[name]))]));
  const perRound: Record<string, number[]> = Object.fromEntries(names.map((name) => [name, []]));
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? names : [...names].reverse();
    for (const name of order) {
      const fn = contenders[name];
      const n = calls[name];
      options.before?.[name]?.(n);
      const start = performance.now();
      for (let i = 0; i < n; i++) fn();
      perRound[name].push((performance.now() - start) / 1000 / n);
    }
  }
  return Object.fromEntries(names.map((name) => [name, { seconds: median(perRound[name]), perRound: perRound[name] }]));
}

/** Median over rounds of numerator time / denominator time (a speed-up of denominator over numerator). */
export function medianRatio(numerator: Timing, denominator: Timing): number {
  return median(numerator.perRound.map((t, i) => t / denominator.perRound[i]));
}

/** Median seconds per call of one function, timed as in timeInterleaved. */
export async function secondsPerCall(_name: string, fn: () => void, minSamples = 9): Promise<number> {
  return timeInterleaved({ fn }, { rounds: Math.max(3, minSamples) }).fn.seconds;
}

