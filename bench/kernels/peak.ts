// The "measured peak" every kernel is reported against: a register-blocked f32x4 mul+add
// micro-kernel (bench/assembly/peak.ts), compiled at run time with the AssemblyScript
// compiler API, instantiated from memory and timed on one thread.
import asc from "assemblyscript/asc";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const FLOPS_PER_STEP = 12 * 4 * 2;

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

let compiled: Promise<WebAssembly.Instance> | undefined;

function peakInstance(): Promise<WebAssembly.Instance> {
  compiled ??= compilePeakModule().then((bytes) => new WebAssembly.Instance(new WebAssembly.Module(bytes), {
    env: { abort: () => { throw new Error("peak micro-kernel aborted"); } },
  }));
  return compiled;
}

/**
 * Bytes per second of the streaming micro-kernel (y = y * a + b, load + store) over
 * `elements` floats — the bandwidth peak memory-bound kernels are reported against.
 */
export async function measureStreamBytesPerSecond(elements: number): Promise<number> {
  const stream = (await peakInstance()).exports.stream as (n: number, passes: number, a: number, b: number) => number;
  let sink = 0;
  for (let i = 0; i < 20; i++) sink += stream(elements, 2, 0.5, 1);
  const passes = 10;
  let best = Infinity;
  for (let i = 0; i < 30; i++) {
    const start = performance.now();
    sink += stream(elements, passes, 0.5, 1);
    best = Math.min(best, performance.now() - start);
  }
  if (!Number.isFinite(sink)) throw new Error("stream micro-kernel produced a non-finite result");
  return (elements * 8 * passes) / (best / 1000);
}

/** GFLOP/s of the f32x4 mul+add micro-kernel on this thread (best of 40 timed runs). */
export async function measurePeakGflops(): Promise<number> {
  const instance = await peakInstance();
  const run = instance.exports.run as (steps: number, x: number, y: number) => number;
  // Warm up until the optimizing tier has compiled the loop, then keep the best of many
  // short runs: on a shared machine the best one is the least disturbed.
  let sink = 0;
  for (let i = 0; i < 20; i++) sink += run(200_000, 0.999, 1e-3);
  const steps = 2_000_000;
  let best = Infinity;
  for (let i = 0; i < 40; i++) {
    const start = performance.now();
    sink += run(steps, 0.999, 1e-3);
    best = Math.min(best, performance.now() - start);
  }
  if (!Number.isFinite(sink)) throw new Error("peak micro-kernel produced a non-finite result");
  return (steps * FLOPS_PER_STEP) / (best * 1e6);
}
