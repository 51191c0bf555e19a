// Node-only checkpoint files: one atomic write per save (see src/train/checkpoint.ts for the format).
import { readFileSync } from "node:fs";
import { SerializationError } from "../graph/errors.js";
import { decodeCheckpoint, encodeCheckpoint, type CheckpointData, type DecodedCheckpoint, type DecodeOptions } from "../train/checkpoint.js";
import { writeFileAtomic } from "./files.js";

/** Writes the checkpoint atomically: `path` holds either the previous checkpoint or this one. */
export function saveCheckpoint(path: string, data: CheckpointData): void {
  writeFileAtomic(path, encodeCheckpoint(data));
}

/** Reads and checks a checkpoint; every error names `path`. The caller disposes the graph. */
export function loadCheckpoint(path: string, options: Omit<DecodeOptions, "source"> = {}): DecodedCheckpoint {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    throw Object.assign(new SerializationError(`${path}: cannot read the checkpoint: ${(error as Error).message}`), { cause: error });
  }
  return decodeCheckpoint(bytes, { ...options, source: path });
}
