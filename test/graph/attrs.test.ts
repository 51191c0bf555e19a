// Op attributes as a user writes them in a spec: scalar sizes, defaults, and invalid values.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { InvalidArgumentError, ShapeError } from "../../src/backend/errors.js";
import { GraphError } from "../../src/graph/errors.js";
import { Graph, type GraphSpec } from "../../src/graph/graph.js";
import { memory } from "../../src/tensor.js";

const attrs = suite("op attributes");

const spec = (op: string, a: Record<string, unknown>): GraphSpec => ({
  nodes: [
    { name: "x", op: "input", shape: [2, 6, 6] },
    { name: "layer", op, inputs: ["x"], attrs: a },
    { name: "flat", op: "reshape", inputs: ["layer"], attrs: { shape: [-1] } },
    { name: "out", op: "dense", inputs: ["flat"], attrs: { units: 3 } },
  ],
  output: "out",
  loss: "mse",
});

attrs("conv2d and pools accept one number for every size and mean the same as the pair", () => {
  for (const [op, scalar, paired] of [
    ["conv2d", { filters: 4, kernelSize: 3, strides: 2, padding: 1, dilation: 1 }, { filters: 4, kernelSize: [3, 3], strides: [2, 2], padding: [1, 1], dilation: [1, 1] }],
    ["maxPool2d", { kernelSize: 2, strides: 2, padding: 1 }, { kernelSize: [2, 2], strides: [2, 2], padding: [1, 1] }],
    ["avgPool2d", { kernelSize: 3, strides: 1 }, { kernelSize: [3, 3], strides: [1, 1] }],
  ] as const) {
    const a = new Graph(spec(op, scalar), { backend: "reference-f64" });
    const b = new Graph(spec(op, paired), { backend: "reference-f64" });
    assert.equal(a.node("layer").shape, b.node("layer").shape, op);
    assert.ok(a.node("layer").shape.every((d) => Number.isInteger(d) && d > 0), `${op} shape ${a.node("layer").shape}`);
    a.dispose();
    b.dispose();
  }
});

attrs("pool strides default to the window size", () => {
  const g = new Graph(spec("maxPool2d", { kernelSize: 2 }), { backend: "reference-f64" });
  assert.equal([...g.node("layer").shape], [2, 3, 3]);
  g.dispose();
});

attrs("missing or malformed sizes and slopes give typed errors naming the node, and leak nothing", () => {
  const before = memory().numTensors;
  const cases: [string, Record<string, unknown>][] = [
    ["conv2d", { filters: 2 }],
    ["conv2d", { filters: 2, kernelSize: [3] }],
    ["conv2d", { filters: 2, kernelSize: "3" }],
    ["maxPool2d", {}],
    ["avgPool2d", { kernelSize: [2, 2, 2] }],
    ["leakyRelu", { slope: "abc" }],
    ["leakyRelu", { slope: Number.NaN }],
  ];
  for (const [op, a] of cases) {
    try {
      new Graph(spec(op, a), { backend: "reference-f64" }).dispose();
      assert.unreachable(`${op} ${JSON.stringify(a)} built`);
    } catch (error) {
      assert.ok(error instanceof ShapeError || error instanceof GraphError || error instanceof InvalidArgumentError, String(error));
      assert.match((error as Error).message, /"layer"/);
    }
  }
  assert.is(memory().numTensors, before);
});

attrs.run();
