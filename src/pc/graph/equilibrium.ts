// Equilibrium Propagation and Contrastive Hebbian Learning as schedules over the same relax
// and parameter-gradient steps as PC and iPC (docs/energy-based.md). Each runs a free phase
// (the nudged loss off, the output free), then one or two second phases from the free fixed
// point, and contrasts dF/dtheta between them (G(x) = dF/dtheta at x, B the batch):
//
//   EqProp, one-sided:  (1/(beta B)) (G(x^beta) - G(x^0))          error O(beta)
//   EqProp, symmetric:  (1/(2 beta B)) (G(x^beta) - G(x^-beta))    error O(beta^2)
//                       (Scellier & Bengio 2017; Laborieux et al. 2021)
//   CHL, full clamp:    (1/B) (G(x^c) - G(x^0)), the output clamped at the target Y
//                       (Movellan 1991): the gradient of E(clamped) - E(free), not of the loss
//   CHL, nudged clamp:  (1/(beta B)) (G(x^c) - G(x^0)), the output clamped at
//                       X_o^0 + beta (Y - X_o^0): the clamped phase close to the free one
//                       (arXiv 2206.02629); beta = 1 is the full clamp
//
// The estimates tend to dL/dtheta, L = C(x^0) / B the cost at the free fixed point, as beta -> 0
// (CHL's nudged clamp to a limit that differs from it; see the note). With the PC energy and
// the output free, the free phase from init "forward" is the feedforward pass (F = 0), and
// EqProp one-sided is nudged PC: IL with the output weighted by beta.
//
// Every phase reports its steps and residual; a phase that ends above its tolerance warns,
// throws a RelaxationError, or is ignored, as asked. The state ends at the free fixed point.
import { InvalidArgumentError } from "../../backend/errors.js";
import type { Tensor } from "../../tensor.js";
import type { Energy } from "./energy.js";
import { NudgedLoss } from "./nudge.js";
import { checkRelaxOptions, evaluate, relax, RelaxationError, type RelaxResult, type StepListener } from "./relax.js";
import { checkClip, clipGradients, type ClipOptions } from "./schedules.js";
import type { PCGraphState } from "./state.js";

/** Equilibrium Propagation or Contrastive Hebbian Learning. */
export type EquilibriumAlgorithm = "eqprop" | "chl";
/** Every `EquilibriumAlgorithm`. */
export const equilibriumAlgorithms: readonly EquilibriumAlgorithm[] = ["eqprop", "chl"];
/** EqProp's nudging: +beta only, or +beta and -beta (the centred estimate). */
export type Nudging = "one-sided" | "symmetric";
/** CHL's clamped phase: the output at the target, or beta of the way there. */
export type ChlClamp = "full" | "nudged";
/** What a phase that ends above its tolerance does: warn, throw a RelaxationError, or nothing. */
export type NonConvergence = "warn" | "error" | "ignore";

/** Relaxation settings of one phase. */
export interface PhaseSettings {
  steps: number;
  gamma: number;
  /** Stop at this residual; a phase that ends above it is reported (see `nonConvergence`). */
  tolerance?: number;
}

/** Options of `equilibriumGradient`: the rule, its nudge or clamp, each phase's relaxation, what non-convergence does. */
export interface EquilibriumOptions {
  algorithm: EquilibriumAlgorithm;
  /** Nudging strength: EqProp > 0; CHL's nudged clamp in (0, 1]; unused by CHL's full clamp. */
  beta?: number;
  /** EqProp: "one-sided" (+beta) or "symmetric" (+beta and -beta; default). */
  nudging?: Nudging;
  /** CHL: "full" (the output clamped at the target; default) or "nudged" (clamped beta of the way there). */
  clamp?: ChlClamp;
  free: PhaseSettings;
  /** The nudged or clamped phase(s), each starting from the free fixed point. */
  second: PhaseSettings;
  /** A phase that ends above its tolerance: "warn" (default), "error" (a RelaxationError) or "ignore". */
  nonConvergence?: NonConvergence;
  /** Receives warnings (default console.warn). */
  onWarning?: (message: string) => void;
  clip?: ClipOptions;
  /** Hears every step of every phase; events carry `phase`. */
  onStep?: StepListener;
}

/** One phase's relaxation: its steps, energy, residual and convergence, with its name and nudge. */
export interface PhaseResult extends RelaxResult {
  /** "free", "nudged+", "nudged-" or "clamped". */
  phase: string;
  /** The nudging strength of the phase (CHL's clamped phase: the fraction of the way to the target). */
  beta: number;
}

/** What `equilibriumGradient` reports: every phase, the steps, the energy and loss at the free fixed point, convergence. */
export interface EquilibriumResult {
  phases: PhaseResult[];
  /** Inference steps over all phases. */
  steps: number;
  /** F / B at the free fixed point. */
  energy: number;
  /** The cost at the free fixed point, C(x^0) / B (the loss the estimate is the gradient of). */
  loss: number;
  /** The largest final residual of the phases. */
  residual: number;
  /** False when some phase with a tolerance ended above it. */
  converged: boolean;
}

const positive = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v) && v > 0;

/** Checks the options (a typed error naming the field); returns the nudging strength used. */
export function checkEquilibriumOptions(o: EquilibriumOptions, where = "equilibrium learning"): number {
  if (!o || typeof o !== "object") throw new InvalidArgumentError(`${where}: expected { algorithm, beta, free, second, ... }`);
  if (!equilibriumAlgorithms.includes(o.algorithm))
    throw new InvalidArgumentError(`${where}: algorithm must be "eqprop" or "chl", got ${JSON.stringify(o.algorithm)}`);
  if (o.nudging !== undefined && o.nudging !== "one-sided" && o.nudging !== "symmetric")
    throw new InvalidArgumentError(`${where}: nudging must be "one-sided" or "symmetric", got ${JSON.stringify(o.nudging)}`);
  if (o.clamp !== undefined && o.clamp !== "full" && o.clamp !== "nudged")
    throw new InvalidArgumentError(`${where}: clamp must be "full" or "nudged", got ${JSON.stringify(o.clamp)}`);
  if (o.algorithm === "eqprop" && o.clamp !== undefined) throw new InvalidArgumentError(`${where}: clamp applies to CHL only (EqProp nudges)`);
  if (o.algorithm === "chl" && o.nudging !== undefined) throw new InvalidArgumentError(`${where}: nudging applies to EqProp only (CHL clamps)`);
  if (o.nonConvergence !== undefined && !["warn", "error", "ignore"].includes(o.nonConvergence))
    throw new InvalidArgumentError(`${where}: nonConvergence must be "warn", "error" or "ignore", got ${JSON.stringify(o.nonConvergence)}`);
  if (o.onWarning !== undefined && typeof o.onWarning !== "function") throw new InvalidArgumentError(`${where}: onWarning must be a function`);
  checkRelaxOptions({ ...o.free, onStep: o.onStep }, `${where}: free phase`);
  checkRelaxOptions({ ...o.second }, `${where}: ${o.algorithm === "chl" ? "clamped" : "nudged"} phase`);
  checkClip(o.clip);
  const fullClamp = o.algorithm === "chl" && (o.clamp ?? "full") === "full";
  if (fullClamp) {
    if (o.beta !== undefined && o.beta !== 1)
      throw new InvalidArgumentError(`${where}: CHL's full clamp has no beta (it clamps the output at the target); got beta ${JSON.stringify(o.beta)} (use clamp: "nudged")`);
    return 1;
  }
  if (!positive(o.beta))
    throw new InvalidArgumentError(`${where}: beta must be a finite number > 0, got ${JSON.stringify(o.beta)}` +
      (typeof o.beta === "number" && o.beta < 0 ? " (the symmetric estimate nudges both ways itself: nudging: \"symmetric\")" : ""));
  if (o.algorithm === "chl" && o.beta > 1)
    throw new InvalidArgumentError(`${where}: CHL's nudged clamp moves the output beta of the way to the target, so beta must be in (0, 1], got ${o.beta}`);
  return o.beta;
}

/** The nudged-loss term of the energy (a typed error when there is none). */
export function nudgeOf(energy: Energy, where = "equilibrium learning"): NudgedLoss {
  const nudge = energy.find(NudgedLoss);
  if (!nudge) throw new InvalidArgumentError(`${where} needs a nudged loss in the energy (new NudgedLoss(model, outputGroup)): it is how the target enters`);
  return nudge;
}

/**
 * The gradient estimate of EqProp or CHL on the batch loaded in `state` (clamps, starting
 * values, and the target in the energy's NudgedLoss) into `gradients` (by parameter name,
 * overwritten). Parameters are not changed.
 */
export function equilibriumGradient(state: PCGraphState, energy: Energy, gradients: Map<string, Tensor>, o: EquilibriumOptions): EquilibriumResult {
  const beta = checkEquilibriumOptions(o);
  const nudge = nudgeOf(energy);
  const output = nudge.group;
  if (!nudge.hasTarget(state)) throw new InvalidArgumentError(`group "${output.name}": no target is loaded (NudgedLoss.setTarget)`);
  if (state.freedom[output.index] !== "free")
    throw new InvalidArgumentError(`group "${output.name}" is the nudged output, so it must be free in the free phase (its data is the target, not a clamp)`);
  const k = state.backend;
  const phases: PhaseResult[] = [];
  const policy = o.nonConvergence ?? "warn";
  const warn = o.onWarning ?? ((message: string) => console.warn(message));
  const batch = state.batch;

  const runPhase = (phase: string, phaseBeta: number, settings: PhaseSettings): void => {
    const listener = o.onStep;
    const result = relax(state, energy, { ...settings, onStep: listener && ((event) => listener({ ...event, phase })) });
    phases.push({ ...result, phase, beta: phaseBeta });
    if (settings.tolerance === undefined || result.converged || policy === "ignore") return;
    const message = `${o.algorithm === "chl" ? "CHL" : "EqProp"}: the ${phase} phase did not converge: residual ${result.residual.toExponential(3)} > tolerance ` +
      `${settings.tolerance} after ${result.steps} steps (gamma ${settings.gamma}); the estimate uses a state that is not at equilibrium`;
    if (policy === "error") throw new RelaxationError(message, result);
    warn(message);
  };
  const moving = state.groups.filter((g) => state.moves(g));
  const saveFree = () => {
    for (const g of moving) state.values[g.index].copyTo(state.buffer("freeFixedPoint", g));
  };
  const restoreFree = () => {
    for (const g of moving) {
      state.buffer("freeFixedPoint", g).copyTo(state.values[g.index]);
      state.valuesChanged(g);
    }
  };
  /** gradients (+)= scale * dF/dtheta at the current values. */
  const contrast = (scale: number, first: boolean) => {
    evaluate(state, energy, false);
    if (first) energy.parameterGradient(state, gradients, scale);
    else energy.addParameterGradient(state, gradients, scale);
  };

  let energyAtRest = NaN;
  let loss = NaN;
  try {
    nudge.beta = 0;
    runPhase("free", 0, o.free);
    energyAtRest = energy.value(state) / batch;
    loss = nudge.cost(state) / batch;
    saveFree();
    if (o.algorithm === "eqprop" && (o.nudging ?? "symmetric") === "symmetric") {
      nudge.beta = beta;
      runPhase("nudged+", beta, o.second);
      contrast(1 / (2 * beta * batch), true);
      restoreFree();
      nudge.beta = -beta;
      runPhase("nudged-", -beta, o.second);
      contrast(-1 / (2 * beta * batch), false);
    } else if (o.algorithm === "eqprop") {
      contrast(-1 / (beta * batch), true);
      nudge.beta = beta;
      runPhase("nudged+", beta, o.second);
      contrast(1 / (beta * batch), false);
    } else {
      contrast(-1 / (beta * batch), true);
      // Clamp the output at X_o^0 + beta (Y - X_o^0) (beta = 1: at Y).
      const x = state.values[output.index];
      k.axpby(x.size, beta, nudge.target(state).address, 1 - beta, x.address);
      state.setFreedom(output, "clamped");
      state.valuesChanged(output);
      runPhase("clamped", beta, o.second);
      contrast(1 / (beta * batch), false);
    }
  } finally {
    nudge.beta = 0;
    if (state.freedom[output.index] !== "free") state.setFreedom(output, "free");
    if (phases.length > 1) restoreFree();
  }
  if (o.clip) clipGradients(gradients, o.clip);
  return {
    phases,
    steps: phases.reduce((s, p) => s + p.steps, 0),
    energy: energyAtRest,
    loss,
    residual: Math.max(...phases.map((p) => p.residual)),
    converged: phases.every((p, i) => (i === 0 ? o.free : o.second).tolerance === undefined || p.converged),
  };
}
