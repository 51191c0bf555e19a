// The builder and the graph's introspection: summary() and describe() tell the truth about
// nodes, shapes, edges and parameter counts; sequential MLPs and CNNs get the expected
// shapes; rnn() shares one W_x, W_h and b across steps; predict() returns [batch, ...output]
// and rejects wrong feeds with a typed error naming the input.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { leakChecked } from "../util/leaks.js";
import fc from "fast-check";
import { ShapeError } from "../../src/backend/errors.js";
import { GraphBuilder, layers, sequential } from "../../src/graph/builder.js";
import { GraphError } from "../../src/graph/errors.js";
import { predict } from "../../src/graph/forward.js";
import { Graph, type GraphNode, type Parameter } from "../../src/graph/graph.js";
import { randomBatch } from "../../src/pc/random-graph.js";
import { sizeOf, tensor, type Tensor } from "../../src/tensor.js";
import { describeGraph, graphArbitrary, randomArray } from "../arbitraries.js";

const builder = leakChecked(suite("graph builder and introspection"));


function withGraph<T>(graph: Graph, fn: (g: Graph) => T): T {
  try {
    return fn(graph);
  } finally {
    graph.dispose();
  }
}

/**
 * The parameter count from the op definitions, written out independently: dense
 * sum_i in_i * units (+ units), conv filters * C/groups * kH * kW (+ filters); a node that
 * shares by name owns nothing, one that shares some roles owns only the unmapped ones.
 */
function expectedParameterCount(graph: Graph): number {
  let total = 0;
  for (const node of graph.nodes) {
    if (node.isInput) continue;
    const a = node.op!.attrs as Record<string, any>;
    const owned: Record<string, number> = {};
    if (node.kind === "dense") {
      node.inputs.forEach((p, i) => (owned[node.inputs.length === 1 ? "weight" : `weight${i}`] = p.shape[0] * a.units));
      if (a.useBias) owned.bias = a.units;
    } else if (node.kind === "conv2d") {
      owned.weight = a.filters * (node.inputs[0].shape[0] / a.groups) * a.kernelSize[0] * a.kernelSize[1];
      if (a.useBias) owned.bias = a.filters;
    }
    const share = node.spec.shareParamsWith;
    for (const [role, size] of Object.entries(owned)) {
      const shared = share === undefined ? false : typeof share === "string" ? true : share.roles[role] !== undefined;
      if (!shared) total += size;
    }
  }
  return total;
}

builder("summary() lists every node with its op and output shape, and the total parameter count (shared parameters once)", () => {
  fc.assert(
    fc.property(graphArbitrary(), (drawn) =>
      withGraph(new Graph(drawn.spec, { seed: drawn.seed, backend: "reference-f64" }), (graph) => {
        const summary = graph.summary();
        const lines = summary.split("\n");
        for (const node of graph.nodes) {
          const line = lines.find((l) => l.startsWith(`${node.name} (${node.kind})`));
          assert.ok(line, `summary has a row for ${node.name}\n${summary}`);
          assert.ok(line!.includes(`(batch, ${node.shape.join(", ")})`), `row of ${node.name} shows its shape ${node.shape}\n${line}`);
        }
        const unique = new Set<Parameter>(graph.nodes.flatMap((n) => [...n.params]));
        const sum = [...unique].reduce((s, p) => s + sizeOf(p.shape), 0);
        assert.is(graph.parameterCount, sum, "parameterCount is the sum over distinct parameters");
        assert.is(sum, expectedParameterCount(graph), `parameter count from the op definitions\n${describeGraph(drawn)}`);
        assert.ok(summary.includes(`Total params: ${sum.toLocaleString("en-US")}`), `total ${sum} in\n${summary}`);
        // A node's row shows the size of every parameter it uses, "(shared)" when another node uses one too.
        for (const row of graph.describe()) {
          const node = graph.node(row.name);
          assert.is(row.params, node.params.reduce((s, p) => s + p.size, 0));
          assert.is(row.shared, node.params.some((p) => p.users.length > 1));
        }
      })),
    { numRuns: 100 },
  );
});

builder("describe() parents and children are mutually consistent, follow the spec and respect topological order", () => {
  fc.assert(
    fc.property(graphArbitrary(), (drawn) =>
      withGraph(new Graph(drawn.spec, { seed: drawn.seed, backend: "reference-f64" }), (graph) => {
        const rows = graph.describe();
        const byName = new Map(rows.map((r) => [r.name, r]));
        const position = new Map(rows.map((r, i) => [r.name, i]));
        assert.is(rows.length, drawn.spec.nodes.length);
        for (const ns of drawn.spec.nodes) assert.equal(byName.get(ns.name)!.inputs, ns.inputs ?? [], `parents of ${ns.name}`);
        for (const row of rows) {
          for (const parent of row.inputs) {
            assert.ok(position.get(parent)! < position.get(row.name)!, `${parent} before ${row.name}`);
            // A node reading the same parent twice appears twice among its children.
            const asChild = byName.get(parent)!.children.filter((c) => c === row.name).length;
            assert.is(asChild, row.inputs.filter((p) => p === parent).length, `${row.name} is a child of ${parent}`);
          }
          for (const child of row.children) assert.ok(byName.get(child)!.inputs.includes(row.name), `${row.name} is a parent of ${child}`);
          assert.equal(row.shape, [...graph.node(row.name).shape]);
        }
        const edges = rows.reduce((s, r) => s + r.inputs.length, 0);
        assert.is(rows.reduce((s, r) => s + r.children.length, 0), edges, "as many child links as parent links");
      })),
    { numRuns: 100 },
  );
});

builder("a sequential MLP has the expected shapes and parameter count", () => {
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 4 }), fc.integer({ min: 1, max: 50 }), (widths, inputWidth) => {
      const stack = widths.flatMap((w, i) => (i < widths.length - 1 ? [layers.dense(w), layers.relu()] : [layers.dense(w)]));
      withGraph(sequential([inputWidth], stack, { loss: "mse", backend: "reference-f64" }), (graph) => {
        assert.equal(graph.output.shape, [widths[widths.length - 1]]);
        const denses = graph.nodes.filter((n) => n.kind === "dense");
        assert.equal(denses.map((n) => n.shape[0]), widths);
        const ins = [inputWidth, ...widths.slice(0, -1)];
        assert.is(graph.parameterCount, widths.reduce((s, w, i) => s + ins[i] * w + w, 0));
        assert.equal(graph.inputs.map((n) => n.name), ["input"]);
      });
    }),
    { numRuns: 50 },
  );
});

builder("a sequential CNN has the expected shape after every layer", () => {
  const graph = sequential([3, 28, 28], [
    layers.conv2d(8, 3, { padding: "same" }),
    layers.relu(),
    layers.maxPool2d(2),
    layers.conv2d(16, [3, 5], { strides: [1, 2], groups: 8 }),
    layers.activation("leakyRelu", 0.2),
    layers.avgPool2d(2, { strides: 1, padding: 1 }),
    layers.conv2d(4, 3, { dilation: 2, padding: [2, 1] }),
    layers.flatten(),
    layers.dense(10),
  ], { loss: "softmaxCrossEntropy", backend: "reference-f64" });
  withGraph(graph, (g) => {
    const shapes = g.nodes.map((n) => [n.kind, [...n.shape]]);
    assert.equal(shapes, [
      ["input", [3, 28, 28]],
      ["conv2d", [8, 28, 28]], // same padding
      ["relu", [8, 28, 28]],
      ["maxPool2d", [8, 14, 14]],
      ["conv2d", [16, 12, 5]], // (14 - 3) / 1 + 1, floor((14 - 5) / 2) + 1
      ["leakyRelu", [16, 12, 5]],
      ["avgPool2d", [16, 13, 6]], // (12 + 2 - 2) / 1 + 1
      ["conv2d", [4, 13, 4]], // 13 + 4 - 4 - 1 + 1, 6 + 2 - 4 - 1 + 1
      ["reshape", [4 * 13 * 4]],
      ["dense", [10]],
    ]);
    const expected = (8 * 3 * 9 + 8) + (16 * 1 * 15 + 16) + (4 * 16 * 9 + 4) + (208 * 10 + 10);
    assert.is(g.parameterCount, expected);
    assert.is((g.nodes[6].op!.attrs as { slope: number }).slope ?? 0.2, 0.2);
  });
});

builder("rnn() shares W_x, W_h and b across steps: the same parameter objects, a count independent of the number of steps", () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 7 }), fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 6 }), (steps, features, units) => {
      const g = new GraphBuilder();
      const sequence = g.input([steps, features], "seq");
      const h = g.rnn(sequence, units, steps, { name: "cell" });
      withGraph(g.build({ output: h, loss: "mse", backend: "reference-f64" }), (graph) => {
        const pre = Array.from({ length: steps }, (_, t) => graph.node(`cell.pre${t}`));
        const param = (node: GraphNode, role: string) => node.params[node.paramRoles.indexOf(role)];
        const wx = param(pre[0], "weight");
        const b = param(pre[0], "bias");
        assert.equal(wx.shape, [features, units]);
        assert.equal(b.shape, [units]);
        for (let t = 1; t < steps; t++) {
          assert.ok(param(pre[t], "weight0") === wx, `step ${t} uses W_x of step 0`);
          assert.ok(param(pre[t], "bias") === b, `step ${t} uses b of step 0`);
          assert.ok(param(pre[t], "weight1") === param(pre[1], "weight1"), `step ${t} uses W_h of step 1`);
          assert.equal(param(pre[t], "weight1").shape, [units, units]);
        }
        const owners = new Set(pre.flatMap((n) => [...n.params]));
        assert.is(graph.parameters.length, steps === 1 ? 2 : 3, "W_x, b and (with recurrence) W_h");
        assert.is(owners.size, graph.parameters.length);
        assert.is(graph.parameterCount, features * units + units + (steps > 1 ? units * units : 0));
        assert.is(wx.users.length, steps);
        assert.equal(graph.output.shape, [units]);
      });
    }),
    { numRuns: 60 },
  );
});

builder("predict() on a batch gives [batch, ...outputShape] of finite values on random graphs, on both backends", () => {
  fc.assert(
    fc.property(graphArbitrary(), fc.constantFrom("reference-f64", "wasm-simd" as const), (drawn, backend) =>
      withGraph(new Graph(drawn.spec, { seed: drawn.seed, backend }), (graph) => {
        const { inputs, target } = randomBatch(graph, drawn.batch, drawn.seed);
        const y = predict(graph, inputs);
        try {
          assert.equal([...y.shape], [drawn.batch, ...graph.output.shape], describeGraph(drawn));
          assert.ok(y.dataSync().every(Number.isFinite), "finite outputs");
        } finally {
          for (const t of [y, target, ...Object.values(inputs)]) t.dispose();
        }
      })),
    { numRuns: 60 },
  );
});

builder("predict() of one sample equals the matching row of a batched predict (rows are independent)", () => {
  fc.assert(
    fc.property(graphArbitrary(6), fc.nat(), (drawn, pick) =>
      withGraph(new Graph(drawn.spec, { seed: drawn.seed, backend: "reference-f64" }), (graph) => {
        const { inputs, target } = randomBatch(graph, drawn.batch, drawn.seed);
        const row = pick % drawn.batch;
        const single: Record<string, Tensor> = {};
        for (const [name, t] of Object.entries(inputs)) {
          const per = sizeOf(t.shape.slice(1));
          single[name] = tensor(t.dataSync().slice(row * per, (row + 1) * per), [1, ...t.shape.slice(1)], { backend: graph.backend });
        }
        const all = predict(graph, inputs);
        const one = predict(graph, single);
        try {
          const per = graph.output.size;
          const expected = all.dataSync().slice(row * per, (row + 1) * per);
          one.dataSync().forEach((v, i) => assert.ok(Math.abs(v - expected[i]) <= 1e-12 * Math.max(1, Math.abs(expected[i])), `row ${row} entry ${i}`));
        } finally {
          for (const t of [all, one, target, ...Object.values(inputs), ...Object.values(single)]) t.dispose();
        }
      })),
    { numRuns: 40 },
  );
});

/** A two-input graph: a [4] vector and a [2, 3, 3] image, joined by a dense layer. */
function twoInputs(): Graph {
  const g = new GraphBuilder();
  const v = g.input([4], "vec");
  const img = g.input([2, 3, 3], "img");
  const out = g.dense([v, g.flatten(g.conv2d(img, 1, 2))], 3, { name: "out" });
  return g.build({ output: out, loss: "mse", backend: "reference-f64" });
}

function expectError(kind: typeof ShapeError | typeof GraphError, name: string, fn: () => unknown): void {
  let caught: unknown;
  try {
    const result = fn();
    if (result && typeof (result as Tensor).dispose === "function") (result as Tensor).dispose();
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof kind, `expected a ${kind.name}, got ${caught instanceof Error ? `${caught.constructor.name}: ${caught.message}` : String(caught)}`);
  assert.ok((caught as Error).message.includes(`"${name}"`), `the message names "${name}": ${(caught as Error).message}`);
}

builder("feeding a wrong input shape is a ShapeError naming the input; an unknown or missing input is a GraphError naming it", () => {
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 4 }), fc.integer({ min: 1, max: 4 }), fc.nat(), (shape, batch, s) =>
      withGraph(twoInputs(), (graph) => {
        const make = (dims: number[]) => tensor(randomArray(sizeOf(dims), s), dims, { backend: graph.backend });
        const vec = make([batch, 4]);
        const img = make([batch, 2, 3, 3]);
        const wrong = make([batch, ...shape]);
        const extra = make([batch, 4]);
        const otherBatch = make([batch + 1, 2, 3, 3]);
        try {
          if (!(shape.length === 3 && shape[0] === 2 && shape[1] === 3 && shape[2] === 3))
            expectError(ShapeError, "img", () => predict(graph, { vec, img: wrong }));
          if (!(shape.length === 1 && shape[0] === 4)) expectError(ShapeError, "vec", () => predict(graph, { vec: wrong, img }));
          expectError(ShapeError, "img", () => predict(graph, { vec, img: otherBatch }));
          expectError(GraphError, "bogus", () => predict(graph, { vec, img, bogus: extra }));
          expectError(GraphError, "img", () => predict(graph, { vec }));
          // A bare tensor is ambiguous with two inputs: the error lists them.
          let ambiguous: unknown;
          try {
            predict(graph, vec).dispose();
          } catch (error) {
            ambiguous = error;
          }
          assert.ok(ambiguous instanceof GraphError && /vec/.test(ambiguous.message) && /img/.test(ambiguous.message), String(ambiguous));
          const ok = predict(graph, { vec, img });
          assert.equal([...ok.shape], [batch, 3]);
          ok.dispose();
        } finally {
          for (const t of [vec, img, wrong, extra, otherBatch]) t.dispose();
        }
      })),
    { numRuns: 40 },
  );
});

builder("a tensor on another backend is rejected naming the input", () => {
  withGraph(twoInputs(), (graph) => {
    const vec = tensor(new Float64Array(4), [1, 4], { backend: "wasm-simd" });
    const img = tensor(new Float64Array(18), [1, 2, 3, 3], { backend: "reference-f64" });
    try {
      let caught: unknown;
      try {
        predict(graph, { vec, img }).dispose();
      } catch (error) {
        caught = error;
      }
      assert.ok(caught instanceof Error && caught.message.includes(`"vec"`), String(caught));
    } finally {
      vec.dispose();
      img.dispose();
    }
  });
});

builder("builder handles: auto-named nodes are unique, toSpec is a copy, and a node from another builder is refused", () => {
  const g = new GraphBuilder();
  const x = g.input([3]);
  const a = g.dense(x, 2);
  const b = g.dense(x, 2);
  const c = g.tanh(g.add([a, b]));
  assert.is.not(a.name, b.name);
  const spec = g.toSpec(c, "mse");
  spec.nodes.push({ name: "extra", op: "relu", inputs: [c.name] });
  assert.not.ok(g.toSpec(c, "mse").nodes.some((n) => n.name === "extra"), "toSpec returns a copy");
  const other = new GraphBuilder();
  const y = other.input([3]);
  let caught: unknown;
  try {
    g.dense(y, 2, { name: "stranger" });
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof GraphError && caught.message.includes(`"stranger"`), String(caught));
});

builder.run();
