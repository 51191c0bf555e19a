// matmul beside TF.js (wasm backend, one thread) in this process: square sizes and the
// matmuls of a 784 -> 256 dense layer at batch 64, in every transpose variant.
// Both sides time one multiply plus reading the product back into JS (TF.js: dataSync),
// with inputs allocated outside the timed function.
import { getBackendByName } from "../../src/backend/load.js";
import { tfjsWasm } from "../peer.js";
import { secondsPerCall, type Row } from "../report.js";

interface Case {
  label: string;
  m: number;
  n: number;
  k: number;
  transA: boolean;
  transB: boolean;
  samples: number;
}

const VARIANTS: [boolean, boolean][] = [[false, false], [true, false], [false, true], [true, true]];
const variantName = (transA: boolean, transB: boolean) => `${transA ? "T" : "N"}${transB ? "T" : "N"}`;

function cases(): Case[] {
  const list: Case[] = [];
  for (const size of [64, 128, 256, 512, 1024]) {
    for (const [transA, transB] of VARIANTS) {
      list.push({
        label: `${size}x${size}x${size} ${variantName(transA, transB)}`,
        m: size, n: size, k: size, transA, transB,
        samples: size >= 1024 ? 3 : size >= 512 ? 5 : 10,
      });
    }
  }
  // Dense layer 784 -> 256 at batch 64: the forward shape X[64,784] W[784,256] in every
  // variant, then the two gradient matmuls as training runs them.
  for (const [transA, transB] of VARIANTS) {
    list.push({ label: `64x784 · 784x256 ${variantName(transA, transB)} (forward)`, m: 64, n: 256, k: 784, transA, transB, samples: 10 });
  }
  list.push({ label: "64x256 · (784x256)^T NT (dX = dY W^T)", m: 64, n: 784, k: 256, transA: false, transB: true, samples: 10 });
  list.push({ label: "(64x784)^T · 64x256 TN (dW = X^T dY)", m: 784, n: 256, k: 64, transA: true, transB: false, samples: 10 });
  return list;
}

/**
 * Seconds per call: benny's median after ~0.1 s of warm-up calls, except for calls too slow
 * for its 0.6 s budget (it then reports nothing useful), which take the median of three
 * directly timed calls.
 */
async function timePerCall(name: string, fn: () => void, samples: number): Promise<number> {
  const start = performance.now();
  fn();
  if (performance.now() - start < 250) {
    while (performance.now() - start < 100) fn();
    return secondsPerCall(name, fn, samples);
  }
  const times: number[] = [];
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    fn();
    times.push((performance.now() - t0) / 1000);
  }
  return times.sort((x, y) => x - y)[1];
}

function randomFloats(length: number, seed: number): Float32Array {
  const out = new Float32Array(length);
  let state = seed >>> 0;
  for (let i = 0; i < length; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    out[i] = state / 2 ** 31 - 1;
  }
  return out;
}

async function gflopsOurs(c: Case): Promise<number> {
  const backend = getBackendByName("wasm-simd");
  const a = backend.alloc(c.m * c.k);
  const b = backend.alloc(c.k * c.n);
  const out = backend.alloc(c.m * c.n);
  backend.write(a, randomFloats(c.m * c.k, 1));
  backend.write(b, randomFloats(c.k * c.n, 2));
  const seconds = await timePerCall(`pcgraph ${c.label}`, () => {
    backend.matmul(c.transA, c.transB, c.m, c.n, c.k, 1, a, b, 0, out);
    backend.read(out, c.m * c.n);
  }, c.samples);
  backend.free(a);
  backend.free(b);
  backend.free(out);
  return (2 * c.m * c.n * c.k) / seconds / 1e9;
}

async function gflopsPeer(c: Case): Promise<number> {
  const tf = await tfjsWasm();
  const a = tf.tensor2d(randomFloats(c.m * c.k, 1), c.transA ? [c.k, c.m] : [c.m, c.k]);
  const b = tf.tensor2d(randomFloats(c.k * c.n, 2), c.transB ? [c.n, c.k] : [c.k, c.n]);
  const seconds = await timePerCall(`tfjs ${c.label}`, () => {
    const product = tf.matMul(a, b, c.transA, c.transB);
    product.dataSync();
    product.dispose();
  }, c.samples);
  a.dispose();
  b.dispose();
  return (2 * c.m * c.n * c.k) / seconds / 1e9;
}

export async function benchMatmul(peakGflops: number): Promise<Row[]> {
  const rows: Row[] = [];
  for (const c of cases()) {
    const ours = await gflopsOurs(c);
    const peer = await gflopsPeer(c);
    rows.push({ kernel: `matmul ${c.label}`, ours, peer, unit: "GFLOP/s", ofPeak: ours / peakGflops });
  }
  return rows;
}
