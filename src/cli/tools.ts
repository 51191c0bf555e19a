// `pcgraph eval`, `pcgraph info` and `pcgraph verify`.
import { backendInfo, setBackend, threadsSupported } from "../backend/load.js";
import { loadCheckpoint, readCheckpointContents } from "../node/checkpoint-files.js";
import { readProgress } from "../train/fit.js";
import { evaluate } from "../train/evaluate.js";
import { memory } from "../tensor.js";
import { UsageError, type CommandSpec } from "./args.js";
import { readRunRecord, type RunRecord } from "./runs.js";
import { openModel } from "./model-files.js";
import { loadData } from "./data.js";
import { evaluateEnergyBasedCheckpoint } from "./ebm-train.js";
import { backendFlags, chooseBackend, percent } from "./train.js";

export const evalSpec: CommandSpec = {
  name: "eval",
  summary: "loss and accuracy of a checkpoint on a dataset",
  usage: "pcgraph eval CHECKPOINT [options]",
  positionals: [{ name: "CHECKPOINT", required: true, help: "A checkpoint written by pcgraph train (any --algo, eqprop and chl too) or start" }],
  flags: [
    { name: "data", type: "string", values: ["mnist"], orPath: true, meta: "mnist|DIR|FILE.csv", help: "Data", defaultText: "the run's data, from the checkpoint" },
    { name: "split", type: "string", values: ["test", "train", "all"], help: "Which part of the data (the split of the training run, from the checkpoint's seed)", defaultText: "test" },
    { name: "test-fraction", type: "number", min: 0, meta: "X", help: "Test share used when the run was trained", defaultText: "the run's, from the checkpoint (0.2 for older checkpoints)" },
    { name: "batch-size", type: "integer", min: 1, meta: "N", help: "Samples per forward pass", defaultText: "256" },
    ...backendFlags,
  ],
};

export async function evalCommand(path: string, flags: Record<string, string | number | boolean>, out: (line: string) => void): Promise<number> {
  if (readCheckpointContents(path).kind === "pc-graph") return evaluateEnergyBasedCheckpoint(path, flags, out);
  const checkpoint = loadCheckpoint(path, { backend: await chooseBackend(flags) });
  try {
    let seed = 1;
    let record: RunRecord | undefined;
    try {
      const progress = readProgress(checkpoint.progress);
      seed = progress.seed;
      record = readRunRecord(progress.run);
    } catch {
      // A checkpoint without trainer progress: evaluate with the default split.
    }
    // The run's own data and split unless told otherwise; another test share would put
    // training samples in the test part.
    const testFlag = flags["test-fraction"] as number | undefined;
    if (record && testFlag !== undefined && testFlag !== record.testFraction)
      throw new UsageError(`--test-fraction ${testFlag} differs from the run's ${record.testFraction}: the test part would hold training samples; omit it`);
    const source = (flags.data as string | undefined) ?? record?.data.source ?? "mnist";
    const data = loadData(source, {
      seed, testFraction: testFlag ?? record?.testFraction ?? 0.2, augment: false, numClasses: checkpoint.graph.output.size,
    });
    const split = (flags.split as string | undefined) ?? "test";
    if (split === "test" && data.test.size === 0)
      throw new UsageError(`no test set: the run held out no samples (--test-fraction 0); evaluate with --split train or --split all`);
    const options = { batchSize: (flags["batch-size"] as number | undefined) ?? 256 };
    const parts = split === "all" ? [data.train, data.test] : [split === "train" ? data.train : data.test];
    let loss = 0;
    let correct = 0;
    let count = 0;
    for (const part of parts) {
      if (part.size === 0) continue;
      const r = evaluate(checkpoint.graph, part, options);
      loss += r.loss * part.size;
      correct += r.accuracy * part.size;
      count += part.size;
    }
    out(`checkpoint: ${path}`);
    out(`data: ${data.description}; evaluated on ${split} (${count} samples)`);
    out(`loss: ${(loss / count).toFixed(6)}`);
    out(`accuracy: ${percent(correct / count)}`);
    return 0;
  } finally {
    checkpoint.graph.dispose();
  }
}

export const infoSpec: CommandSpec = {
  name: "info",
  summary: "the numeric backend (threads, SIMD or scalar) and memory in use",
  usage: "pcgraph info [options]",
  flags: backendFlags.map((f) => (f.name === "backend" ? { ...f, help: "Backend to describe" } : f)),
};

export async function infoCommand(flags: Record<string, string | number | boolean>, out: (line: string) => void): Promise<number> {
  setBackend(await chooseBackend(flags));
  const info = backendInfo();
  out(`backend: ${info.name} (${info.simd ? "SIMD" : info.dtype === "float64" ? "float64 reference" : "scalar"}, ${info.dtype})`);
  out(`threads: ${info.threads}${info.threads > 1 ? ` (the main thread and ${info.readyWorkers} worker${info.readyWorkers === 1 ? "" : "s"} started)` : ""}`);
  if (info.workerFailure) out(`a worker thread could not start: ${info.workerFailure}`);
  out(`runtime supports wasm SIMD: ${info.simdSupportedByRuntime ? "yes" : "no"}`);
  out(`runtime supports shared-memory threads: ${threadsSupported() ? "yes" : "no"}`);
  out(`backend memory reserved: ${(info.reservedBytes / 1024 / 1024).toFixed(2)} MiB`);
  const m = memory();
  out(`live tensors: ${m.numTensors} (${m.numBytes} bytes); scratch pool: ${m.scratch.numTensors} (${m.scratch.numBytes} bytes)`);
  for (const b of m.backends)
    out(`  ${b.name}: ${b.numTensors} tensors, ${b.numBytes} bytes, ${(b.reservedBytes / 1024 / 1024).toFixed(2)} MiB reserved`);
  out(`node ${process.versions.node}, ${process.platform}-${process.arch}`);
  return 0;
}

export const verifySpec: CommandSpec = {
  name: "verify",
  summary: "check that Z-IL's updates equal backprop's, on random graphs or on your model",
  usage: "pcgraph verify [options]",
  flags: [
    { name: "model", type: "string", meta: "FILE", help: "Check this model instead of random graphs: a checkpoint, a saved model (model.json or its directory) or a graph spec .json" },
    { name: "runs", type: "integer", min: 1, meta: "N", help: "Random graphs, or cases of the model, to check", defaultText: "100; 50 with --model" },
    { name: "seed", type: "integer", meta: "S", help: "Seed of the random graphs or cases (the same seed replays them)", defaultText: "1" },
    { name: "max-batch", type: "integer", min: 1, meta: "N", help: "With --model: largest batch size drawn", defaultText: "16" },
    { name: "perturbation", type: "number", min: 0, meta: "X", help: "With --model: largest relative change of the weights drawn (0: the stored weights)", defaultText: "0.1" },
  ],
  details: "With --model, each case draws weights near the model's, a batch of random data and a loss (the model's, and the other one\n" +
    "where its output allows) and compares one Z-IL step with backprop on float64 and float32. A failing case is shrunk and printed\n" +
    "with the seed that replays it.",
};

export async function verifyCommand(flags: Record<string, string | number | boolean>, out: (line: string) => void): Promise<number> {
  if (typeof flags.model === "string") return verifyModelCommand(flags.model, flags, out);
  if (flags["max-batch"] !== undefined || flags.perturbation !== undefined)
    throw new UsageError("--max-batch and --perturbation apply to --model");
  const { runVerify, divergenceTolerance } = await import("../pc/verify.js");
  const report = runVerify({
    runs: flags.runs as number | undefined,
    seed: flags.seed as number | undefined,
    log: (line) => process.stderr.write(`${line}\n`),
  });
  out(`checked ${report.runs} random graphs (seed ${report.seed}) in ${report.seconds.toFixed(1)} s`);
  for (const [backend, divergence] of Object.entries(report.maxDivergence)) {
    const worst = report.worst[backend];
    const tolerance = divergenceTolerance[backend as keyof typeof divergenceTolerance];
    out(`${backend}: max divergence between Z-IL and BP ${divergence.toExponential(3)}` +
      (worst ? ` (run ${worst.run}, ${worst.family}, ${worst.nodes} nodes, batch ${worst.batch})` : "") +
      ` — ${divergence <= tolerance ? "within" : "OVER"} the tolerance ${tolerance}`);
  }
  out(report.passed ? "Z-IL's updates equal backprop's on every graph checked." : "Z-IL diverged from backprop beyond the tolerance.");
  return report.passed ? 0 : 1;
}

async function verifyModelCommand(path: string, flags: Record<string, string | number | boolean>, out: (line: string) => void): Promise<number> {
  const { verifyGraph, formatVerifyReport } = await import("../pc/verify-graph.js");
  const seed = (flags.seed as number | undefined) ?? 1;
  const { graph, description } = openModel(path, seed);
  try {
    const runs = (flags.runs as number | undefined) ?? 50;
    const report = verifyGraph(graph, {
      runs, seed, maxBatch: flags["max-batch"] as number | undefined, perturbation: flags.perturbation as number | undefined,
      log: (line) => process.stderr.write(`${line}\n`),
    });
    out(`${description}: ${graph.parameterCount.toLocaleString("en-US")} parameters, output ${graph.output.name} [${graph.output.shape.join(",")}]`);
    out(`checked ${report.runs} cases (seed ${report.seed}) in ${report.seconds.toFixed(1)} s: divergence = max |g_zil - g_bp| / max |g_bp|`);
    const c = report.counterexample;
    const replay = c ? `pcgraph verify --model ${path} --seed ${report.seed} --runs ${c.run + 1}` +
      `${flags["max-batch"] !== undefined ? ` --max-batch ${flags["max-batch"]}` : ""}${flags.perturbation !== undefined ? ` --perturbation ${flags.perturbation}` : ""}` : undefined;
    for (const line of formatVerifyReport(report, replay)) out(line);
    out(report.passed ? "Z-IL's updates equal backprop's on this model in every case checked." : "Z-IL diverged from backprop beyond the tolerance on this model.");
    return report.passed ? 0 : 1;
  } finally {
    graph.dispose();
  }
}
