// The parameters of a PC graph: one weight per edge, W_st in R^{n_s x n_t} (row = the
// predicting unit, column = the predicted unit, as a dense layer's weight), and one bias per
// group with incoming edges. Masked weights are zero and stay zero: their gradients are
// masked, and weights set from outside are checked (docs/pc-graphs.md).
import { InvalidArgumentError, ShapeError } from "../../backend/errors.js";
import type { Backend } from "../../backend/kernels.js";
import type { BackendName } from "../../backend/load.js";
import { Parameter } from "../../graph/graph.js";
import { initialValues } from "../../graph/init.js";
import type { Initializer } from "../../graph/op.js";
import { Random } from "../../random.js";
import { resolveBackend, Tensor } from "../../tensor.js";
import { resolveTopology, topologyToSpec, type Edge, type Group, type PCGraphSpec, type Topology } from "./topology.js";

/** Initial weights: a name (fan-in = every unit predicting the target group) or a fixed distribution. */
export type WeightInit =
  | "glorotUniform" | "heNormal" | "heUniform"
  | { kind: "normal"; std: number }
  | { kind: "uniform"; low: number; high: number };

/** How a PC graph model's parameters are created: seed, backend and weight initialiser. */
export interface PCGraphModelOptions {
  /** Seed of the initial weights (default 0). */
  seed?: number;
  backend?: Backend | BackendName;
  /** Default "glorotUniform"; PRECO uses { kind: "normal", std: 0.05 }. Biases start at 0. */
  weightInit?: WeightInit;
}

function initializer(init: WeightInit, fanIn: number, fanOut: number): Initializer {
  if (init === "glorotUniform") return { kind: "glorotUniform", fanIn, fanOut };
  if (init === "heNormal") return { kind: "heNormal", fanIn };
  if (init === "heUniform") return { kind: "heUniform", fanIn };
  if (init && typeof init === "object" && init.kind === "normal" && Number.isFinite(init.std) && init.std >= 0) return { kind: "normal", std: init.std };
  if (init && typeof init === "object" && init.kind === "uniform" && Number.isFinite(init.low) && Number.isFinite(init.high) && init.low <= init.high)
    return { kind: "uniform", low: init.low, high: init.high };
  throw new InvalidArgumentError(`weightInit must be "glorotUniform", "heNormal", "heUniform", { kind: "normal", std } or { kind: "uniform", low, high }, got ${JSON.stringify(init)}`);
}

/** A PC graph's parameters: one weight matrix per edge (masked entries stay 0) and a bias per predicted group. */
export class PCGraphModel {
  readonly topology: Topology;
  readonly backend: Backend;
  readonly parameters: readonly Parameter[];
  /** The spec the model was built from (normalised). */
  readonly spec: PCGraphSpec;
  private readonly weights: Tensor[];
  private readonly biases: (Tensor | null)[];
  private readonly masks: (Tensor | null)[];
  private readonly byName: Map<string, Parameter>;

  constructor(spec: PCGraphSpec, options: PCGraphModelOptions = {}) {
    this.topology = resolveTopology(spec);
    this.spec = topologyToSpec(this.topology);
    const init = options.weightInit ?? "glorotUniform";
    const fanIns = this.topology.groups.map((g) => g.inEdges.reduce((s, e) => s + e.from.size, 0));
    for (const e of this.topology.edges) initializer(init, fanIns[e.to.index], e.to.size); // validate before allocating
    this.backend = resolveBackend(options.backend);
    const random = new Random(options.seed ?? 0);
    const parameters: Parameter[] = [];
    this.weights = [];
    this.masks = [];
    this.biases = [];
    try {
      for (const e of this.topology.edges) {
        const shape = [e.from.size, e.to.size];
        const spec = { role: "weight", shape, init: initializer(init, fanIns[e.to.index], e.to.size) };
        const values = initialValues(spec.init, e.from.size * e.to.size, random);
        if (e.mask) for (let i = 0; i < values.length; i++) values[i] *= e.mask[i];
        const tensor = this.track(new Tensor(shape, this.backend)).assign(values);
        this.weights.push(tensor);
        parameters.push(new Parameter(e.weightName, shape, spec, tensor));
        this.masks.push(e.mask ? this.track(new Tensor(shape, this.backend)).assign(e.mask) : null);
      }
      for (const g of this.topology.groups) {
        if (!g.bias) {
          this.biases.push(null);
          continue;
        }
        const tensor = this.track(new Tensor([g.size], this.backend));
        this.backend.fill(g.size, 0, tensor.address);
        this.biases.push(tensor);
        parameters.push(new Parameter(`${g.name}.bias`, [g.size], { role: "bias", shape: [g.size], init: { kind: "zeros" } }, tensor));
      }
    } catch (error) {
      for (const t of this.allocated) t.dispose();
      throw error;
    }
    this.parameters = parameters;
    this.byName = new Map(parameters.map((p) => [p.name, p]));
  }

  private readonly allocated: Tensor[] = [];
  private track(t: Tensor): Tensor {
    this.allocated.push(t);
    return t;
  }

  /** The groups, in topology order. */
  get groups(): readonly Group[] {
    return this.topology.groups;
  }

  /** The edges, in spec order. */
  get edges(): readonly Edge[] {
    return this.topology.edges;
  }

  /** The group called `name`; throws an InvalidArgumentError listing the groups otherwise. */
  group(name: string): Group {
    const g = this.topology.groups.find((x) => x.name === name);
    if (!g) throw new InvalidArgumentError(`unknown group ${JSON.stringify(name)} (groups: ${this.topology.groups.map((x) => x.name).join(", ")})`);
    return g;
  }

  /** The weight tensor [from.size, to.size] of an edge. */
  weight(edge: Edge): Tensor {
    return this.weights[edge.index];
  }

  /** The 0/1 mask of a masked edge (null when every weight exists). */
  mask(edge: Edge): Tensor | null {
    return this.masks[edge.index];
  }

  /** The bias of a group's prediction, or null when it has none. */
  bias(group: Group): Tensor | null {
    return this.biases[group.index];
  }

  /** The parameter of that name; throws when there is none. */
  parameter(name: string): Parameter {
    const p = this.byName.get(name);
    if (!p) throw new InvalidArgumentError(`the PC graph has no parameter ${JSON.stringify(name)}`);
    return p;
  }

  /** Number of trainable values (masked weights excluded). */
  get parameterCount(): number {
    return this.parameters.reduce((s, p) => s + p.size, 0);
  }

  /** Copies of every parameter's values by name. */
  getWeights(): Map<string, Float64Array> {
    return new Map(this.parameters.map((p) => [p.name, Float64Array.from(p.tensor.dataSync())]));
  }

  /**
   * Sets parameters by name (all of them, or the ones given when `partial`). Every value is
   * checked first — known name, size, finite, zero where the edge's mask is 0 — so a refused
   * call changes nothing.
   */
  setWeights(weights: Map<string, ArrayLike<number>>, options: { partial?: boolean } = {}): void {
    for (const name of weights.keys()) this.parameter(name);
    for (const p of this.parameters) {
      const values = weights.get(p.name);
      if (!values) {
        if (options.partial) continue;
        throw new InvalidArgumentError(`setWeights: no values for parameter "${p.name}"`);
      }
      if (values.length !== p.size) throw new ShapeError(`setWeights: parameter "${p.name}" has ${p.size} values, got ${values.length}`);
      const edge = this.topology.edges.find((e) => e.weightName === p.name);
      for (let i = 0; i < values.length; i++) {
        if (!Number.isFinite(values[i])) throw new InvalidArgumentError(`setWeights: parameter "${p.name}" has ${values[i]} at entry ${i}`);
        if (edge?.mask && edge.mask[i] === 0 && values[i] !== 0) {
          const row = Math.floor(i / edge.to.size);
          throw new InvalidArgumentError(`setWeights: edge ${edge.from.name}->${edge.to.name} has ${values[i]} at [${row}, ${i - row * edge.to.size}], where its mask is 0` +
            `${edge.from === edge.to && row === i - row * edge.to.size ? " (no neuron predicts itself)" : ""}`);
        }
      }
    }
    for (const p of this.parameters) {
      const values = weights.get(p.name);
      if (values) p.tensor.assign(values);
    }
  }

  /** Frees every parameter tensor. */
  dispose(): void {
    for (const t of this.allocated) t.dispose();
  }
}
