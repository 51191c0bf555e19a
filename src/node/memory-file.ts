// Stored patterns of an associative memory as one binary file, written atomically:
//
//   0   8 bytes   magic "PCGMEM01"
//   8   u32       format version (1)
//   12  u32       H = byte length of the JSON header
//   16  H bytes   UTF-8 JSON { count, patternSize, imageShape: [channels, height, width] | null, source }
//   ..  0-3 zero bytes so the payload starts at a multiple of 4
//   P   payload   count x patternSize float32, little-endian, row-major
//   end-4 u32     CRC-32 of every byte before it
// Integers are little-endian.
import { readFileSync } from "node:fs";
import { SerializationError } from "../graph/errors.js";
import { crc32 } from "../train/crc32.js";
import { writeFileAtomic } from "./files.js";

/** The first 8 bytes of a memory file. */
export const MEMORY_FILE_MAGIC = "PCGMEM01";
/** The memory file format version this pcgraph writes and reads. */
export const MEMORY_FILE_VERSION = 1;

/** The contents of a memory file: the stored patterns and where they came from. */
export interface MemoryFile {
  count: number;
  patternSize: number;
  /** [channels, height, width] when the patterns are images. */
  imageShape: [number, number, number] | null;
  /** Where the patterns came from, for people. */
  source: string;
  /** count x patternSize values. */
  patterns: Float32Array;
}

/** The bytes of a memory file (format in the file comment), with its CRC-32. */
export function encodeMemoryFile(file: MemoryFile): Uint8Array {
  if (file.patterns.length !== file.count * file.patternSize)
    throw new RangeError(`encodeMemoryFile: ${file.patterns.length} values are not ${file.count} patterns of ${file.patternSize}`);
  const header = new TextEncoder().encode(JSON.stringify({ count: file.count, patternSize: file.patternSize, imageShape: file.imageShape, source: file.source }));
  const payloadAt = Math.ceil((16 + header.length) / 4) * 4;
  const bytes = new Uint8Array(payloadAt + file.patterns.length * 4 + 4);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < 8; i++) bytes[i] = MEMORY_FILE_MAGIC.charCodeAt(i);
  view.setUint32(8, MEMORY_FILE_VERSION, true);
  view.setUint32(12, header.length, true);
  bytes.set(header, 16);
  for (let i = 0; i < file.patterns.length; i++) view.setFloat32(payloadAt + 4 * i, file.patterns[i], true);
  view.setUint32(bytes.length - 4, crc32(bytes.subarray(0, bytes.length - 4)), true);
  return bytes;
}

/** Reads memory-file bytes, checking magic, version, header, sizes and checksum; errors name `name`. */
export function decodeMemoryFile(bytes: Uint8Array, name = "memory file"): MemoryFile {
  const fail = (what: string): never => {
    throw new SerializationError(`${name}: ${what}`);
  };
  if (bytes.length < 20) fail(`${bytes.length} bytes is too short for a memory file`);
  const magic = String.fromCharCode(...bytes.subarray(0, 8));
  if (magic !== MEMORY_FILE_MAGIC) fail(`not a pcgraph memory file (starts with ${JSON.stringify(magic)}, expected ${MEMORY_FILE_MAGIC})`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(8, true);
  if (version !== MEMORY_FILE_VERSION) fail(`format version ${version} is not supported (this pcgraph reads version ${MEMORY_FILE_VERSION})`);
  if (view.getUint32(bytes.length - 4, true) !== crc32(bytes.subarray(0, bytes.length - 4))) fail("checksum mismatch: the file is corrupted or truncated");
  const headerLength = view.getUint32(12, true);
  if (16 + headerLength > bytes.length - 4) fail(`header length ${headerLength} runs past the end of the file`);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(16, 16 + headerLength)));
  } catch (cause) {
    return fail(`header is not JSON: ${(cause as Error).message}`);
  }
  const { count, patternSize, imageShape, source } = header;
  if (!Number.isInteger(count) || (count as number) < 1) fail(`header field "count" must be a positive integer, got ${JSON.stringify(count)}`);
  if (!Number.isInteger(patternSize) || (patternSize as number) < 1) fail(`header field "patternSize" must be a positive integer, got ${JSON.stringify(patternSize)}`);
  if (imageShape !== null && !(Array.isArray(imageShape) && imageShape.length === 3 && imageShape.every((v) => Number.isInteger(v) && v > 0) &&
    imageShape[0] * imageShape[1] * imageShape[2] === patternSize))
    fail(`header field "imageShape" must be null or [channels, height, width] with a product of ${String(patternSize)}, got ${JSON.stringify(imageShape)}`);
  const payloadAt = Math.ceil((16 + headerLength) / 4) * 4;
  const values = (count as number) * (patternSize as number);
  if (payloadAt + values * 4 + 4 !== bytes.length) fail(`${bytes.length} bytes do not hold ${String(count)} patterns of ${String(patternSize)} float32 values`);
  const patterns = new Float32Array(values);
  for (let i = 0; i < values; i++) {
    patterns[i] = view.getFloat32(payloadAt + 4 * i, true);
    if (!Number.isFinite(patterns[i])) fail(`pattern ${Math.floor(i / (patternSize as number))} entry ${i % (patternSize as number)} is ${patterns[i]}`);
  }
  return { count: count as number, patternSize: patternSize as number, imageShape: imageShape as [number, number, number] | null, source: String(source ?? ""), patterns };
}

/** Writes a memory file atomically. */
export function saveMemoryFile(path: string, file: MemoryFile): void {
  writeFileAtomic(path, encodeMemoryFile(file));
}

/** Reads and checks a memory file; errors name the path. */
export function loadMemoryFile(path: string): MemoryFile {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (cause) {
    throw new SerializationError(`${path}: cannot read the memory file: ${(cause as Error).message}`);
  }
  return decodeMemoryFile(bytes, path);
}
