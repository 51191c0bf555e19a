// conv2d (forward and both derivatives) and pooling beside TF.js's wasm backend, on pcgraph's
// threaded backend with 1 and 2 threads, in interleaved rounds; every call leaves its output in
// wasm memory, on both sides (see bench/kernels/matmul.ts), and the machine's two-thread
// ceiling runs in the same rounds (bench/kernels/ceiling.ts).
// pcgraph runs NCHW; TF.js runs NHWC, its native layout. Each of our three convolution kernels
// is compared with TF.js's FORWARD conv2d on the same problem (the same flops), and the input
// derivative also with TF.js's own (conv2dTranspose); TF.js's wasm backend has no filter
// derivative.
import type * as tfTypes from "@tensorflow/tfjs-core";
import type { Backend, Conv2dGeometry, Pool2dGeometry } from "../../src/backend/kernels.js";
import { conv2dOutputShape, pool2dOutputShape } from "../../src/backend/kernels.js";
import { tfjsWasm } from "../peer.js";
import { beginTable, endTable, markdownTable, medianRatio, timeInterleaved, type Timing } from "../report.js";
import { randomFloats, threadBackends } from "./matmul.js";
import { CEILING_COLUMN, ceilingCell, startCeiling } from "./ceiling.js";
import type { Peaks } from "./peak.js";

interface ConvShape {
  label: string;
  batch: number;
  size: number;
  inChannels: number;
  outChannels: number;
}

const convShapes: ConvShape[] = [
  { label: "28x28x1→16", batch: 32, size: 28, inChannels: 1, outChannels: 16 },
  { label: "32x32x16→32", batch: 32, size: 32, inChannels: 16, outChannels: 32 },
];

type Kernel = (backend: Backend, at: Record<string, number>) => void;

/** A pcgraph call on `backend` over fresh buffers: run and free. */
function pcgraphCall(backend: Backend, buffers: Record<string, Float32Array | number>, output: string, kernel: Kernel) {
  const at: Record<string, number> = {};
  for (const [name, data] of Object.entries(buffers)) {
    at[name] = backend.alloc(typeof data === "number" ? data : data.length);
    if (typeof data !== "number") backend.write(at[name], data);
  }
  return {
    run: () => kernel(backend, at),
    free: () => Object.values(at).forEach((a) => backend.free(a)),
  };
}

/** A TF.js call: the op, then dispose of its output. */
const peerCall = (op: () => tfTypes.Tensor) => () => op().dispose();

export async function benchConv(peaks: Peaks): Promise<void> {
  const tf = await tfjsWasm();
  const [one, two] = await threadBackends();
  const ceiling = await startCeiling();
  beginTable("conv2d (batch 32, 3x3, stride 1, padding 1, NCHW) and pooling, GFLOP/s or Gelem/s (median of interleaved rounds; outputs left in wasm memory on both sides)");
  const rows: string[][] = [];
  const ratio = (a: Timing, b: Timing) => `${medianRatio(a, b).toFixed(2)}x`;

  for (const s of convShapes) {
    const g: Conv2dGeometry = {
      batch: s.batch, inChannels: s.inChannels, inHeight: s.size, inWidth: s.size, outChannels: s.outChannels,
      kernelHeight: 3, kernelWidth: 3, strideHeight: 1, strideWidth: 1, padHeight: 1, padWidth: 1,
      dilationHeight: 1, dilationWidth: 1, groups: 1,
    };
    const [, , oh, ow] = conv2dOutputShape(g);
    const xLength = s.batch * s.inChannels * s.size * s.size;
    const wLength = s.outChannels * s.inChannels * 9;
    const yLength = s.batch * s.outChannels * oh * ow;
    const gflop = (2 * yLength * s.inChannels * 9) / 1e9;
    const x = randomFloats(xLength, 1), w = randomFloats(wLength, 2), dy = randomFloats(yLength, 3);

    const tx = tf.tensor4d(x, [s.batch, s.size, s.size, s.inChannels]);
    const tw = tf.tensor4d(w, [3, 3, s.inChannels, s.outChannels]);
    const tdy = tf.tensor4d(dy, [s.batch, oh, ow, s.outChannels]);
    const peerForward = peerCall(() => tf.conv2d(tx, tw, 1, "same"));
    const peerInput = peerCall(() => tf.conv2dTranspose(tdy, tw, [s.batch, s.size, s.size, s.inChannels], 1, "same"));

    const kernels: [string, Record<string, Float32Array | number>, string, Kernel][] = [
      ["forward", { x, w, y: yLength }, "y", (b, at) => b.conv2d(g, at.x, at.w, 0, at.y)],
      ["d/d input", { dy, w, dx: xLength }, "dx", (b, at) => b.conv2dBackwardInput(g, at.dy, at.w, 0, at.dx)],
      ["d/d weights", { x, dy, dw: wLength }, "dw", (b, at) => b.conv2dBackwardWeights(g, at.x, at.dy, 0, at.dw)],
    ];
    for (const [name, buffers, output, kernel] of kernels) {
      const ours1 = pcgraphCall(one, buffers, output, kernel);
      const ours2 = pcgraphCall(two, buffers, output, kernel);
      const contenders: Record<string, () => void> = { one: ours1.run, two: ours2.run, forward: peerForward, ...ceiling.contenders };
      if (name === "d/d input") contenders.own = peerInput;
      const pausesBefore = two.threadInfo().stats.pauses;
      const t = timeInterleaved(contenders, { rounds: 9 });
      ours1.free();
      ours2.free();
      const rate = (timing: Timing) => (gflop / timing.seconds).toFixed(1);
      rows.push([
        `conv ${s.label} ${name}`, rate(t.one), rate(t.two), ratio(t.one, t.two),
        `${rate(t.forward)} (forward)${t.own ? `, ${rate(t.own)} (its own)` : ""}`,
        `${ratio(t.forward, t.two)}${t.own ? `, ${ratio(t.own, t.two)}` : ""}`,
        `${((100 * gflop) / t.one.seconds / peaks.gflops[0]).toFixed(0)}% / ${((100 * gflop) / t.two.seconds / peaks.gflops[1]).toFixed(0)}%`,
        ceilingCell(ceiling, t, two.threadInfo().stats.pauses - pausesBefore),
      ]);
    }
    tx.dispose();
    tw.dispose();
    tdy.dispose();
  }

  // Pooling, batch 32 x 16 channels x 28x28, 2x2 windows with stride 2: input elements per second.
  const p: Pool2dGeometry = {
    batch: 32, channels: 16, inHeight: 28, inWidth: 28, kernelHeight: 2, kernelWidth: 2,
    strideHeight: 2, strideWidth: 2, padHeight: 0, padWidth: 0,
  };
  const [, , ph, pw] = pool2dOutputShape(p);
  const inLength = p.batch * p.channels * p.inHeight * p.inWidth;
  const outLength = p.batch * p.channels * ph * pw;
  const px = randomFloats(inLength, 4), pdy = randomFloats(outLength, 5);
  const tx = tf.tensor4d(px, [p.batch, p.inHeight, p.inWidth, p.channels]);
  const tdy = tf.tensor4d(pdy, [p.batch, ph, pw, p.channels]);
  const ty = tf.maxPool(tx, 2, 2, "valid");
  const attrs = { filterSize: [2, 2], strides: [2, 2], pad: "valid" } as unknown as tfTypes.NamedAttrMap;
  const grad = (kernel: string, inputs: Record<string, tfTypes.Tensor>) =>
    peerCall(() => tf.engine().runKernel(kernel, inputs as unknown as tfTypes.NamedTensorMap, attrs) as tfTypes.Tensor);
  const pools: [string, Record<string, Float32Array | number>, string, Kernel, () => void][] = [
    ["max forward", { x: px, y: outLength }, "y", (b, at) => b.maxPool2d(p, at.x, at.y), peerCall(() => tf.maxPool(tx, 2, 2, "valid"))],
    ["max backward", { x: px, dy: pdy, dx: inLength }, "dx", (b, at) => b.maxPool2dBackward(p, at.x, at.dy, 0, at.dx),
      grad("MaxPoolGrad", { dy: tdy, input: tx, output: ty })],
    ["avg forward", { x: px, y: outLength }, "y", (b, at) => b.avgPool2d(p, at.x, at.y), peerCall(() => tf.avgPool(tx, 2, 2, "valid"))],
    ["avg backward", { dy: pdy, dx: inLength }, "dx", (b, at) => b.avgPool2dBackward(p, at.dy, 0, at.dx),
      grad("AvgPoolGrad", { dy: tdy, input: tx })],
  ];
  for (const [name, buffers, output, kernel, peer] of pools) {
    const ours1 = pcgraphCall(one, buffers, output, kernel);
    const ours2 = pcgraphCall(two, buffers, output, kernel);
    const pausesBefore = two.threadInfo().stats.pauses;
    const t = timeInterleaved({ one: ours1.run, two: ours2.run, peer, ...ceiling.contenders }, { rounds: 7 });
    ours1.free();
    ours2.free();
    const rate = (timing: Timing) => (inLength / timing.seconds / 1e9).toFixed(2);
    rows.push([`${name} pool 32x16x28x28 2x2/2 (Gelem/s)`, rate(t.one), rate(t.two), ratio(t.one, t.two), rate(t.peer), ratio(t.peer, t.two), "-",
      ceilingCell(ceiling, t, two.threadInfo().stats.pauses - pausesBefore)]);
  }
  tx.dispose();
  tdy.dispose();
  ty.dispose();
  markdownTable(["kernel", "1 thread", "2 threads", "2 threads / 1", "TF.js", "2 threads / TF.js", "of peak 1 / 2 threads",
    CEILING_COLUMN], rows);
  endTable();
  two.dispose();
  ceiling.dispose();
}
