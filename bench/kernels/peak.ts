// The machine's measured ceilings every kernel is reported against, on one thread and on two
// at once: a register-blocked f32x4 mul+add micro-kernel (GFLOP/s) and a streaming
// micro-kernel (GB/s), both in bench/assembly/peak.ts, compiled at run time with the
// AssemblyScript compiler API. The two-thread figures run the same micro-kernel in a worker
// at the same time as the main thread: when another process holds the second core, they
// show it (a two-thread peak near the one-thread peak).
import asc from "assemblyscript/asc";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { median } from "../report.js";

const FLOPS_PER_STEP = 12 * 4 * 2;
const PEAK_STEPS = 2_000_000;
const STREAM_FLOATS = 1 << 20;
const STREAM_PASSES = 10;
const RUNS = 15;

async function compilePeakModule(): Promise<Uint8Array<ArrayBuffer>> {
  const source = join(dirname(fileURLToPath(import.meta.url)), "..", "assembly", "peak.ts");
  let binary: Uint8Array | undefined;
  const { error, stderr } = await asc.main(
    [relative(process.cwd(), source), "--outFile", "peak.wasm", "--enable", "simd", "-O3", "--runtime", "stub",
      "--noAssert"],
    {
      writeFile(name: string, contents: Uint8Array | string) {
        if (name.endsWith(".wasm") && typeof contents !== "string") binary = contents;
      },
    },
  );
  if (error || !binary) throw new Error(`compiling the peak micro-kernel failed: ${error?.message ?? "no output"}\n${stderr.toString()}`);
  return new Uint8Array(binary);
}

let compiled: Promise<Uint8Array<ArrayBuffer>> | undefined;
export const peakBytes = (): Promise<Uint8Array<ArrayBuffer>> => (compiled ??= compilePeakModule());

/**
 * Seconds of each of RUNS timed runs of the micro-kernel `kind` after a warm-up, on this
 * thread. Shared between the main thread and the worker below (as source text).
 */
function timeRuns(bytes: Uint8Array<ArrayBuffer>, kind: "peak" | "stream", runs: number, steps: number, floats: number, passes: number): number[] {
  const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), {
    env: { abort: () => { throw new Error("peak micro-kernel aborted"); } },
  });
  const run = instance.exports.run as (steps: number, x: number, y: number) => number;
  const stream = instance.exports.stream as (n: number, passes: number, a: number, b: number) => number;
  const once = () => (kind === "peak" ? run(steps, 0.999, 1e-3) : stream(floats, passes, 0.5, 1));
  let sink = 0;
  for (let i = 0; i < 5; i++) sink += once();
  const seconds: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    sink += once();
    seconds.push((performance.now() - start) / 1000);
  }
  if (!Number.isFinite(sink)) throw new Error("the micro-kernel produced a non-finite result");
  return seconds;
}

/** Runs timeRuns in a worker, starting when `go` is set, alongside the caller. */
function inWorker(bytes: Uint8Array<ArrayBuffer>, kind: "peak" | "stream", go: Int32Array): Promise<number[]> {
  const source = `
    const { parentPort, workerData } = require("node:worker_threads");
    const __name = (fn) => fn; // what a TypeScript loader may have wrapped functions in
    ${timeRuns.toString()}
    Atomics.wait(workerData.go, 0, 0);
    parentPort.postMessage(timeRuns(workerData.bytes, workerData.kind, ${RUNS}, ${PEAK_STEPS}, ${STREAM_FLOATS}, ${STREAM_PASSES}));`;
  const worker = new Worker(source, { eval: true, workerData: { bytes, kind, go } });
  return new Promise((resolve, reject) => {
    worker.once("message", (seconds: number[]) => {
      void worker.terminate();
      resolve(seconds);
    });
    worker.once("error", reject);
  });
}

export interface Peaks {
  /** f32x4 mul+add GFLOP/s on one thread, and summed over two threads running at once. */
  gflops: [number, number];
  /** Streaming load+store bandwidth in bytes per second, one thread and two at once. */
  bytesPerSecond: [number, number];
}

async function measure(kind: "peak" | "stream"): Promise<[number, number]> {
  const bytes = await peakBytes();
  const work = kind === "peak" ? PEAK_STEPS * FLOPS_PER_STEP : STREAM_FLOATS * 8 * STREAM_PASSES;
  const one = work / median(timeRuns(bytes, kind, RUNS, PEAK_STEPS, STREAM_FLOATS, STREAM_PASSES));
  const go = new Int32Array(new SharedArrayBuffer(4));
  const other = inWorker(bytes, kind, go);
  await new Promise((resolve) => setTimeout(resolve, 100)); // the worker compiles and waits
  Atomics.store(go, 0, 1);
  Atomics.notify(go, 0);
  const mine = timeRuns(bytes, kind, RUNS, PEAK_STEPS, STREAM_FLOATS, STREAM_PASSES);
  const theirs = await other;
  return [one, work / median(mine) + work / median(theirs)];
}

/** The machine's measured ceilings (medians of 15 runs each). */
export async function measurePeaks(): Promise<Peaks> {
  const [flops1, flops2] = await measure("peak");
  return { gflops: [flops1 / 1e9, flops2 / 1e9], bytesPerSecond: await measure("stream") };
}

export function peakLine(peaks: Peaks): string {
  return `measured peak f32x4 mul+add ${peaks.gflops[0].toFixed(1)} GFLOP/s on 1 thread, ${peaks.gflops[1].toFixed(1)} on 2 at once; ` +
    `streaming ${(peaks.bytesPerSecond[0] / 1e9).toFixed(1)} GB/s on 1 thread, ${(peaks.bytesPerSecond[1] / 1e9).toFixed(1)} on 2`;
}

/** Compatibility: the one-thread figures alone. */
export async function measurePeakGflops(): Promise<number> {
  return (await measure("peak"))[0] / 1e9;
}

export async function measureStreamBytesPerSecond(): Promise<number> {
  return (await measure("stream"))[0];
}
