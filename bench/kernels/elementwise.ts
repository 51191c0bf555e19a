// Elementwise, activation, reduction and softmax kernels on 1M floats beside TF.js (wasm
// backend, one thread) in this process, in Melem/s.
// pcgraph times the kernel writing into a preallocated buffer (tensors stay in wasm memory);
// TF.js times the op, dataSync (to force completion; for elementwise ops that is also a 4 MB
// copy of the output) and dispose. Inputs are allocated outside the timed functions.
// "of peak" is the fraction of the streaming micro-kernel's bandwidth (bench/kernels/peak.ts)
// that the kernel's compulsory memory traffic reaches: near 1 for memory-bound ops, low for
// ops bound by exp/div throughput instead.
import type { Tensor } from "@tensorflow/tfjs-core";
import type { Address, Backend } from "../../src/backend/kernels.js";
import { getBackendByName } from "../../src/backend/load.js";
import { tfjsWasm } from "../peer.js";
import { secondsPerCall, type Row } from "../report.js";

const N = 1 << 20;
const SOFTMAX_ROWS = 1024;
const SOFTMAX_COLS = 1024;

/** Deterministic floats in [lo, hi). */
function randomFloats(length: number, seed: number, lo: number, hi: number): Float32Array {
  const out = new Float32Array(length);
  let state = seed >>> 0;
  for (let i = 0; i < length; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    out[i] = lo + (hi - lo) * (state / 2 ** 32);
  }
  return out;
}

interface Case {
  kernel: string;
  /** Compulsory bytes moved per element: 4 per array read, 4 per array written (default 8). */
  bytes?: number;
  /** Input data: most kernels take values in [-4, 4), log takes positive ones. */
  positive?: boolean;
  ours: (k: Backend, x: Address, y: Address, out: Address) => void;
  /** The TF.js op on x, y ([N] tensors, or [rows, cols] for softmax); undefined when TF.js has none. */
  peer?: (tf: Awaited<ReturnType<typeof tfjsWasm>>, x: Tensor, y: Tensor) => Tensor;
  matrix?: boolean;
}

const ALPHA = 0.5;

const cases: Case[] = [
  { kernel: "add", bytes: 12, ours: (k, x, y, out) => k.add(N, x, y, out), peer: (tf, x, y) => tf.add(x, y) },
  { kernel: "mul", bytes: 12, ours: (k, x, y, out) => k.mul(N, x, y, out), peer: (tf, x, y) => tf.mul(x, y) },
  // y += a x (ours in place; y grows by 0.5 x per call, far from overflow); TF.js composes a x + y.
  { kernel: "axpy", bytes: 12, ours: (k, x, y) => k.axpy(N, ALPHA, x, y), peer: (tf, x, y) => tf.add(tf.mul(x, ALPHA), y) },
  { kernel: "relu", ours: (k, x, _y, out) => k.relu(N, x, out), peer: (tf, x) => tf.relu(x) },
  { kernel: "tanh", ours: (k, x, _y, out) => k.tanh(N, x, out), peer: (tf, x) => tf.tanh(x) },
  { kernel: "sigmoid", ours: (k, x, _y, out) => k.sigmoid(N, x, out), peer: (tf, x) => tf.sigmoid(x) },
  { kernel: "exp", ours: (k, x, _y, out) => k.exp(N, x, out), peer: (tf, x) => tf.exp(x) },
  { kernel: "log", positive: true, ours: (k, x, _y, out) => k.log(N, x, out), peer: (tf, x) => tf.log(x) },
  { kernel: "softplus", ours: (k, x, _y, out) => k.softplus(N, x, out), peer: (tf, x) => tf.softplus(x) },
  { kernel: "gelu (tanh form)", ours: (k, x, _y, out) => k.gelu(N, x, out) },
  { kernel: "tanhGrad", bytes: 12, ours: (k, x, y, out) => k.tanhGrad(N, x, y, out) },
  { kernel: "sum", bytes: 4, ours: (k, x) => void k.sum(N, x), peer: (tf, x) => tf.sum(x) },
  { kernel: "sumSquares", bytes: 4, ours: (k, x) => void k.sumSquares(N, x), peer: (tf, x) => tf.sum(tf.square(x)) },
  {
    kernel: `softmax rows ${SOFTMAX_ROWS}x${SOFTMAX_COLS}`, matrix: true,
    ours: (k, x, _y, out) => k.softmaxRows(SOFTMAX_ROWS, SOFTMAX_COLS, x, out), peer: (tf, x) => tf.softmax(x),
  },
  {
    kernel: `logSoftmax rows ${SOFTMAX_ROWS}x${SOFTMAX_COLS}`, matrix: true,
    ours: (k, x, _y, out) => k.logSoftmaxRows(SOFTMAX_ROWS, SOFTMAX_COLS, x, out), peer: (tf, x) => tf.logSoftmax(x),
  },
];

const melemPerSecond = (seconds: number) => N / seconds / 1e6;

export async function benchElementwise(streamBytesPerSecond: number): Promise<Row[]> {
  const tf = await tfjsWasm();
  const backend = getBackendByName("wasm-simd");
  const rows: Row[] = [];
  for (const c of cases) {
    const xData = c.positive ? randomFloats(N, 1, 0.01, 4) : randomFloats(N, 1, -4, 4);
    const yData = randomFloats(N, 2, -4, 4);

    const x = backend.alloc(N);
    const y = backend.alloc(N);
    const out = backend.alloc(N);
    backend.write(x, xData);
    backend.write(y, yData);
    const ours = melemPerSecond(await secondsPerCall(`pcgraph ${c.kernel}`, () => c.ours(backend, x, y, out)));
    backend.free(x);
    backend.free(y);
    backend.free(out);

    let peer = NaN;
    if (c.peer) {
      const shape: number[] = c.matrix ? [SOFTMAX_ROWS, SOFTMAX_COLS] : [N];
      const tx = tf.tensor(xData, shape);
      const ty = tf.tensor(yData, shape);
      const op = c.peer;
      peer = melemPerSecond(await secondsPerCall(`tfjs ${c.kernel}`, () => {
        const result = tf.tidy(() => op(tf, tx, ty));
        result.dataSync();
        result.dispose();
      }));
      tx.dispose();
      ty.dispose();
    }
    rows.push({ kernel: c.kernel, ours, peer, unit: "Melem/s", ofPeak: (ours * 1e6 * (c.bytes ?? 8)) / streamBytesPerSecond });
  }
  return rows;
}
