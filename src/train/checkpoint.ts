// Training checkpoints: the model, the optimizer's state and the trainer's progress in ONE
// binary file, so a resumed run continues bit for bit. Platform-neutral encoding and
// decoding; reading and writing files lives in src/node/checkpoint-files.ts.
//
// Layout (integers little-endian):
//   0   8 bytes   magic "PCGCKPT1"
//   8   u32       format version (1)
//   12  u32       H = byte length of the JSON header
//   16  H bytes   UTF-8 JSON header: { model: ModelJSON | PCGraphJSON, optimizer: { kind,
//                 config, step, slots: [{ name, shape, offset, length }] }, progress }
//                 (model.format tells a graph ("pcgraph-model") from a PC graph ("pcgraph-pc-graph"))
//   ..  1-8 zero bytes, so the payload starts at a multiple of 8 (there is always at least
//                 one, which tells a truncated header from a corrupted header length)
//   P   payload   the weights (model.byteLength bytes, laid out as in the model format),
//                 then each optimizer slot; all floats in model.dtype. Offsets in the header
//                 count from P.
//   end-4 u32     CRC-32 of every byte before it
import type { Backend } from "../backend/kernels.js";
import type { BackendName } from "../backend/load.js";
import { SerializationError } from "../graph/errors.js";
import type { Graph, Parameter } from "../graph/graph.js";
import {
  bytesPerElement, decodeFloats, encodeFloats, modelFromJSON, modelToJSON, validateModelJSON, weightsToBytes,
  type FloatDType, type ModelJSON, type WeightEntry,
} from "../graph/serialize.js";
import { formatShape, sizeOf } from "../tensor.js";
import type { PCGraphModel } from "../pc/graph/model.js";
import { pcGraphFromJSON, pcGraphToJSON, pcGraphWeightsToBytes, PC_GRAPH_FORMAT, type PCGraphJSON } from "../pc/graph/serialize.js";
import { crc32 } from "./crc32.js";

export const CHECKPOINT_MAGIC = "PCGCKPT1";
export const CHECKPOINT_VERSION = 1;
const PREFIX_BYTES = 16;
const CRC_BYTES = 4;

/** One optimizer state array, e.g. Adam's first moment of a parameter. */
export interface OptimizerSlot {
  /** Unique within the state, e.g. "dense1.weight/m". */
  name: string;
  shape: number[];
  data: Float32Array | Float64Array;
}

/** An optimizer's resumable state: what it is, its settings, its step count and its arrays. */
export interface OptimizerStateData {
  kind: string;
  config: Record<string, unknown>;
  step: number;
  slots: OptimizerSlot[];
}

/** What a checkpoint holds: the graph (spec and weights), the optimizer state and the trainer's progress. */
export interface CheckpointData {
  graph: Graph;
  optimizer: OptimizerStateData;
  /** Trainer progress (epoch, batch index, seeds, history, ...): any JSON object. */
  progress: Record<string, unknown>;
}

/** A checkpoint read back: a new graph with the stored weights, the optimizer state and the progress. */
export interface DecodedCheckpoint {
  /** A new graph (the caller disposes it). */
  graph: Graph;
  /** Slots come back as stored: Float32Array for a float32 checkpoint, Float64Array for float64. */
  optimizer: OptimizerStateData;
  progress: Record<string, unknown>;
}

/** A PC graph's checkpoint: its model (topology and weights), optimizer state and progress. */
export interface PCGraphCheckpointData {
  model: PCGraphModel;
  optimizer: OptimizerStateData;
  progress: Record<string, unknown>;
}

/** A PC graph checkpoint read back: a new model, the optimizer state and the progress. */
export interface DecodedPCGraphCheckpoint {
  /** A new model (the caller disposes it). */
  model: PCGraphModel;
  optimizer: OptimizerStateData;
  progress: Record<string, unknown>;
}

/** Options of `decodeCheckpoint`: the backend of the new graph and the file name for messages. */
export interface DecodeOptions {
  backend?: Backend | BackendName;
  /** The file, for error messages. */
  source?: string;
}

interface CheckpointHeader {
  model: ModelJSON | PCGraphJSON;
  optimizer: { kind: string; config: Record<string, unknown>; step: number; slots: WeightEntry[] };
  progress: Record<string, unknown>;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const isCount = (v: unknown): v is number => typeof v === "number" && Number.isInteger(v) && v >= 0;
const magicBytes = new TextEncoder().encode(CHECKPOINT_MAGIC);

/** First byte of the payload for a header of `headerLength` bytes. */
function payloadStart(headerLength: number): number {
  return Math.floor((PREFIX_BYTES + headerLength) / 8) * 8 + 8;
}

function checkOptimizer(optimizer: OptimizerStateData): void {
  const fail = (problem: string): never => {
    throw new SerializationError(`encodeCheckpoint: optimizer state: ${problem}`);
  };
  if (!isObject(optimizer)) fail("expected { kind, config, step, slots }");
  if (typeof optimizer.kind !== "string") fail(`kind must be a string, got ${JSON.stringify(optimizer.kind)}`);
  if (!isObject(optimizer.config)) fail("config must be an object");
  if (typeof optimizer.step !== "number" || !Number.isFinite(optimizer.step)) fail(`step must be a finite number, got ${optimizer.step}`);
  if (!Array.isArray(optimizer.slots)) fail("slots must be an array");
  const names = new Set<string>();
  for (const slot of optimizer.slots) {
    if (typeof slot?.name !== "string" || slot.name.length === 0) fail("every slot needs a non-empty name");
    if (names.has(slot.name)) fail(`slot "${slot.name}" appears twice`);
    names.add(slot.name);
    if (!Array.isArray(slot.shape) || !slot.shape.every(isCount)) fail(`slot "${slot.name}": shape must be a list of sizes`);
    if (!(slot.data instanceof Float32Array || slot.data instanceof Float64Array))
      fail(`slot "${slot.name}": data must be a Float32Array or Float64Array`);
    if (slot.data.length !== sizeOf(slot.shape))
      fail(`slot "${slot.name}": ${slot.data.length} values for shape ${formatShape(slot.shape)} (${sizeOf(slot.shape)} values)`);
  }
}

/** Encodes a checkpoint; weights and slots are stored in the graph's dtype. Refuses non-finite weights. */
export function encodeCheckpoint(data: CheckpointData): Uint8Array {
  return encodeContainer(modelToJSON(data.graph), data.graph, () => weightsToBytes(data.graph), data.optimizer, data.progress);
}

/** Encodes a PC graph's checkpoint in the same container (weights and slots in the model's dtype). */
export function encodePCGraphCheckpoint(data: PCGraphCheckpointData): Uint8Array {
  return encodeContainer(pcGraphToJSON(data.model), data.model, () => pcGraphWeightsToBytes(data.model), data.optimizer, data.progress);
}

function encodeContainer(model: ModelJSON | PCGraphJSON, source: { parameters: readonly Parameter[]; backend: Backend },
  weightBytes: () => Uint8Array, optimizer: OptimizerStateData, progress: Record<string, unknown>): Uint8Array {
  checkOptimizer(optimizer);
  for (const p of source.parameters) {
    const count = source.backend.countNonFinite(p.size, p.tensor.address);
    if (count > 0)
      throw new SerializationError(`encodeCheckpoint: parameter "${p.name}" has ${count} non-finite values (NaN or ±Infinity); a checkpoint never stores them`);
  }
  if (!isObject(progress)) throw new SerializationError("encodeCheckpoint: progress must be a JSON object");
  const bpe = bytesPerElement(model.dtype);
  let offset = model.byteLength;
  const slots = optimizer.slots.map((s) => {
    const entry: WeightEntry = { name: s.name, shape: [...s.shape], offset, length: s.data.length };
    offset += s.data.length * bpe;
    return entry;
  });
  const payloadLength = offset;
  const header: CheckpointHeader = {
    model,
    optimizer: { kind: optimizer.kind, config: optimizer.config, step: optimizer.step, slots },
    progress,
  };
  let json: string;
  try {
    json = JSON.stringify(header);
  } catch (cause) {
    throw new SerializationError(`encodeCheckpoint: the optimizer config or progress is not JSON: ${(cause as Error).message}`);
  }
  const headerBytes = new TextEncoder().encode(json);
  const start = payloadStart(headerBytes.length);
  const bytes = new Uint8Array(start + payloadLength + CRC_BYTES);
  const view = new DataView(bytes.buffer);
  bytes.set(magicBytes, 0);
  view.setUint32(8, CHECKPOINT_VERSION, true);
  view.setUint32(12, headerBytes.length, true);
  bytes.set(headerBytes, PREFIX_BYTES);
  bytes.set(weightBytes(), start);
  optimizer.slots.forEach((s, i) => encodeFloats(s.data, model.dtype, bytes, start + slots[i].offset));
  view.setUint32(bytes.length - CRC_BYTES, crc32(bytes.subarray(0, bytes.length - CRC_BYTES)), true);
  return bytes;
}

/**
 * The payload size implied by a header whose weight and slot tables are complete and laid
 * out back to back, or null when they are not (a damaged header).
 */
function payloadLengthOf(header: unknown): number | null {
  if (!isObject(header) || !isObject(header.model) || !isObject(header.optimizer)) return null;
  const { model, optimizer } = header;
  if (model.dtype !== "float32" && model.dtype !== "float64") return null;
  if (!Array.isArray(model.weights) || !Array.isArray(optimizer.slots)) return null;
  const bpe = bytesPerElement(model.dtype);
  let offset = 0;
  const walk = (entries: unknown[]): boolean =>
    entries.every((e) => {
      if (!isObject(e) || !Array.isArray(e.shape) || !e.shape.every(isCount)) return false;
      if (e.length !== sizeOf(e.shape as number[]) || e.offset !== offset) return false;
      offset += (e.length as number) * bpe;
      return true;
    });
  if (!walk(model.weights) || offset !== model.byteLength || !walk(optimizer.slots)) return null;
  return offset;
}

function readHeader(bytes: Uint8Array): unknown {
  try {
    return JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch {
    return undefined;
  }
}

interface DecodedParts {
  model: ModelJSON | PCGraphJSON;
  modelBytes: Uint8Array;
  optimizer: OptimizerStateData;
  progress: Record<string, unknown>;
  fail(problem: string): never;
  source: string;
}

/**
 * Decodes a checkpoint, checking in order: magic bytes, version, size (truncation), CRC-32,
 * then the header. Errors are SerializationErrors naming `source`. The caller disposes the graph.
 */
export function decodeCheckpoint(bytes: Uint8Array, options: DecodeOptions = {}): DecodedCheckpoint {
  const parts = decodeContainer(bytes, options);
  if (parts.model.format === PC_GRAPH_FORMAT)
    parts.fail("this checkpoint holds a PC graph: read it with decodePCGraphCheckpoint (loadPCGraphCheckpoint on Node, pcgraph graph ...)");
  const model = validateModelJSON(parts.model, parts.source);
  const graph = modelFromJSON(model, parts.modelBytes, { backend: options.backend, source: parts.source });
  return { graph, optimizer: parts.optimizer, progress: parts.progress };
}

/** Decodes a PC graph's checkpoint with the same checks; the caller disposes the model. */
export function decodePCGraphCheckpoint(bytes: Uint8Array, options: DecodeOptions = {}): DecodedPCGraphCheckpoint {
  const parts = decodeContainer(bytes, options);
  if (parts.model.format !== PC_GRAPH_FORMAT)
    parts.fail(`this checkpoint holds a ${JSON.stringify(parts.model.format)} model, not a PC graph: read it with decodeCheckpoint (loadCheckpoint on Node)`);
  const model = pcGraphFromJSON(parts.model, parts.modelBytes, { backend: options.backend, source: parts.source });
  return { model, optimizer: parts.optimizer, progress: parts.progress };
}

/**
 * What a checkpoint holds without building its model: "graph" (decodeCheckpoint) or
 * "pc-graph" (decodePCGraphCheckpoint), and the progress. The same checks as the decoders
 * (magic, version, size, CRC-32, header).
 */
export function checkpointContents(bytes: Uint8Array, options: Omit<DecodeOptions, "backend"> = {}): { kind: "graph" | "pc-graph"; progress: Record<string, unknown> } {
  const parts = decodeContainer(bytes, options);
  return { kind: parts.model.format === PC_GRAPH_FORMAT ? "pc-graph" : "graph", progress: parts.progress };
}

function decodeContainer(bytes: Uint8Array, options: DecodeOptions): DecodedParts {
  const source = options.source ?? "<checkpoint>";
  const fail = (problem: string): never => {
    throw new SerializationError(`${source}: ${problem}`);
  };
  const length = bytes.length;
  const magicPresent = Math.min(length, magicBytes.length);
  for (let i = 0; i < magicPresent; i++)
    if (bytes[i] !== magicBytes[i]) fail(`not a pcgraph checkpoint (bad magic bytes: expected "${CHECKPOINT_MAGIC}")`);
  if (length < PREFIX_BYTES) fail(`truncated checkpoint: ${length} bytes, shorter than the ${PREFIX_BYTES}-byte prefix`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(8, true);
  if (version !== CHECKPOINT_VERSION)
    fail(`checkpoint format version ${version} ${version > CHECKPOINT_VERSION ? "is newer than this pcgraph reads" : "is not supported"} (this version reads ${CHECKPOINT_VERSION})`);
  const headerLength = view.getUint32(12, true);
  const headerEnd = PREFIX_BYTES + headerLength;
  const checksum = () => {
    if (length < PREFIX_BYTES + CRC_BYTES) return;
    const stored = view.getUint32(length - CRC_BYTES, true);
    const actual = crc32(bytes.subarray(0, length - CRC_BYTES));
    if (stored !== actual)
      fail(`checksum mismatch (stored CRC-32 0x${stored.toString(16).padStart(8, "0")}, computed 0x${actual.toString(16).padStart(8, "0")}): the file is corrupted`);
  };

  if (headerEnd > length) {
    // A written header is followed by at least one zero byte; JSON text never contains one.
    if (!bytes.subarray(PREFIX_BYTES).includes(0))
      fail(`truncated checkpoint: the file ends inside the ${headerLength}-byte header (${length} bytes in all)`);
    checksum();
    fail(`corrupt header length ${headerLength} (the file has ${length} bytes)`);
  }
  const header = readHeader(bytes.subarray(PREFIX_BYTES, headerEnd));
  const payloadLength = header === undefined ? null : payloadLengthOf(header);
  const start = payloadStart(headerLength);
  if (payloadLength !== null) {
    const expected = start + payloadLength + CRC_BYTES;
    if (length < expected) fail(`truncated checkpoint: expected ${expected} bytes, got ${length}`);
    if (length > expected) fail(`${length} bytes, expected ${expected}: unexpected data after the checksum`);
  }
  checksum();
  if (header === undefined) fail("corrupt header: not valid UTF-8 JSON");
  if (payloadLength === null) fail("corrupt header: the weight and slot tables are incomplete or inconsistent");

  const h = header as CheckpointHeader;
  const opt = h.optimizer;
  if (typeof opt.kind !== "string" || !isObject(opt.config) || typeof opt.step !== "number")
    fail("corrupt header: optimizer needs { kind, config, step, slots }");
  const names = new Set<string>();
  for (const s of opt.slots) {
    if (typeof s.name !== "string" || names.has(s.name)) fail(`corrupt header: bad or repeated slot name ${JSON.stringify(s.name)}`);
    names.add(s.name);
  }
  if (!isObject(h.progress)) fail("corrupt header: progress must be an object");

  const payload = bytes.subarray(start, start + (payloadLength as number));
  const dtype: FloatDType = h.model.dtype;
  const slots: OptimizerSlot[] = opt.slots.map((s) => ({
    name: s.name,
    shape: [...s.shape],
    data: decodeFloats(payload, s.offset, s.length, dtype),
  }));
  return {
    model: h.model, modelBytes: payload.subarray(0, h.model.byteLength), source, fail,
    optimizer: { kind: opt.kind, config: opt.config, step: opt.step, slots }, progress: h.progress,
  };
}
