// Node-only file helpers: atomic writes, and saving/loading a model as
// dir/model.json (topology and weight table) + dir/weights.bin (little-endian floats).
import * as nodeFs from "node:fs";
import { basename, dirname, join } from "node:path";
import { SerializationError } from "../graph/errors.js";
import type { Graph } from "../graph/graph.js";
import { modelFromJSON, modelToJSON, weightsToBytes, type LoadOptions } from "../graph/serialize.js";

/** The file-system calls writeFileAtomic makes (node:fs by default; replaceable to simulate failures). */
export interface AtomicWriteFs {
  /** Opens a file, returning its descriptor. */
  openSync(path: string, flags: string, mode?: number): number;
  /** Writes bytes, returning how many were written. */
  writeSync(fd: number, data: Uint8Array, offset?: number, length?: number): number;
  /** Flushes a file to the disk. */
  fsyncSync(fd: number): void;
  /** Closes a descriptor. */
  closeSync(fd: number): void;
  /** Renames a file (atomically on one file system). */
  renameSync(from: string, to: string): void;
  /** Deletes a file. */
  unlinkSync(path: string): void;
}

/** Options of `writeFileAtomic`: the new file's mode, and the file system to use (for tests). */
export interface AtomicWriteOptions {
  /** File mode of a new file (default 0o644, before the umask). */
  mode?: number;
  fs?: AtomicWriteFs;
}

let counter = 0;

/** True unless no process with this id exists (a process of another user counts as alive). */
function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== "ESRCH";
  }
}

/**
 * Removes temporary files of earlier writes to `path` whose writer no longer runs (killed
 * between writing and renaming): `.<name>.<pid>.<time>.<n>.tmp` beside `path`.
 */
export function removeStaleTemporaries(path: string): string[] {
  const dir = dirname(path);
  const prefix = `.${basename(path)}.`;
  const removed: string[] = [];
  let names: string[];
  try {
    names = nodeFs.readdirSync(dir);
  } catch {
    return removed;
  }
  for (const name of names) {
    if (!name.startsWith(prefix) || !name.endsWith(".tmp")) continue;
    const pid = Number(name.slice(prefix.length).split(".")[0]);
    if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid || processAlive(pid)) continue;
    try {
      nodeFs.unlinkSync(join(dir, name));
      removed.push(join(dir, name));
    } catch {
      // another writer removed it first
    }
  }
  return removed;
}

/**
 * Writes `data` to `path` so that readers see either the old file or the complete new one:
 * the data goes to a temporary file in the same directory, is flushed to disk (fsync) and
 * renamed over `path`. On failure the temporary file is removed and the old file is left
 * as it was; temporary files left by a writer that was killed are removed on the next write.
 */
export function writeFileAtomic(path: string, data: Uint8Array | string, options: AtomicWriteOptions = {}): void {
  const fs = options.fs ?? nodeFs;
  removeStaleTemporaries(path);
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now().toString(36)}.${counter++}.tmp`);
  let fd: number | undefined;
  try {
    fd = fs.openSync(temp, "wx", options.mode ?? 0o644);
    let written = 0;
    while (written < bytes.length) written += fs.writeSync(fd, bytes, written, bytes.length - written);
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = undefined;
    fs.renameSync(temp, path);
  } catch (error) {
    if (fd !== undefined) {
      try {
        fs.closeSync(fd);
      } catch {
        // already failing; the original error is the one to report
      }
    }
    try {
      fs.unlinkSync(temp);
    } catch {
      // the temporary file may not exist
    }
    throw error;
  }
  syncDirectory(dirname(path));
}

/** Flushes the directory entry of a rename to disk where the platform allows it. */
function syncDirectory(directory: string): void {
  let fd: number | undefined;
  try {
    fd = nodeFs.openSync(directory, "r");
    nodeFs.fsyncSync(fd);
  } catch {
    // not supported on every platform (e.g. Windows); the rename itself is still atomic
  } finally {
    if (fd !== undefined) nodeFs.closeSync(fd);
  }
}

/** The graph file `saveModel` writes in its directory. */
export const MODEL_FILE = "model.json";
/** The weights file `saveModel` writes beside model.json (float32, little-endian). */
export const WEIGHTS_FILE = "weights.bin";

/**
 * Saves a graph as dir/model.json + dir/weights.bin (the directory is created if needed).
 * Each file is replaced atomically; the pair is not. A crash between the two writes leaves
 * the new weights.bin beside the old model.json: fine for the same topology, and caught by
 * the byteLength check for most others. Use a checkpoint (one file) when that matters.
 */
export function saveModel(dir: string, graph: Graph): void {
  nodeFs.mkdirSync(dir, { recursive: true });
  writeFileAtomic(join(dir, WEIGHTS_FILE), weightsToBytes(graph));
  writeFileAtomic(join(dir, MODEL_FILE), JSON.stringify(modelToJSON(graph), null, 2) + "\n");
}

function readFile(path: string): Uint8Array {
  try {
    return nodeFs.readFileSync(path);
  } catch (error) {
    throw Object.assign(new SerializationError(`${path}: cannot read: ${(error as Error).message}`), { cause: error });
  }
}

/** Loads a graph saved by saveModel; errors name the file at fault. */
export function loadModel(dir: string, options: Omit<LoadOptions, "source" | "weightsSource"> = {}): Graph {
  const modelPath = join(dir, MODEL_FILE);
  const weightsPath = join(dir, WEIGHTS_FILE);
  const text = new TextDecoder().decode(readFile(modelPath));
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new SerializationError(`${modelPath}: not valid JSON: ${(error as Error).message}`);
  }
  return modelFromJSON(json, readFile(weightsPath), { ...options, source: modelPath, weightsSource: weightsPath });
}
