// Elementwise, activation, reduction and softmax kernels on 1M floats beside TF.js (wasm
// backend) in this process, in Melem/s, on pcgraph's threaded backend with 1 and 2 threads.
// Both sides are timed the same way, in interleaved rounds, twice: the op alone (its result
// left in wasm memory, where the next op of a model reads it: TF.js runs its wasm kernels
// synchronously, so the call is the whole op), and the op followed by reading its result
// back into JS (pcgraph: read, a copy out of wasm memory; TF.js: dataSync) — for reductions
// a number, which both return directly, so they have one column. Reading 4 MB back costs
// about as much as a fast kernel, and the same on both sides, so it pulls those ratios
// towards 1.
// The memory column is the kernel's compulsory memory traffic over the streaming micro-kernel's
// bandwidth (bench/kernels/peak.ts) on as many threads: near 100% for memory-bound ops, low
// for ops bound by exp/div throughput instead.
import type { Tensor } from "@tensorflow/tfjs-core";
import type { Address, Backend } from "../../src/backend/kernels.js";
import { tfjsWasm } from "../peer.js";
import { beginTable, endTable, markdownTable, medianRatio, timeInterleaved, type Timing } from "../report.js";
import { threadBackends } from "./matmul.js";
import { CEILING_COLUMN, ceilingCell, startCeiling } from "./ceiling.js";
import type { Peaks } from "./peak.js";

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
  /** A reduction: its result is a number, returned by the call itself. */
  reduction?: boolean;
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
  { kernel: "sum", bytes: 4, reduction: true, ours: (k, x) => void k.sum(N, x), peer: (tf, x) => tf.sum(x) },
  { kernel: "sumSquares", bytes: 4, reduction: true, ours: (k, x) => void k.sumSquares(N, x), peer: (tf, x) => tf.sum(tf.square(x)) },
  {
    kernel: `softmax rows ${SOFTMAX_ROWS}x${SOFTMAX_COLS}`, matrix: true,
    ours: (k, x, _y, out) => k.softmaxRows(SOFTMAX_ROWS, SOFTMAX_COLS, x, out), peer: (tf, x) => tf.softmax(x),
  },
  {
    // The three passes of softmax (the same algorithm as TF.js's XNNPACK kernel: row maximum,
    // exponentials and their sum, scaling), each run alone over the whole matrix, against
    // TF.js's softmax: how fast softmax could be with these kernels if it cost no more than
    // its passes (it does a sum besides) — on one thread, the bound its "1 thread / TF.js" is
    // measured against.
    kernel: `softmax's passes alone: rowMax, exp, scale`, matrix: true,
    ours: (k, x, y, out) => {
      k.rowMax(SOFTMAX_ROWS, SOFTMAX_COLS, x, y);
      k.exp(N, x, out);
      k.scale(N, ALPHA, out, out);
    },
    peer: (tf, x) => tf.softmax(x),
  },
  {
    kernel: `logSoftmax rows ${SOFTMAX_ROWS}x${SOFTMAX_COLS}`, matrix: true,
    ours: (k, x, _y, out) => k.logSoftmaxRows(SOFTMAX_ROWS, SOFTMAX_COLS, x, out), peer: (tf, x) => tf.logSoftmax(x),
  },
];

export async function benchElementwise(peaks: Peaks): Promise<void> {
  const tf = await tfjsWasm();
  const [one, two] = await threadBackends();
  const ceiling = await startCeiling();
  beginTable(`elementwise, reductions and softmax on 1M floats, Melem/s (median of interleaved rounds; the op alone, and the op with its result read back)`);
  const rows: string[][] = [];
  for (const c of cases) {
    const xData = c.positive ? randomFloats(N, 1, 0.01, 4) : randomFloats(N, 1, -4, 4);
    const yData = randomFloats(N, 2, -4, 4);
    const ours = (backend: Backend) => {
      const x = backend.alloc(N), y = backend.alloc(N), out = backend.alloc(N);
      backend.write(x, xData);
      backend.write(y, yData);
      // The result: `out` for most kernels, y for axpy (in place), nothing more for reductions.
      const result = c.kernel === "axpy" ? y : out;
      return {
        run: () => c.ours(backend, x, y, out),
        runAndRead: () => {
          c.ours(backend, x, y, out);
          backend.read(result, N);
        },
        free: () => [x, y, out].forEach((a) => backend.free(a)),
      };
    };
    const ours1 = ours(one), ours2 = ours(two);
    const contenders: Record<string, () => void> = { one: ours1.run, two: ours2.run, ...ceiling.contenders };
    // Reading back allocates 4 MB per call, and the collector's helper threads then take the
    // second core for a while: timed in separate rounds, so that they do not land in the op's.
    const withReadBack: Record<string, () => void> = { one: ours1.runAndRead, two: ours2.runAndRead };
    const shape: number[] = c.matrix ? [SOFTMAX_ROWS, SOFTMAX_COLS] : [N];
    const tx = tf.tensor(xData, shape);
    const ty = tf.tensor(yData, shape);
    if (c.peer) {
      const op = c.peer;
      const opAndRead = () => {
        const result = tf.tidy(() => op(tf, tx, ty));
        result.dataSync();
        result.dispose();
      };
      // A reduction's dataSync reads one number: the op as both sides use it.
      contenders.peer = c.reduction ? opAndRead : () => tf.tidy(() => op(tf, tx, ty)).dispose();
      if (!c.reduction) withReadBack.peer = opAndRead;
    }
    const pausesBefore = two.threadInfo().stats.pauses;
    const t = timeInterleaved(contenders, { rounds: 7 });
    const pauses = two.threadInfo().stats.pauses - pausesBefore;
    const read = c.reduction ? undefined : timeInterleaved(withReadBack, { rounds: 5 });
    ours1.free();
    ours2.free();
    tx.dispose();
    ty.dispose();
    const rate = (timing: Timing) => (N / timing.seconds / 1e6).toFixed(0);
    const ratio = (peer: Timing | undefined, mine: Timing | undefined) => (peer && mine ? `${medianRatio(peer, mine).toFixed(2)}x` : "-");
    const traffic = (timing: Timing, threads: 0 | 1) => `${((100 * N * (c.bytes ?? 8)) / timing.seconds / peaks.bytesPerSecond[threads]).toFixed(0)}%`;
    rows.push([
      c.kernel, rate(t.one), rate(t.two), `${medianRatio(t.one, t.two).toFixed(2)}x`,
      t.peer ? rate(t.peer) : "-",
      ratio(t.peer, t.one), ratio(t.peer, t.two),
      read ? `${ratio(read.peer, read.one)} / ${ratio(read.peer, read.two)}` : "-",
      `${traffic(t.one, 0)} / ${traffic(t.two, 1)}`,
      ceilingCell(ceiling, t, pauses),
    ]);
  }
  markdownTable(["kernel", "1 thread", "2 threads", "2 threads / 1", "TF.js", "1 thread / TF.js", "2 threads / TF.js",
    "read back too: 1 / 2 threads over TF.js", "memory traffic of streaming peak, 1 / 2 threads", CEILING_COLUMN], rows);
  endTable();
  two.dispose();
  ceiling.dispose();
}
