// matmul beside TF.js (wasm backend, XNNPACK, one thread in Node) in this process: square
// sizes and the matmuls of a 784 -> 256 dense layer at batch 64, in every transpose variant,
// on pcgraph's threaded backend with 1 and with 2 threads.
// Every contender times one multiply, its inputs made outside the timing and its product left
// in wasm memory, where the next op of a model reads it (TF.js's wasm kernels run synchronously:
// the call is the whole op), in interleaved rounds. Reading a product back costs the same on
// both sides, and its garbage keeps the collector's helper threads busy on the second core
// (bench/kernels/elementwise.ts shows read-back separately). The machine's two-thread ceiling
// runs in the same rounds (bench/kernels/ceiling.ts).
// TF.js packs B once per tensor and keeps it; pcgraph packs on every call. "TF.js fresh B"
// multiplies by a B it has not seen (a clone made before the timing), as in training, where
// the weights change every step.
import type * as tfTypes from "@tensorflow/tfjs-core";
import type { Backend } from "../../src/backend/kernels.js";
import { createBackend } from "../../src/backend/load.js";
import type { ThreadedBackend } from "../../src/backend/threaded.js";
import { tfjsWasm } from "../peer.js";
import { beginTable, endTable, markdownTable, medianRatio, timeInterleaved } from "../report.js";
import { CEILING_COLUMN, ceilingCell, startCeiling } from "./ceiling.js";
import type { Peaks } from "./peak.js";

interface Case {
  label: string;
  m: number;
  n: number;
  k: number;
  transA: boolean;
  transB: boolean;
}

const VARIANTS: [boolean, boolean][] = [[false, false], [true, false], [false, true], [true, true]];
const variantName = (transA: boolean, transB: boolean) => `${transA ? "T" : "N"}${transB ? "T" : "N"}`;

export function matmulCases(sizes = [64, 128, 256, 512, 1024]): Case[] {
  const list: Case[] = [];
  for (const size of sizes)
    for (const [transA, transB] of VARIANTS)
      list.push({ label: `${size}³ ${variantName(transA, transB)}`, m: size, n: size, k: size, transA, transB });
  // Dense layer 784 -> 256 at batch 64: the forward shape X[64,784] W[784,256] in every
  // variant, then the two gradient matmuls as training runs them.
  for (const [transA, transB] of VARIANTS)
    list.push({ label: `64x784 · 784x256 ${variantName(transA, transB)}`, m: 64, n: 256, k: 784, transA, transB });
  list.push({ label: "64x256 · (784x256)ᵀ NT (dX = dY Wᵀ)", m: 64, n: 784, k: 256, transA: false, transB: true });
  list.push({ label: "(64x784)ᵀ · 64x256 TN (dW = Xᵀ dY)", m: 784, n: 256, k: 64, transA: true, transB: false });
  return list;
}

export function randomFloats(length: number, seed: number): Float32Array {
  const out = new Float32Array(length);
  let state = seed >>> 0;
  for (let i = 0; i < length; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    out[i] = state / 2 ** 31 - 1;
  }
  return out;
}

/** pcgraph's backends for the 1- and 2-thread columns, each with a memory of its own. */
export async function threadBackends(): Promise<[ThreadedBackend, ThreadedBackend]> {
  const one = createBackend("wasm-simd-threads", { threads: 1 }) as ThreadedBackend;
  const two = createBackend("wasm-simd-threads", { threads: 2 }) as ThreadedBackend;
  await two.whenStarted();
  if (two.threadInfo().readyWorkers !== 1) throw new Error(`the 2-thread backend has no worker: ${JSON.stringify(two.threadInfo())}`);
  warmUp([one, two]);
  return [one, two];
}

/**
 * Products and convolutions run for about a second on each backend before any table: the
 * engine tiers hot wasm functions up in the background, on a core the worker would otherwise
 * need, and the first rows of a run came out below the rest.
 */
function warmUp(backends: Backend[]): void {
  const size = 256;
  const g = {
    batch: 8, inChannels: 16, inHeight: 16, inWidth: 16, outChannels: 16, kernelHeight: 3, kernelWidth: 3, strideHeight: 1,
    strideWidth: 1, padHeight: 1, padWidth: 1, dilationHeight: 1, dilationWidth: 1, groups: 1,
  };
  // Images and outputs (8 x 16 x 16 x 16) and weights fit the 256 x 256 buffers.
  const until = performance.now() + 1000;
  const buffers = backends.map((backend) => [backend.alloc(size * size), backend.alloc(size * size), backend.alloc(size * size)]);
  while (performance.now() < until) {
    backends.forEach((backend, i) => {
      const [a, b, c] = buffers[i];
      // Fresh inputs each time: the outputs written back into them would drift to subnormals.
      backend.fill(size * size, 0.01, a);
      backend.fill(size * size, 0.01, b);
      for (const transA of [false, true]) for (const transB of [false, true]) backend.matmul(transA, transB, size, size, size, 1, a, b, 0, c);
      backend.conv2d(g, a, b, 0, c);
      backend.conv2dBackwardInput(g, c, b, 0, a);
      backend.conv2dBackwardWeights(g, a, c, 0, b);
    });
  }
  buffers.forEach((list, i) => list.forEach((address) => backends[i].free(address)));
}

function pcgraphCall(backend: Backend, c: Case): { run: () => void; free: () => void } {
  const a = backend.alloc(c.m * c.k), b = backend.alloc(c.k * c.n), out = backend.alloc(c.m * c.n);
  backend.write(a, randomFloats(c.m * c.k, 1));
  backend.write(b, randomFloats(c.k * c.n, 2));
  return {
    run: () => backend.matmul(c.transA, c.transB, c.m, c.n, c.k, 1, a, b, 0, out),
    free: () => [a, b, out].forEach((x) => backend.free(x)),
  };
}

export async function benchMatmul(peaks: Peaks, cases = matmulCases()): Promise<void> {
  const tf = await tfjsWasm();
  const [one, two] = await threadBackends();
  const ceiling = await startCeiling();
  beginTable("matmul, GFLOP/s (median of interleaved rounds; the product left in wasm memory on both sides)");
  const rows: string[][] = [];
  for (const c of cases) {
    const gflop = (2 * c.m * c.n * c.k) / 1e9;
    const ours1 = pcgraphCall(one, c);
    const ours2 = pcgraphCall(two, c);
    const ta = tf.tensor2d(randomFloats(c.m * c.k, 1), c.transA ? [c.k, c.m] : [c.m, c.k]);
    const tb = tf.tensor2d(randomFloats(c.k * c.n, 2), c.transB ? [c.n, c.k] : [c.k, c.n]);
    let fresh: tfTypes.Tensor2D[] = [];
    const pausesBefore = two.threadInfo().stats.pauses;
    const times = timeInterleaved({
      one: ours1.run,
      two: ours2.run,
      tfjs: () => tf.matMul(ta, tb, c.transA, c.transB).dispose(),
      tfjsFresh: () => {
        const b = fresh.pop()!;
        tf.matMul(ta, b, c.transA, c.transB).dispose();
        b.dispose();
      },
      ...ceiling.contenders,
    }, {
      rounds: 9,
      before: { tfjsFresh: (calls) => { fresh = Array.from({ length: calls }, () => tf.clone(tb) as tfTypes.Tensor2D); } },
    });
    ours1.free();
    ours2.free();
    ta.dispose();
    tb.dispose();
    const rate = (name: keyof typeof times) => gflop / times[name].seconds;
    rows.push([
      c.label,
      rate("one").toFixed(1), rate("two").toFixed(1), `${medianRatio(times.one, times.two).toFixed(2)}x`,
      rate("tfjs").toFixed(1), rate("tfjsFresh").toFixed(1),
      `${medianRatio(times.tfjs, times.two).toFixed(2)}x`, `${medianRatio(times.tfjsFresh, times.two).toFixed(2)}x`,
      `${((100 * rate("one")) / peaks.gflops[0]).toFixed(0)}% / ${((100 * rate("two")) / peaks.gflops[1]).toFixed(0)}%`,
      ceilingCell(ceiling, times, two.threadInfo().stats.pauses - pausesBefore),
    ]);
  }
  markdownTable(["shape", "1 thread", "2 threads", "2 threads / 1", "TF.js", "TF.js fresh B", "2 threads / TF.js",
    "2 threads / TF.js fresh B", "of peak 1 / 2 threads", CEILING_COLUMN], rows);
  endTable();
  two.dispose();
  ceiling.dispose();
}
