// The transposed convolution is the adjoint of the convolution: <conv(x), y> = <x, convT(y)>
// for the same weight, on random tensors and geometries; its output size follows the usual
// formula (PyTorch's ConvTranspose2d); bad attributes are typed errors naming the node.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import fc from "fast-check";
import { ShapeError } from "../../src/backend/errors.js";
import { getBackendByName, type BackendName } from "../../src/backend/load.js";
import { GraphBuilder } from "../../src/graph/builder.js";
import { GraphError } from "../../src/graph/errors.js";
import { Conv2dOp, Conv2dTransposeOp } from "../../src/graph/ops/conv.js";
import { createOp } from "../../src/graph/registry.js";
import { Tensor } from "../../src/tensor.js";
import { randomArray, seed } from "../arbitraries.js";
import { leakChecked } from "../util/leaks.js";

const convT = suite("conv2dTranspose");
const test = leakChecked(convT);

const geometryArb = fc.record({
  batch: fc.integer({ min: 1, max: 2 }), groups: fc.integer({ min: 1, max: 2 }), inPerGroup: fc.integer({ min: 1, max: 3 }),
  outPerGroup: fc.integer({ min: 1, max: 3 }), kernel: fc.tuple(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 5 })),
  strides: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })),
  padding: fc.tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 2 })),
  dilation: fc.tuple(fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 2 })),
  extra: fc.tuple(fc.nat(), fc.nat()),
  size: fc.tuple(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 6 })), s: seed,
});

type Geometry = typeof geometryArb extends fc.Arbitrary<infer T> ? T : never;

/**
 * <conv(x), y> and <x, convT(y)> with one weight W: conv maps x [C, H, W] to [F, h, w] and
 * convT maps y [F, h, w] back to [C, H, W]; returns both and the sum of |terms| (the scale
 * of rounding).
 */
function adjointPair(r: Geometry, backend: BackendName): { forward: number; adjoint: number; scale: number } {
  const k = getBackendByName(backend);
  const outputPadding = [0, 1].map((a) => r.extra[a] % r.strides[a]) as [number, number];
  const channels = r.groups * r.inPerGroup;
  const filters = r.groups * r.outPerGroup;
  const common = { kernelSize: r.kernel, strides: r.strides, padding: r.padding, dilation: r.dilation, groups: r.groups, useBias: false,
    kernelInit: "heUniform" as const, biasInit: "zeros" as const };
  // convT takes the conv's output channels and gives back its input channels.
  const transpose = new Conv2dTransposeOp({ ...common, filters: channels, outputPadding });
  // Raise the input until the output is at least 1x1.
  const outSize = (n: number, a: 0 | 1) => (n - 1) * r.strides[a] - 2 * r.padding[a] + r.dilation[a] * (r.kernel[a] - 1) + 1 + outputPadding[a];
  let h = r.size[0];
  let w = r.size[1];
  while (outSize(h, 0) < 1) h++;
  while (outSize(w, 1) < 1) w++;
  const big = transpose.outputShape([[filters, h, w]]);
  const conv = new Conv2dOp({ ...common, filters });
  assert.equal([...conv.outputShape([big])], [filters, h, w], "conv maps convT's output shape back to its input shape");
  const f = Math.fround;
  const weight = new Tensor(transpose.paramSpecs([[filters, h, w]])[0].shape, k).assign(randomArray(filters * r.inPerGroup * r.kernel[0] * r.kernel[1], r.s).map(f));
  const x = new Tensor([r.batch, ...big], k).assign(randomArray(r.batch * big[0] * big[1] * big[2], r.s + 1).map(f));
  const y = new Tensor([r.batch, filters, h, w], k).assign(randomArray(r.batch * filters * h * w, r.s + 2).map(f));
  const convX = new Tensor(y.shape, k);
  const convTY = new Tensor(x.shape, k);
  try {
    conv.forward([x], [weight], convX);
    transpose.forward([y], [weight], convTY);
    const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => {
      let total = 0;
      let scale = 0;
      for (let i = 0; i < a.length; i++) {
        total += a[i] * b[i];
        scale += Math.abs(a[i] * b[i]);
      }
      return { total, scale };
    };
    const forward = dot(convX.dataSync(), y.dataSync());
    const adjoint = dot(x.dataSync(), convTY.dataSync());
    // Both sums expand to sum over taps of x * w * y; the scale is that of |x| |w| |y| summed.
    const absX = x.dataSync().map(Math.abs);
    const absW = weight.dataSync().map(Math.abs);
    const absY = y.dataSync().map(Math.abs);
    x.assign(absX);
    weight.assign(absW);
    y.assign(absY);
    conv.forward([x], [weight], convX);
    const scale = dot(convX.dataSync(), y.dataSync()).total;
    return { forward: forward.total, adjoint: adjoint.total, scale: Math.max(scale, forward.scale, adjoint.scale) };
  } finally {
    for (const t of [weight, x, y, convX, convTY]) t.dispose();
  }
}

// float64: the two sums hold the same products in different orders: |difference| <= ~n eps
// of the sum of |terms| (n <= a few thousand terms); 1e-12 sits far above that and far below
// any misplaced tap, whose term would be of order scale / n.
test("<conv(x), y> = <x, convT(y)> on random tensors and geometries (float64)", () => {
  fc.assert(fc.property(geometryArb, (r) => {
    const { forward, adjoint, scale } = adjointPair(r, "reference-f64");
    if (!(Math.abs(forward - adjoint) <= 1e-12 * scale)) throw new Error(`${forward} vs ${adjoint} (scale ${scale}) for ${JSON.stringify(r)}`);
  }), { numRuns: 120 });
});

// f32: each sum rounds ~2^-24 per accumulation of the scale; 1e-5 of it covers the kernels'
// blocked accumulation orders with margin.
test("<conv(x), y> = <x, convT(y)> on the wasm-simd backend within f32 rounding", () => {
  fc.assert(fc.property(geometryArb, (r) => {
    const { forward, adjoint, scale } = adjointPair(r, "wasm-simd");
    if (!(Math.abs(forward - adjoint) <= 1e-5 * scale)) throw new Error(`${forward} vs ${adjoint} (scale ${scale}) for ${JSON.stringify(r)}`);
  }), { numRuns: 60 });
});

test("the output size is (h - 1) stride - 2 padding + dilation (k - 1) + 1 + outputPadding", () => {
  const shape = (attrs: Record<string, unknown>, input: number[]) => [...createOp("conv2dTranspose", attrs, "t").outputShape([input])];
  assert.equal(shape({ filters: 3, kernelSize: 4, strides: 2, padding: 1 }, [8, 14, 14]), [3, 28, 28]);
  assert.equal(shape({ filters: 1, kernelSize: 5, strides: 2, padding: 2, outputPadding: 1 }, [8, 14, 14]), [1, 28, 28]);
  assert.equal(shape({ filters: 2, kernelSize: [3, 1], strides: [1, 3], padding: [0, 0], dilation: [2, 1] }, [4, 5, 5]), [2, 9, 13]);
});

test("the builder writes conv2dTranspose nodes; bad attributes are typed errors naming the node", () => {
  const g = new GraphBuilder();
  const x = g.input([4, 7, 7], "x");
  const up = g.conv2dTranspose(x, 2, 4, { strides: 2, padding: 1, name: "up" });
  const graph = g.build({ output: up, loss: "mse", backend: "reference-f64" });
  assert.equal([...graph.node("up").shape], [2, 14, 14]);
  assert.equal([...graph.node("up").params[0].shape], [4, 2, 4, 4]);
  graph.dispose();
  const bad = (attrs: Record<string, unknown>) => {
    const b = new GraphBuilder();
    const input = b.input([2, 3, 3], "x");
    return () => b.build({ output: b.node("conv2dTranspose", [input], attrs, { name: "broken" }), loss: "mse", backend: "reference-f64" });
  };
  for (const attrs of [{ filters: 2, kernelSize: 3, strides: 2, outputPadding: 2 }, { filters: 0, kernelSize: 3 }, { filters: 3, kernelSize: 1, groups: 2 },
    { filters: 2, kernelSize: 1, padding: 3 }]) {
    try {
      bad(attrs)();
      assert.unreachable(JSON.stringify(attrs));
    } catch (error) {
      assert.ok(error instanceof GraphError || error instanceof ShapeError, String(error));
      assert.match((error as Error).message, /"broken"/);
    }
  }
});

convT.run();
