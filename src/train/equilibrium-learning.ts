// One EqProp or CHL learning step of a PC graph whose energy has a nudged loss: the batch's
// data for the nudged group becomes the target, every other clamp is loaded as usual, then
// the phases of src/pc/graph/equilibrium.ts estimate the gradient and the optimizer applies
// it. With the Hopfield energy this is an energy-based network; with the prediction errors
// (and the output free) it is nudged PC.
import { InvalidArgumentError, ShapeError } from "../backend/errors.js";
import {
  checkEquilibriumOptions, equilibriumGradient, nudgeOf, type ChlClamp, type EquilibriumAlgorithm, type EquilibriumResult, type NonConvergence, type Nudging,
  type PhaseResult, type PhaseSettings,
} from "../pc/graph/equilibrium.js";
import { checkFinite, loadQuery, queryBatch, type GroupData, type QueryClamps } from "../pc/graph/query.js";
import type { ClipOptions, LearningResult, ParameterUpdater } from "../pc/graph/schedules.js";
import type { StepListener } from "../pc/graph/relax.js";
import { Tensor } from "../tensor.js";
import type { PCGraph } from "./pc-graph.js";

/** EqProp and CHL settings of a learning step or a fit. */
export interface EquilibriumSettings {
  /** Nudging strength (default 1; CHL's full clamp has none). */
  beta?: number;
  /** EqProp: "symmetric" (default) or "one-sided". */
  nudging?: Nudging;
  /** CHL: "full" (default) or "nudged". */
  clamp?: ChlClamp;
  /** The nudged or clamped phase's relaxation (default: steps and gamma of the free phase, its tolerance). */
  second?: Partial<PhaseSettings>;
  /** A phase that ends above its tolerance: "warn" (default), "error" or "ignore". */
  nonConvergence?: NonConvergence;
  /** Receives the warning of a phase that ends above its tolerance (default console.warn). */
  onWarning?: (message: string) => void;
}

/** The defaults of an EqProp or CHL learning step: beta, and the free phase's steps and rate. */
export const equilibriumDefaults = { beta: 1, steps: 60, gamma: 0.5 } as const;

/** What an EqProp or CHL learning step reports: the steps and energy, the loss at the free fixed point, every phase. */
export interface EquilibriumLearningResult extends LearningResult {
  /** The cost at the free fixed point per sample (the loss the update descends). */
  loss: number;
  phases: PhaseResult[];
  converged: boolean;
}

/** The options `PCGraph.learn` passes to an EqProp or CHL step. */
export interface EquilibriumLearnOptions {
  algorithm: EquilibriumAlgorithm;
  steps?: number;
  gamma?: number;
  tolerance?: number;
  clip?: ClipOptions;
  onStep?: StepListener;
  equilibrium?: EquilibriumSettings;
}

function lengthOf(data: GroupData): number {
  return data instanceof Tensor ? data.size : data.length;
}

/**
 * Loads `batch` (the nudged group's clamp is its target), estimates the gradient by EqProp or
 * CHL into `gradients`, and applies it with `updater`. Everything is checked before the state
 * is touched.
 */
export function learnAtEquilibrium(net: PCGraph, batch: QueryClamps, updater: ParameterUpdater | null, gradients: Map<string, Tensor>,
  o: EquilibriumLearnOptions): EquilibriumLearningResult {
  const where = o.algorithm === "chl" ? "CHL" : "EqProp";
  const nudge = nudgeOf(net.energy, where);
  const settings = o.equilibrium ?? {};
  if (typeof settings !== "object" || settings === null) throw new InvalidArgumentError(`${where}: equilibrium must be an object of settings`);
  const fullClamp = o.algorithm === "chl" && (settings.clamp ?? "full") === "full";
  const free: PhaseSettings = { steps: o.steps ?? equilibriumDefaults.steps, gamma: o.gamma ?? equilibriumDefaults.gamma, tolerance: o.tolerance };
  const options = {
    algorithm: o.algorithm,
    beta: fullClamp ? settings.beta : settings.beta ?? equilibriumDefaults.beta,
    nudging: o.algorithm === "eqprop" ? settings.nudging : undefined,
    clamp: o.algorithm === "chl" ? settings.clamp : undefined,
    free,
    second: { steps: settings.second?.steps ?? free.steps, gamma: settings.second?.gamma ?? free.gamma, tolerance: settings.second?.tolerance ?? free.tolerance },
    nonConvergence: settings.nonConvergence,
    onWarning: settings.onWarning,
    clip: o.clip,
    onStep: o.onStep,
  };
  if (!batch || typeof batch !== "object") throw new InvalidArgumentError(`${where}: expected a batch { clamp: { ... }, ... }`);
  const output = nudge.group;
  const target = batch.clamp?.[output.name] as GroupData | undefined;
  if (target === undefined)
    throw new InvalidArgumentError(`${where}: the batch has no data for the nudged group "${output.name}" (its target: clamp: { ${output.name}: ... })`);
  if (!(target instanceof Tensor || ArrayBuffer.isView(target) || Array.isArray(target)))
    throw new InvalidArgumentError(`${where}: the target of group "${output.name}" must be a Tensor or an array of numbers (not a masked clamp)`);
  const { [output.name]: _target, ...clamp } = batch.clamp!;
  const query: QueryClamps = { ...batch, clamp, batch: batch.batch };
  const size = queryBatch(net.model, batch);
  if (lengthOf(target) !== size * output.size)
    throw new ShapeError(`group "${output.name}": the target has ${lengthOf(target)} values, expected batch ${size} x ${output.size}`);
  checkFinite(output, target, "the target");
  checkEquilibriumOptions(options, where);
  const state = net.state(size);
  state.parametersChanged();
  loadQuery(state, net.energy, { ...query, batch: size });
  nudge.setTarget(state, target);
  const result: EquilibriumResult = equilibriumGradient(state, net.energy, gradients, options);
  if (updater) {
    updater.step(state.model, gradients);
    state.parametersChanged();
  }
  return { steps: result.steps, energy: result.energy, residual: result.residual, loss: result.loss, phases: result.phases, converged: result.converged };
}
