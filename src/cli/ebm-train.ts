// `pcgraph train --algo eqprop|chl`: a layered energy-based network (features - hidden - classes,
// one symmetric weight per pair of layers) trained by Equilibrium Propagation or CHL, with
// progress, checkpoints (resumable, settings included) and history.json.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadPCGraphCheckpoint, savePCGraphCheckpoint } from "../node/checkpoint-files.js";
import type { ChlClamp, Nudging } from "../pc/graph/equilibrium.js";
import type { GroupActivation } from "../pc/graph/topology.js";
import { EnergyBasedNetwork, layeredNetwork } from "../train/energy-based.js";
import type { OptimizerConfig, OptimizerKind } from "../train/optimizers.js";
import type { PCGraphCheckpoint, PCGraphHistory } from "../train/pc-graph-fit.js";
import { UsageError, type FlagSpec } from "./args.js";
import { loadData } from "./data.js";
import { formatDuration } from "./progress.js";
import { percent, trainingSettings, withSchedule } from "./train.js";

export const energyBasedAlgorithms = ["eqprop", "chl"] as const;
export type EnergyBasedAlgorithm = (typeof energyBasedAlgorithms)[number];
const labels: Record<EnergyBasedAlgorithm, string> = { eqprop: "EqProp", chl: "CHL" };

/** Flags of `train` that apply to --algo eqprop and chl only. */
export const energyBasedFlags: FlagSpec[] = [
  { name: "hidden", type: "string", meta: "N[,N...]", help: "eqprop/chl: hidden layer sizes of the layered network", defaultText: "256" },
  { name: "activation", type: "string", values: ["hardSigmoid", "tanh"], help: "eqprop/chl: the units' activation rho", defaultText: "hardSigmoid" },
  { name: "beta", type: "number", meta: "X", help: "eqprop/chl: nudging strength (CHL: with --clamp nudged)", defaultText: "eqprop 2, chl nudged 0.5" },
  { name: "nudging", type: "string", values: ["symmetric", "one-sided"], help: "eqprop: nudge both ways (+beta, -beta) or one", defaultText: "symmetric" },
  { name: "clamp", type: "string", values: ["full", "nudged"], help: "chl: clamp the output at the target, or beta of the way there", defaultText: "full" },
  { name: "steps", type: "integer", min: 1, meta: "N", help: "eqprop/chl: relaxation steps of the free phase (twice that for test queries)", defaultText: "60" },
  { name: "second-steps", type: "integer", min: 1, meta: "N", help: "eqprop/chl: relaxation steps of the nudged or clamped phase", defaultText: "30" },
  { name: "gamma", type: "number", meta: "X", help: "eqprop/chl: relaxation step (<= 1 keeps hard-sigmoid units in [0, 1])", defaultText: "0.5" },
];

const defaultRates: Record<OptimizerKind, number> = { adam: 0.0005, momentum: 0.01, sgd: 0.05 };

interface EnergyBasedSettings {
  hidden: number[];
  activation: GroupActivation;
  beta?: number;
  nudging?: Nudging;
  clamp?: ChlClamp;
  steps: number;
  secondSteps: number;
  gamma: number;
}

function parseHidden(text: string): number[] {
  const sizes = text.split(",").map((s) => Number(s.trim()));
  if (sizes.length === 0 || !sizes.every((n) => Number.isInteger(n) && n >= 1)) throw new UsageError(`--hidden: expected sizes like 256 or 128,64, got ${JSON.stringify(text)}`);
  return sizes;
}

/** The settings from the flags, over those a resumed checkpoint stored. */
function energyBasedSettings(flags: Record<string, string | number | boolean>, algorithm: EnergyBasedAlgorithm, stored?: Partial<EnergyBasedSettings>): EnergyBasedSettings {
  if (algorithm === "eqprop" && flags.clamp !== undefined) throw new UsageError("--clamp applies to --algo chl (EqProp nudges: --nudging)");
  if (algorithm === "chl" && flags.nudging !== undefined) throw new UsageError("--nudging applies to --algo eqprop (CHL clamps: --clamp)");
  const clamp = (flags.clamp as ChlClamp | undefined) ?? stored?.clamp ?? (algorithm === "chl" ? "full" : undefined);
  if (algorithm === "chl" && clamp === "full" && flags.beta !== undefined) throw new UsageError("--beta applies to CHL with --clamp nudged (the full clamp holds the output at the target)");
  const beta = (flags.beta as number | undefined) ?? stored?.beta ?? (algorithm === "chl" ? (clamp === "full" ? undefined : 0.5) : 2);
  if (beta !== undefined && !(beta > 0)) throw new UsageError(`--beta: expected a number > 0, got ${beta}`);
  const gamma = (flags.gamma as number | undefined) ?? stored?.gamma ?? 0.5;
  if (!(gamma > 0)) throw new UsageError(`--gamma: expected a number > 0, got ${gamma}`);
  return {
    hidden: typeof flags.hidden === "string" ? parseHidden(flags.hidden) : stored?.hidden ?? [256],
    activation: (flags.activation as GroupActivation | undefined) ?? stored?.activation ?? "hardSigmoid",
    beta, clamp,
    nudging: algorithm === "eqprop" ? (flags.nudging as Nudging | undefined) ?? stored?.nudging ?? "symmetric" : undefined,
    steps: (flags.steps as number | undefined) ?? stored?.steps ?? 60,
    secondSteps: (flags["second-steps"] as number | undefined) ?? stored?.secondSteps ?? 30,
    gamma,
  };
}

/** Usage errors for energy-based flags given with another algorithm. */
export function checkEnergyBasedFlags(flags: Record<string, string | number | boolean>, algorithm: string): void {
  if ((energyBasedAlgorithms as readonly string[]).includes(algorithm)) return;
  const given = energyBasedFlags.find((f) => flags[f.name] !== undefined);
  if (given) throw new UsageError(`--${given.name} applies to --algo eqprop or chl, not ${algorithm}`);
}

export async function energyBasedTrainCommand(flags: Record<string, string | number | boolean>, out: (line: string) => void): Promise<number> {
  if (flags.model !== undefined) throw new UsageError("--model applies to bp, zil, il and fpa; an energy-based network is layered: set its sizes with --hidden");
  let algorithm = flags.algo as EnergyBasedAlgorithm;
  let settings = trainingSettings(flags, "mlp");
  let resume: { model: EnergyBasedNetwork; optimizer: ReturnType<typeof loadPCGraphCheckpoint>["optimizer"]; progress: Record<string, unknown> } | undefined;
  let stored: Partial<EnergyBasedSettings> | undefined;
  let optimizer: OptimizerConfig = { ...settings.optimizer, learningRate: (flags.lr as number | undefined) ?? defaultRates[settings.optimizer.kind] };
  if (typeof flags.resume === "string") {
    const decoded = loadPCGraphCheckpoint(flags.resume, { backend: settings.backend });
    const progress = decoded.progress as { algorithm?: string; seed?: number; batchSize?: number; energyBased?: Partial<EnergyBasedSettings> };
    if (!(energyBasedAlgorithms as readonly string[]).includes(progress.algorithm ?? "")) {
      decoded.model.dispose();
      throw new UsageError(`--resume ${flags.resume}: the checkpoint was not trained with eqprop or chl (algorithm ${JSON.stringify(progress.algorithm)})`);
    }
    if (flags.algo !== progress.algorithm) {
      decoded.model.dispose();
      throw new UsageError(`--algo ${flags.algo} differs from the checkpoint's ${progress.algorithm}`);
    }
    if (flags.optimizer !== undefined || flags.lr !== undefined || flags.schedule !== undefined) {
      decoded.model.dispose();
      throw new UsageError("--optimizer, --lr and --schedule cannot change a resumed run; they come from the checkpoint");
    }
    algorithm = progress.algorithm as EnergyBasedAlgorithm;
    stored = progress.energyBased;
    settings = { ...settings, seed: progress.seed ?? settings.seed, batchSize: (flags["batch-size"] as number | undefined) ?? progress.batchSize ?? settings.batchSize };
    optimizer = decoded.optimizer.config as unknown as OptimizerConfig;
    resume = { model: new EnergyBasedNetwork(decoded.model), optimizer: decoded.optimizer, progress: decoded.progress };
  }
  const ebm = energyBasedSettings(flags, algorithm, stored);
  const data = loadData((flags.data as string | undefined) ?? "mnist", settings);
  if (!resume) optimizer = withSchedule({ ...settings, optimizer }, flags.schedule as string | undefined, data.train.size).optimizer;
  const features = data.train.features.length / Math.max(data.train.size, 1);
  const net = resume?.model ?? new EnergyBasedNetwork(layeredNetwork([features, ...ebm.hidden, data.train.numClasses], { activation: ebm.activation }),
    { seed: settings.seed, backend: settings.backend });
  const label = labels[algorithm];
  const dir = (flags.out as string | undefined) ?? join("runs", `${algorithm}-seed${settings.seed}`);
  mkdirSync(dir, { recursive: true });
  const checkpointPath = join(dir, "checkpoint.ckpt");
  const controller = new AbortController();
  const onSigint = () => {
    if (controller.signal.aborted) process.exit(130);
    process.stderr.write(`\n${label}: stopping after this batch (Ctrl-C again to quit at once)\n`);
    controller.abort();
  };
  process.on("SIGINT", onSigint);
  let unconverged = 0;
  const started = performance.now();
  try {
    process.stderr.write(`${data.description}\n${resume ? `resuming ${flags.resume}` : `layered network ${[features, ...ebm.hidden, data.train.numClasses].join("-")}, ` +
      `${net.parameterCount.toLocaleString("en-US")} parameters`}, ${label}${algorithm === "eqprop" ? ` ${ebm.nudging} beta ${ebm.beta}` : ` ${ebm.clamp} clamp${ebm.beta ? ` beta ${ebm.beta}` : ""}`}, ` +
      `${ebm.activation}, ${ebm.steps}/${ebm.secondSteps} steps, ${net.backend.name}\n`);
    const history: PCGraphHistory = await net.fit(data, {
      algorithm, epochs: settings.epochs, batchSize: settings.batchSize, optimizer, seed: resume ? undefined : settings.seed,
      steps: ebm.steps, gamma: ebm.gamma, tolerance: 1e-3,
      equilibrium: { beta: ebm.beta, nudging: ebm.nudging, clamp: ebm.clamp, second: { steps: ebm.secondSteps }, onWarning: () => void unconverged++ },
      evaluation: { steps: 2 * ebm.steps, gamma: ebm.gamma, tolerance: 1e-3 },
      resume: resume && { optimizer: resume.optimizer, progress: resume.progress },
      signal: controller.signal, checkpointPath,
      saveCheckpoint: (path: string, c: PCGraphCheckpoint) =>
        savePCGraphCheckpoint(path, { model: c.pcGraph.model, optimizer: c.optimizer, progress: { ...c.progress, energyBased: ebm } as never }),
      onEpoch: (r) => {
        process.stderr.write(`${label} epoch ${r.epoch}  energy ${r.trainEnergy.toFixed(4)}  test acc ${percent(r.testAccuracy)}  ${formatDuration(r.seconds)}` +
          `${unconverged > 0 ? `  (${unconverged} phases stopped above tolerance 1e-3)` : ""}\n`);
        unconverged = 0;
      },
    });
    writeFileSync(join(dir, "history.json"), JSON.stringify(history, null, 2) + "\n");
    const last = history.epochs[history.epochs.length - 1];
    if (history.interrupted) out(`interrupted; continue with: pcgraph train --algo ${algorithm} --resume ${checkpointPath}`);
    out(`test accuracy: ${percent(last?.testAccuracy)}`);
    out(`training took ${((performance.now() - started) / 1000).toFixed(1)} s`);
    out(`checkpoint: ${checkpointPath}`);
    return 0;
  } finally {
    process.off("SIGINT", onSigint);
    net.dispose();
  }
}
