// Opening a user's model for `pcgraph verify --model`: a checkpoint, a saved model (its
// model.json or the directory holding it with weights.bin) or a graph spec file (fresh
// weights from the seed).
import { existsSync, readFileSync, statSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { CHECKPOINT_MAGIC } from "../train/checkpoint.js";
import { Graph, type GraphSpec } from "../graph/graph.js";
import { MODEL_FORMAT } from "../graph/serialize.js";
import { loadCheckpoint } from "../node/checkpoint-files.js";
import { loadModel, MODEL_FILE } from "../node/files.js";
import { UsageError } from "./args.js";

export interface OpenedModel {
  graph: Graph;
  /** One line: what was opened. */
  description: string;
}

function startsWithCheckpointMagic(path: string): boolean {
  const bytes = readFileSync(path).subarray(0, CHECKPOINT_MAGIC.length);
  return new TextDecoder().decode(bytes) === CHECKPOINT_MAGIC;
}

/** Opens `path` as a checkpoint, a saved model or a graph spec; the caller disposes the graph. */
export function openModel(path: string, seed: number): OpenedModel {
  if (!existsSync(path)) throw new UsageError(`--model: no such file or directory: ${path}`);
  if (statSync(path).isDirectory()) {
    if (!existsSync(join(path, MODEL_FILE))) throw new UsageError(`--model ${path}: the directory has no ${MODEL_FILE}`);
    return { graph: loadModel(path), description: `saved model ${path}` };
  }
  if (startsWithCheckpointMagic(path)) return { graph: loadCheckpoint(path).graph, description: `checkpoint ${path}` };
  let json: { format?: string; nodes?: unknown };
  try {
    json = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    throw new UsageError(`--model ${path}: not a checkpoint, a saved model or a JSON graph spec (${(error as Error).message})`);
  }
  if (json?.format === MODEL_FORMAT) {
    if (basename(path) !== MODEL_FILE) throw new UsageError(`--model ${path}: a saved model is read from its directory's ${MODEL_FILE} and weights.bin`);
    return { graph: loadModel(dirname(path)), description: `saved model ${dirname(path)}` };
  }
  if (Array.isArray(json?.nodes)) return { graph: new Graph(json as unknown as GraphSpec, { seed }), description: `graph spec ${path} (weights from seed ${seed})` };
  throw new UsageError(`--model ${path}: expected a checkpoint, a saved model or a graph spec { nodes, output, loss }`);
}
