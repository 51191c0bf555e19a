// The PC graph model format: a JSON document with the topology (groups and edges) and a
// weight table, plus a blob of little-endian floats, laid out as the graph model format
// (src/graph/serialize.ts) so checkpoints carry either kind:
//   { format: "pcgraph-pc-graph", version: 1, spec: PCGraphSpec, dtype, byteLength,
//     weights: [{ name, shape, offset, length }] }
import { ShapeError } from "../../backend/errors.js";
import type { Backend } from "../../backend/kernels.js";
import type { BackendName } from "../../backend/load.js";
import { SerializationError } from "../../graph/errors.js";
import { bytesPerElement, decodeFloats, encodeFloats, weightTable, type FloatDType, type WeightEntry } from "../../graph/serialize.js";
import { formatShape, sizeOf } from "../../tensor.js";
import { PCGraphModel } from "./model.js";
import type { PCGraphSpec } from "./topology.js";

/** The `format` field of a saved PC graph. */
export const PC_GRAPH_FORMAT = "pcgraph-pc-graph";
/** The PC graph format version this pcgraph writes and reads. */
export const PC_GRAPH_VERSION = 1;

/** A saved PC graph: its spec and where each parameter lies in the weights blob. */
export interface PCGraphJSON {
  format: typeof PC_GRAPH_FORMAT;
  version: typeof PC_GRAPH_VERSION;
  spec: PCGraphSpec;
  dtype: FloatDType;
  byteLength: number;
  weights: WeightEntry[];
}

/** The JSON half of a saved PC graph model. */
export function pcGraphToJSON(model: PCGraphModel): PCGraphJSON {
  const dtype = model.backend.dtype;
  return {
    format: PC_GRAPH_FORMAT, version: PC_GRAPH_VERSION, spec: structuredClone(model.spec), dtype,
    byteLength: model.parameterCount * bytesPerElement(dtype), weights: weightTable(model.parameters, dtype),
  };
}

/** The weights blob of a saved PC graph model (float32, little-endian, in the JSON's order). */
export function pcGraphWeightsToBytes(model: PCGraphModel): Uint8Array {
  const dtype = model.backend.dtype;
  const bytes = new Uint8Array(model.parameterCount * bytesPerElement(dtype));
  const table = weightTable(model.parameters, dtype);
  model.parameters.forEach((p, i) => encodeFloats(p.tensor.dataSync(), dtype, bytes, table[i].offset));
  return bytes;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * Rebuilds a PC graph from its document and weights; checks format, version, every
 * parameter's name and shape, and the masks (masked weights must be zero). On failure
 * nothing stays allocated and the error names `source`.
 */
export function pcGraphFromJSON(json: unknown, weights: Uint8Array,
  options: { backend?: Backend | BackendName; source?: string } = {}): PCGraphModel {
  const source = options.source ?? "<pc graph>";
  const fail = (problem: string): never => {
    throw new SerializationError(`${source}: ${problem}`);
  };
  if (!isObject(json)) fail("not a PC graph: expected a JSON object");
  const doc = json as unknown as PCGraphJSON;
  if (doc.format !== PC_GRAPH_FORMAT) fail(`not a PC graph: format is ${JSON.stringify(doc.format)}, expected "${PC_GRAPH_FORMAT}"`);
  if (typeof doc.version === "number" && doc.version > PC_GRAPH_VERSION)
    fail(`PC graph format version ${doc.version} was written by a newer pcgraph; this version reads ${PC_GRAPH_VERSION}`);
  if (doc.version !== PC_GRAPH_VERSION) fail(`unsupported PC graph format version ${JSON.stringify(doc.version)}`);
  if (doc.dtype !== "float32" && doc.dtype !== "float64") fail(`dtype must be "float32" or "float64", got ${JSON.stringify(doc.dtype)}`);
  if (!Array.isArray(doc.weights)) fail("weights must be an array");
  if (weights.length !== doc.byteLength) fail(`${weights.length} bytes of weights, the document declares ${doc.byteLength}`);
  let model: PCGraphModel;
  try {
    model = new PCGraphModel(doc.spec, { backend: options.backend });
  } catch (error) {
    throw Object.assign(new SerializationError(`${source}: invalid PC graph: ${(error as Error).message}`), { cause: error });
  }
  try {
    const entries = new Map(doc.weights.map((w) => [w.name, w]));
    const values = new Map<string, Float32Array | Float64Array>();
    for (const p of model.parameters) {
      const entry = entries.get(p.name);
      if (!entry) fail(`the PC graph's parameter "${p.name}" ${formatShape(p.shape)} has no stored weights`);
      if (!Array.isArray(entry!.shape) || formatShape(entry!.shape) !== formatShape(p.shape))
        throw new ShapeError(`${source}: weight "${p.name}" is stored with shape ${formatShape(entry!.shape ?? [])}, the PC graph needs ${formatShape(p.shape)}`);
      const end = entry!.offset + sizeOf(entry!.shape) * bytesPerElement(doc.dtype);
      if (!Number.isInteger(entry!.offset) || entry!.offset < 0 || end > weights.length) fail(`weight "${p.name}" lies outside the weights blob`);
      values.set(p.name, decodeFloats(weights, entry!.offset, p.size, doc.dtype));
      entries.delete(p.name);
    }
    if (entries.size > 0) fail(`stored weights ${[...entries.keys()].map((n) => `"${n}"`).join(", ")} are not parameters of the PC graph`);
    try {
      model.setWeights(values);
    } catch (error) {
      fail((error as Error).message);
    }
    return model;
  } catch (error) {
    model.dispose();
    throw error;
  }
}
