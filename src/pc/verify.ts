// `verify`: draws random graphs (random-graph.ts), runs one Z-IL step and the reference
// backprop on the same weights and data, and reports the largest divergence between their
// parameter updates, on the float64 reference backend and on the wasm f32 backend.
import type { BackendName } from "../backend/load.js";
import { Graph } from "../graph/graph.js";
import { Random } from "../random.js";
import { backprop } from "../reference/backprop.js";
import { Tensor } from "../tensor.js";
import { pcGradients, type PCOptions } from "./engine.js";
import { drawFromRandom, randomBatch, randomGraph, type RandomGraph } from "./random-graph.js";

/**
 * Divergence of two gradient sets: max |a - b| over every entry, divided by the largest
 * |b| over every parameter (so a parameter with tiny gradients is not judged on its own
 * relative error, which f32 cancellation in e = x - mu makes meaningless).
 */
export function gradientDivergence(actual: Map<string, Tensor | ArrayLike<number>>,
  expected: Map<string, Tensor | ArrayLike<number>>): number {
  const values = (g: Tensor | ArrayLike<number>) => (g instanceof Tensor ? g.dataSync() : g);
  let scale = 0;
  let worst = 0;
  for (const [name, e] of expected) {
    const a = actual.get(name);
    if (!a) return Infinity;
    const ev = values(e);
    const av = values(a);
    if (av.length !== ev.length) return Infinity;
    for (let i = 0; i < ev.length; i++) {
      scale = Math.max(scale, Math.abs(ev[i]));
      const d = Math.abs(av[i] - ev[i]);
      worst = Number.isNaN(d) ? Infinity : Math.max(worst, d);
    }
  }
  return scale === 0 ? worst : worst / scale;
}

/** One PC step against backprop on one graph: the divergence of the gradients and the loss. */
export interface Comparison {
  divergence: number;
  loss: number;
}

/** One Z-IL (or other PC) step vs backprop on a drawn graph, on one backend. */
export function compareWithBackprop(drawn: RandomGraph, backend: BackendName, options: PCOptions = { algorithm: "zil" }): Comparison {
  const graph = new Graph(drawn.spec, { seed: drawn.seed, backend });
  const batch = randomBatch(graph, drawn.batch, drawn.seed + 1);
  let bp: Map<string, Tensor> | undefined;
  let pc: Map<string, Tensor> | undefined;
  try {
    const reference = backprop(graph, batch);
    bp = reference.gradients;
    pc = pcGradients(graph, batch, options).gradients;
    return { divergence: gradientDivergence(pc, bp), loss: reference.loss };
  } finally {
    for (const t of [...(bp?.values() ?? []), ...(pc?.values() ?? [])]) t.dispose();
    for (const t of [...Object.values(batch.inputs), batch.target]) t.dispose();
    graph.dispose();
  }
}

/**
 * Largest divergence the suite accepts: float64 sums in another order differ by ~1e-15 per
 * operation, so 1e-10 leaves room for depth and still catches any real divergence; in f32
 * the budget is 2e-4 of the largest gradient (measured maxima are far below both).
 */
export const divergenceTolerance: Record<BackendName, number> = {
  "reference-f64": 1e-10,
  "wasm-simd-threads": 2e-4,
  "wasm-simd": 2e-4,
  "wasm-scalar": 2e-4,
};

/** Options of `runVerify`: how many random graphs, the seed, the backends and a progress log. */
export interface VerifyOptions {
  runs?: number;
  seed?: number;
  backends?: BackendName[];
  /** Receives one progress line per graph (default: none). */
  log?: (line: string) => void;
}

/** What `runVerify` found: the largest divergence per backend, the graph behind it and the verdict. */
export interface VerifyReport {
  runs: number;
  seed: number;
  /** Largest divergence found per backend. */
  maxDivergence: Record<string, number>;
  /** The graph behind each maximum. */
  worst: Record<string, { run: number; family: string; nodes: number; batch: number }>;
  /** True when every backend stayed within `divergenceTolerance`. */
  passed: boolean;
  seconds: number;
}

/**
 * Compares one Z-IL step with backprop on `runs` random graphs (DAGs, CNNs, RNNs) on each
 * backend, and reports the largest divergence against each backend's stated tolerance.
 */
export function runVerify(options: VerifyOptions = {}): VerifyReport {
  const runs = options.runs ?? 100;
  const seed = options.seed ?? 1;
  const backends = options.backends ?? ["reference-f64", "wasm-simd"];
  const log = options.log ?? (() => undefined);
  const started = Date.now();
  const maxDivergence: Record<string, number> = Object.fromEntries(backends.map((b) => [b, 0]));
  const worst: VerifyReport["worst"] = {};
  for (let run = 0; run < runs; run++) {
    const drawn = randomGraph(drawFromRandom(new Random(seed * 100_003 + run)));
    for (const backend of backends) {
      const { divergence } = compareWithBackprop(drawn, backend);
      if (!(divergence <= maxDivergence[backend])) {
        maxDivergence[backend] = divergence;
        worst[backend] = { run, family: drawn.family, nodes: drawn.spec.nodes.length, batch: drawn.batch };
      }
    }
    if ((run + 1) % 10 === 0 || run + 1 === runs)
      log(`${run + 1}/${runs} graphs: max divergence ${backends.map((b) => `${b} ${maxDivergence[b].toExponential(2)}`).join(", ")}`);
  }
  const passed = backends.every((b) => maxDivergence[b] <= divergenceTolerance[b]);
  return { runs, seed, maxDivergence, worst, passed, seconds: (Date.now() - started) / 1000 };
}
