// The reference backprop: the oracle the PC engine is proved against. A forward pass, then
// one sweep in reverse topological order applying each op's local vector-Jacobian products
// (the chain rule), summing over children and over every node that shares a parameter.
import { ShapeError } from "../backend/errors.js";
import { forwardInto, NodeTensors, resolveFeeds, type Feeds } from "../graph/forward.js";
import type { Graph, GraphNode } from "../graph/graph.js";
import { lossValue, outputError } from "../graph/loss.js";
import { formatShape, Tensor } from "../tensor.js";

/** One batch for backprop: inputs (one tensor or tensors by input name) and the target. */
export interface Batch {
  inputs: Feeds;
  target: Tensor;
}

/** The loss of a batch and dL/dtheta for every parameter, by name. */
export interface BackpropResult {
  loss: number;
  /** dL/dtheta for every parameter, by name. */
  gradients: Map<string, Tensor>;
}

/** Backprop with buffers kept across calls of the same batch size (for training loops). */
export class BackpropEngine {
  private values: NodeTensors | null = null;
  private deltas: NodeTensors | null = null;
  private readonly gradients = new Map<string, Tensor>();

  constructor(readonly graph: Graph) {
    for (const p of graph.parameters) this.gradients.set(p.name, new Tensor(p.shape, graph.backend));
  }

  /** Gradients of the loss on a batch; the returned tensors are owned by the engine (valid until the next run). */
  run(batch: Batch): BackpropResult {
    const graph = this.graph;
    const { batch: size, byNode } = resolveFeeds(graph, batch.inputs);
    const target = batch.target;
    if (target.shape[0] !== size || target.size !== size * graph.output.size)
      throw new ShapeError(`backprop: target ${formatShape(target.shape)} does not match output "${graph.output.name}" [${size},${graph.output.shape.join(",")}]`);
    if (this.values?.batch !== size) {
      this.values?.dispose();
      this.deltas?.dispose();
      this.values = new NodeTensors(graph, size);
      this.deltas = new NodeTensors(graph, size);
    }
    const values = this.values;
    const deltas = this.deltas!;
    const valueOf = (n: GraphNode) => byNode.get(n.index) ?? values.get(n);
    forwardInto(graph, valueOf, (n) => values.get(n));
    const prediction = values.get(graph.output);
    const loss = lossValue(graph.loss, prediction, target);

    // delta = dL/dmu; outputError gives -dL/dmu.
    const hasDelta = new Set<GraphNode>([graph.output]);
    const outDelta = deltas.get(graph.output);
    outputError(graph.loss, prediction, target, outDelta);
    graph.backend.scale(outDelta.size, -1, outDelta.address, outDelta.address);

    const started = new Set<string>();
    for (let i = graph.nodes.length - 1; i >= 0; i--) {
      const node = graph.nodes[i];
      if (node.isInput || !hasDelta.has(node)) continue;
      const delta = deltas.get(node);
      const inputs = node.inputs.map(valueOf);
      const params = node.params.map((p) => p.tensor);
      node.inputs.forEach((parent, j) => {
        if (parent.isInput) return;
        node.op!.inputVjp(j, inputs, params, delta, deltas.get(parent), hasDelta.has(parent) ? 1 : 0);
        hasDelta.add(parent);
      });
      node.params.forEach((p, j) => {
        node.op!.paramVjp(j, inputs, params, delta, this.gradients.get(p.name)!, started.has(p.name) ? 1 : 0);
        started.add(p.name);
      });
    }
    // Parameters that do not reach the output get zero gradients.
    for (const [name, g] of this.gradients) if (!started.has(name)) graph.backend.fill(g.size, 0, g.address);
    return { loss, gradients: this.gradients };
  }

  /** Frees the engine's buffers and gradients. */
  dispose(): void {
    this.values?.dispose();
    this.deltas?.dispose();
    for (const g of this.gradients.values()) g.dispose();
  }
}

/** One-off backprop: gradients as fresh tensors that the caller disposes. */
export function backprop(graph: Graph, batch: Batch): BackpropResult {
  const engine = new BackpropEngine(graph);
  try {
    const { loss, gradients } = engine.run(batch);
    return { loss, gradients: new Map([...gradients].map(([name, t]) => [name, t.clone()])) };
  } finally {
    engine.dispose();
  }
}
