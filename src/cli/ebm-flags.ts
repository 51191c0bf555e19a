// The flags of `pcgraph train` for energy-based networks (--algo eqprop|chl) and the checks
// that need no training code: which algorithms they are, which flags belong to them, and
// whether a checkpoint holds such a run. Kept apart from ebm-train.ts so that train.ts can
// list the flags without loading the training code.
import { UsageError, type FlagSpec } from "./args.js";

type Flags = Record<string, string | number | boolean>;

/** The learning algorithms of `train` that train a layered energy-based network. */
export const energyBasedAlgorithms = ["eqprop", "chl"] as const;
/** "eqprop" or "chl". */
export type EnergyBasedAlgorithm = (typeof energyBasedAlgorithms)[number];

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
  { name: "feedback-gain", type: "number", meta: "G", help: "eqprop/chl: gain of the top-down drive (weak feedback: CHL tends to the gradient as G -> 0)", defaultText: "1" },
];

/** Usage errors for energy-based flags given with another algorithm. */
export function checkEnergyBasedFlags(flags: Flags, algorithm: string): void {
  if ((energyBasedAlgorithms as readonly string[]).includes(algorithm)) return;
  const given = energyBasedFlags.find((f) => flags[f.name] !== undefined);
  if (given) throw new UsageError(`--${given.name} applies to --algo eqprop or chl, not ${algorithm}`);
}

/** True when a checkpoint's progress says an energy-based network was trained (EqProp or CHL). */
export function isEnergyBasedProgress(progress: Record<string, unknown>): boolean {
  return (energyBasedAlgorithms as readonly unknown[]).includes(progress.algorithm);
}
