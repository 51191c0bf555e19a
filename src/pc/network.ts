// A graph seen as a predictive coding network: one vertex per node, each with value,
// prediction and error units, plus (for Z-IL) parameter-free identity relay vertices that
// level the graph.
//
// level(v) = length of the longest path from v to the output (output: 0). In a *levelled*
// network every edge descends exactly one level, so every path from v to the output has
// length level(v) and v's error first becomes non-zero at inference step level(v) — the
// condition under which Z-IL's updates equal backprop's (docs/zil-schedule.md). An edge
// that spans k > 1 levels is relayed through k - 1 identity vertices.
import type { Graph, GraphNode, Parameter } from "../graph/graph.js";
import type { Op } from "../graph/op.js";
import { IdentityOp } from "../graph/ops/structural.js";
import type { Shape } from "../tensor.js";

/** An edge to a child vertex, with the input slot of the child it feeds. */
export interface ChildEdge {
  /** The vertex that reads this one. */
  vertex: Vertex;
  /** Which of its inputs this vertex is. */
  slot: number;
}

/** A vertex of a PC network: a graph node (or a relay) with its parents, children and level. */
export interface Vertex {
  readonly index: number;
  readonly name: string;
  readonly op: Op | null;
  readonly parents: Vertex[];
  readonly children: ChildEdge[];
  readonly params: readonly Parameter[];
  readonly shape: Shape;
  readonly size: number;
  readonly isInput: boolean;
  readonly isOutput: boolean;
  /** The graph node this vertex stands for; null for a relay. */
  readonly node: GraphNode | null;
  /** Longest path to the output; -1 when the output is unreachable (the vertex never learns). */
  level: number;
}

/**
 * A graph seen as a PC network: one vertex per node, levelled by identity relays so that every
 * edge descends exactly one level (the condition for Z-IL's exactness).
 */
export class PCNetwork {
  /** Vertices in topological order. */
  readonly vertices: Vertex[];
  readonly output: Vertex;
  /** Vertices by level: byLevel[l] lists the vertices l steps from the output. */
  readonly byLevel: Vertex[][];
  readonly relayCount: number;

  constructor(readonly graph: Graph, options: { relay: boolean }) {
    const vertices: Vertex[] = graph.nodes.map((node) => ({
      index: node.index,
      name: node.name,
      op: node.op,
      parents: [],
      children: [],
      params: node.params,
      shape: node.shape,
      size: node.size,
      isInput: node.isInput,
      isOutput: node === graph.output,
      node,
      level: -1,
    }));
    for (const node of graph.nodes)
      node.inputs.forEach((parent, slot) => {
        vertices[node.index].parents.push(vertices[parent.index]);
        vertices[parent.index].children.push({ vertex: vertices[node.index], slot });
      });
    computeLevels(vertices, vertices[graph.output.index]);
    let relays = 0;
    if (options.relay) relays = insertRelays(vertices);
    // Re-number in a topological order (parents first): by decreasing level, inputs first.
    const ordered = topological(vertices);
    ordered.forEach((v, i) => ((v as { index: number }).index = i));
    this.vertices = ordered;
    this.output = ordered.find((v) => v.isOutput)!;
    const maxLevel = Math.max(0, ...ordered.map((v) => v.level));
    this.byLevel = Array.from({ length: maxLevel + 1 }, () => []);
    for (const v of ordered) if (v.level >= 0 && !v.isInput) this.byLevel[v.level].push(v);
    this.relayCount = relays;
  }

  /** The longest path from any learning vertex to the output. */
  get depth(): number {
    return this.byLevel.length - 1;
  }

  /** True when every edge between vertices that reach the output descends exactly one level. */
  get isLevelled(): boolean {
    return this.vertices.every((v) => v.level < 0 || v.children.every((c) => c.vertex.level < 0 || v.level - c.vertex.level === 1));
  }
}

function computeLevels(vertices: Vertex[], output: Vertex): void {
  output.level = 0;
  // Reverse topological order of the graph = reverse of node order.
  for (let i = vertices.length - 1; i >= 0; i--) {
    const v = vertices[i];
    if (v === output) continue;
    let best = -1;
    for (const { vertex } of v.children) if (vertex.level >= 0) best = Math.max(best, vertex.level + 1);
    v.level = best;
  }
}

/** Splits every edge spanning k > 1 levels into a chain through k - 1 identity vertices. */
function insertRelays(vertices: Vertex[]): number {
  const identity = new IdentityOp();
  let count = 0;
  for (const parent of [...vertices]) {
    if (parent.level < 0 || parent.isInput) continue; // clamped inputs never move: no relay needed
    parent.children.forEach((edge, e) => {
      const child = edge.vertex;
      if (child.level < 0 || parent.level - child.level <= 1) return;
      // parent -> r(level parent-1) -> ... -> r(level child+1) -> child
      let upstream = parent;
      let firstRelay: Vertex | null = null;
      for (let level = parent.level - 1; level > child.level; level--) {
        const relay: Vertex = {
          index: -1, name: `${parent.name}~relay${level}~${child.name}`, op: identity, parents: [upstream], children: [],
          params: [], shape: parent.shape, size: parent.size, isInput: false, isOutput: false, node: null, level,
        };
        if (upstream !== parent) upstream.children.push({ vertex: relay, slot: 0 });
        firstRelay ??= relay;
        vertices.push(relay);
        upstream = relay;
        count++;
      }
      // Re-wire: the parent now feeds the first relay; the last relay feeds the child.
      parent.children[e] = { vertex: firstRelay!, slot: 0 };
      upstream.children.push({ vertex: child, slot: edge.slot });
      child.parents[edge.slot] = upstream;
    });
  }
  return count;
}

/** Inputs first, then by decreasing level (a parent's level always exceeds its children's), dead vertices last in original order. */
function topological(vertices: Vertex[]): Vertex[] {
  const visited = new Set<Vertex>();
  const order: Vertex[] = [];
  const visit = (v: Vertex) => {
    if (visited.has(v)) return;
    visited.add(v);
    for (const p of v.parents) visit(p);
    order.push(v);
  };
  for (const v of vertices) visit(v);
  return order;
}
