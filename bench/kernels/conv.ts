// conv2d (forward and both derivatives) and pooling beside TF.js's wasm backend.
// pcgraph runs NCHW; TF.js runs NHWC, its native layout. The target is that each of our three
// convolution kernels is at least 1.2x TF.js's FORWARD conv2d on the same problem, so those rows
// use the peer's forward as the comparison; the peer's own derivatives get rows of their own
// where its wasm backend has them (it has Conv2DBackpropInput, not Conv2DBackpropFilter).
import type { Conv2dGeometry, Pool2dGeometry } from "../../src/backend/kernels.js";
import { conv2dOutputShape, pool2dOutputShape } from "../../src/backend/kernels.js";
import { getBackendByName } from "../../src/backend/load.js";
import { tfjsWasm } from "../peer.js";
import { secondsPerCall, type Row } from "../report.js";

interface ConvShape {
  label: string;
  batch: number;
  size: number;
  inChannels: number;
  outChannels: number;
}

const convShapes: ConvShape[] = [
  { label: "28x28x1->16", batch: 32, size: 28, inChannels: 1, outChannels: 16 },
  { label: "32x32x16->32", batch: 32, size: 32, inChannels: 16, outChannels: 32 },
];

function random(length: number): Float32Array {
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) out[i] = Math.random() * 2 - 1;
  return out;
}

export async function benchConv(peakGflops: number): Promise<Row[]> {
  const tf = await tfjsWasm();
  const ours = getBackendByName("wasm-simd");
  const rows: Row[] = [];
  const ofPeak = (gflops: number) => (Number.isFinite(peakGflops) && peakGflops > 0 ? gflops / peakGflops : undefined);

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
    const flop = 2 * yLength * s.inChannels * 9;
    const gflops = (seconds: number) => flop / seconds / 1e9;

    const x = ours.alloc(xLength), w = ours.alloc(wLength), y = ours.alloc(yLength);
    const dx = ours.alloc(xLength), dw = ours.alloc(wLength), dy = ours.alloc(yLength);
    ours.write(x, random(xLength));
    ours.write(w, random(wLength));
    ours.write(dy, random(yLength));
    const forward = gflops(await secondsPerCall(`conv ${s.label} forward`, () => ours.conv2d(g, x, w, 0, y)));
    const input = gflops(await secondsPerCall(`conv ${s.label} input`, () => ours.conv2dBackwardInput(g, dy, w, 0, dx)));
    const weights = gflops(await secondsPerCall(`conv ${s.label} weights`, () => ours.conv2dBackwardWeights(g, x, dy, 0, dw)));
    for (const a of [x, w, y, dx, dw, dy]) ours.free(a);

    const tx = tf.tensor4d(random(xLength), [s.batch, s.size, s.size, s.inChannels]);
    const tw = tf.tensor4d(random(wLength), [3, 3, s.inChannels, s.outChannels]);
    const tdy = tf.tensor4d(random(yLength), [s.batch, oh, ow, s.outChannels]);
    const peerForward = gflops(await secondsPerCall(`tf.conv2d ${s.label}`, () => tf.conv2d(tx, tw, 1, "same").dispose()));
    let peerInput = NaN;
    try {
      peerInput = gflops(await secondsPerCall(`tf.conv2dTranspose ${s.label}`, () =>
        tf.conv2dTranspose(tdy, tw, [s.batch, s.size, s.size, s.inChannels], 1, "same").dispose()));
    } catch {
      // the peer has no such kernel on this backend
    }
    tx.dispose();
    tw.dispose();
    tdy.dispose();

    rows.push({ kernel: `conv ${s.label} forward vs tf forward`, ours: forward, peer: peerForward, unit: "GFLOP/s", ofPeak: ofPeak(forward) });
    rows.push({ kernel: `conv ${s.label} d/dinput vs tf forward`, ours: input, peer: peerForward, unit: "GFLOP/s", ofPeak: ofPeak(input) });
    rows.push({ kernel: `conv ${s.label} d/dweights vs tf forward`, ours: weights, peer: peerForward, unit: "GFLOP/s", ofPeak: ofPeak(weights) });
    rows.push({ kernel: `conv ${s.label} d/dinput vs tf conv2dDerivInput`, ours: input, peer: peerInput, unit: "GFLOP/s", ofPeak: ofPeak(input) });
    rows.push({ kernel: `conv ${s.label} d/dweights (tf wasm has no conv2dDerivFilter)`, ours: weights, peer: NaN, unit: "GFLOP/s", ofPeak: ofPeak(weights) });
  }

  // Pooling, batch 32 x 16 channels x 28x28, 2x2 windows with stride 2: input elements per second.
  const p: Pool2dGeometry = {
    batch: 32, channels: 16, inHeight: 28, inWidth: 28, kernelHeight: 2, kernelWidth: 2,
    strideHeight: 2, strideWidth: 2, padHeight: 0, padWidth: 0,
  };
  const [, , ph, pw] = pool2dOutputShape(p);
  const inLength = p.batch * p.channels * p.inHeight * p.inWidth;
  const outLength = p.batch * p.channels * ph * pw;
  const gelems = (seconds: number) => inLength / seconds / 1e9;
  const px = ours.alloc(inLength), py = ours.alloc(outLength), pdy = ours.alloc(outLength), pdx = ours.alloc(inLength);
  ours.write(px, random(inLength));
  ours.write(pdy, random(outLength));
  const maxF = gelems(await secondsPerCall("maxPool2d", () => ours.maxPool2d(p, px, py)));
  const maxB = gelems(await secondsPerCall("maxPool2dBackward", () => ours.maxPool2dBackward(p, px, pdy, 0, pdx)));
  const avgF = gelems(await secondsPerCall("avgPool2d", () => ours.avgPool2d(p, px, py)));
  const avgB = gelems(await secondsPerCall("avgPool2dBackward", () => ours.avgPool2dBackward(p, pdy, 0, pdx)));
  for (const a of [px, py, pdy, pdx]) ours.free(a);

  const tx = tf.tensor4d(random(inLength), [p.batch, p.inHeight, p.inWidth, p.channels]);
  const tdy = tf.tensor4d(random(outLength), [p.batch, ph, pw, p.channels]);
  const ty = tf.maxPool(tx, 2, 2, "valid");
  const attrs = { filterSize: [2, 2], strides: [2, 2], pad: "valid" } as unknown as Record<string, unknown>;
  const peerGrad = async (name: string, kernel: string, inputs: Record<string, unknown>): Promise<number> => {
    try {
      return gelems(await secondsPerCall(name, () =>
        (tf.engine().runKernel(kernel, inputs as never, attrs as never) as { dispose(): void }).dispose()));
    } catch {
      return NaN;
    }
  };
  const peerMaxF = gelems(await secondsPerCall("tf.maxPool", () => tf.maxPool(tx, 2, 2, "valid").dispose()));
  const peerMaxB = await peerGrad("tf MaxPoolGrad", "MaxPoolGrad", { dy: tdy, input: tx, output: ty });
  const peerAvgF = gelems(await secondsPerCall("tf.avgPool", () => tf.avgPool(tx, 2, 2, "valid").dispose()));
  const peerAvgB = await peerGrad("tf AvgPoolGrad", "AvgPoolGrad", { dy: tdy, input: tx });
  tx.dispose();
  tdy.dispose();
  ty.dispose();

  const label = "pool 32x16x28x28 2x2/2";
  rows.push({ kernel: `max${label} forward`, ours: maxF, peer: peerMaxF, unit: "Gelem/s" });
  rows.push({ kernel: `max${label} backward`, ours: maxB, peer: peerMaxB, unit: "Gelem/s" });
  rows.push({ kernel: `avg${label} forward`, ours: avgF, peer: peerAvgF, unit: "Gelem/s" });
  rows.push({ kernel: `avg${label} backward`, ours: avgB, peer: peerAvgB, unit: "Gelem/s" });
  return rows;
}
