// The feedforward pass: every node's value from its parents', in topological order.
import { InvalidArgumentError, ShapeError } from "../backend/errors.js";
import { formatShape, Tensor } from "../tensor.js";
import { GraphError } from "./errors.js";
import type { Graph, GraphNode } from "./graph.js";

/** Inputs for a forward pass: one tensor for a graph with one input, or tensors by input name. */
export type Feeds = Tensor | Record<string, Tensor>;

/** Checks feeds against the graph's inputs and returns them by node index, plus the batch size. */
export function resolveFeeds(graph: Graph, feeds: Feeds): { batch: number; byNode: Map<number, Tensor> } {
  const named: Record<string, Tensor> =
    feeds instanceof Tensor
      ? graph.inputs.length === 1
        ? { [graph.inputs[0].name]: feeds }
        : (() => {
            throw new GraphError(undefined, `the graph has ${graph.inputs.length} inputs (${graph.inputs.map((n) => n.name).join(", ")}); pass them by name`);
          })()
      : feeds;
  const byNode = new Map<number, Tensor>();
  let batch = -1;
  for (const input of graph.inputs) {
    const t = named[input.name];
    if (!(t instanceof Tensor)) throw new GraphError(input.name, "no tensor was fed to this input");
    if (t.backend !== graph.backend)
      throw new InvalidArgumentError(`input "${input.name}": tensor is on ${t.backend.name}, the graph on ${graph.backend.name}`);
    const expected = formatShape(["batch", ...input.shape] as unknown as number[]);
    if (t.rank !== input.shape.length + 1 || t.shape.slice(1).some((d, i) => d !== input.shape[i]))
      throw new ShapeError(`input "${input.name}": expected ${expected}, got ${formatShape(t.shape)}`);
    if (batch >= 0 && t.shape[0] !== batch)
      throw new ShapeError(`input "${input.name}": batch ${t.shape[0]} differs from the other inputs' batch ${batch}`);
    if (t.shape[0] < 1) throw new ShapeError(`input "${input.name}": empty batch ${formatShape(t.shape)}`);
    batch = t.shape[0];
    byNode.set(input.index, t);
  }
  for (const name of Object.keys(named))
    if (!graph.inputs.some((n) => n.name === name)) throw new GraphError(name, "fed a tensor but is not an input of the graph");
  return { batch, byNode };
}

/** Per-node tensors of one batch size, allocated once and reused across batches. */
export class NodeTensors {
  readonly tensors: (Tensor | null)[];
  constructor(readonly graph: Graph, readonly batch: number, include: (node: GraphNode) => boolean = (n) => !n.isInput) {
    this.tensors = graph.nodes.map((n) => (include(n) ? new Tensor([batch, ...n.shape], graph.backend) : null));
  }
  get(node: GraphNode): Tensor {
    const t = this.tensors[node.index];
    if (!t) throw new Error(`no tensor for node "${node.name}"`);
    return t;
  }
  dispose(): void {
    for (const t of this.tensors) t?.dispose();
  }
}

/**
 * values[node] = f(values of parents; params) for every op node, given the input tensors.
 * `valueOf` resolves a node to its tensor (inputs come from the feeds).
 */
export function forwardInto(graph: Graph, valueOf: (node: GraphNode) => Tensor, out: (node: GraphNode) => Tensor): void {
  for (const node of graph.nodes) {
    if (node.isInput) continue;
    node.op!.forward(node.inputs.map(valueOf), node.params.map((p) => p.tensor), out(node));
  }
}

/** Runs the graph on a batch and returns a copy of the output node's values (caller disposes). */
export function predict(graph: Graph, feeds: Feeds): Tensor {
  const { batch, byNode } = resolveFeeds(graph, feeds);
  const values = new NodeTensors(graph, batch);
  try {
    const valueOf = (n: GraphNode) => byNode.get(n.index) ?? values.get(n);
    forwardInto(graph, valueOf, (n) => values.get(n));
    return values.get(graph.output).clone();
  } finally {
    values.dispose();
  }
}
