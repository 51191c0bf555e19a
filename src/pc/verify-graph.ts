// verifyGraph: the Z-IL = BP property run on one graph (a user's model) instead of random
// graphs. Each case draws weights near the graph's own, a batch size, data and a loss (the
// graph's, and the other one where its output allows); one Z-IL step and the reference
// backprop then run on every backend asked for, float64 and float32, and the divergence of
// their gradients (gradientDivergence) must stay within the backend's tolerance. A failing
// case is shrunk to a simpler one that still fails (stored weights, batch 1, ...), and the
// report names the seed that replays the run.
import { simdSupported, type BackendName } from "../backend/load.js";
import { InvalidArgumentError } from "../backend/errors.js";
import { Graph } from "../graph/graph.js";
import type { LossName } from "../graph/loss.js";
import { Random } from "../random.js";
import { backprop } from "../reference/backprop.js";
import type { Tensor } from "../tensor.js";
import { pcGradients, type PCOptions } from "./engine.js";
import { randomBatch } from "./random-graph.js";
import { divergenceTolerance, gradientDivergence } from "./verify.js";

/** One drawn case: everything needed to run it again. */
export interface VerifyCase {
  loss: LossName;
  batch: number;
  /** Seed of the inputs and targets. */
  dataSeed: number;
  /** Seed of the weight perturbation. */
  weightSeed: number;
  /** Each weight moves by this times its parameter's RMS times a standard normal draw (0: the stored weights). */
  perturbation: number;
}

/** Options of `verifyGraph`: how many cases, the seed, backends, losses, batch sizes, weight perturbation, a case to replay. */
export interface VerifyGraphOptions {
  /** Cases to draw (default 100). */
  runs?: number;
  /** Seed of the cases (default 1): the same seed draws the same cases. */
  seed?: number;
  /** Backends to compare on (default reference-f64 and wasm-simd, or wasm-scalar without SIMD). */
  backends?: BackendName[];
  /** Losses to draw from (default: the graph's, plus the other where the output allows). */
  losses?: LossName[];
  /** Largest batch size drawn (default 16). */
  maxBatch?: number;
  /** Largest relative weight perturbation drawn (default 0.1). */
  perturbation?: number;
  /** Run only this case (e.g. a counterexample from an earlier report). */
  replay?: VerifyCase;
  /** Options of the PC step (default Z-IL with its defaults); for negative controls. */
  pc?: PCOptions;
  /** Receives one progress line per case (default: none). */
  log?: (line: string) => void;
}

/** One row of the divergence table: a backend and loss, its cases, the largest divergence against the tolerance. */
export interface VerifyTableRow {
  backend: BackendName;
  loss: LossName;
  cases: number;
  maxDivergence: number;
  tolerance: number;
  passed: boolean;
}

/** The first failing case of a `verifyGraph` run, as drawn and after shrinking, with the seed path to replay it. */
export interface VerifyCounterexample {
  backend: BackendName;
  /** The case as first drawn, and after shrinking. */
  original: VerifyCase;
  shrunk: VerifyCase;
  divergence: number;
  tolerance: number;
  /** 0-based index of the failing case in the run. */
  run: number;
  shrinks: number;
}

/** What `verifyGraph` found: the divergence table, the verdict and, on failure, the shrunk counterexample. */
export interface VerifyGraphReport {
  passed: boolean;
  runs: number;
  seed: number;
  table: VerifyTableRow[];
  /** The first failing case, shrunk; absent when every case passed. */
  counterexample?: VerifyCounterexample;
  seconds: number;
}

/** Losses the graph's output allows: mse always; cross-entropy on a vector of 2 or more classes. */
export function allowedLosses(graph: Graph): LossName[] {
  const crossEntropy = graph.output.shape.length === 1 && graph.output.size >= 2;
  const others: LossName[] = graph.loss === "mse" ? (crossEntropy ? ["softmaxCrossEntropy"] : []) : ["mse"];
  return [graph.loss, ...others];
}

/** Weights near `stored`: w + perturbation * rms(parameter) * N(0, 1), from the case's seed. */
function perturbedWeights(stored: Map<string, Float64Array>, c: VerifyCase): Map<string, Float64Array> {
  if (c.perturbation === 0) return stored;
  const random = new Random(c.weightSeed);
  const out = new Map<string, Float64Array>();
  for (const [name, w] of stored) {
    let squares = 0;
    for (const v of w) squares += v * v;
    const rms = Math.sqrt(squares / Math.max(w.length, 1)) || 1e-2;
    out.set(name, Float64Array.from(w, (v) => v + c.perturbation * rms * random.normal()));
  }
  return out;
}

/** The divergence of one Z-IL step from backprop on a case, on one backend. */
export function caseDivergence(graph: Graph, c: VerifyCase, backend: BackendName, pc: PCOptions = { algorithm: "zil" },
  stored: Map<string, Float64Array> = graph.getWeights()): number {
  const copy = new Graph({ ...graph.spec, loss: c.loss }, { backend });
  let batch: ReturnType<typeof randomBatch> | undefined;
  let bp: Map<string, Tensor> | undefined;
  let estimate: Map<string, Tensor> | undefined;
  try {
    copy.setWeights(perturbedWeights(stored, c));
    batch = randomBatch(copy, c.batch, c.dataSeed);
    bp = backprop(copy, batch).gradients;
    estimate = pcGradients(copy, batch, pc).gradients;
    return gradientDivergence(estimate, bp);
  } finally {
    for (const t of [...(bp?.values() ?? []), ...(estimate?.values() ?? [])]) t.dispose();
    if (batch) for (const t of [...Object.values(batch.inputs), batch.target]) t.dispose();
    copy.dispose();
  }
}

function drawCase(random: Random, losses: LossName[], maxBatch: number, perturbation: number): VerifyCase {
  return {
    loss: losses[random.int(losses.length)],
    batch: 1 + random.int(maxBatch),
    dataSeed: random.int(2 ** 31),
    weightSeed: random.int(2 ** 31),
    perturbation: random.uniform(0, perturbation),
  };
}

/** Simpler cases to try in turn: the stored weights, batch 1, half the batch, half the perturbation, data seed 0. */
function simpler(c: VerifyCase): VerifyCase[] {
  const out: VerifyCase[] = [];
  if (c.perturbation > 0) out.push({ ...c, perturbation: 0, weightSeed: 0 });
  if (c.batch > 1) out.push({ ...c, batch: 1 }, { ...c, batch: Math.floor(c.batch / 2) });
  if (c.perturbation > 1e-3) out.push({ ...c, perturbation: c.perturbation / 2 });
  if (c.dataSeed !== 0) out.push({ ...c, dataSeed: 0 });
  if (c.weightSeed !== 0 && c.perturbation > 0) out.push({ ...c, weightSeed: 0 });
  return out.filter((s, i) => out.findIndex((t) => JSON.stringify(t) === JSON.stringify(s)) === i);
}

function defaultBackends(): BackendName[] {
  return ["reference-f64", simdSupported() ? "wasm-simd" : "wasm-scalar"];
}

/**
 * Checks on `graph` that Z-IL's updates equal backprop's: `runs` cases of weights near the
 * graph's, random data and batch sizes and each allowed loss, on float64 and float32. The
 * graph itself is not changed.
 */
export function verifyGraph(graph: Graph, options: VerifyGraphOptions = {}): VerifyGraphReport {
  const started = Date.now();
  const runs = options.runs ?? 100;
  const seed = options.seed ?? 1;
  const maxBatch = options.maxBatch ?? 16;
  const perturbation = options.perturbation ?? 0.1;
  const backends = options.backends ?? defaultBackends();
  const allowed = allowedLosses(graph);
  const losses = options.losses ?? allowed;
  const log = options.log ?? (() => undefined);
  const pc = options.pc ?? { algorithm: "zil" };
  if (!Number.isInteger(runs) || runs < 1) throw new InvalidArgumentError(`verifyGraph: runs must be an integer >= 1, got ${runs}`);
  if (!Number.isInteger(maxBatch) || maxBatch < 1) throw new InvalidArgumentError(`verifyGraph: maxBatch must be an integer >= 1, got ${maxBatch}`);
  if (!(perturbation >= 0 && Number.isFinite(perturbation))) throw new InvalidArgumentError(`verifyGraph: perturbation must be a number >= 0, got ${perturbation}`);
  for (const loss of losses)
    if (!allowed.includes(loss)) throw new InvalidArgumentError(`verifyGraph: the output "${graph.output.name}" ${JSON.stringify(graph.output.shape)} does not allow the ${loss} loss`);

  const stored = graph.getWeights();
  const rows = new Map<string, VerifyTableRow>();
  for (const backend of backends)
    for (const loss of losses)
      rows.set(`${backend}/${loss}`, { backend, loss, cases: 0, maxDivergence: 0, tolerance: divergenceTolerance[backend], passed: true });
  const random = new Random(seed);
  const cases = options.replay ? [options.replay] : Array.from({ length: runs }, () => drawCase(random, losses, maxBatch, perturbation));
  let counterexample: VerifyCounterexample | undefined;
  for (let run = 0; run < cases.length && !counterexample; run++) {
    const c = cases[run];
    for (const backend of backends) {
      const divergence = caseDivergence(graph, c, backend, pc, stored);
      const row = rows.get(`${backend}/${c.loss}`)!;
      row.cases++;
      if (!(divergence <= row.maxDivergence)) row.maxDivergence = divergence;
      if (divergence <= row.tolerance) continue;
      row.passed = false;
      counterexample = shrink(graph, c, backend, divergence, row.tolerance, pc, stored, run);
      log(`case ${run + 1} fails on ${backend}: divergence ${divergence.toExponential(3)} > ${row.tolerance}; shrunk in ${counterexample.shrinks} steps`);
      break;
    }
    if ((run + 1) % 10 === 0 || run + 1 === cases.length)
      log(`${run + 1}/${cases.length} cases: max divergence ${[...rows.values()].map((r) => `${r.backend} ${r.loss} ${r.maxDivergence.toExponential(2)}`).join(", ")}`);
  }
  const table = [...rows.values()];
  return { passed: !counterexample, runs: cases.length, seed, table, ...(counterexample ? { counterexample } : {}), seconds: (Date.now() - started) / 1000 };
}

/** Greedy shrinking: take the first simpler case that still fails, until none does. */
function shrink(graph: Graph, original: VerifyCase, backend: BackendName, divergence: number, tolerance: number, pc: PCOptions,
  stored: Map<string, Float64Array>, run: number): VerifyCounterexample {
  let current = original;
  let worst = divergence;
  let shrinks = 0;
  for (let progress = true; progress && shrinks < 100;) {
    progress = false;
    for (const candidate of simpler(current)) {
      const d = caseDivergence(graph, candidate, backend, pc, stored);
      if (!(d <= tolerance)) {
        current = candidate;
        worst = d;
        shrinks++;
        progress = true;
        break;
      }
    }
  }
  return { backend, original, shrunk: current, divergence: worst, tolerance, run, shrinks };
}

/** The report as text: the divergence table and, on failure, the counterexample and how to replay it. */
export function formatVerifyReport(report: VerifyGraphReport, replayCommand?: string): string[] {
  const lines = [
    "| backend | loss | cases | max divergence | tolerance | verdict |",
    "| --- | --- | ---: | ---: | ---: | --- |",
    ...report.table.map((r) => `| ${r.backend} | ${r.loss} | ${r.cases} | ${r.maxDivergence.toExponential(3)} | ${r.tolerance} | ${r.passed ? "within" : "OVER"} |`),
  ];
  const c = report.counterexample;
  if (c) {
    lines.push("", `counterexample (case ${c.run + 1} of seed ${report.seed}, on ${c.backend}, shrunk in ${c.shrinks} steps): divergence ${c.divergence.toExponential(3)} > ${c.tolerance}`);
    lines.push(`  shrunk:   ${JSON.stringify(c.shrunk)}`, `  as drawn: ${JSON.stringify(c.original)}`);
    lines.push(`replay: ${replayCommand ?? `verifyGraph(graph, { seed: ${report.seed}, runs: ${c.run + 1} }) with the same other options`}, ` +
      `or only the shrunk case with { replay: ${JSON.stringify(c.shrunk)} }`);
  }
  return lines;
}
