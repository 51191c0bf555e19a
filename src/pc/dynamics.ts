// The local rules of predictive coding, each touching one vertex and its neighbours:
//   feedback:        sum over children c of J_cv^T e_c, J_cv = d mu_c / d x_v
//   inference step:  x_v += gamma (-e_v + feedback_v), then mu and e are recomputed
//   learning:        theta += alpha (d mu_v / d theta)^T e_v, summed over every vertex that
//                    shares theta
// IL, Z-IL and FPA (schedules.ts) are schedules over these same steps.
import type { Parameter } from "../graph/graph.js";
import { Tensor } from "../tensor.js";
import type { Vertex } from "./network.js";
import type { PCState } from "./state.js";

/** Settings of one inference step: the inference rate and the fixed prediction assumption. */
export interface StepOptions {
  gamma: number;
  /** Fixed prediction assumption: predictions and Jacobians stay at their feedforward values. */
  fixedPrediction?: boolean;
}

/** out = sum over children of J^T e_child (zero when no child reaches the output). */
export function feedback(state: PCState, v: Vertex, out: Tensor, atFeedforward = false): void {
  let beta = 0;
  // Children in reverse topological order, the order in which backprop sums them.
  for (let i = v.children.length - 1; i >= 0; i--) {
    const { vertex: child, slot } = v.children[i];
    if (child.level < 0) continue; // its error is always zero
    child.op!.inputVjp(slot, state.parentValues(child, atFeedforward), state.params(child), state.error[child.index]!, out, beta);
    beta = 1;
  }
  if (beta === 0) state.backend.fill(out.size, 0, out.address);
}

/** True for vertices whose value units move during inference. */
export function isFree(v: Vertex): boolean {
  return !v.isInput && !v.isOutput;
}

/**
 * The descent direction of the energy in the values, -dF/dx_v = -e_v + feedback_v, written
 * to state.change for every vertex in `moving`; returns the residual max |dF/dx| over them
 * (0 at an equilibrium of the inference dynamics).
 */
export function descentDirection(state: PCState, moving: readonly Vertex[], fixedPrediction = false): number {
  const backend = state.backend;
  let residual = 0;
  for (const v of moving) {
    const change = state.change[v.index]!;
    feedback(state, v, change, fixedPrediction);
    backend.axpy(change.size, -1, state.error[v.index]!.address, change.address); // -e_v + feedback
    const largest = backend.maxAbs(change.size, change.address);
    residual = Number.isNaN(largest) ? NaN : Math.max(residual, largest);
  }
  return residual;
}

/**
 * x_v += gamma change_v for every vertex in `moving` (with `momentum` beta > 0, the
 * heavy-ball step of Polyak 1964: velocity_v = beta velocity_v + change_v, x_v += gamma
 * velocity_v), then predictions and errors are recomputed.
 */
export function applyDescent(state: PCState, moving: readonly Vertex[], gamma: number, fixedPrediction = false, momentum = 0): void {
  const backend = state.backend;
  for (const v of moving) {
    let step = state.change[v.index]!;
    if (momentum > 0) {
      const velocity = state.velocity![v.index]!;
      backend.axpby(step.size, 1, step.address, momentum, velocity.address);
      step = velocity;
    }
    backend.axpy(step.size, gamma, step.address, state.value[v.index].address);
  }
  for (const v of state.network.vertices) {
    if (v.isInput) continue;
    if (!fixedPrediction) state.predict(v);
    state.updateError(v);
  }
}

/**
 * One synchronous inference step over `vertices` (default: every free vertex): all changes
 * are computed from the current state, then applied, then predictions and errors are
 * recomputed. Returns the residual max |dF/dx| of the state before the step.
 */
export function inferenceStep(state: PCState, options: StepOptions, vertices?: Vertex[]): number {
  const moving = (vertices ?? state.network.vertices).filter(isFree);
  const fixed = options.fixedPrediction === true;
  const residual = descentDirection(state, moving, fixed);
  applyDescent(state, moving, options.gamma, fixed);
  return residual;
}

/**
 * Accumulators for sum (d mu / d theta)^T e, one per parameter, zeroed. Zeroing is lazy: a
 * parameter's first contribution after zero() is written over its accumulator (beta 0) instead
 * of added to a zero-filled one, which gives the same numbers without a pass over every
 * parameter per step; `sums` fills the ones still untouched before handing them out.
 */
export class ParameterAccumulator {
  private readonly accumulators = new Map<Parameter, Tensor>();
  /** Parameters with no contribution since zero(): their accumulators hold stale numbers. */
  private readonly untouched = new Set<Parameter>();
  /**
   * Whether the sums hold -(d mu/d theta)^T e: set by a schedule that stores its errors
   * negated (Z-IL's unobserved wavefront stores BP's deltas), cleared by zero().
   */
  negated = false;
  /**
   * `gradients`: a map that takes each accumulator as the parameter's gradient tensor, by
   * name; toGradients into that map then finishes the sums in place (see there).
   */
  constructor(parameters: readonly Parameter[], gradients?: Map<string, Tensor>) {
    for (const p of parameters) {
      const sum = new Tensor(p.shape, p.tensor.backend);
      this.accumulators.set(p, sum);
      gradients?.set(p.name, sum);
      this.untouched.add(p);
    }
  }

  /** The sums by parameter (every one filled, zero where nothing was added since zero()). */
  get sums(): ReadonlyMap<Parameter, Tensor> {
    for (const p of this.untouched) {
      const t = this.accumulators.get(p)!;
      t.backend.fill(t.size, 0, t.address);
    }
    this.untouched.clear();
    return this.accumulators;
  }

  /** Sets every accumulated sum back to zero. */
  zero(): void {
    for (const p of this.accumulators.keys()) this.untouched.add(p);
    this.negated = false;
  }

  /** sums[theta] += (d mu_v / d theta)^T e_v for each parameter of v, at the parents' current (or feedforward) values. */
  add(state: PCState, v: Vertex, atFeedforward = false): void {
    const inputs = state.parentValues(v, atFeedforward);
    const params = state.params(v);
    const error = state.error[v.index]!;
    v.params.forEach((p, j) => {
      const first = this.untouched.delete(p);
      v.op!.paramVjp(j, inputs, params, error, this.accumulators.get(p)!, first ? 0 : 1);
    });
  }

  /**
   * Writes the gradient estimates -scale (d mu/d theta)^T e, summed, into `out` by parameter
   * name (allocating on first use). Into the accumulators themselves where `out` is the
   * constructor's `gradients`: the sums are then overwritten, and negated sums at scale 1 are
   * the estimates already, with nothing left to do.
   */
  toGradients(scale: number, out: Map<string, Tensor>): Map<string, Tensor> {
    const factor = this.negated ? scale : -scale;
    for (const [p, sum] of this.accumulators) {
      let g = out.get(p.name);
      if (!g) out.set(p.name, (g = new Tensor(p.shape, sum.backend)));
      // factor * 0, as the scaling of a zero-filled sum gives.
      if (this.untouched.has(p)) sum.backend.fill(sum.size, factor * 0, g.address);
      else if (factor !== 1) sum.backend.scale(sum.size, factor, sum.address, g.address);
      else if (g !== sum) sum.backend.copy(sum.size, sum.address, g.address);
    }
    return out;
  }

  /** Frees the accumulators' tensors. */
  dispose(): void {
    for (const t of this.accumulators.values()) t.dispose();
  }
}
