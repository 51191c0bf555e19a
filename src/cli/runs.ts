// What a CLI run records about itself in its checkpoints (the model, the data source and
// its fingerprint, the data options and the planned epochs), and the run folder: where it
// goes by default, never over another run's checkpoint, and no empty folder left behind.
import { existsSync, mkdirSync, readdirSync, rmdirSync } from "node:fs";
import { basename, dirname, extname, join, resolve } from "node:path";
import { readCheckpointContents } from "../node/checkpoint-files.js";
import { UsageError } from "./args.js";

/** What a CLI run records about itself in its checkpoints. */
export interface RunRecord {
  /** "mlp", "cnn", the absolute path of a graph spec file, or "layered:784-256-10" (an energy-based network). */
  model: string;
  /** "mnist" or the absolute path of the data, and the fingerprint of its samples. */
  data: { source: string; fingerprint: string };
  /** Whether the training set got shifted copies. */
  augment: boolean;
  testFraction: number;
  /** The epochs the run is planned for. */
  epochs: number;
}

/** The model as a run records it: "mlp", "cnn" or an absolute path. */
export function modelId(value: string): string {
  return value === "mlp" || value === "cnn" ? value : resolve(value);
}

/** The run record in a checkpoint's progress, or undefined when it has none (or a damaged one). */
export function readRunRecord(run: unknown): RunRecord | undefined {
  const r = run as RunRecord | undefined;
  if (!r || typeof r !== "object" || typeof r.model !== "string" || !r.data || typeof r.data.source !== "string" ||
    typeof r.data.fingerprint !== "string" || typeof r.augment !== "boolean" || typeof r.testFraction !== "number" ||
    typeof r.epochs !== "number") return undefined;
  return r;
}

/** "-<name of the data>" for a folder name; "" for the bundled MNIST. */
export function dataSuffix(dataSource: string): string {
  return dataSource === "mnist" ? "" : `-${basename(dataSource, extname(dataSource)).replace(/[^\w.-]+/g, "_")}`;
}

/** runs/<model>-<algorithm>-seed<seed>, with the data's name after the model unless it is the bundled MNIST. */
export function defaultRunFolder(model: string, dataSource: string, algorithm: string, seed: number): string {
  return join("runs", `${model}${dataSuffix(dataSource)}-${algorithm}-seed${seed}`);
}

/**
 * Refuses to write into a folder whose checkpoint belongs to another run: another model,
 * other data, another algorithm or seed (or a checkpoint that does not say). The same
 * run trained again, and the checkpoint being resumed, may be replaced.
 */
export function checkRunFolder(dir: string, run: RunRecord, algorithm: string, seed: number, resuming?: string): void {
  const existing = join(dir, "checkpoint.ckpt");
  if (!existsSync(existing) || (resuming !== undefined && resolve(resuming) === resolve(existing))) return;
  let other: { record?: RunRecord; algorithm?: string; seed?: number } = {};
  try {
    // A graph's or an energy-based network's checkpoint: the same progress fields say whose run it is.
    const { progress } = readCheckpointContents(existing);
    other = {
      record: readRunRecord(progress.run),
      algorithm: typeof progress.algorithm === "string" ? progress.algorithm : undefined,
      seed: typeof progress.seed === "number" ? progress.seed : undefined,
    };
  } catch {
    // unreadable: treated as another run
  }
  const r = other.record;
  if (r && r.model === run.model && r.data.fingerprint === run.data.fingerprint && other.algorithm === algorithm && other.seed === seed) return;
  const what = r ? `a ${other.algorithm} run of ${r.model} on ${r.data.source} (seed ${other.seed})` : "a checkpoint of another run";
  throw new UsageError(`${dir} already holds ${what}; pass --out DIR to write this run elsewhere, or --resume ${existing} to continue that one`);
}

/**
 * Creates `dir` (and missing parents); returns a function that removes what it created if
 * it is still empty, for runs that fail before writing anything.
 */
export function makeRunFolder(dir: string): () => void {
  const created: string[] = [];
  for (let d = resolve(dir); !existsSync(d); d = dirname(d)) created.push(d);
  mkdirSync(dir, { recursive: true });
  return () => {
    for (const d of created) {
      try {
        if (readdirSync(d).length > 0) return;
        rmdirSync(d);
      } catch {
        return;
      }
    }
  };
}
