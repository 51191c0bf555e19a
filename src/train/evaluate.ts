// Loss and accuracy of a classifier graph on a dataset, plus the conversion of mini-batches
// to tensors on the graph's backend (shared with fit).
import { InvalidArgumentError, ShapeError } from "../backend/errors.js";
import { forwardInto, NodeTensors } from "../graph/forward.js";
import type { Graph, GraphNode } from "../graph/graph.js";
import { lossValue } from "../graph/loss.js";
import { formatShape, sizeOf, Tensor } from "../tensor.js";
import { batches, featureSize, type Dataset, type MiniBatch } from "./data/dataset.js";

/** Options of `evaluate`: the batch size of the forward passes. */
export interface EvaluateOptions {
  /** Samples per forward pass (default 256). */
  batchSize?: number;
}

/** The mean loss and the accuracy over a dataset. */
export interface Evaluation {
  /** Mean loss per sample (the graph's loss). */
  loss: number;
  /** Fraction of samples whose output's argmax is the label. */
  accuracy: number;
}

/** Checks that a dataset fits a single-input classifier graph; returns the input node. */
export function checkDatasetFits(graph: Graph, ds: Dataset): GraphNode {
  if (graph.inputs.length !== 1)
    throw new InvalidArgumentError(`dataset "${ds.name}": the graph has ${graph.inputs.length} inputs; training on a dataset needs exactly one`);
  const input = graph.inputs[0];
  if (featureSize(ds.featureShape) !== input.size)
    throw new ShapeError(`dataset "${ds.name}": samples of shape ${formatShape(ds.featureShape)} do not fit input "${input.name}" ${formatShape(input.shape)}`);
  if (graph.output.size !== ds.numClasses)
    throw new ShapeError(`dataset "${ds.name}": ${ds.numClasses} classes but output "${graph.output.name}" has ${graph.output.size} units`);
  return input;
}

/**
 * Input and one-hot target tensors for mini-batches, one pair per batch size (at most two
 * per epoch: the full size and the remainder), reused across batches.
 */
export class BatchTensors {
  private readonly bySize = new Map<number, { inputs: Tensor; target: Tensor }>();

  constructor(readonly graph: Graph) {}

  /** Copies a batch's features and one-hot targets into tensors reused for every batch of that size. */
  load(batch: MiniBatch): { inputs: Tensor; target: Tensor } {
    let pair = this.bySize.get(batch.size);
    if (!pair) {
      const backend = this.graph.backend;
      const inputs = new Tensor([batch.size, ...this.graph.inputs[0].shape], backend);
      const target = new Tensor([batch.size, ...this.graph.output.shape], backend);
      pair = { inputs, target };
      this.bySize.set(batch.size, pair);
    }
    pair.inputs.assign(batch.features);
    pair.target.assign(batch.oneHot);
    return pair;
  }

  /** Frees the reused tensors. */
  dispose(): void {
    for (const { inputs, target } of this.bySize.values()) {
      inputs.dispose();
      target.dispose();
    }
    this.bySize.clear();
  }
}

function checkBatchSize(batchSize: number): number {
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new InvalidArgumentError(`batchSize must be an integer >= 1, got ${JSON.stringify(batchSize)}`);
  return batchSize;
}

/** Mean loss and accuracy of `graph` on every sample of `dataset`, in dataset order. */
export function evaluate(graph: Graph, dataset: Dataset, options: EvaluateOptions = {}): Evaluation {
  const batchSize = checkBatchSize(options.batchSize ?? 256);
  const input = checkDatasetFits(graph, dataset);
  if (dataset.size === 0) return { loss: NaN, accuracy: NaN };
  const k = graph.backend;
  const tensors = new BatchTensors(graph);
  const values = new Map<number, NodeTensors>();
  const argmax = new Map<number, Tensor>();
  let lossSum = 0;
  let correct = 0;
  try {
    for (const batch of batches(dataset, batchSize, { shuffle: false, reuseBuffers: true })) {
      const { inputs, target } = tensors.load(batch);
      let nodes = values.get(batch.size);
      if (!nodes) values.set(batch.size, (nodes = new NodeTensors(graph, batch.size)));
      const v = nodes;
      forwardInto(graph, (n) => (n === input ? inputs : v.get(n)), (n) => v.get(n));
      const prediction = v.get(graph.output);
      lossSum += lossValue(graph.loss, prediction, target) * batch.size;
      let predicted = argmax.get(batch.size);
      if (!predicted) argmax.set(batch.size, (predicted = new Tensor([batch.size], k)));
      k.argmaxRows(batch.size, sizeOf(graph.output.shape), prediction.address, predicted.address);
      const classes = predicted.dataSync();
      for (let i = 0; i < batch.size; i++) if (classes[i] === batch.labels[i]) correct++;
    }
  } finally {
    tensors.dispose();
    for (const nodes of values.values()) nodes.dispose();
    for (const t of argmax.values()) t.dispose();
  }
  return { loss: lossSum / dataset.size, accuracy: correct / dataset.size };
}
