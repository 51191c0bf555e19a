// `pcgraph train --algo eqprop|chl`: a layered energy-based network (features - hidden - classes,
// one symmetric weight per pair of layers) trained by Equilibrium Propagation or CHL, with the
// same run rules as every `train` run: the run's folder, a record of its model and data in
// every checkpoint, resumption that refuses flags contradicting the checkpoint, curves.svg,
// history.json and no empty folder after a failure. `pcgraph eval` reads these checkpoints
// through `evaluateEnergyBasedCheckpoint`.
import { basename, dirname, join } from "node:path";
import { loadPCGraphCheckpoint, savePCGraphCheckpoint } from "../node/checkpoint-files.js";
import { writeFileAtomic } from "../node/files.js";
import type { ChlClamp, Nudging } from "../pc/graph/equilibrium.js";
import { groupActivations, type GroupActivation } from "../pc/graph/topology.js";
import type { DecodedPCGraphCheckpoint } from "../train/checkpoint.js";
import { EnergyBasedNetwork, layeredNetwork } from "../train/energy-based.js";
import type { OptimizerConfig, OptimizerKind } from "../train/optimizers.js";
import { pcGraphCurves, type PCGraphCheckpoint, type PCGraphProgress } from "../train/pc-graph-fit.js";
import { trainingCurvesSvg } from "../train/plot.js";
import { UsageError } from "./args.js";
import { isEnergyBasedProgress, type EnergyBasedAlgorithm } from "./ebm-flags.js";
import { loadData, type LoadedData } from "./data.js";
import { ProgressReporter } from "./progress.js";
import { checkRunFolder, defaultRunFolder, makeRunFolder, readRunRecord, type RunRecord } from "./runs.js";
import { chooseBackend } from "./backend-flags.js";
import { continuedRun, percent, trainingSettings, withSchedule, type TrainingSettings } from "./train.js";

type Flags = Record<string, string | number | boolean>;

const labels: Record<EnergyBasedAlgorithm, string> = { eqprop: "EqProp", chl: "CHL" };

const defaultRates: Record<OptimizerKind, number> = { adam: 0.0005, momentum: 0.01, sgd: 0.05 };

/** The settings of an energy-based run, stored in its checkpoints as progress.energyBased. */
export interface EnergyBasedSettings {
  hidden: number[];
  activation: GroupActivation;
  /** EqProp's nudge, CHL's nudged clamp; absent for CHL's full clamp. */
  beta?: number;
  nudging?: Nudging;
  clamp?: ChlClamp;
  /** Relaxation steps of the free phase (test queries take twice as many). */
  steps: number;
  /** Relaxation steps of each nudged or clamped phase. */
  secondSteps: number;
  gamma: number;
  /** Gain of the top-down drive (1: symmetric feedback). */
  feedbackGain: number;
}

/** The relaxation of the test queries of an energy-based run (what its training reported). */
export function evaluationSettings(s: EnergyBasedSettings): { steps: number; gamma: number; tolerance: number } {
  return { steps: 2 * s.steps, gamma: s.gamma, tolerance: 1e-3 };
}

function parseHidden(text: string): number[] {
  const sizes = text.split(",").map((s) => Number(s.trim()));
  if (sizes.length === 0 || !sizes.every((n) => Number.isInteger(n) && n >= 1)) throw new UsageError(`--hidden: expected sizes like 256 or 128,64, got ${JSON.stringify(text)}`);
  return sizes;
}

/** A new run's settings from the flags (defaults where a flag is absent). */
function settingsFromFlags(flags: Flags, algorithm: EnergyBasedAlgorithm): EnergyBasedSettings {
  if (algorithm === "eqprop" && flags.clamp !== undefined) throw new UsageError("--clamp applies to --algo chl (EqProp nudges: --nudging)");
  if (algorithm === "chl" && flags.nudging !== undefined) throw new UsageError("--nudging applies to --algo eqprop (CHL clamps: --clamp)");
  const clamp = (flags.clamp as ChlClamp | undefined) ?? (algorithm === "chl" ? "full" : undefined);
  if (algorithm === "chl" && clamp === "full" && flags.beta !== undefined) throw new UsageError("--beta applies to CHL with --clamp nudged (the full clamp holds the output at the target)");
  const beta = (flags.beta as number | undefined) ?? (algorithm === "chl" ? (clamp === "full" ? undefined : 0.5) : 2);
  if (beta !== undefined && !(beta > 0)) throw new UsageError(`--beta: expected a number > 0, got ${beta}`);
  if (algorithm === "chl" && beta !== undefined && beta > 1) throw new UsageError(`--beta: CHL's nudged clamp moves the output beta of the way to the target, so beta must be in (0, 1], got ${beta}`);
  const gamma = (flags.gamma as number | undefined) ?? 0.5;
  if (!(gamma > 0)) throw new UsageError(`--gamma: expected a number > 0, got ${gamma}`);
  const feedbackGain = (flags["feedback-gain"] as number | undefined) ?? 1;
  if (!(feedbackGain > 0) || !Number.isFinite(feedbackGain)) throw new UsageError(`--feedback-gain: expected a number > 0, got ${feedbackGain}`);
  return {
    hidden: typeof flags.hidden === "string" ? parseHidden(flags.hidden) : [256],
    activation: (flags.activation as GroupActivation | undefined) ?? "hardSigmoid",
    ...(beta !== undefined ? { beta } : {}),
    ...(clamp !== undefined ? { clamp } : {}),
    ...(algorithm === "eqprop" ? { nudging: (flags.nudging as Nudging | undefined) ?? "symmetric" } : {}),
    steps: (flags.steps as number | undefined) ?? 60,
    secondSteps: (flags["second-steps"] as number | undefined) ?? 30,
    gamma,
    feedbackGain,
  };
}

/** The settings a checkpoint stored, checked; a UsageError naming the checkpoint when they are missing or damaged. */
export function readEnergyBasedSettings(value: unknown, path: string): EnergyBasedSettings {
  const s = value as EnergyBasedSettings | undefined;
  const ok = !!s && typeof s === "object" && Array.isArray(s.hidden) && s.hidden.every((n) => Number.isInteger(n) && n >= 1) &&
    groupActivations.includes(s.activation) && Number.isInteger(s.steps) && s.steps >= 1 && Number.isInteger(s.secondSteps) && s.secondSteps >= 1 &&
    typeof s.gamma === "number" && s.gamma > 0 && (s.beta === undefined || (typeof s.beta === "number" && s.beta > 0)) &&
    (s.feedbackGain === undefined || (typeof s.feedbackGain === "number" && s.feedbackGain > 0));
  if (!ok) throw new UsageError(`${path}: the checkpoint's energy-based settings (progress.energyBased) are missing or damaged: ${JSON.stringify(value)}`);
  return { ...s!, feedbackGain: s!.feedbackGain ?? 1 };
}

/** Refuses energy-based flags that differ from the settings of the run being resumed. */
function refuseChangedSettings(flags: Flags, stored: EnergyBasedSettings): void {
  const given: [string, unknown, unknown][] = [
    ["hidden", typeof flags.hidden === "string" ? parseHidden(flags.hidden).join(",") : undefined, stored.hidden.join(",")],
    ["activation", flags.activation, stored.activation],
    ["beta", flags.beta, stored.beta],
    ["nudging", flags.nudging, stored.nudging],
    ["clamp", flags.clamp, stored.clamp],
    ["steps", flags.steps, stored.steps],
    ["second-steps", flags["second-steps"], stored.secondSteps],
    ["gamma", flags.gamma, stored.gamma],
    ["feedback-gain", flags["feedback-gain"], stored.feedbackGain],
  ];
  for (const [flag, value, recorded] of given)
    if (value !== undefined && value !== recorded)
      throw new UsageError(`--${flag} ${flags[flag]} differs from the resumed run's ${JSON.stringify(recorded)}; omit it to resume (it comes from the checkpoint)`);
}

/** The model as a run records it: "layered:784-256-10". */
function layeredModelId(sizes: number[]): string {
  return `layered:${sizes.join("-")}`;
}

interface EnergyBasedPlan {
  algorithm: EnergyBasedAlgorithm;
  settings: TrainingSettings;
  ebm: EnergyBasedSettings;
  data: LoadedData;
  dir: string;
  record: RunRecord;
  optimizer: OptimizerConfig;
  notes: string[];
}

/** A new run: everything from the flags. */
function newRun(flags: Flags): EnergyBasedPlan {
  const algorithm = flags.algo as EnergyBasedAlgorithm;
  const ebm = settingsFromFlags(flags, algorithm);
  let settings = trainingSettings(flags, "mlp");
  settings.optimizer = { ...settings.optimizer, learningRate: (flags.lr as number | undefined) ?? defaultRates[settings.optimizer.kind] };
  const data = loadData((flags.data as string | undefined) ?? "mnist", settings);
  settings = withSchedule(settings, flags.schedule as string | undefined, data.train.size);
  const sizes = [data.train.features.length / Math.max(data.train.size, 1), ...ebm.hidden, data.train.numClasses];
  const record: RunRecord = {
    model: layeredModelId(sizes), data: { source: data.source, fingerprint: data.fingerprint },
    augment: data.augmented, testFraction: settings.testFraction, epochs: settings.epochs,
  };
  const dir = (flags.out as string | undefined) ?? defaultRunFolder(`ebm-${ebm.hidden.join("-")}`, data.source, algorithm, settings.seed);
  return { algorithm, settings, ebm, data, dir, record, optimizer: settings.optimizer, notes: [] };
}

/**
 * A resumed run: the network, data, data options, seed, algorithm, batch size, optimizer and
 * energy-based settings come from the checkpoint, and a flag that contradicts them is
 * refused; --epochs may extend the run (a cosine schedule is then stretched over the new total).
 */
function resumedRun(flags: Flags, path: string, checkpoint: DecodedPCGraphCheckpoint): EnergyBasedPlan {
  const progress = checkpoint.progress as unknown as PCGraphProgress & { energyBased?: unknown };
  if (!isEnergyBasedProgress(checkpoint.progress))
    throw new UsageError(`--resume ${path}: a PC graph trained with ${JSON.stringify(progress.algorithm)}, not eqprop or chl; continue it with pcgraph graph train --resume ${path}`);
  const ebm = readEnergyBasedSettings(progress.energyBased, path);
  const record = readRunRecord(progress.run);
  refuseChangedSettings(flags, ebm);
  const { settings, data, optimizer, notes } = continuedRun(flags, {
    progress, record, modelName: "mlp", numClasses: checkpoint.model.group("label").size,
    optimizer: { config: checkpoint.optimizer.config as unknown as OptimizerConfig, step: checkpoint.optimizer.step },
  });
  const sizes = checkpoint.model.groups.map((g) => g.size);
  return {
    algorithm: progress.algorithm as EnergyBasedAlgorithm, settings, ebm, data, optimizer, notes,
    dir: (flags.out as string | undefined) ?? dirname(path),
    record: { ...(record ?? { model: layeredModelId(sizes), data: { source: data.source, fingerprint: data.fingerprint }, augment: data.augmented, testFraction: settings.testFraction }), epochs: settings.epochs },
  };
}

/** What a run prints about its rule: "EqProp symmetric beta 2", "CHL full clamp". */
function ruleLabel(algorithm: EnergyBasedAlgorithm, s: EnergyBasedSettings): string {
  const rule = algorithm === "eqprop" ? `EqProp ${s.nudging} beta ${s.beta}` : `CHL ${s.clamp} clamp${s.beta !== undefined ? ` beta ${s.beta}` : ""}`;
  return s.feedbackGain === 1 ? rule : `${rule}, feedback gain ${s.feedbackGain}`;
}

/**
 * `pcgraph train --algo eqprop|chl` (or `--resume` of such a run): trains, writes
 * checkpoint.ckpt after every epoch, then history.json and curves.svg; returns the exit code.
 */
export async function energyBasedTrainCommand(flags: Flags, out: (line: string) => void): Promise<number> {
  if (flags.model !== undefined) throw new UsageError("--model applies to bp, zil, il and fpa; an energy-based network is layered: set its sizes with --hidden");
  const backend = await chooseBackend(flags);
  const resumePath = typeof flags.resume === "string" ? flags.resume : undefined;
  const checkpoint = resumePath ? loadPCGraphCheckpoint(resumePath, { backend }) : undefined;
  let net: EnergyBasedNetwork | undefined;
  try {
    const plan = checkpoint ? resumedRun(flags, resumePath!, checkpoint) : newRun(flags);
    const { algorithm, settings, ebm, data, dir } = plan;
    checkRunFolder(dir, plan.record, algorithm, settings.seed, resumePath);
    const sizes = [data.train.features.length / Math.max(data.train.size, 1), ...ebm.hidden, data.train.numClasses];
    net = checkpoint ? new EnergyBasedNetwork(checkpoint.model, { feedbackGain: ebm.feedbackGain })
      : new EnergyBasedNetwork(layeredNetwork(sizes, { activation: ebm.activation }), { seed: settings.seed, backend, feedbackGain: ebm.feedbackGain });
    const removeIfEmpty = makeRunFolder(dir);
    const checkpointPath = join(dir, "checkpoint.ckpt");
    const label = labels[algorithm];
    const progress = checkpoint?.progress as PCGraphProgress | undefined;
    const perEpoch = Math.ceil(data.train.size / settings.batchSize);
    const reporter = new ProgressReporter(process.stderr, label, (settings.epochs - (progress?.epoch ?? 0)) * perEpoch - (progress?.batch ?? 0));
    const controller = new AbortController();
    const onSigint = () => {
      if (controller.signal.aborted) process.exit(130);
      process.stderr.write(`\n${label}: stopping after this batch (Ctrl-C again to quit at once)\n`);
      controller.abort();
    };
    let unconverged = 0;
    const started = performance.now();
    process.on("SIGINT", onSigint);
    try {
      process.stderr.write(`${data.description}\n${checkpoint ? `resuming ${resumePath}` : `layered network ${sizes.join("-")}, ` +
        `${net.parameterCount.toLocaleString("en-US")} parameters`}, ${ruleLabel(algorithm, ebm)}, ${ebm.activation}, ` +
        `${ebm.steps}/${ebm.secondSteps} steps, ${net.backend.name}\n`);
      for (const note of plan.notes) process.stderr.write(`${note}\n`);
      const history = await net.fit({ train: data.train, test: data.test.size > 0 ? data.test : undefined }, {
        algorithm, epochs: settings.epochs, batchSize: settings.batchSize, optimizer: plan.optimizer, seed: checkpoint ? undefined : settings.seed,
        steps: ebm.steps, gamma: ebm.gamma, tolerance: 1e-3,
        equilibrium: { beta: ebm.beta, nudging: ebm.nudging, clamp: ebm.clamp, second: { steps: ebm.secondSteps }, onWarning: () => void unconverged++ },
        evaluation: evaluationSettings(ebm),
        resume: checkpoint && { optimizer: checkpoint.optimizer, progress: checkpoint.progress },
        run: { ...plan.record },
        signal: controller.signal, checkpointPath,
        saveCheckpoint: (path: string, c: PCGraphCheckpoint) =>
          savePCGraphCheckpoint(path, { model: c.pcGraph.model, optimizer: c.optimizer, progress: { ...c.progress, energyBased: ebm } as never }),
        onBatch: (info) => reporter.onBatch({ ...info, loss: info.loss ?? info.energy }),
        onEpoch: (r) => {
          if (unconverged > 0) process.stderr.write(`  (${unconverged} relaxation phases of epoch ${r.epoch} stopped above their tolerance 1e-3)\n`);
          unconverged = 0;
          reporter.onEpoch({ epoch: r.epoch, trainLoss: r.trainLoss ?? r.trainEnergy, testAccuracy: r.testAccuracy, seconds: r.seconds, learningRate: r.learningRate });
        },
      });
      const svgPath = join(dir, "curves.svg");
      writeFileAtomic(svgPath, trainingCurvesSvg([{ label: ruleLabel(algorithm, ebm), history: pcGraphCurves(history) }],
        { title: `layered ${sizes.join("-")} on ${data.source === "mnist" ? "MNIST" : basename(data.source)}: ${label}` }));
      writeFileAtomic(join(dir, "history.json"), JSON.stringify(history, null, 2) + "\n");
      const last = history.epochs[history.epochs.length - 1];
      if (history.interrupted) out(`interrupted; continue with: pcgraph train --resume ${checkpointPath}`);
      if (data.test.size === 0) out(`no test set (--test-fraction 0); final training loss: ${last ? (last.trainLoss ?? last.trainEnergy).toFixed(4) : "n/a"}`);
      else out(`test accuracy: ${percent(last?.testAccuracy)}`);
      out(`training took ${((performance.now() - started) / 1000).toFixed(1)} s`);
      out(`checkpoint: ${checkpointPath}`);
      out(`training curves: ${svgPath}`);
      return 0;
    } catch (error) {
      removeIfEmpty();
      throw error;
    } finally {
      process.off("SIGINT", onSigint);
    }
  } finally {
    if (net) net.dispose();
    else checkpoint?.model.dispose();
  }
}

/**
 * `pcgraph eval` of an energy-based checkpoint: the free fixed point of every sample of the
 * chosen part of the run's data (its split, from the checkpoint) relaxed as the run's test
 * queries were, the cost and the accuracy of the output.
 */
export async function evaluateEnergyBasedCheckpoint(path: string, flags: Flags, out: (line: string) => void): Promise<number> {
  const checkpoint = loadPCGraphCheckpoint(path, { backend: await chooseBackend(flags) });
  let net: EnergyBasedNetwork | undefined;
  try {
    const progress = checkpoint.progress as unknown as PCGraphProgress & { energyBased?: unknown };
    if (!isEnergyBasedProgress(checkpoint.progress))
      throw new UsageError(`${path}: a PC graph trained with ${JSON.stringify(progress.algorithm)}; classify with pcgraph graph query ${path} --task classify`);
    const ebm = readEnergyBasedSettings(progress.energyBased, path);
    const record = readRunRecord(progress.run);
    const testFlag = flags["test-fraction"] as number | undefined;
    if (record && testFlag !== undefined && testFlag !== record.testFraction)
      throw new UsageError(`--test-fraction ${testFlag} differs from the run's ${record.testFraction}: the test part would hold training samples; omit it`);
    net = new EnergyBasedNetwork(checkpoint.model, { feedbackGain: ebm.feedbackGain });
    const source = (flags.data as string | undefined) ?? record?.data.source ?? "mnist";
    const data = loadData(source, { seed: progress.seed, testFraction: testFlag ?? record?.testFraction ?? 0.2, augment: false, numClasses: net.nudge.group.size });
    const split = (flags.split as string | undefined) ?? "test";
    if (split === "test" && data.test.size === 0)
      throw new UsageError("no test set: the run held out no samples (--test-fraction 0); evaluate with --split train or --split all");
    const parts = split === "all" ? [data.train, data.test] : [split === "train" ? data.train : data.test];
    const relax = evaluationSettings(ebm);
    let loss = 0;
    let correct = 0;
    let count = 0;
    let unconverged = 0;
    for (const part of parts) {
      if (part.size === 0) continue;
      const r = net.evaluate(part, { ...relax, batchSize: (flags["batch-size"] as number | undefined) ?? 256 });
      loss += r.loss * part.size;
      correct += r.accuracy * part.size;
      count += part.size;
      unconverged += r.unconverged;
    }
    out(`checkpoint: ${path} (${ruleLabel(progress.algorithm as EnergyBasedAlgorithm, ebm)}, layered ${net.groups.map((g) => g.size).join("-")})`);
    out(`data: ${data.description}; evaluated on ${split} (${count} samples), free fixed point by ${relax.steps} steps of gamma ${relax.gamma}` +
      (unconverged > 0 ? ` (${unconverged} batches stopped above the tolerance ${relax.tolerance})` : ""));
    out(`loss (1/2 |output - one-hot|^2): ${(loss / count).toFixed(6)}`);
    out(`accuracy: ${percent(correct / count)}`);
    return 0;
  } finally {
    if (net) net.dispose();
    else checkpoint.model.dispose();
  }
}
