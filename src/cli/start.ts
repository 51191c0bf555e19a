// `pcgraph start` (npm start): the headline experiment. The same model, seed, data and
// optimizer trained twice, once with Z-IL and once with backprop; Z-IL's updates equal BP's,
// so the two runs end with the same weights up to float32 rounding.
import { basename, join } from "node:path";
import type { Graph } from "../graph/graph.js";
import { writeFileAtomic } from "../node/files.js";
import type { Algorithm } from "../train/gradients.js";
import { trainingCurvesSvg } from "../train/plot.js";
import type { CommandSpec } from "./args.js";
import { loadData, type LoadedData } from "./data.js";
import { subset, type Dataset } from "../train/data/dataset.js";
import { fit } from "../train/fit.js";
import { chooseModel, type ModelChoice } from "./models.js";
import { dataSuffix, makeRunFolder, type RunRecord } from "./runs.js";
import {
  algorithmLabels, chooseBackend, describeBackend, percent, trainingFlags, trainingSettings, trainWithProgress, withSchedule,
  type RunResult, type TrainingSettings,
} from "./train.js";

export const startSpec: CommandSpec = {
  name: "start",
  summary: "train the same model with Z-IL and with BP from the same seed and compare them",
  usage: "pcgraph start [options]   (npm start -- [options])",
  flags: [
    { name: "model", type: "string", values: ["mlp", "cnn"], help: "Model: the 784-256-256-10 MLP or the small CNN", defaultText: "mlp" },
    { name: "data", type: "string", values: ["mnist"], orPath: true, meta: "mnist|DIR|FILE.csv", help: "Data", defaultText: "mnist (10,000 bundled digits: 8,000 train, 40,000 with their shifted copies; 2,000 test)" },
    ...trainingFlags,
    { name: "f64-steps", type: "integer", min: 0, meta: "N", help: "Also take N steps with each algorithm on the float64 reference backend and compare (0 skips)", defaultText: "mlp 10, cnn 2" },
    { name: "out", type: "string", meta: "DIR", help: "Output directory", defaultText: "runs/start-<model>-seed<seed>" },
  ],
  details: "Prints each run's test accuracy and time and the largest |weight difference| between the two runs;\n" +
    "writes both training curves to one SVG (Z-IL and BP overlaid) and a checkpoint of each run.",
};

/**
 * The exactness check: the first `steps` optimizer steps of both algorithms from the same
 * initial weights on the float64 reference backend; returns the largest |weight difference|.
 */
async function float64Check(model: ModelChoice, train: Dataset, settings: TrainingSettings, steps: number): Promise<number> {
  const head = subset(train, Array.from({ length: Math.min(steps * settings.batchSize, train.size) }, (_, i) => i));
  const weights: Map<string, Float64Array>[] = [];
  for (const algorithm of ["zil", "bp"] as const) {
    const graph = model.build(settings.seed, train, "reference-f64");
    try {
      await fit(graph, { train: head }, { algorithm, epochs: 1, batchSize: settings.batchSize, optimizer: settings.optimizer, seed: settings.seed });
      weights.push(graph.getWeights());
    } finally {
      graph.dispose();
    }
  }
  return maxWeightDifference(weights[0], weights[1]);
}

/** Largest |a - b| over every parameter. */
function maxWeightDifference(a: Map<string, Float64Array>, b: Map<string, Float64Array>): number {
  let worst = 0;
  for (const [name, x] of a) {
    const y = b.get(name)!;
    for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(x[i] - y[i]));
  }
  return worst;
}

function largestWeight(weights: Map<string, Float64Array>): number {
  let largest = 0;
  for (const values of weights.values()) for (const v of values) largest = Math.max(largest, Math.abs(v));
  return largest;
}

export async function startCommand(flags: Record<string, string | number | boolean>, out: (line: string) => void): Promise<number> {
  const model = chooseModel((flags.model as string | undefined) ?? "mlp");
  const data = loadData((flags.data as string | undefined) ?? "mnist", trainingSettings(flags, model.name));
  const settings = withSchedule({ ...trainingSettings(flags, model.name), backend: await chooseBackend(flags) },
    flags.schedule as string | undefined, data.train.size);
  const dir = (flags.out as string | undefined) ?? join("runs", `start-${model.name}${dataSuffix(data.source)}-seed${settings.seed}`);
  const removeIfEmpty = makeRunFolder(dir);
  try {
    return await compareRuns(model, data, settings, dir, flags, out);
  } catch (error) {
    removeIfEmpty();
    throw error;
  }
}

async function compareRuns(model: ModelChoice, data: LoadedData, settings: TrainingSettings, dir: string,
  flags: Record<string, string | number | boolean>, out: (line: string) => void): Promise<number> {
  const run: RunRecord = {
    model: model.name, data: { source: data.source, fingerprint: data.fingerprint }, augment: data.augmented,
    testFraction: settings.testFraction, epochs: settings.epochs,
  };
  out(`${data.description}`);
  out(`model ${model.name}; ${settings.epochs} epochs, batch ${settings.batchSize}, ${settings.optimizer.kind} lr ${settings.optimizer.learningRate}` +
    `${settings.optimizer.schedule ? ` (${settings.optimizer.schedule.kind} schedule)` : ""}, seed ${settings.seed}`);

  const runs: { algorithm: Algorithm; result: RunResult; weights: Map<string, Float64Array>; checkpoint: string }[] = [];
  for (const algorithm of ["zil", "bp"] as const) {
    const graph: Graph = model.build(settings.seed, data.train, settings.backend);
    try {
      if (runs.length === 0) out(`${graph.parameterCount.toLocaleString("en-US")} parameters on ${describeBackend(graph.backend)}`);
      const checkpoint = join(dir, `${algorithm}.ckpt`);
      const result = await trainWithProgress(graph, data, { label: algorithmLabels[algorithm], algorithm, settings, checkpointPath: checkpoint, run: { ...run } });
      runs.push({ algorithm, result, weights: graph.getWeights(), checkpoint });
      if (result.history.interrupted) return 130;
    } finally {
      graph.dispose();
    }
  }
  const [zil, bp] = runs;
  const difference = maxWeightDifference(zil.weights, bp.weights);
  const svgPath = join(dir, "curves.svg");
  writeFileAtomic(svgPath, trainingCurvesSvg(runs.map((r) => ({ label: algorithmLabels[r.algorithm], history: r.result.history })),
    { title: `${model.name.toUpperCase()} on ${data.source === "mnist" ? "MNIST" : basename(data.source)}: Z-IL and backprop from the same seed` }));
  writeFileAtomic(join(dir, "histories.json"), JSON.stringify({ zil: zil.result.history, bp: bp.result.history }, null, 2) + "\n");
  out("");
  out(`Z-IL: test accuracy ${percent(zil.result.testAccuracy)}, ${zil.result.seconds.toFixed(1)} s`);
  out(`BP:   test accuracy ${percent(bp.result.testAccuracy)}, ${bp.result.seconds.toFixed(1)} s`);
  out(`max |weight difference| between the Z-IL and BP runs: ${difference.toExponential(3)} ` +
    `(largest |weight| ${largestWeight(bp.weights).toFixed(3)})`);
  const f64Steps = (flags["f64-steps"] as number | undefined) ?? (model.name === "cnn" ? 2 : 10);
  if (f64Steps > 0) {
    const started = performance.now();
    const f64Difference = await float64Check(model, data.train, settings, f64Steps);
    out(`float64 check (reference backend, first ${f64Steps} steps of each): max |weight difference| ${f64Difference.toExponential(3)} ` +
      `(${((performance.now() - started) / 1000).toFixed(1)} s)`);
  }
  if (difference > 0)
    out("(Z-IL's updates equal BP's; in float32 their summation order can differ in the last bits, and training amplifies that over thousands of steps)");
  out(`training curves: ${svgPath}`);
  out(`checkpoints: ${zil.checkpoint}, ${bp.checkpoint}`);
  return 0;
}
