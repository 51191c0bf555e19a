// The demo's settings, from the query string (each falls back to its default when absent or invalid).
import type { Algorithm, BackendName } from "../src/index.js";

const params = new URLSearchParams(location.search);

function intParam(name: string, fallback: number, min: number, max: number): number {
  const raw = params.get(name);
  const value = raw === null ? NaN : Number(raw);
  return Number.isInteger(value) && value >= min && value <= max ? value : fallback;
}

function numberParam(name: string, fallback: number): number {
  const value = Number(params.get(name) ?? NaN);
  return Number.isFinite(value) && value > 0 ? value : fallback;
}

export const settings = {
  backend: (params.get("backend") ?? "") as BackendName | "",
  /** Threads of wasm-simd-threads (0: the machine's hardware threads). */
  threads: intParam("threads", 0, 1, 32),
  epochs: intParam("epochs", 5, 1, 1000),
  hidden: intParam("hidden", 256, 1, 4096),
  batchSize: intParam("batch", 64, 1, 8000),
  learningRate: numberParam("lr", 1e-3),
  trainLimit: intParam("train", 0, 0, 1e6),
  seed: intParam("seed", 1, 0, 2 ** 31 - 1),
  checkEvery: intParam("check", 10, 1, 1e6),
  /** zil (default); il or fpa train with an approximate PC rule instead, so the panel shows what a mismatch looks like. */
  algorithm: (["zil", "il", "fpa"].includes(params.get("algorithm") ?? "") ? params.get("algorithm") : "zil") as Exclude<Algorithm, "bp">,
  testFraction: 0.2,
  /** The clamp-anything panel: which PC graph ("generative": label -> hidden -> image; "full": every group predicts every group). */
  pcGraph: (params.get("pcgraph") === "full" ? "full" : "generative") as "generative" | "full",
  pcHidden: intParam("pchidden", 128, 1, 2048),
  pcEpochs: intParam("pcepochs", 2, 1, 1000),
  pcTrain: intParam("pctrain", 0, 0, 1e6),
  /** Relaxation steps of a clamp-anything query, shown one by one. */
  pcSteps: intParam("pcsteps", 120, 1, 10000),
  /** The associative-memory panel: digits stored, the PC memory's hidden width and most training epochs. */
  memCount: intParam("memcount", 6, 1, 100),
  memHidden: intParam("memhidden", 128, 1, 2048),
  memEpochs: intParam("memepochs", 500, 1, 100000),
};

export const algorithmLabel = { zil: "Z-IL", il: "IL", fpa: "FPA" }[settings.algorithm];
