// Bad graphs always fail with a typed error that names the node at fault: fast-check draws
// invalid specs (shape mismatches, dangling parents, duplicate names, injected cycles, a
// missing output, unknown ops and losses, bad attributes, bad weight sharing) and every
// build must throw a GraphError or ShapeError, never another exception and never return a
// graph, and must leave no tensor behind. Valid random specs always build.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { leakChecked } from "../util/leaks.js";
import fc from "fast-check";
import { ShapeError } from "../../src/backend/errors.js";
import type { BackendName } from "../../src/backend/load.js";
import { GraphError } from "../../src/graph/errors.js";
import { Graph, type GraphSpec, type NodeSpec } from "../../src/graph/graph.js";
import { lossNames } from "../../src/graph/loss.js";
import { opKinds } from "../../src/graph/registry.js";
import { memory } from "../../src/tensor.js";
import { describeGraph, graphArbitrary } from "../arbitraries.js";

const errors = leakChecked(suite("invalid graphs give typed errors"));


/** An invalid spec and the names its error message must quote. */
interface Invalid {
  defect: string;
  spec: unknown;
  /** Each must appear in the message in double quotes (node names, an unknown loss, ...). */
  names: string[];
}

const backendArb = fc.constantFrom<BackendName>("reference-f64", "wasm-simd");

/** Builds and expects a typed error quoting every name, with no graph and no tensor left over. */
function expectTypedError(invalid: Invalid, backend: BackendName): void {
  const before = memory().numTensors;
  let graph: Graph | undefined;
  let caught: unknown;
  try {
    graph = new Graph(invalid.spec as GraphSpec, { backend, seed: 1 });
  } catch (error) {
    caught = error;
  }
  const context = `${invalid.defect}: ${JSON.stringify(invalid.spec)}`;
  if (graph) {
    graph.dispose();
    throw new Error(`built a graph from an invalid spec (${context})`);
  }
  if (!(caught instanceof GraphError || caught instanceof ShapeError))
    throw new Error(`threw ${caught instanceof Error ? `${caught.constructor.name}: ${caught.message}` : String(caught)}, not a GraphError or ShapeError (${context})`);
  for (const name of invalid.names)
    if (!caught.message.includes(`"${name}"`))
      throw new Error(`the message "${caught.message}" does not name "${name}" (${context})`);
  const after = memory().numTensors;
  if (after !== before) throw new Error(`a failed build leaked ${after - before} tensors (${context})`);
}

function property(name: string, invalid: fc.Arbitrary<Invalid>, runs = 100): void {
  errors(name, () => {
    fc.assert(fc.property(invalid, backendArb, expectTypedError), { numRuns: runs });
  });
}

// ---- building blocks ----------------------------------------------------------------------

/** Node names that are not op kinds, loss names or each other's substrings once quoted. */
const nameArb = fc.stringMatching(/^[a-z][a-z0-9_.]{0,7}$/).map((s) => `n_${s}`);
/** k distinct names. */
const namesArb = (k: number) => fc.uniqueArray(nameArb, { minLength: k, maxLength: k });
const dim = (max = 6) => fc.integer({ min: 1, max });

const input = (name: string, shape: number[]): NodeSpec => ({ name, op: "input", shape });
const node = (name: string, op: string, inputs: string[], attrs: Record<string, unknown> = {}): NodeSpec => ({ name, op, inputs, attrs });
const spec = (nodes: NodeSpec[], output: string, loss = "mse"): GraphSpec => ({ nodes, output, loss: loss as GraphSpec["loss"] });

/** A dense layer before the defect, so that a failed build has parameters to clean up. */
const withParams = (names: string[], width: number): NodeSpec[] => [input(names[0], [width]), node(names[1], "dense", [names[0]], { units: width })];

// ---- shape errors -------------------------------------------------------------------------

property("dense on a [C, H, W] input is a ShapeError naming the dense node",
  fc.record({ n: namesArb(3), c: dim(3), h: dim(), w: dim(), units: dim() }).map((r) => ({
    defect: "dense on an image",
    spec: spec([input(r.n[0], [r.c, r.h, r.w]), node(r.n[1], "conv2d", [r.n[0]], { filters: 2, kernelSize: [1, 1] }),
      node(r.n[2], "dense", [r.n[1]], { units: r.units })], r.n[2]),
    names: [r.n[2]],
  })));

property("add of unequal shapes names the add node",
  fc.record({ n: namesArb(5), width: dim(), a: dim(), b: dim() }).filter((r) => r.a !== r.b).map((r) => ({
    defect: "add of unequal shapes",
    spec: spec([...withParams(r.n, r.width), node(r.n[2], "dense", [r.n[1]], { units: r.a }), node(r.n[3], "dense", [r.n[1]], { units: r.b }),
      node(r.n[4], "add", [r.n[2], r.n[3]])], r.n[4]),
    names: [r.n[4]],
  })));

property("a conv kernel larger than the (padded) input names the conv node",
  fc.record({ n: namesArb(2), c: dim(3), h: dim(5), w: dim(5), extra: fc.integer({ min: 1, max: 3 }), pad: fc.integer({ min: 0, max: 1 }),
    dilation: fc.integer({ min: 1, max: 2 }), tall: fc.boolean() }).map((r) => {
    // Dilated extent (k - 1) d + 1 exceeds size + 2 pad on one axis.
    const needed = (size: number) => Math.ceil((size + 2 * r.pad + r.extra - 1) / r.dilation) + 1;
    const kernel = r.tall ? [needed(r.h), 1] : [1, needed(r.w)];
    return {
      defect: "kernel larger than the input",
      spec: spec([input(r.n[0], [r.c, r.h, r.w]), node(r.n[1], "conv2d", [r.n[0]], { filters: 2, kernelSize: kernel, padding: [r.pad, r.pad], dilation: [r.dilation, r.dilation] })], r.n[1]),
      names: [r.n[1]],
    };
  }));

property("groups that do not divide the input channels or the filters name the conv node",
  fc.record({ n: namesArb(2), groups: fc.integer({ min: 2, max: 4 }), c: dim(8), filters: dim(8) })
    .filter((r) => r.c % r.groups !== 0 || r.filters % r.groups !== 0)
    .map((r) => ({
      defect: "groups not dividing channels",
      spec: spec([input(r.n[0], [r.c, 5, 5]), node(r.n[1], "conv2d", [r.n[0]], { filters: r.filters, kernelSize: [3, 3], groups: r.groups })], r.n[1]),
      names: [r.n[1]],
    })));

property("concat of shapes that differ outside the axis (or in rank) names the concat node",
  fc.record({ n: namesArb(3), a: fc.array(dim(4), { minLength: 1, maxLength: 3 }), b: fc.array(dim(4), { minLength: 1, maxLength: 3 }), axisSeed: fc.nat() })
    .map((r) => ({ ...r, axis: r.axisSeed % r.a.length }))
    .filter((r) => r.a.length !== r.b.length || r.a.some((d, i) => i !== r.axis && d !== r.b[i]))
    .map((r) => ({
      defect: "concat mismatch",
      spec: spec([input(r.n[0], r.a), input(r.n[1], r.b), node(r.n[2], "concat", [r.n[0], r.n[1]], { axis: r.axis })], r.n[2]),
      names: [r.n[2]],
    })));

property("reshape to a shape of another size (or with an impossible -1) names the reshape node",
  fc.record({ n: namesArb(3), shape: fc.array(dim(5), { minLength: 1, maxLength: 3 }), target: fc.array(dim(5), { minLength: 1, maxLength: 3 }),
    infer: fc.boolean() })
    .filter((r) => {
      const size = r.shape.reduce((a, b) => a * b, 1);
      const known = r.target.reduce((a, b) => a * b, 1);
      return r.infer ? size % known !== 0 : size !== known;
    })
    .map((r) => ({
      defect: "reshape to a wrong size",
      spec: spec([input(r.n[0], r.shape), node(r.n[1], "identity", [r.n[0]]), node(r.n[2], "reshape", [r.n[1]], { shape: r.infer ? [...r.target, -1] : r.target })], r.n[2]),
      names: [r.n[2]],
    })));

property("pooling windows larger than the input, and slices outside their axis, name the node",
  fc.record({ n: namesArb(2), size: dim(4), extra: dim(3), pool: fc.boolean(), begin: fc.nat(3) }).map((r) => ({
    defect: r.pool ? "pool window too large" : "slice out of range",
    spec: r.pool
      ? spec([input(r.n[0], [1, r.size, r.size]), node(r.n[1], "maxPool2d", [r.n[0]], { kernelSize: [r.size + r.extra, 1], strides: [1, 1] })], r.n[1])
      : spec([input(r.n[0], [r.size]), node(r.n[1], "slice", [r.n[0]], { axis: 0, begin: r.begin, size: r.size - r.begin + r.extra })], r.n[1]),
    names: [r.n[1]],
  })));

// ---- defects injected into valid random graphs --------------------------------------------

/** A random valid spec, its op nodes, and a seed for choosing among them. */
const validWithChoice = fc.tuple(graphArbitrary(8), fc.nat(), fc.nat());

const opNodes = (s: GraphSpec) => s.nodes.filter((n) => n.op !== "input");

property("a dangling parent reference names the node that reads it and the missing parent",
  fc.tuple(validWithChoice, nameArb).map(([[drawn, i, j], missing]) => {
    const s = structuredClone(drawn.spec);
    const victims = opNodes(s);
    const victim = victims[i % victims.length];
    victim.inputs![j % victim.inputs!.length] = `${missing}_gone`;
    return { defect: "dangling parent", spec: s, names: [victim.name, `${missing}_gone`] };
  }));

property("a duplicate node name is named",
  validWithChoice.map(([drawn, i, j]) => {
    const s = structuredClone(drawn.spec);
    const a = i % s.nodes.length;
    let b = j % s.nodes.length;
    if (b === a) b = (a + 1) % s.nodes.length;
    s.nodes[b].name = s.nodes[a].name;
    return { defect: "duplicate name", spec: s, names: [s.nodes[a].name] };
  }));

/** Names of the op nodes from which `target` is reachable (its op ancestors). */
function opAncestors(s: GraphSpec, target: string): string[] {
  const byName = new Map(s.nodes.map((n) => [n.name, n]));
  const seen = new Set<string>();
  const stack = [...(byName.get(target)!.inputs ?? [])];
  while (stack.length > 0) {
    const name = stack.pop()!;
    if (seen.has(name)) continue;
    seen.add(name);
    stack.push(...(byName.get(name)!.inputs ?? []));
  }
  return [...seen].filter((name) => byName.get(name)!.op !== "input");
}

property("a cycle injected into a valid graph (an ancestor made to read its descendant) names nodes on the cycle",
  validWithChoice.map(([drawn, i, j]) => {
    const s = structuredClone(drawn.spec);
    // Every random graph ends in a dense output whose ancestors include op nodes.
    const candidates = opNodes(s).filter((n) => opAncestors(s, n.name).length > 0);
    const descendant = candidates[i % candidates.length];
    const ancestors = opAncestors(s, descendant.name);
    const ancestor = s.nodes.find((n) => n.name === ancestors[j % ancestors.length])!;
    ancestor.inputs = [...(ancestor.inputs ?? []), descendant.name];
    return { defect: "cycle", spec: s, names: [ancestor.name, descendant.name] };
  }));

property("a self-loop names the node",
  validWithChoice.map(([drawn, i]) => {
    const s = structuredClone(drawn.spec);
    const victims = opNodes(s);
    const victim = victims[i % victims.length];
    victim.inputs = [...victim.inputs!, victim.name];
    return { defect: "self-loop", spec: s, names: [victim.name] };
  }), 50);

property("a missing output, or an output that is not a node, is a GraphError (naming the output given)",
  fc.tuple(validWithChoice, nameArb, fc.boolean()).map(([[drawn], name, omit]) => {
    const s = structuredClone(drawn.spec) as Partial<GraphSpec>;
    if (omit) delete s.output;
    else s.output = `${name}_absent`;
    return { defect: omit ? "no output" : "output not a node", spec: s, names: omit ? [] : [`${name}_absent`] };
  }), 50);

property("an output that is an input node is named",
  validWithChoice.map(([drawn]) => {
    const s = structuredClone(drawn.spec);
    s.output = s.nodes.find((n) => n.op === "input")!.name;
    return { defect: "output is an input", spec: s, names: [s.output] };
  }), 30);

/** Op kinds that do not exist; a few are spelled like registered kinds in another case. */
const unknownOp = fc.oneof(
  nameArb.map((s) => `op_${s}`),
  fc.constantFrom("Dense", "conv", "maxpool", "softmax", "Relu", "", " add"),
).filter((k) => !opKinds.includes(k));

property("an unknown op kind names the node",
  fc.tuple(validWithChoice, unknownOp).map(([[drawn, i], kind]) => {
    const s = structuredClone(drawn.spec);
    const victims = opNodes(s);
    const victim = victims[i % victims.length];
    victim.op = kind;
    return { defect: `unknown op ${JSON.stringify(kind)}`, spec: s, names: [victim.name] };
  }));

/** Loss names that do not exist (some close to the real ones). */
const unknownLoss = fc.oneof(nameArb.map((s) => `loss_${s}`), fc.constantFrom("MSE", "crossEntropy", "softmax", "", "mse "));

property("an unknown loss names the loss and the output node",
  fc.tuple(validWithChoice, unknownLoss).map(([[drawn], loss]) => {
    const s = structuredClone(drawn.spec);
    (s as { loss: string }).loss = loss;
    return { defect: `unknown loss ${JSON.stringify(loss)}`, spec: s, names: [loss, s.output] };
  }), 50);

property("a wrong number of inputs names the node",
  fc.record({ n: namesArb(4), width: dim(), op: fc.constantFrom("relu", "mul", "identity", "reshape", "conv2d") }).map((r) => {
    const parents = r.op === "mul" ? [r.n[0], r.n[1], r.n[2]] : [r.n[0], r.n[1]];
    return {
      defect: `${r.op} arity`,
      spec: spec([input(r.n[0], [r.width]), input(r.n[1], [r.width]), input(r.n[2], [r.width]), node(r.n[3], r.op, parents, { shape: [-1], filters: 1, kernelSize: [1, 1] })], r.n[3]),
      names: [r.n[3]],
    };
  }), 30);

// ---- bad attributes -----------------------------------------------------------------------

const notPositiveInt = fc.oneof(fc.integer({ min: -5, max: 0 }), fc.constantFrom(1.5, NaN, Infinity, "3", null, undefined));
const notNonNegativeInt = fc.oneof(fc.integer({ min: -5, max: -1 }), fc.constantFrom(0.5, NaN, "1", null));

property("bad attributes (non-positive units, filters, kernel or stride; negative padding; zero dilation; bad axes) name the node",
  fc.record({ n: namesArb(3), bad: notPositiveInt, badPad: notNonNegativeInt, which: fc.integer({ min: 0, max: 9 }), axisOffset: fc.integer({ min: 0, max: 3 }) }).map((r) => {
    const image = [input(r.n[0], [2, 6, 6]), node(r.n[1], "conv2d", [r.n[0]], { filters: 2, kernelSize: [1, 1] })];
    const vector = withParams(r.n, 4);
    const conv = (attrs: Record<string, unknown>) => spec([...image, node(r.n[2], "conv2d", [r.n[1]], { filters: 2, kernelSize: [3, 3], ...attrs })], r.n[2]);
    const pool = (attrs: Record<string, unknown>) => spec([...image, node(r.n[2], "avgPool2d", [r.n[1]], { kernelSize: [2, 2], strides: [2, 2], ...attrs })], r.n[2]);
    const cases: [string, GraphSpec][] = [
      ["dense units", spec([...vector, node(r.n[2], "dense", [r.n[1]], { units: r.bad })], r.n[2])],
      ["conv filters", conv({ filters: r.bad })],
      ["conv kernel", conv({ kernelSize: [3, r.bad] })],
      ["conv stride", conv({ strides: [r.bad, 1] })],
      ["conv padding", conv({ padding: [0, r.badPad] })],
      ["conv dilation", conv({ dilation: [r.bad, r.bad] })],
      ["conv groups", conv({ groups: r.bad })],
      ["pool stride", pool({ strides: [1, r.bad] })],
      ["pool padding over half the window", pool({ padding: [2, 0] })],
      ["concat or slice axis", r.axisOffset % 2 === 0
        ? spec([...vector, node(r.n[2], "concat", [r.n[1], r.n[0]], { axis: 1 + r.axisOffset })], r.n[2])
        : spec([...vector, node(r.n[2], "slice", [r.n[1]], { axis: -r.axisOffset, begin: 0, size: 1 })], r.n[2])],
    ];
    const [defect, s] = cases[r.which];
    return { defect, spec: s, names: [r.n[2]] };
  }), 150);

property("input nodes with a bad shape or with parents are named",
  fc.record({ n: namesArb(3), bad: fc.oneof(fc.constant(undefined), fc.constant([]).map(() => [0]), fc.constantFrom([-1], [2, 1.5], ["3"], "4")), parents: fc.boolean() })
    .map((r) => ({
      defect: r.parents ? "input with parents" : "input shape",
      spec: r.parents
        ? spec([input(r.n[0], [3]), { name: r.n[1], op: "input", shape: [3], inputs: [r.n[0]] }, node(r.n[2], "relu", [r.n[1]])], r.n[2])
        : spec([{ name: r.n[1], op: "input", shape: r.bad as number[] }, node(r.n[2], "relu", [r.n[1]])], r.n[2]),
      names: [r.n[1]],
    })), 50);

// ---- bad weight sharing -------------------------------------------------------------------

property("bad shareParamsWith (unknown node, later node, itself, another kind, other shapes, unknown role) names the node",
  fc.record({ n: namesArb(5), width: dim(4), other: dim(4), which: fc.integer({ min: 0, max: 6 }), ghost: nameArb }).map((r) => {
    const base = [...withParams(r.n, r.width), node(r.n[2], "tanh", [r.n[1]])];
    const sharer = (share: NodeSpec["shareParamsWith"], units = r.width): NodeSpec => ({ ...node(r.n[3], "dense", [r.n[2]], { units }), shareParamsWith: share });
    const cases: [string, NodeSpec[]][] = [
      ["unknown node", [...base, sharer(`${r.ghost}_none`)]],
      ["unknown node (object form)", [...base, sharer({ node: `${r.ghost}_none`, roles: { weight: "weight" } })]],
      ["a later node", [...base, sharer(r.n[4]), node(r.n[4], "dense", [r.n[2]], { units: r.width })]],
      ["itself", [...base, sharer(r.n[3])]],
      ["another kind", [...base, sharer(r.n[2])]],
      ["other shapes", [...base, sharer(r.n[1], r.width + r.other)]],
      ["unknown role", [...base, sharer({ node: r.n[1], roles: { weight: `${r.ghost}_role` } })]],
    ];
    const [defect, nodes] = cases[r.which];
    return { defect: `shareParamsWith ${defect}`, spec: spec(nodes, r.n[3]), names: [r.n[3]] };
  }), 100);

errors("malformed specs (no nodes array, unnamed nodes, non-string ops, non-array inputs, an op without parents) are GraphErrors", () => {
  const cases: Invalid[] = [
    { defect: "null spec", spec: null, names: [] },
    { defect: "no nodes", spec: { output: "a", loss: "mse" }, names: [] },
    { defect: "null node", spec: { nodes: [null], output: "a", loss: "mse" }, names: [] },
    { defect: "unnamed node", spec: { nodes: [{ op: "input", shape: [1] }], output: "a", loss: "mse" }, names: [] },
    { defect: "empty name", spec: { nodes: [{ name: "", op: "input", shape: [1] }], output: "a", loss: "mse" }, names: [] },
    { defect: "op not a string", spec: { nodes: [{ name: "a", op: 3, shape: [1] }], output: "a", loss: "mse" }, names: ["a"] },
    { defect: "inputs not an array", spec: { nodes: [{ name: "x", op: "input", shape: [2] }, { name: "a", op: "relu", inputs: "x" }], output: "a", loss: "mse" }, names: ["a"] },
    { defect: "an op without parents", spec: { nodes: [{ name: "a", op: "concat", inputs: [] }], output: "a", loss: "mse" }, names: ["a"] },
    { defect: "cross-entropy on an image", spec: spec([input("x", [1, 3, 3]), node("a", "relu", ["x"])], "a", "softmaxCrossEntropy"), names: ["a"] },
  ];
  for (const c of cases) expectTypedError(c, "reference-f64");
});

// ---- valid specs --------------------------------------------------------------------------

errors("every random valid spec (DAGs, CNNs, RNNs, both losses) builds, on both backends, with its nodes in topological order", () => {
  fc.assert(
    fc.property(graphArbitrary(), backendArb, (drawn, backend) => {
      let graph: Graph;
      try {
        graph = new Graph(drawn.spec, { seed: drawn.seed, backend });
      } catch (error) {
        throw new Error(`a valid spec failed to build: ${(error as Error).message}\n${describeGraph(drawn)}`);
      }
      try {
        assert.equal(new Set(graph.nodes.map((n) => n.name)), new Set(drawn.spec.nodes.map((n) => n.name)));
        for (const n of graph.nodes) for (const p of n.inputs) assert.ok(p.index < n.index, `${p.name} comes before ${n.name}`);
      } finally {
        graph.dispose();
      }
    }),
    { numRuns: 150 },
  );
});

errors.run();
