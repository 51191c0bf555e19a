// Relaxation: gradient descent on the energy over the free units,
//   X_g <- X_g - gamma * C_g * dF/dX_g          (docs/pc-graphs.md, eq. 6)
// optionally with heavy-ball momentum (Polyak 1964): V_g <- beta V_g - gamma C_g dF/dX_g,
// X_g <- X_g + V_g, which reaches the same minimum in fewer steps on ill-conditioned energies
// (but, unlike plain descent, not with the energy falling at every step),
// with an optional convergence tolerance on the residual (the RMS of dF/dX over the free
// units) and a step budget. It ends with an evaluation at the values it stopped at, so the
// errors it leaves behind belong to those values.
import { InvalidArgumentError, PcgraphError } from "../../backend/errors.js";
import type { StepEvent, StepListener } from "../steps.js";
import type { Energy } from "./energy.js";
import type { PCGraphState } from "./state.js";

/** How `relax` runs inference: step budget, inference rate, tolerance and a step listener. */
export interface RelaxOptions {
  /** Step budget (integer >= 0). */
  steps: number;
  /** Inference rate gamma > 0. */
  gamma: number;
  /** Heavy-ball momentum beta in [0, 1) (default 0: plain gradient descent). */
  momentum?: number;
  /** Stop as soon as the residual is at most this (default: run the whole budget). */
  tolerance?: number;
  /** Throw a RelaxationError when a tolerance is given and not reached within the budget (default false: report it). */
  requireConvergence?: boolean;
  onStep?: StepListener;
}

/** Where relaxation ended: steps, energy, residual and whether the tolerance was met. */
export interface RelaxResult {
  /** Inference steps taken. */
  steps: number;
  /** F / B at the final values. */
  energy: number;
  /** RMS of dF/dX over the free units at the final values (0 when nothing is free). */
  residual: number;
  /** True when a tolerance was given and reached. */
  converged: boolean;
}

/** A relaxation that diverged (non-finite energy) or, when required, did not converge. */
export class RelaxationError extends PcgraphError {
  constructor(message: string, readonly result: RelaxResult) {
    super(message);
  }
}

export function checkRelaxOptions(o: RelaxOptions, where = "relax"): void {
  if (!Number.isInteger(o.steps) || o.steps < 0) throw new InvalidArgumentError(`${where}: steps must be an integer >= 0, got ${JSON.stringify(o.steps)}`);
  if (typeof o.gamma !== "number" || !Number.isFinite(o.gamma) || o.gamma <= 0)
    throw new InvalidArgumentError(`${where}: gamma must be a finite number > 0, got ${JSON.stringify(o.gamma)}`);
  if (o.momentum !== undefined && (typeof o.momentum !== "number" || !(o.momentum >= 0 && o.momentum < 1)))
    throw new InvalidArgumentError(`${where}: momentum must be a number in [0, 1), got ${JSON.stringify(o.momentum)}`);
  if (o.tolerance !== undefined && (typeof o.tolerance !== "number" || !(o.tolerance >= 0) || !Number.isFinite(o.tolerance)))
    throw new InvalidArgumentError(`${where}: tolerance must be a finite number >= 0, got ${JSON.stringify(o.tolerance)}`);
  if (o.onStep !== undefined && typeof o.onStep !== "function") throw new InvalidArgumentError(`${where}: onStep must be a function`);
}

/** Prepares the energy and, when `gradient`, writes dF/dX (masked) for the moving groups. */
export function evaluate(state: PCGraphState, energy: Energy, gradient: boolean): void {
  energy.prepare(state);
  if (gradient) energy.valueGradient(state);
}

/**
 * X -= gamma * dF/dX on every moving group (the gradient from the last evaluation, already
 * masked); with momentum beta > 0, V = beta V - gamma dF/dX and X += V (V from `resetVelocity`).
 */
export function inferenceStep(state: PCGraphState, gamma: number, momentum = 0): void {
  const k = state.backend;
  for (const g of state.groups) {
    if (!state.moves(g)) continue;
    const x = state.values[g.index];
    if (momentum > 0) {
      const velocity = state.buffer("velocity", g);
      k.axpby(x.size, -gamma, state.gradient(g).address, momentum, velocity.address);
      k.axpy(x.size, 1, velocity.address, x.address);
    } else k.axpy(x.size, -gamma, state.gradient(g).address, x.address);
    state.valuesChanged(g);
  }
}

/** Zeroes the heavy-ball velocity of every moving group (at the start of a relaxation). */
export function resetVelocity(state: PCGraphState): void {
  for (const g of state.groups) {
    if (!state.moves(g)) continue;
    const velocity = state.buffer("velocity", g);
    state.backend.fill(velocity.size, 0, velocity.address);
  }
}

/** RMS of the last evaluated dF/dX over the free units (0 when nothing is free). */
export function residual(state: PCGraphState): number {
  let sum = 0;
  let count = 0;
  for (const g of state.groups) {
    if (!state.moves(g)) continue;
    const grad = state.gradient(g);
    sum += state.backend.sumSquares(grad.size, grad.address);
    count += state.freeCounts[g.index];
  }
  return count === 0 ? 0 : Math.sqrt(sum / count);
}

export function stepEvent(state: PCGraphState, energy: Energy, step: number, residualValue: number): StepEvent {
  return { step, energy: energy.value(state) / state.batch, residual: residualValue, errorNorms: energy.errorNorms(state) };
}

/**
 * The relaxation as a generator: yields a StepEvent after each evaluation when `observe`
 * (undefined otherwise, at no cost), returns the result. `relax` runs it to the end.
 */
export function* relaxation(state: PCGraphState, energy: Energy, o: RelaxOptions, observe: boolean): Generator<StepEvent | undefined, RelaxResult> {
  checkRelaxOptions(o);
  const tolerance = o.tolerance;
  const momentum = o.momentum ?? 0;
  // A projected step direction keeps a plain step inside the box; a velocity would carry the
  // values out of it.
  if (momentum > 0 && energy.terms.some((t) => t.projectValueGradient))
    throw new InvalidArgumentError(`relax: momentum applies to unconstrained energies; the ${energy.terms.filter((t) => t.projectValueGradient).map((t) => t.name).join(", ")} term projects its step direction (use momentum 0)`);
  if (momentum > 0) resetVelocity(state);
  let r = NaN;
  let t = 0;
  let converged = false;
  for (;; t++) {
    evaluate(state, energy, true);
    r = residual(state);
    yield observe ? stepEvent(state, energy, t, r) : undefined;
    if (tolerance !== undefined && r <= tolerance) {
      converged = true;
      break;
    }
    if (t === o.steps) break;
    inferenceStep(state, o.gamma, momentum);
  }
  const result = { steps: t, energy: energy.value(state) / state.batch, residual: r, converged };
  if (!Number.isFinite(result.energy) || !Number.isFinite(r))
    throw new RelaxationError(`relaxation diverged: the energy is ${result.energy} after ${t} steps (gamma ${o.gamma}); lower gamma or check the data`, result);
  if (o.requireConvergence && tolerance !== undefined && !converged)
    throw new RelaxationError(`relaxation did not converge: residual ${r.toExponential(3)} > tolerance ${tolerance} after ${t} steps`, result);
  return result;
}

/** Relaxes the free units of `state` (see RelaxOptions); `onStep` hears every evaluation. */
export function relax(state: PCGraphState, energy: Energy, o: RelaxOptions): RelaxResult {
  const listener = o.onStep;
  const run = relaxation(state, energy, o, listener !== undefined);
  for (;;) {
    const next = run.next();
    if (next.done) return next.value;
    if (listener && next.value) listener(next.value);
  }
}

export type { StepEvent, StepListener };
