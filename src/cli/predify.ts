// `pcgraph predify train|eval`: feedback decoders on a trained network (Predify), and its
// accuracy per time step under input noise.
//
//   pcgraph predify train --backbone runs/cnn-bp-seed1/checkpoint.ckpt [--config predify.json]
//   pcgraph predify eval runs/cnn-bp-seed1/predify/predify.ckpt --noise none,gaussian:0.5
import { mkdirSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import type { BackendName } from "../backend/load.js";
import type { Graph } from "../graph/graph.js";
import { loadCheckpoint, saveCheckpoint } from "../node/checkpoint-files.js";
import { datasetFingerprint } from "../train/data/fingerprint.js";
import { loadFashionMnist } from "../node/fashion-mnist.js";
import { loadModel } from "../node/files.js";
import { readPredifyConfig } from "../node/predify-config.js";
import { predify, type PredifiedNetwork } from "../pc/predify.js";
import { suggestPcoders } from "../pc/predify-decoders.js";
import type { PredifyConfig } from "../pc/predify-config.js";
import { readProgress } from "../train/fit.js";
import { checkCorruption, corruptionLabel, type Corruption } from "../train/data/corruptions.js";
import { subset } from "../train/data/dataset.js";
import { optimizerKinds, type OptimizerKind, type OptimizerStateData } from "../train/optimizers.js";
import { trainingCurvesSvg } from "../train/plot.js";
import { evaluateOverSteps, predifiedFromCheckpoint, readDecoderProgress, reconstructionLoss, trainDecoders } from "../train/predify.js";
import { UsageError, type CommandSpec } from "./args.js";
import { loadData, type LoadedData } from "./data.js";
import { formatDuration, ProgressReporter } from "./progress.js";
import { backendFlags, chooseBackend } from "./backend-flags.js";

type Flags = Record<string, string | number | boolean>;

const trainOnly = ["backbone", "config", "epochs", "lr", "optimizer", "out", "resume"];
const evalOnly = ["steps", "noise", "beta", "lambda", "alpha", "limit", "noise-seed"];

export const predifySpec: CommandSpec = {
  name: "predify",
  summary: "predictive-coding feedback on a trained network (Predify): train the decoders, or evaluate over time steps",
  usage: "pcgraph predify train --backbone CHECKPOINT [options]\n       pcgraph predify eval PREDIFY_CHECKPOINT [options]",
  positionals: [
    { name: "ACTION", required: true, help: "train (the feedback decoders, the network frozen) or eval (accuracy at every time step)" },
    { name: "CHECKPOINT", required: false, help: "eval: a checkpoint written by predify train" },
  ],
  flags: [
    { name: "backbone", type: "string", meta: "CHECKPOINT|MODEL_DIR", help: "train: the trained network (a checkpoint of pcgraph train, or a saved model directory)" },
    { name: "config", type: "string", meta: "FILE.json", help: "train: pcoders, decoders and rates (docs/predify-config.schema.json)", defaultText: "a pcoder after every convolution's activation" },
    { name: "data", type: "string", values: ["mnist", "fashion"], orPath: true, meta: "mnist|fashion|DIR|FILE.csv", help: "Data: the bundled digits, Fashion-MNIST, IDX files or a CSV file", defaultText: "mnist" },
    { name: "epochs", type: "integer", min: 1, meta: "N", help: "train: epochs of decoder training (in total, when resuming)", defaultText: "3" },
    { name: "batch-size", type: "integer", min: 1, meta: "N", help: "Samples per mini-batch (eval: per forward pass)", defaultText: "train 64, eval 250" },
    { name: "lr", type: "number", min: 0, meta: "X", help: "train: learning rate", defaultText: "0.002" },
    { name: "optimizer", type: "string", values: optimizerKinds, help: "train: optimizer", defaultText: "adam" },
    { name: "seed", type: "integer", meta: "N", help: "Seed of the train/test split and the batch order", defaultText: "the backbone's, else 1" },
    { name: "test-fraction", type: "number", min: 0, meta: "X", help: "Test share of mnist and CSV data", defaultText: "0.2" },
    { name: "out", type: "string", meta: "DIR", help: "train: output directory", defaultText: "predify/ beside the backbone" },
    { name: "resume", type: "string", meta: "CHECKPOINT", help: "train: continue a decoder training from its checkpoint" },
    { name: "steps", type: "integer", min: 0, meta: "N", help: "eval: time steps after step 0", defaultText: "the config's (10)" },
    { name: "noise", type: "string", meta: "LIST", help: "eval: comma-separated inputs: none, gaussian:SIGMA, saltpepper:AMOUNT", defaultText: "none,gaussian:0.5" },
    { name: "noise-seed", type: "integer", meta: "N", help: "eval: seed of the noise", defaultText: "0" },
    { name: "beta", type: "number", min: 0, meta: "X", help: "eval: feedforward weight (overrides the config)" },
    { name: "lambda", type: "number", min: 0, meta: "X", help: "eval: feedback weight (overrides the config)" },
    { name: "alpha", type: "number", min: 0, meta: "X", help: "eval: error-gradient rate (overrides the config)" },
    { name: "limit", type: "integer", min: 1, meta: "N", help: "eval: only the first N test samples" },
    ...backendFlags,
  ],
  details: "train writes predify.ckpt (the network with its decoders, the optimizer and the config) and curves.svg to the output directory;\n" +
    "the network's weights are not changed. eval prints the accuracy at every time step (step 0 is the feedforward network) for each noise.",
};

function loadPredifyData(value: string, seed: number, testFraction: number): LoadedData {
  if (value !== "fashion") return loadData(value, { seed, testFraction, augment: false });
  const { train, test } = loadFashionMnist();
  return {
    train, test, source: "fashion", fingerprint: datasetFingerprint(train, test), augmented: false,
    description: `Fashion-MNIST: ${train.size} train / ${test.size} test`,
  };
}

function loadBackbone(path: string, backend: BackendName | undefined): { graph: Graph; seed?: number } {
  let directory = false;
  try {
    directory = statSync(path).isDirectory();
  } catch {
    // loadCheckpoint reports the missing file.
  }
  if (directory) return { graph: loadModel(path, { backend }) };
  const checkpoint = loadCheckpoint(path, { backend });
  let seed: number | undefined;
  try {
    seed = readProgress(checkpoint.progress).seed;
  } catch {
    // A checkpoint without trainer progress: the default split.
  }
  return { graph: checkpoint.graph, seed };
}

/** "none" | "gaussian:0.5" | "saltpepper:0.1" */
export function parseNoise(text: string): Corruption {
  const [kind, value] = text.trim().split(":");
  const amount = Number(value);
  let c: Corruption;
  if (kind === "none" || kind === "clean") c = { kind: "none" };
  else if (kind === "gaussian") c = { kind: "gaussian", sigma: amount };
  else if (kind === "saltpepper" || kind === "saltAndPepper") c = { kind: "saltAndPepper", amount };
  else throw new UsageError(`--noise: expected none, gaussian:SIGMA or saltpepper:AMOUNT, got ${JSON.stringify(text)}`);
  if (c.kind !== "none" && (value === undefined || value.trim() === "")) throw new UsageError(`--noise: ${kind} needs a level, e.g. ${kind}:0.5`);
  try {
    return checkCorruption(c);
  } catch (error) {
    throw new UsageError(`--noise ${text}: ${(error as Error).message}`);
  }
}

export async function predifyCommand(positionals: string[], flags: Flags, out: (line: string) => void): Promise<number> {
  const [action, checkpoint] = positionals;
  if (action !== "train" && action !== "eval") throw new UsageError(`ACTION must be train or eval, got ${JSON.stringify(action)}`);
  const misplaced = Object.keys(flags).find((f) => (action === "train" ? evalOnly : trainOnly).includes(f));
  if (misplaced) throw new UsageError(`--${misplaced} is for "pcgraph predify ${action === "train" ? "eval" : "train"}"`);
  return action === "train" ? predifyTrain(positionals, flags, out) : predifyEval(checkpoint, flags, out);
}

async function predifyTrain(positionals: string[], flags: Flags, out: (line: string) => void): Promise<number> {
  if (positionals.length > 1) throw new UsageError(`predify train takes no CHECKPOINT argument (use --backbone or --resume)`);
  const backend = await chooseBackend(flags);
  let net: PredifiedNetwork;
  let resume: { optimizer: OptimizerStateData; progress: unknown } | undefined;
  let seed: number;
  let dir: string;
  let owned: Graph;
  if (typeof flags.resume === "string") {
    if (flags.backbone !== undefined || flags.config !== undefined) throw new UsageError("--resume continues a run: its network and config come from the checkpoint");
    const decoded = loadCheckpoint(flags.resume, { backend });
    owned = decoded.graph;
    const progress = readDecoderProgress(decoded.progress);
    net = predifiedFromCheckpoint(decoded, { backend });
    resume = decoded;
    seed = progress.seed;
    if (flags.seed !== undefined && flags.seed !== seed) throw new UsageError(`--seed ${flags.seed} differs from the checkpoint's seed ${seed}; omit --seed to resume`);
    dir = (flags.out as string | undefined) ?? dirname(flags.resume);
  } else {
    if (typeof flags.backbone !== "string") throw new UsageError("predify train needs --backbone CHECKPOINT (a network trained with pcgraph train)");
    const backbone = loadBackbone(flags.backbone, backend);
    owned = backbone.graph;
    const config: PredifyConfig = typeof flags.config === "string" ? readPredifyConfig(flags.config) : { pcoders: suggestPcoders(backbone.graph) };
    if (config.pcoders.length === 0) throw new UsageError("the network has no convolution or hidden dense layer to place a pcoder on; give --config");
    net = predify(backbone.graph, config, { backend });
    seed = (flags.seed as number | undefined) ?? backbone.seed ?? 1;
    dir = (flags.out as string | undefined) ?? join(dirname(flags.backbone), "predify");
  }
  try {
    const data = loadPredifyData((flags.data as string | undefined) ?? "mnist", seed, (flags["test-fraction"] as number | undefined) ?? 0.2);
    const epochs = (flags.epochs as number | undefined) ?? 3;
    const batchSize = (flags["batch-size"] as number | undefined) ?? (resume ? readDecoderProgress(resume.progress).batchSize : 64);
    const optimizer = resume
      ? (resume.optimizer.config as unknown as { kind: OptimizerKind; learningRate: number })
      : { kind: (flags.optimizer as OptimizerKind | undefined) ?? "adam", learningRate: (flags.lr as number | undefined) ?? 0.002 };
    if (resume && (flags.optimizer !== undefined || flags.lr !== undefined)) throw new UsageError("--optimizer and --lr cannot change a resumed run; they come from the checkpoint");
    mkdirSync(dir, { recursive: true });
    const checkpointPath = join(dir, "predify.ckpt");
    const decoderSize = net.decoderParameters.reduce((s, p) => s + p.size, 0);
    process.stderr.write(`${data.description}\n${net.pcoders.map((p) => `${p.name}: ${p.vertex.name} predicts ${p.target.name} (${p.decoder.map((v) => v.op!.kind).join(" + ")})`).join("\n")}\n` +
      `${decoderSize.toLocaleString("en-US")} decoder parameters; the network's ${(net.graph.parameterCount - decoderSize).toLocaleString("en-US")} are frozen\n`);
    const done = resume ? readDecoderProgress(resume.progress) : undefined;
    const perEpoch = Math.ceil(data.train.size / batchSize);
    const reporter = new ProgressReporter(process.stderr, "decoders", (epochs - (done?.epoch ?? 0)) * perEpoch - (done?.batch ?? 0));
    const controller = new AbortController();
    const onSigint = () => {
      if (controller.signal.aborted) process.exit(130);
      process.stderr.write("\ndecoders: stopping after this batch (Ctrl-C again to quit at once)\n");
      controller.abort();
    };
    process.on("SIGINT", onSigint);
    let history;
    try {
      history = await trainDecoders(net, { train: data.train, test: data.test }, {
        epochs, batchSize, optimizer, seed: resume ? undefined : seed, resume,
        onBatch: reporter.onBatch, onEpoch: reporter.onEpoch, checkpointPath, saveCheckpoint, signal: controller.signal,
      });
    } finally {
      process.off("SIGINT", onSigint);
    }
    writeFileSync(join(dir, "curves.svg"), trainingCurvesSvg([{ label: "decoders", history }], { title: "Predify decoders: reconstruction loss", loss: "test" }));
    if (history.interrupted) out(`interrupted; continue with: pcgraph predify train --resume ${checkpointPath}`);
    const last = history.epochs[history.epochs.length - 1];
    out(`test reconstruction loss: ${(last?.testLoss ?? reconstructionLoss(net, data.test)).toFixed(6)} (sum over pcoders of the MSE of the layer below)`);
    out(`checkpoint: ${checkpointPath}`);
    out(`evaluate with: pcgraph predify eval ${checkpointPath}`);
    return 0;
  } finally {
    net.dispose();
    owned.dispose();
  }
}

async function predifyEval(path: string | undefined, flags: Flags, out: (line: string) => void): Promise<number> {
  if (!path) throw new UsageError("predify eval needs the CHECKPOINT written by predify train");
  const backend = await chooseBackend(flags);
  const noises = ((flags.noise as string | undefined) ?? "none,gaussian:0.5").split(",").map(parseNoise);
  const decoded = loadCheckpoint(path, { backend });
  let net: PredifiedNetwork | undefined;
  try {
    net = predifiedFromCheckpoint(decoded, { backend });
    const progress = readDecoderProgress(decoded.progress);
    const rates = { beta: flags.beta as number | undefined, lambda: flags.lambda as number | undefined, alpha: flags.alpha as number | undefined };
    if (Object.values(rates).some((v) => v !== undefined)) net.setRates(rates);
    const seed = (flags.seed as number | undefined) ?? progress.seed;
    const data = loadPredifyData((flags.data as string | undefined) ?? "mnist", seed, (flags["test-fraction"] as number | undefined) ?? 0.2);
    const limit = flags.limit as number | undefined;
    const test = limit !== undefined && limit < data.test.size ? subset(data.test, Array.from({ length: limit }, (_, i) => i), `${data.test.name} (first ${limit})`) : data.test;
    const steps = (flags.steps as number | undefined) ?? net.config.steps ?? 10;
    out(`checkpoint: ${path}`);
    out(`data: ${data.description}; evaluated on ${test.size} test samples`);
    out(`rates (beta / lambda / alpha): ${net.pcoders.map((p) => `${p.name} ${p.rates.beta} / ${p.rates.lambda} / ${p.rates.alpha}`).join(", ")}`);
    const started = performance.now();
    const total = noises.length * test.size;
    const results = noises.map((noise, i) => evaluateOverSteps(net!, test, {
      steps, corruption: noise, seed: (flags["noise-seed"] as number | undefined) ?? 0, batchSize: (flags["batch-size"] as number | undefined) ?? 250,
      onBatch: (done) => drawBar(i * test.size + done, total, started, corruptionLabel(noise)),
    }));
    if (process.stderr.isTTY) process.stderr.write("\r\x1b[K");
    out("");
    out(`| step | ${noises.map((n) => `${corruptionLabel(n)} accuracy | energy`).join(" | ")} |`);
    out(`| ---: | ${noises.map(() => "---: | ---:").join(" | ")} |`);
    for (let t = 0; t <= steps; t++)
      out(`| ${t === 0 ? "0 (feedforward)" : t} | ${results.map((r) => `${(100 * r.accuracy[t]).toFixed(2)}% | ${r.energies[t].toFixed(5)}`).join(" | ")} |`);
    return 0;
  } finally {
    net?.dispose();
    decoded.graph.dispose();
  }
}

let lastDraw = 0;
function drawBar(done: number, total: number, started: number, label: string): void {
  if (!process.stderr.isTTY) return;
  const now = performance.now();
  if (now - lastDraw < 100 && done < total) return;
  lastDraw = now;
  const elapsed = (now - started) / 1000;
  const width = 24;
  const filled = Math.round((width * done) / total);
  const eta = done > 0 ? (elapsed / done) * (total - done) : NaN;
  const line = `eval [${"#".repeat(filled)}${"-".repeat(width - filled)}] ${done}/${total} ${label} ETA ${formatDuration(eta)}`;
  process.stderr.write(`\r${line.slice(0, (process.stderr.columns ?? 120) - 1)}\x1b[K`);
}
