// Timing and a plain table for benchmarks: each row is one kernel measured for pcgraph and
// for the peer in the same process, with the ratio pcgraph / peer.
import b from "benny";

/** Median seconds per call of fn, measured by benny (benchmark.js statistics). */
export async function secondsPerCall(name: string, fn: () => void, minSamples = 10): Promise<number> {
  let seconds = NaN;
  await b.suite(
    name,
    b.add(name, fn, { minSamples, maxTime: 0.6 }),
    b.cycle(() => undefined),
    b.complete((summary) => {
      const result = summary.results[0] as unknown as { ops: number };
      seconds = 1 / result.ops;
    }),
  );
  return seconds;
}

export interface Row {
  kernel: string;
  /** pcgraph throughput in `unit`. */
  ours: number;
  /** Peer throughput in `unit` (NaN when the peer has no such kernel). */
  peer: number;
  unit: string;
  /** Fraction of the measured machine peak, if known. */
  ofPeak?: number;
}

export function printTable(title: string, rows: Row[]): void {
  console.log(`\n${title}`);
  console.log("| kernel | pcgraph | TF.js wasm | ratio | of peak |");
  console.log("| --- | ---: | ---: | ---: | ---: |");
  for (const r of rows) {
    const ratio = Number.isFinite(r.peer) ? (r.ours / r.peer).toFixed(2) + "x" : "-";
    const peak = r.ofPeak !== undefined ? (100 * r.ofPeak).toFixed(0) + "%" : "-";
    console.log(`| ${r.kernel} | ${r.ours.toFixed(2)} ${r.unit} | ${Number.isFinite(r.peer) ? r.peer.toFixed(2) + " " + r.unit : "-"} | ${ratio} | ${peak} |`);
  }
}
