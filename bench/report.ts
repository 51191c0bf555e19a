// Tables for the benchmarks (timing in bench/timing.ts), the same for pcgraph and its peer:
// - every contender is one closure doing the whole job a user waits for (the call and, where
//   a result comes out, reading it back into JS), with its inputs made outside the timing;
// - contenders are timed in interleaved rounds (A B A B ..., the order alternating between
//   rounds so neither side always runs first); each round times enough calls of each to last
//   `roundMs`, and gives a time per call;
// - the headline ratio is the median of the per-round ratios; absolute figures are medians
//   of the per-round times;
// - every table is printed with the host (CPU, cores, runtime), the date and the load
//   average when it started and ended, so a reader can tell a quiet run from a busy one.
import { availableParallelism, cpus, loadavg } from "node:os";

export { median, medianRatio, secondsPerCall, timeInterleaved, type Timing, type TimingOptions } from "./timing.js";

// ---- the host ------------------------------------------------------------------------------

const loadText = (): string => loadavg().map((x) => x.toFixed(2)).join(" ");

/** "AMD EPYC, 2 cores, Node 20.20.2, linux-x64, 2025-01-31 12:00 UTC". */
export function hostLine(): string {
  const model = cpus()[0]?.model.trim() ?? "unknown CPU";
  const date = new Date().toISOString().replace("T", " ").slice(0, 16) + " UTC";
  return `${model}, ${availableParallelism()} cores, Node ${process.versions.node}, ${process.platform}-${process.arch}, ${date}`;
}

/** Prints the title and the host line with the load average; returns the load at the start. */
export function beginTable(title: string, peakLine?: string): string {
  const load = loadText();
  console.log(`\n${title}`);
  console.log(`host: ${hostLine()}; load average (1/5/15 min) at start ${load}${peakLine ? `; ${peakLine}` : ""}`);
  return load;
}

/** Prints the load average at the end of a table. */
export function endTable(): void {
  console.log(`load average at end: ${loadText()}`);
}

export function markdownTable(header: string[], rows: string[][], align: ("l" | "r")[] = []): void {
  console.log(`| ${header.join(" | ")} |`);
  console.log(`| ${header.map((_, i) => (align[i] === "l" || (align[i] === undefined && i === 0) ? "---" : "---:")).join(" | ")} |`);
  for (const row of rows) console.log(`| ${row.join(" | ")} |`);
}

// ---- the kernel table shared by the kernel benchmarks ----------------------------------------

export interface Row {
  kernel: string;
  /** pcgraph throughput in `unit` (on one thread). */
  ours: number;
  /** Peer throughput in `unit` (NaN when the peer has no such kernel). */
  peer: number;
  unit: string;
  /** pcgraph / peer, the median of per-round ratios (defaults to ours / peer). */
  ratio?: number;
  /** Fraction of the measured machine peak, if known. */
  ofPeak?: number;
}

export function printTable(title: string, rows: Row[], peakLine?: string): void {
  beginTable(title, peakLine);
  markdownTable(["kernel", "pcgraph", "TF.js wasm", "ratio (median of rounds)", "of peak"], rows.map((r) => {
    const ratio = r.ratio ?? r.ours / r.peer;
    return [
      r.kernel,
      `${r.ours.toFixed(2)} ${r.unit}`,
      Number.isFinite(r.peer) ? `${r.peer.toFixed(2)} ${r.unit}` : "-",
      Number.isFinite(ratio) ? `${ratio.toFixed(2)}x` : "-",
      r.ofPeak !== undefined ? `${(100 * r.ofPeak).toFixed(0)}%` : "-",
    ];
  }));
  endTable();
}
