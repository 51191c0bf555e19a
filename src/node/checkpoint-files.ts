// Node-only checkpoint files: one atomic write per save (see src/train/checkpoint.ts for the format).
import { readFileSync } from "node:fs";
import { SerializationError } from "../graph/errors.js";
import {
  checkpointContents, decodeCheckpoint, decodePCGraphCheckpoint, encodeCheckpoint, encodePCGraphCheckpoint, type CheckpointData, type DecodedCheckpoint,
  type DecodedPCGraphCheckpoint, type DecodeOptions, type PCGraphCheckpointData,
} from "../train/checkpoint.js";
import { writeFileAtomic } from "./files.js";

/** Writes the checkpoint atomically: `path` holds either the previous checkpoint or this one. */
export function saveCheckpoint(path: string, data: CheckpointData): void {
  writeFileAtomic(path, encodeCheckpoint(data));
}

/** Writes a PC graph's checkpoint atomically. */
export function savePCGraphCheckpoint(path: string, data: PCGraphCheckpointData): void {
  writeFileAtomic(path, encodePCGraphCheckpoint(data));
}

function readCheckpointFile(path: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (error) {
    throw Object.assign(new SerializationError(`${path}: cannot read the checkpoint: ${(error as Error).message}`), { cause: error });
  }
}

/** Reads and checks a checkpoint; every error names `path`. The caller disposes the graph. */
export function loadCheckpoint(path: string, options: Omit<DecodeOptions, "source"> = {}): DecodedCheckpoint {
  return decodeCheckpoint(readCheckpointFile(path), { ...options, source: path });
}

/** Reads and checks a PC graph's checkpoint; every error names `path`. The caller disposes the model. */
export function loadPCGraphCheckpoint(path: string, options: Omit<DecodeOptions, "source"> = {}): DecodedPCGraphCheckpoint {
  return decodePCGraphCheckpoint(readCheckpointFile(path), { ...options, source: path });
}

/** What the checkpoint at `path` holds ("graph" or "pc-graph") and its progress, without building the model; errors name `path`. */
export function readCheckpointContents(path: string): { kind: "graph" | "pc-graph"; progress: Record<string, unknown> } {
  return checkpointContents(readCheckpointFile(path), { source: path });
}
