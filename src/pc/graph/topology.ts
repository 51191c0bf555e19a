// The topology of a PC graph as data: vertex groups (name, size, activation) and edges
// between any two groups — both directions, cycles, a group to itself (with the diagonal
// masked: no neuron predicts itself). Given as an edge list, built by `fullyConnected` or
// `hierarchical`, or cut from a 0/1 mask over one N x N matrix (docs/pc-graphs.md).
import { InvalidArgumentError, PcgraphError, ShapeError } from "../../backend/errors.js";

/** Activation f of a group: its value enters the predictions of other groups as f(x). */
export type GroupActivation = "identity" | "tanh" | "relu" | "leakyRelu" | "sigmoid" | "softplus" | "gelu" | "hardSigmoid";
/** Every `GroupActivation`. */
export const groupActivations: readonly GroupActivation[] = ["identity", "tanh", "relu", "leakyRelu", "sigmoid", "softplus", "gelu", "hardSigmoid"];

/** A group of a PC graph spec: its name, size (units) and activation, and whether its prediction has a bias. */
export interface GroupSpec {
  name: string;
  size: number;
  /** Default "identity". */
  activation?: GroupActivation;
  /** Negative slope of leakyRelu (default 0.01). */
  slope?: number;
  /** A bias in the group's prediction (default: true when the group has incoming edges). */
  bias?: boolean;
}

/** An edge of a PC graph spec: which group predicts which, through which weights. */
export interface EdgeSpec {
  /** The predicting group. */
  from: string;
  /** The predicted group. */
  to: string;
  /**
   * Which weights exist: from.size x to.size values, row-major ([i, j] = 1 when unit i of
   * `from` predicts unit j of `to`). Omitted: all of them (minus the diagonal of a self edge).
   */
  mask?: ArrayLike<number>;
}

/** A PC graph as data: its groups and the edges between them (any direction, cycles, self edges). */
export interface PCGraphSpec {
  groups: GroupSpec[];
  edges: EdgeSpec[];
}

/** A topology that cannot be built; names the group (or edge) at fault. */
export class TopologyError extends PcgraphError {
  constructor(readonly group: string | undefined, message: string) {
    super(group === undefined ? message : `group "${group}": ${message}`);
  }
}

/** A group of a resolved topology: its units' place among all N units and its edges in and out. */
export interface Group {
  readonly index: number;
  readonly name: string;
  readonly size: number;
  readonly activation: GroupActivation;
  readonly slope: number;
  readonly bias: boolean;
  /** Edges into this group (its prediction's terms), in spec order. */
  readonly inEdges: Edge[];
  /** Edges out of this group (the predictions it takes part in), in spec order. */
  readonly outEdges: Edge[];
}

/** An edge of a resolved topology: the two groups, its weight mask and its parameter name. */
export interface Edge {
  readonly index: number;
  readonly from: Group;
  readonly to: Group;
  /** from.size x to.size 0/1 entries, or null when every weight exists. */
  readonly mask: Uint8Array | null;
  /** Parameter name of the weight, "from->to.weight". */
  readonly weightName: string;
}

/** A checked PC graph topology: groups with their unit ranges and edges. */
export interface Topology {
  readonly groups: readonly Group[];
  readonly edges: readonly Edge[];
  /** Total number of units N. */
  readonly units: number;
}

const namePattern = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function edgeName(from: string, to: string): string {
  return `${from}->${to}`;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Checks a spec and resolves it: groups with their edges, masks as bytes (self edges masked). */
export function resolveTopology(spec: PCGraphSpec): Topology {
  if (!isObject(spec) || !Array.isArray(spec.groups) || !Array.isArray(spec.edges))
    throw new TopologyError(undefined, "a PC graph spec needs { groups: [...], edges: [...] }");
  if (spec.groups.length === 0) throw new TopologyError(undefined, "a PC graph needs at least one group");
  const groups: Group[] = [];
  const byName = new Map<string, Group>();
  for (const g of spec.groups) {
    if (!isObject(g) || typeof g.name !== "string" || !namePattern.test(g.name))
      throw new TopologyError(undefined, `every group needs a name of letters, digits and _ (not starting with a digit), got ${JSON.stringify((g as GroupSpec)?.name)}`);
    if (byName.has(g.name)) throw new TopologyError(g.name, "duplicate group name");
    if (!Number.isInteger(g.size) || g.size < 1) throw new TopologyError(g.name, `size must be an integer >= 1, got ${JSON.stringify(g.size)}`);
    const activation = g.activation ?? "identity";
    if (!groupActivations.includes(activation))
      throw new TopologyError(g.name, `unknown activation ${JSON.stringify(activation)} (expected ${groupActivations.join(", ")})`);
    if (g.slope !== undefined && (activation !== "leakyRelu" || !Number.isFinite(g.slope)))
      throw new TopologyError(g.name, `slope applies to leakyRelu only and must be finite, got ${JSON.stringify(g.slope)} with ${activation}`);
    if (g.bias !== undefined && typeof g.bias !== "boolean") throw new TopologyError(g.name, `bias must be true or false, got ${JSON.stringify(g.bias)}`);
    const group: Group = {
      index: groups.length, name: g.name, size: g.size, activation, slope: g.slope ?? 0.01, bias: g.bias ?? true, inEdges: [], outEdges: [],
    };
    groups.push(group);
    byName.set(g.name, group);
  }
  const edges: Edge[] = [];
  const seen = new Set<string>();
  for (const e of spec.edges) {
    if (!isObject(e)) throw new TopologyError(undefined, `every edge needs { from, to }, got ${JSON.stringify(e)}`);
    const from = byName.get(e.from as string);
    const to = byName.get(e.to as string);
    if (!from) throw new TopologyError(String(e.from), `unknown group in edge ${JSON.stringify(e.from)} -> ${JSON.stringify(e.to)} (groups: ${groups.map((g) => g.name).join(", ")})`);
    if (!to) throw new TopologyError(String(e.to), `unknown group in edge ${JSON.stringify(e.from)} -> ${JSON.stringify(e.to)} (groups: ${groups.map((g) => g.name).join(", ")})`);
    const name = edgeName(from.name, to.name);
    if (seen.has(name)) throw new TopologyError(from.name, `edge ${name} appears twice`);
    seen.add(name);
    const mask = edgeMask(from, to, e.mask);
    const edge: Edge = { index: edges.length, from, to, mask, weightName: `${name}.weight` };
    edges.push(edge);
    from.outEdges.push(edge);
    to.inEdges.push(edge);
  }
  for (const g of groups) {
    if (g.inEdges.length === 0 && g.outEdges.length === 0) throw new TopologyError(g.name, "the group has no edges");
    if (g.inEdges.length === 0 && spec.groups[g.index].bias === true)
      throw new TopologyError(g.name, "bias: true, but the group has no incoming edges (no prediction to add a bias to)");
    if (g.inEdges.length === 0) (g as { bias: boolean }).bias = false;
  }
  return { groups, edges, units: groups.reduce((s, g) => s + g.size, 0) };
}

function edgeMask(from: Group, to: Group, given: ArrayLike<number> | undefined): Uint8Array | null {
  const name = edgeName(from.name, to.name);
  const self = from === to;
  if (given === undefined) {
    if (!self) return null;
    if (from.size === 1) throw new TopologyError(from.name, `self edge ${name} on a group of one unit has no weights (no neuron predicts itself)`);
    const mask = new Uint8Array(from.size * from.size).fill(1);
    for (let i = 0; i < from.size; i++) mask[i * from.size + i] = 0;
    return mask;
  }
  if (typeof given !== "object" || typeof given.length !== "number")
    throw new TopologyError(from.name, `mask of edge ${name} must be an array of 0/1 values`);
  const expected = from.size * to.size;
  if (given.length !== expected)
    throw new ShapeError(`group "${from.name}": mask of edge ${name} has ${given.length} entries, expected ${from.size} x ${to.size} = ${expected}`);
  const mask = new Uint8Array(expected);
  let full = true;
  for (let i = 0; i < expected; i++) {
    const v = given[i];
    if (v !== 0 && v !== 1) throw new TopologyError(from.name, `mask of edge ${name} has ${JSON.stringify(v)} at entry ${i}; entries are 0 or 1`);
    mask[i] = v;
    if (v === 0) full = false;
  }
  if (self)
    for (let i = 0; i < from.size; i++)
      if (mask[i * from.size + i] !== 0)
        throw new TopologyError(from.name, `mask of self edge ${name} has 1 on the diagonal at unit ${i}: no neuron predicts itself`);
  if (!mask.includes(1)) throw new TopologyError(from.name, `mask of edge ${name} is all zeros (leave the edge out instead)`);
  return full && !self ? null : mask;
}

/** Groups given as [name, size, activation?] tuples or specs. */
export type GroupList = (GroupSpec | [string, number, GroupActivation?])[];

function groupSpecs(groups: GroupList): GroupSpec[] {
  if (!Array.isArray(groups)) throw new TopologyError(undefined, "groups must be an array");
  return groups.map((g) => (Array.isArray(g) ? { name: g[0], size: g[1], ...(g[2] ? { activation: g[2] } : {}) } : { ...g }));
}

/**
 * Every group predicts every group, itself included (diagonal masked): the fully connected
 * graph of arXiv 2201.13180. `selfEdges: false` leaves out edges within a group.
 */
export function fullyConnected(groups: GroupList, options: { selfEdges?: boolean } = {}): PCGraphSpec {
  const specs = groupSpecs(groups);
  const edges: EdgeSpec[] = [];
  for (const from of specs)
    for (const to of specs) {
      if (from === to && (options.selfEdges === false || from.size < 2)) continue;
      edges.push({ from: from.name, to: to.name });
    }
  return { groups: specs, edges };
}

/**
 * A feedforward stack: each group predicts the next ("forward", e.g. image -> ... -> label,
 * the discriminative direction) or the previous ("backward", label -> ... -> image, the
 * generative direction).
 */
export function hierarchical(groups: GroupList, options: { direction?: "forward" | "backward" } = {}): PCGraphSpec {
  const specs = groupSpecs(groups);
  const direction = options.direction ?? "forward";
  if (direction !== "forward" && direction !== "backward")
    throw new InvalidArgumentError(`hierarchical: direction must be "forward" or "backward", got ${JSON.stringify(direction)}`);
  if (specs.length < 2) throw new TopologyError(specs[0]?.name, "a hierarchy needs at least two groups");
  const edges: EdgeSpec[] = [];
  for (let i = 0; i + 1 < specs.length; i++)
    edges.push(direction === "forward" ? { from: specs[i].name, to: specs[i + 1].name } : { from: specs[i + 1].name, to: specs[i].name });
  return { groups: specs, edges };
}

/**
 * A topology from a 0/1 mask over one N x N matrix (N = the sum of the group sizes, groups in
 * order): entry [i, j] = 1 when unit i predicts unit j. Cut into one block per pair of groups:
 * an all-zero block is no edge, an all-one block a full edge, anything else a masked edge.
 * Accepts a flat array of N*N values or N rows of N.
 */
export function topologyFromMask(groups: GroupList, mask: ArrayLike<number> | ArrayLike<number>[]): PCGraphSpec {
  const specs = groupSpecs(groups);
  for (const g of specs)
    if (!Number.isInteger(g.size) || g.size < 1) throw new TopologyError(g.name, `size must be an integer >= 1, got ${JSON.stringify(g.size)}`);
  const n = specs.reduce((s, g) => s + g.size, 0);
  const flat = flattenMask(mask, n);
  const offsets: number[] = [];
  specs.reduce((o, g) => (offsets.push(o), o + g.size), 0);
  const groupOf = (unit: number) => {
    let k = 0;
    while (k + 1 < specs.length && offsets[k + 1] <= unit) k++;
    return k;
  };
  for (let i = 0; i < n; i++)
    if (flat[i * n + i] !== 0) {
      const k = groupOf(i);
      throw new TopologyError(specs[k].name, `the mask has ${flat[i * n + i]} on its diagonal at unit ${i} (unit ${i - offsets[k]} of the group): no neuron predicts itself`);
    }
  const edges: EdgeSpec[] = [];
  specs.forEach((from, a) =>
    specs.forEach((to, b) => {
      const block = new Uint8Array(from.size * to.size);
      let ones = 0;
      const expected = from.size * to.size - (a === b ? from.size : 0);
      for (let i = 0; i < from.size; i++)
        for (let j = 0; j < to.size; j++) {
          const v = flat[(offsets[a] + i) * n + offsets[b] + j];
          if (v !== 0 && v !== 1) {
            throw new TopologyError(from.name, `the mask has ${JSON.stringify(v)} at [${offsets[a] + i}, ${offsets[b] + j}]; entries are 0 or 1`);
          }
          block[i * to.size + j] = v;
          ones += v;
        }
      if (ones === 0) return;
      if (ones === expected && expected > 0) edges.push({ from: from.name, to: to.name });
      else edges.push({ from: from.name, to: to.name, mask: block });
    }));
  return { groups: specs, edges };
}

function flattenMask(mask: ArrayLike<number> | ArrayLike<number>[], n: number): ArrayLike<number> {
  if (mask === null || typeof mask !== "object" || typeof mask.length !== "number")
    throw new ShapeError(`topology mask must be an array of ${n} x ${n} values`);
  const first = (mask as ArrayLike<unknown>)[0];
  if (typeof first === "object" && first !== null) {
    const rows = mask as ArrayLike<number>[];
    if (rows.length !== n) throw new ShapeError(`topology mask has ${rows.length} rows, expected ${n} (the sum of the group sizes)`);
    const flat = new Float64Array(n * n);
    for (let i = 0; i < n; i++) {
      if (!rows[i] || rows[i].length !== n) throw new ShapeError(`topology mask row ${i} has ${rows[i]?.length} entries, expected ${n}`);
      for (let j = 0; j < n; j++) flat[i * n + j] = rows[i][j];
    }
    return flat;
  }
  if (mask.length !== n * n) throw new ShapeError(`topology mask has ${mask.length} entries, expected ${n} x ${n} = ${n * n} (N = the sum of the group sizes)`);
  return mask as ArrayLike<number>;
}

/** The spec of a resolved topology, as JSON (masks as 0/1 arrays). */
export function topologyToSpec(topology: Topology): PCGraphSpec {
  return {
    groups: topology.groups.map((g) => ({
      name: g.name, size: g.size, activation: g.activation, ...(g.activation === "leakyRelu" ? { slope: g.slope } : {}),
      ...(g.inEdges.length > 0 ? { bias: g.bias } : {}),
    })),
    edges: topology.edges.map((e) => ({
      from: e.from.name, to: e.to.name, ...(e.mask && !isDefaultSelfMask(e) ? { mask: Array.from(e.mask) } : {}),
    })),
  };
}

/** True for a self edge whose mask is exactly "everything but the diagonal". */
function isDefaultSelfMask(edge: Edge): boolean {
  if (edge.from !== edge.to || !edge.mask) return false;
  const n = edge.from.size;
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) if (edge.mask[i * n + j] !== (i === j ? 0 : 1)) return false;
  return true;
}
