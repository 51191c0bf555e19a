// The models the CLI trains: an MLP and a small CNN for 28x28 digits, or a graph spec file.
import { readFileSync } from "node:fs";
import { basename } from "node:path";
import type { BackendName } from "../backend/load.js";
import { layers, sequential } from "../graph/builder.js";
import { Graph, type GraphSpec } from "../graph/graph.js";
import { UsageError } from "./args.js";

/** What a model is built for: the data's sample size and number of classes. */
export interface DataShape {
  featureShape: number[];
  numClasses: number;
}

export interface ModelChoice {
  /** "mlp", "cnn" or the file's base name: used in the default output directory. */
  name: string;
  build(seed: number, data: DataShape, backend?: BackendName): Graph;
}

const sizeOfShape = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/** features-256-256-classes with ReLU and softmax cross-entropy (784-256-256-10 on MNIST). */
export function mlp(seed: number, data: DataShape = { featureShape: [784], numClasses: 10 }, backend?: BackendName): Graph {
  return sequential([sizeOfShape(data.featureShape)],
    [layers.dense(256), layers.relu(), layers.dense(256), layers.relu(), layers.dense(data.numClasses)],
    { loss: "softmaxCrossEntropy", seed, backend });
}

/** The [1, side, side] image shape of square one-channel samples. */
function imageShape(data: DataShape): [number, number, number] {
  if (data.featureShape.length === 3 && data.featureShape[0] === 1) return data.featureShape as [number, number, number];
  const side = Math.round(Math.sqrt(sizeOfShape(data.featureShape)));
  if (side * side !== sizeOfShape(data.featureShape) || side < 10)
    throw new UsageError(`--model cnn needs square one-channel images of at least 10x10; the data has samples of shape [${data.featureShape.join(",")}]`);
  return [1, side, side];
}

/** conv 3x3 (8) - relu - maxpool 2 - conv 3x3 (16) - relu - maxpool 2 - dense 64 - relu - dense classes. */
export function cnn(seed: number, data: DataShape = { featureShape: [1, 28, 28], numClasses: 10 }, backend?: BackendName): Graph {
  return sequential(imageShape(data), [
    layers.conv2d(8, 3), layers.relu(), layers.maxPool2d(2),
    layers.conv2d(16, 3), layers.relu(), layers.maxPool2d(2),
    layers.flatten(), layers.dense(64), layers.relu(), layers.dense(data.numClasses),
  ], { loss: "softmaxCrossEntropy", seed, backend });
}

/** Reads a GraphSpec ({ nodes, output, loss }) or a saved model.json (its spec, freshly initialised). */
function specFromFile(path: string): GraphSpec {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    throw new UsageError(`--model ${path}: cannot read a JSON graph spec: ${(error as Error).message}`);
  }
  const doc = json as { nodes?: unknown; spec?: GraphSpec; format?: string };
  if (doc && typeof doc === "object" && doc.format === "pcgraph-model" && doc.spec) return doc.spec;
  if (doc && typeof doc === "object" && Array.isArray(doc.nodes)) return doc as GraphSpec;
  throw new UsageError(`--model ${path}: expected a graph spec { nodes, output, loss } or a pcgraph model.json`);
}

export function chooseModel(value: string): ModelChoice {
  if (value === "mlp") return { name: "mlp", build: mlp };
  if (value === "cnn") return { name: "cnn", build: cnn };
  if (!value.endsWith(".json")) throw new UsageError(`--model: expected mlp, cnn or a .json graph spec, got ${JSON.stringify(value)}`);
  const spec = specFromFile(value);
  return { name: basename(value, ".json"), build: (seed, _data, backend) => new Graph(spec, { seed, backend }) };
}
