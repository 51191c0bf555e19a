// The reference backprop: the oracle the PC engine is proved against. A forward pass, then
// one sweep in reverse topological order applying each op's local vector-Jacobian products
// (the chain rule), summing over children and over every node that shares a parameter.
import { formatShape, Tensor } from "../tensor.js";
import { ShapeError } from "../backend/errors.js";
import { forwardInto, NodeTensors, resolveFeeds, type Feeds } from "../graph/forward.js";
import type { Graph, GraphNode } from "../graph/graph.js";
import { lossValue, outputError } from "../graph/loss.js";

export interface Batch {
  inputs: Feeds;
  target: Tensor;
}

export interface BackpropResult {
  loss: number;
  /** dL/dtheta for every parameter, by name (the caller owns and disposes them). */
  gradients: Map<string, Tensor>;
}

export function backprop(graph: Graph, batch: Batch): BackpropResult {
  const { batch: size, byNode } = resolveFeeds(graph, batch.inputs);
  const target = batch.target;
  if (target.shape[0] !== size || target.size !== size * graph.output.size)
    throw new ShapeError(`backprop: target ${formatShape(target.shape)} does not match output "${graph.output.name}" [${size},${graph.output.shape.join(",")}]`);
  const values = new NodeTensors(graph, size);
  const deltas = new NodeTensors(graph, size);
  const gradients = new Map<string, Tensor>();
  try {
    const valueOf = (n: GraphNode) => byNode.get(n.index) ?? values.get(n);
    forwardInto(graph, valueOf, (n) => values.get(n));
    const prediction = values.get(graph.output);
    const loss = lossValue(graph.loss, prediction, target);

    // delta = dL/dmu; outputError gives -dL/dmu.
    const hasDelta = new Set<GraphNode>([graph.output]);
    const outDelta = deltas.get(graph.output);
    outputError(graph.loss, prediction, target, outDelta);
    graph.backend.scale(outDelta.size, -1, outDelta.address, outDelta.address);

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
        let grad = gradients.get(p.name);
        const first = !grad;
        if (!grad) gradients.set(p.name, (grad = new Tensor(p.shape, graph.backend)));
        node.op!.paramVjp(j, inputs, params, delta, grad, first ? 0 : 1);
      });
    }
    // Parameters that do not reach the output get zero gradients.
    for (const p of graph.parameters)
      if (!gradients.has(p.name)) {
        const zero = new Tensor(p.shape, graph.backend);
        graph.backend.fill(zero.size, 0, zero.address);
        gradients.set(p.name, zero);
      }
    return { loss, gradients };
  } catch (error) {
    for (const g of gradients.values()) g.dispose();
    throw error;
  } finally {
    values.dispose();
    deltas.dispose();
  }
}
