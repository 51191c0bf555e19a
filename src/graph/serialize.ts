// The model format: a JSON document (topology = the GraphSpec, plus a table of weights)
// and a binary blob of the weights, little-endian, in the table's order. Shared parameters
// are stored once, under the name of the node that owns them. Platform-neutral: files are
// read and written in src/node/files.ts.
//
//   model.json   { format: "pcgraph-model", version: 1, spec, dtype, byteLength,
//                  weights: [{ name, shape, offset (bytes into the blob), length (values) }] }
//   weights.bin  byteLength bytes: each parameter's values as float32 or float64 (dtype)
import { ShapeError } from "../backend/errors.js";
import type { Backend } from "../backend/kernels.js";
import type { BackendName } from "../backend/load.js";
import { formatShape, sizeOf } from "../tensor.js";
import { SerializationError } from "./errors.js";
import { Graph, type GraphSpec, type Parameter } from "./graph.js";

/** The `format` field of a saved model.json. */
export const MODEL_FORMAT = "pcgraph-model";
/** The model.json format version this pcgraph writes and reads. */
export const MODEL_VERSION = 1;

/** The element type of a weights blob. */
export type FloatDType = "float32" | "float64";

/** Where one parameter lies in the weights blob: name, shape, byte offset and length. */
export interface WeightEntry {
  /** Parameter name, e.g. "dense1.weight". */
  name: string;
  shape: number[];
  /** Byte offset of the first value in the weights blob. */
  offset: number;
  /** Number of values (the product of the shape). */
  length: number;
}

/** A saved model: the graph spec and a table of where each parameter's values lie in the weights blob. */
export interface ModelJSON {
  format: typeof MODEL_FORMAT;
  version: typeof MODEL_VERSION;
  spec: GraphSpec;
  weights: WeightEntry[];
  dtype: FloatDType;
  /** Size of the weights blob in bytes. */
  byteLength: number;
}

/** Options of `modelFromJSON`: the backend to build on. */
export interface LoadOptions {
  /** Backend of the loaded graph (default: the default backend). Weights are converted to its dtype. */
  backend?: Backend | BackendName;
  /** The model file, for error messages. */
  source?: string;
  /** The weights file, for error messages about the blob (default: `source`). */
  weightsSource?: string;
}

export function bytesPerElement(dtype: FloatDType): number {
  return dtype === "float64" ? 8 : 4;
}

const littleEndianHost = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Writes `values` as little-endian floats of `dtype` into `target` at `byteOffset`. */
export function encodeFloats(values: ArrayLike<number>, dtype: FloatDType, target: Uint8Array, byteOffset: number): void {
  // Arrays already of the dtype are copied as bytes, so NaN payloads survive too.
  const typed =
    dtype === "float64"
      ? values instanceof Float64Array ? values : Float64Array.from(values)
      : values instanceof Float32Array ? values : Float32Array.from(values);
  if (littleEndianHost) {
    target.set(new Uint8Array(typed.buffer, typed.byteOffset, typed.byteLength), byteOffset);
    return;
  }
  const view = new DataView(target.buffer, target.byteOffset, target.byteLength);
  for (let i = 0; i < typed.length; i++)
    if (dtype === "float64") view.setFloat64(byteOffset + 8 * i, typed[i], true);
    else view.setFloat32(byteOffset + 4 * i, typed[i], true);
}

/** Reads `length` little-endian floats of `dtype` from `bytes` at `byteOffset` (a copy). */
export function decodeFloats(bytes: Uint8Array, byteOffset: number, length: number, dtype: FloatDType): Float32Array | Float64Array {
  const out = dtype === "float64" ? new Float64Array(length) : new Float32Array(length);
  if (littleEndianHost) {
    new Uint8Array(out.buffer).set(bytes.subarray(byteOffset, byteOffset + out.byteLength));
    return out;
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < length; i++)
    out[i] = dtype === "float64" ? view.getFloat64(byteOffset + 8 * i, true) : view.getFloat32(byteOffset + 4 * i, true);
  return out;
}

/** The weight table of these parameters laid out one after another from `startOffset`. */
export function weightTable(parameters: readonly Parameter[], dtype: FloatDType, startOffset = 0): WeightEntry[] {
  let offset = startOffset;
  return parameters.map((p) => {
    const entry = { name: p.name, shape: [...p.shape], offset, length: p.size };
    offset += p.size * bytesPerElement(dtype);
    return entry;
  });
}

/** The topology and weight table of a graph (shared parameters appear once). */
export function modelToJSON(graph: Graph): ModelJSON {
  const dtype = graph.backend.dtype;
  const weights = weightTable(graph.parameters, dtype);
  return {
    format: MODEL_FORMAT,
    version: MODEL_VERSION,
    spec: structuredClone(graph.spec),
    weights,
    dtype,
    byteLength: graph.parameterCount * bytesPerElement(dtype),
  };
}

/** The graph's weights as little-endian floats of its dtype, in the order of modelToJSON().weights. */
export function weightsToBytes(graph: Graph): Uint8Array {
  const dtype = graph.backend.dtype;
  const bytes = new Uint8Array(graph.parameterCount * bytesPerElement(dtype));
  for (const [p, entry] of zip(graph.parameters, weightTable(graph.parameters, dtype)))
    encodeFloats(p.tensor.dataSync(), dtype, bytes, entry.offset);
  return bytes;
}

function zip<A, B>(a: readonly A[], b: readonly B[]): [A, B][] {
  return a.map((x, i) => [x, b[i]]);
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const isCount = (v: unknown): v is number => typeof v === "number" && Number.isInteger(v) && v >= 0;

/**
 * Checks the structure of a model document (format, version, dtype, weight table) and
 * returns it typed. Does not build the graph.
 */
export function validateModelJSON(json: unknown, source = "<model>"): ModelJSON {
  const fail = (problem: string): never => {
    throw new SerializationError(`${source}: ${problem}`);
  };
  if (!isObject(json)) return fail(`not a pcgraph model: expected a JSON object, got ${Array.isArray(json) ? "an array" : typeof json}`);
  if (json.format !== MODEL_FORMAT) return fail(`not a pcgraph model: format is ${JSON.stringify(json.format)}, expected "${MODEL_FORMAT}"`);
  const version = json.version;
  if (typeof version === "number" && version > MODEL_VERSION)
    fail(`model format version ${version} was written by a newer pcgraph; this version reads format version ${MODEL_VERSION}`);
  if (version !== MODEL_VERSION) fail(`unsupported model format version ${JSON.stringify(version)} (this version reads ${MODEL_VERSION})`);
  if (json.dtype !== "float32" && json.dtype !== "float64") fail(`dtype must be "float32" or "float64", got ${JSON.stringify(json.dtype)}`);
  const dtype = json.dtype as FloatDType;
  if (!isCount(json.byteLength)) fail(`byteLength must be an integer >= 0, got ${JSON.stringify(json.byteLength)}`);
  if (!isObject(json.spec) || !Array.isArray(json.spec.nodes)) fail("spec must be a graph spec with a nodes array");
  if (!Array.isArray(json.weights)) fail("weights must be an array of { name, shape, offset, length }");
  const names = new Set<string>();
  for (const [i, entry] of (json.weights as unknown[]).entries()) {
    if (!isObject(entry) || typeof entry.name !== "string" || entry.name.length === 0)
      fail(`weights[${i}] needs a non-empty name`);
    const w = entry as unknown as WeightEntry;
    if (names.has(w.name)) fail(`weight "${w.name}" appears twice`);
    names.add(w.name);
    if (!Array.isArray(w.shape) || !w.shape.every(isCount)) fail(`weight "${w.name}": shape must be a list of sizes, got ${JSON.stringify(w.shape)}`);
    if (!isCount(w.length) || w.length !== sizeOf(w.shape))
      fail(`weight "${w.name}": length ${JSON.stringify(w.length)} does not match shape ${formatShape(w.shape)} (${sizeOf(w.shape)} values)`);
    if (!isCount(w.offset)) fail(`weight "${w.name}": offset must be an integer >= 0, got ${JSON.stringify(w.offset)}`);
    const end = w.offset + w.length * bytesPerElement(dtype);
    if (end > (json.byteLength as number))
      fail(`weight "${w.name}" ends at byte ${end}, past the declared byteLength ${json.byteLength as number}`);
  }
  return json as unknown as ModelJSON;
}

/** Rebuilds the graph's error with the file name in front, keeping shape errors as ShapeErrors. */
function inFile(source: string, error: unknown): Error {
  const message = error instanceof Error ? error.message : String(error);
  const wrapped = error instanceof ShapeError ? new ShapeError(`${source}: ${message}`) : new SerializationError(`${source}: invalid graph: ${message}`);
  return Object.assign(wrapped, { cause: error });
}

/**
 * Builds a graph from a model document and its weights blob. Everything is checked before
 * the graph is returned (format, version, sizes, every parameter's name and shape); on any
 * failure the half-built graph is disposed and a SerializationError (or ShapeError for a
 * shape mismatch) naming the file is thrown.
 */
export function modelFromJSON(json: unknown, weights: Uint8Array, options: LoadOptions = {}): Graph {
  const source = options.source ?? "<model>";
  const weightsSource = options.weightsSource ?? source;
  const model = validateModelJSON(json, source);
  if (weights.length < model.byteLength)
    throw new SerializationError(`${weightsSource}: truncated weights: expected ${model.byteLength} bytes, got ${weights.length}`);
  if (weights.length > model.byteLength)
    throw new SerializationError(`${weightsSource}: ${weights.length} bytes of weights, expected ${model.byteLength} (extra data at the end)`);

  let graph: Graph;
  try {
    graph = new Graph(model.spec, { backend: options.backend });
  } catch (error) {
    throw inFile(source, error);
  }
  try {
    const entries = new Map(model.weights.map((w) => [w.name, w]));
    for (const p of graph.parameters) {
      const entry = entries.get(p.name);
      if (!entry) throw new SerializationError(`${source}: the graph's parameter "${p.name}" ${formatShape(p.shape)} has no stored weights`);
      if (formatShape(entry.shape) !== formatShape(p.shape))
        throw new ShapeError(`${source}: weight "${p.name}" is stored with shape ${formatShape(entry.shape)}, the graph needs ${formatShape(p.shape)}`);
      entries.delete(p.name);
    }
    if (entries.size > 0)
      throw new SerializationError(`${source}: stored weights ${[...entries.keys()].map((n) => `"${n}"`).join(", ")} are not parameters of the graph`);
    for (const entry of model.weights)
      graph.parameter(entry.name).tensor.assign(decodeFloats(weights, entry.offset, entry.length, model.dtype));
    return graph;
  } catch (error) {
    graph.dispose();
    throw error;
  }
}
