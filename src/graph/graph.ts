// A computational graph: nodes in topological order, each with its op, parents and
// parameters (possibly shared). Built from a declarative GraphSpec, which is also what is
// serialised; the builder in builder.ts writes specs for you.
import { ShapeError } from "../backend/errors.js";
import type { Backend } from "../backend/kernels.js";
import type { BackendName } from "../backend/load.js";
import { Random } from "../random.js";
import { formatShape, resolveBackend, sizeOf, Tensor, type Shape } from "../tensor.js";
import { GraphError } from "./errors.js";
import { initialValues } from "./init.js";
import { lossNames, type LossName } from "./loss.js";
import type { Op, ParamSpec } from "./op.js";
import { createOp } from "./registry.js";

/** One node of a serialisable graph description: its name, op kind, parents and attributes. */
export interface NodeSpec {
  name: string;
  /** Op kind ("input", "dense", "conv2d", "relu", ...). */
  op: string;
  /** Parent node names, in the op's input order. */
  inputs?: string[];
  attrs?: Record<string, unknown>;
  /** Per-sample shape; inputs only. */
  shape?: number[];
  /**
   * Weight sharing: reuse the parameters of another node, all of them (a node name: same op
   * kind and parameter shapes) or some (`roles` maps this node's parameter roles to the
   * other node's; unmapped roles get new parameters).
   */
  shareParamsWith?: string | { node: string; roles: Record<string, string> };
}

/** A graph as plain JSON data: the nodes in order, the output node and the loss. `new Graph(spec)` builds it. */
export interface GraphSpec {
  nodes: NodeSpec[];
  /** The node the loss reads; its value units are clamped to the target during learning. */
  output: string;
  loss: LossName;
}

/** How a graph is built: the initialisation seed and the backend its parameters live on. */
export interface BuildOptions {
  /** Seed for parameter initialisation (default 0). */
  seed?: number;
  backend?: Backend | BackendName;
}

/** A trainable tensor, owned by one or more nodes. */
export class Parameter {
  /** Nodes whose op reads this parameter (more than one when shared). */
  readonly users: GraphNode[] = [];
  constructor(
    readonly name: string,
    readonly shape: Shape,
    readonly spec: ParamSpec,
    public tensor: Tensor,
  ) {}
  /** Number of values (the product of the shape). */
  get size(): number {
    return sizeOf(this.shape);
  }
}

/** A node of a built graph: its op, its parents and children, its parameters and per-sample shape. */
export interface GraphNode {
  readonly name: string;
  /** Position in topological order. */
  readonly index: number;
  readonly kind: string;
  readonly op: Op | null;
  readonly inputs: readonly GraphNode[];
  readonly children: GraphNode[];
  readonly params: readonly Parameter[];
  /** The op's role for each parameter ("weight", "bias", ...), parallel to params. */
  readonly paramRoles: readonly string[];
  /** Per-sample shape of the node's value, prediction and error units. */
  readonly shape: Shape;
  readonly size: number;
  readonly isInput: boolean;
  readonly spec: NodeSpec;
}

/** Kahn's algorithm; a leftover node lies on (or behind) a cycle. */
function topologicalOrder(spec: GraphSpec): NodeSpec[] {
  const byName = new Map(spec.nodes.map((n) => [n.name, n]));
  const indegree = new Map(spec.nodes.map((n) => [n.name, (n.inputs ?? []).length]));
  const children = new Map<string, string[]>(spec.nodes.map((n) => [n.name, []]));
  for (const n of spec.nodes) for (const parent of n.inputs ?? []) children.get(parent)!.push(n.name);
  const ready = spec.nodes.filter((n) => indegree.get(n.name) === 0).map((n) => n.name);
  const order: NodeSpec[] = [];
  while (ready.length > 0) {
    const name = ready.shift()!;
    order.push(byName.get(name)!);
    for (const child of children.get(name)!) {
      const left = indegree.get(child)! - 1;
      indegree.set(child, left);
      if (left === 0) ready.push(child);
    }
  }
  if (order.length < spec.nodes.length) {
    const stuck = spec.nodes.filter((n) => indegree.get(n.name)! > 0).map((n) => n.name);
    throw new GraphError(stuck[0], `the graph has a cycle through ${stuck.map((s) => `"${s}"`).join(", ")}; graphs trained by backprop must be acyclic`);
  }
  return order;
}

function validateNames(spec: GraphSpec): void {
  if (!spec || !Array.isArray(spec.nodes)) throw new GraphError(undefined, "a graph spec needs a nodes array");
  const seen = new Set<string>();
  for (const n of spec.nodes) {
    if (!n || typeof n.name !== "string" || n.name.length === 0)
      throw new GraphError(undefined, `every node needs a non-empty name (got ${JSON.stringify(n?.name)})`);
    if (seen.has(n.name)) throw new GraphError(n.name, "duplicate node name");
    seen.add(n.name);
    if (typeof n.op !== "string") throw new GraphError(n.name, `op must be a string, got ${JSON.stringify(n.op)}`);
  }
  for (const n of spec.nodes) {
    if (n.inputs !== undefined && !Array.isArray(n.inputs)) throw new GraphError(n.name, "inputs must be an array of node names");
    for (const parent of n.inputs ?? [])
      if (!seen.has(parent)) throw new GraphError(n.name, `unknown parent "${parent}"`);
    if (n.shareParamsWith !== undefined) {
      const owner = typeof n.shareParamsWith === "string" ? n.shareParamsWith : n.shareParamsWith?.node;
      if (typeof owner !== "string" || !seen.has(owner))
        throw new GraphError(n.name, `shareParamsWith names unknown node ${JSON.stringify(owner)}`);
    }
  }
  if (typeof spec.output !== "string" || !seen.has(spec.output))
    throw new GraphError(undefined, spec.output === undefined ? "the graph has no output node" : `output "${spec.output}" is not a node`);
  if (!lossNames.includes(spec.loss))
    throw new GraphError(spec.output, `unknown loss "${String(spec.loss)}" (expected ${lossNames.join(" or ")})`);
}

/**
 * A checked computational graph with its parameters in one backend's memory: the model that
 * backprop and the predictive coding algorithms train. Build it with `GraphBuilder`,
 * `sequential` or from a `GraphSpec`; free its parameters with `dispose()`.
 */
export class Graph {
  readonly nodes: readonly GraphNode[];
  readonly inputs: readonly GraphNode[];
  readonly output: GraphNode;
  readonly loss: LossName;
  readonly parameters: readonly Parameter[];
  readonly backend: Backend;
  readonly spec: GraphSpec;
  private readonly byName: Map<string, GraphNode>;

  constructor(spec: GraphSpec, options: BuildOptions = {}) {
    validateNames(spec);
    const order = topologicalOrder(spec);
    this.backend = resolveBackend(options.backend);
    const random = new Random(options.seed ?? 0);
    const byName = new Map<string, GraphNode>();
    const parameters: Parameter[] = [];
    const nodes: GraphNode[] = [];
    try {
      for (const ns of order) {
        const inputs = (ns.inputs ?? []).map((p) => byName.get(p)!);
        const node = ns.op === "input" ? this.inputNode(ns, nodes.length) : this.opNode(ns, inputs, nodes.length, byName, parameters, random);
        for (const parent of inputs) parent.children.push(node);
        byName.set(ns.name, node);
        nodes.push(node);
      }
    } catch (error) {
      for (const p of parameters) p.tensor.dispose();
      throw error;
    }
    this.nodes = nodes;
    this.byName = byName;
    this.inputs = nodes.filter((n) => n.isInput);
    this.output = byName.get(spec.output)!;
    this.parameters = parameters;
    this.loss = spec.loss;
    this.spec = structuredClone(spec);
    if (this.output.isInput) this.fail(this.output.name, "the output must be computed by an op, not an input");
    if (this.inputs.length === 0) this.fail(undefined, "the graph has no input node");
    if (spec.loss === "softmaxCrossEntropy" && this.output.shape.length !== 1)
      this.fail(this.output.name, `softmaxCrossEntropy needs a vector output per sample, got ${formatShape(this.output.shape)}`);
  }

  private fail(node: string | undefined, message: string): never {
    this.dispose();
    throw new GraphError(node, message);
  }

  private inputNode(ns: NodeSpec, index: number): GraphNode {
    if ((ns.inputs ?? []).length > 0) throw new GraphError(ns.name, "an input node has no parents");
    const shape = ns.shape;
    if (!Array.isArray(shape) || shape.some((d) => !Number.isInteger(d) || d < 1))
      throw new ShapeError(`node "${ns.name}" (input): shape must be a list of positive sizes, got ${JSON.stringify(shape)}`);
    return {
      name: ns.name, index, kind: "input", op: null, inputs: [], children: [], params: [], paramRoles: [], shape: [...shape],
      size: sizeOf(shape), isInput: true, spec: ns,
    };
  }

  private opNode(ns: NodeSpec, inputs: GraphNode[], index: number, byName: Map<string, GraphNode>,
    parameters: Parameter[], random: Random): GraphNode {
    const op = createOp(ns.op, ns.attrs ?? {}, ns.name);
    const [min, max] = typeof op.arity === "number" ? [op.arity, op.arity] : op.arity;
    if (inputs.length < min || inputs.length > max)
      throw new GraphError(ns.name, `${ns.op} takes ${min === max ? min : `${min} to ${max}`} inputs, got ${inputs.length}`);
    const inputShapes = inputs.map((n) => n.shape);
    let shape: Shape;
    let specs: ParamSpec[];
    try {
      shape = op.outputShape(inputShapes);
      specs = op.paramSpecs(inputShapes);
    } catch (error) {
      throw GraphError.wrap(ns.name, ns.op, error);
    }
    const shared = this.sharedParams(ns, specs, byName);
    const params = specs.map((s, i) => {
      if (shared[i]) return shared[i]!;
      const values = initialValues(s.init, sizeOf(s.shape), random);
      const tensor = new Tensor(s.shape, this.backend).assign(values);
      const p = new Parameter(`${ns.name}.${s.role}`, s.shape, s, tensor);
      parameters.push(p);
      return p;
    });
    const node: GraphNode = {
      name: ns.name, index, kind: ns.op, op, inputs, children: [], params, paramRoles: specs.map((s) => s.role), shape, size: sizeOf(shape),
      isInput: false, spec: ns,
    };
    for (const p of params) p.users.push(node);
    return node;
  }

  /** For each of the node's parameter specs, the owner's parameter it shares, if any. */
  private sharedParams(ns: NodeSpec, specs: ParamSpec[], byName: Map<string, GraphNode>): (Parameter | undefined)[] {
    const share = ns.shareParamsWith;
    if (share === undefined) return specs.map(() => undefined);
    const ownerName = typeof share === "string" ? share : share.node;
    const owner = byName.get(ownerName);
    if (!owner) throw new GraphError(ns.name, `shareParamsWith "${ownerName}" must come earlier in topological order`);
    const roles: Record<string, string> =
      typeof share === "string" ? Object.fromEntries(specs.map((s) => [s.role, s.role])) : share.roles ?? {};
    if (typeof share === "string" && (owner.kind !== ns.op || owner.params.length !== specs.length))
      throw new ShapeError(`node "${ns.name}" (${ns.op}): cannot share parameters with "${owner.name}" (${owner.kind}): ` +
        `${owner.params.map((p) => formatShape(p.shape)).join(", ") || "none"} vs ${specs.map((s) => formatShape(s.shape)).join(", ") || "none"}`);
    return specs.map((s) => {
      const ownerRole = roles[s.role];
      if (ownerRole === undefined) return undefined;
      const p = owner.params[owner.paramRoles.indexOf(ownerRole)];
      if (!p) throw new GraphError(ns.name, `shareParamsWith: "${owner.name}" has no parameter "${ownerRole}"`);
      if (formatShape(p.shape) !== formatShape(s.shape))
        throw new ShapeError(`node "${ns.name}" (${ns.op}): parameter ${s.role} ${formatShape(s.shape)} cannot share "${p.name}" ${formatShape(p.shape)}`);
      return p;
    });
  }

  /** The node of that name; throws a GraphError naming it when there is none. */
  node(name: string): GraphNode {
    const node = this.byName.get(name);
    if (!node) throw new GraphError(name, "no such node");
    return node;
  }

  /** The parameter of that name (e.g. "dense1.weight"); throws a GraphError when there is none. */
  parameter(name: string): Parameter {
    const p = this.parameters.find((q) => q.name === name);
    if (!p) throw new GraphError(undefined, `no parameter named "${name}"`);
    return p;
  }

  /** Total number of trainable scalars (shared parameters counted once). */
  get parameterCount(): number {
    return this.parameters.reduce((s, p) => s + p.size, 0);
  }

  /** One row per node: name, op, shape, parents, children, parameter count. */
  describe(): { name: string; op: string; shape: number[]; inputs: string[]; children: string[]; params: number; shared: boolean }[] {
    return this.nodes.map((n) => ({
      name: n.name,
      op: n.kind,
      shape: [...n.shape],
      inputs: n.inputs.map((p) => p.name),
      children: n.children.map((c) => c.name),
      params: n.params.reduce((s, p) => s + p.size, 0),
      shared: n.params.some((p) => p.users.length > 1),
    }));
  }

  /** A Keras-style table of the graph. */
  summary(): string {
    const rows = this.describe().map((r) => [
      `${r.name} (${r.op})`,
      `(batch, ${r.shape.join(", ")})`,
      String(r.params) + (r.shared ? " (shared)" : ""),
      r.inputs.join(", "),
    ]);
    const header = ["Node (op)", "Output shape", "Params", "Inputs"];
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
    const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join("  ").trimEnd();
    const rule = "=".repeat(widths.reduce((a, b) => a + b + 2, -2));
    return [
      rule,
      line(header),
      rule,
      ...rows.map(line),
      rule,
      `Total params: ${this.parameterCount.toLocaleString("en-US")}`,
      `Output: ${this.output.name}, loss: ${this.loss}, backend: ${this.backend.name}`,
      rule,
    ].join("\n");
  }

  /** Copies of every parameter's values, by name. */
  getWeights(): Map<string, Float64Array> {
    return new Map(this.parameters.map((p) => [p.name, Float64Array.from(p.tensor.dataSync())]));
  }

  /** Sets parameters from a map by name; every name and size is checked before anything is written. */
  setWeights(weights: Map<string, ArrayLike<number>>): void {
    for (const [name, values] of weights) {
      const p = this.parameters.find((q) => q.name === name);
      if (!p) throw new GraphError(undefined, `setWeights: the graph has no parameter "${name}"`);
      if (values.length !== p.size)
        throw new ShapeError(`setWeights: parameter "${name}" has shape ${formatShape(p.shape)} (${p.size} values), got ${values.length}`);
    }
    for (const [name, values] of weights) this.parameter(name).tensor.assign(values);
  }

  /** The same graph and weights on another backend (e.g. the float64 reference). */
  to(backend: Backend | BackendName): Graph {
    const copy = new Graph(this.spec, { backend });
    copy.setWeights(this.getWeights());
    return copy;
  }

  /** Frees every parameter tensor. */
  dispose(): void {
    for (const p of this.parameters ?? []) p.tensor.dispose();
  }
}
