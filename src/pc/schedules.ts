// IL, Z-IL and FPA as schedules over the same local steps (dynamics.ts). Each one fills a
// ParameterAccumulator with sum (d mu / d theta)^T e over the vertices and times its rule
// says; the engine turns that into gradient estimates.
import { applyDescent, descentDirection, feedback, inferenceStep, isFree, type ParameterAccumulator } from "./dynamics.js";
import type { Vertex } from "./network.js";
import type { PCState } from "./state.js";
import { withScratch } from "../scratch.js";
import { vertexStepEvent, type StepListener } from "./steps.js";

export interface ScheduleResult {
  /** Inference steps taken. */
  steps: number;
  /** Energy before the first step and after each step (when recorded). */
  energies: number[];
}

export interface InferenceResult extends ScheduleResult {
  /** max |dF/dx| over the free vertices when inference stopped. */
  residual: number;
  /** The same at the feedforward state, where inference starts. */
  initialResidual: number;
  /** True when residual <= tolerance * initialResidual was reached within the step budget. */
  converged: boolean;
  /**
   * True when inference stopped short of the tolerance because the residual had not reached
   * a new low for STALL_PATIENCE steps (float32 rounding, or the kinks of ReLU-like
   * activations where fixed-size steps chatter, leave a floor that more steps do not lower).
   */
  stalled: boolean;
}

/** Steps without a new lowest residual after which IL's inference counts as stalled. */
export const STALL_PATIENCE = 100;

/**
 * IL: relax the values by descent on the energy until the residual max |dF/dx| falls to
 * `tolerance` times its value at the feedforward state, `maxSteps` steps have been taken,
 * or the residual stalls (no new low for STALL_PATIENCE steps); then update every parameter with the errors there (Whittington & Bogacz 2017: the
 * update is defined at the equilibrium of inference). The descent takes steps of size gamma
 * along -dF/dx, with heavy-ball momentum when `momentum` > 0 (the equilibrium, and so the
 * update, does not depend on the path; momentum only gets there in fewer steps). With output
 * weight w the estimate is -(1/w) sum (d mu/d theta)^T e, which tends to BP as w -> 0
 * (arXiv 2206.02629). `tolerance: 0` takes the whole budget unless the residual reaches 0.
 * A diverging descent (a NaN, or a residual that never falls below an earlier low) ends
 * inference and is reported.
 */
export function inferenceLearning(state: PCState, acc: ParameterAccumulator,
  o: { maxSteps: number; tolerance: number; gamma: number; momentum: number; outputWeight: number; recordEnergy: boolean; onStep?: StepListener }): InferenceResult {
  state.outputWeight = o.outputWeight;
  state.initializeFeedforward();
  if (o.momentum > 0) state.resetVelocity();
  const energies = o.recordEnergy ? [state.energy()] : [];
  const moving = state.network.vertices.filter(isFree);
  const initialResidual = descentDirection(state, moving);
  const target = o.tolerance * initialResidual;
  let residual = initialResidual;
  let steps = 0;
  let stalled = false;
  if (o.onStep) o.onStep(vertexStepEvent(state, 0, initialResidual));
  const lowest = [initialResidual]; // lowest[t]: the smallest residual up to step t
  // Stops at NaN too (residual > target is false): a diverging relaxation is reported, not run on.
  while (residual > target && steps < o.maxSteps) {
    applyDescent(state, moving, o.gamma, false, o.momentum);
    steps++;
    if (o.recordEnergy) energies.push(state.energy());
    residual = descentDirection(state, moving);
    if (o.onStep) o.onStep(vertexStepEvent(state, steps, residual));
    lowest.push(Math.min(lowest[steps - 1], residual));
    if (o.tolerance > 0 && steps >= STALL_PATIENCE && lowest[steps] >= lowest[steps - STALL_PATIENCE] && residual > target) {
      stalled = true;
      break;
    }
  }
  for (const v of state.network.vertices) if (!v.isInput && v.level >= 0) acc.add(state, v);
  return { steps, energies, residual, initialResidual, converged: residual <= target, stalled };
}

/**
 * FPA: predictions and Jacobians held at their feedforward values (Millidge et al. 2020,
 * arXiv 2006.04182). With gamma = 1 the errors equal BP's deltas once the number of steps
 * reaches the longest path to the output; then every parameter is updated.
 */
export function fixedPredictionLearning(state: PCState, acc: ParameterAccumulator,
  o: { steps: number; gamma: number; recordEnergy: boolean; onStep?: StepListener }): ScheduleResult {
  state.outputWeight = 1;
  state.initializeFeedforward(true);
  const energies = o.recordEnergy ? [state.energy()] : [];
  if (o.onStep) o.onStep(vertexStepEvent(state, 0));
  for (let t = 0; t < o.steps; t++) {
    inferenceStep(state, { gamma: o.gamma, fixedPrediction: true });
    if (o.recordEnergy) energies.push(state.energy());
    if (o.onStep) o.onStep(vertexStepEvent(state, t + 1));
  }
  for (const v of state.network.vertices) if (!v.isInput && v.level >= 0) acc.add(state, v, true);
  return { steps: o.steps, energies };
}

/** Z-IL's schedule settings (the engine fills the defaults; `PCOptions.zil` overrides them). */
export interface ZilScheduleOptions {
  gamma: number;
  /**
   * "frontier" (default): at step t only the vertices at level t move — the error
   * wavefront; behind it nothing that a later update reads changes, so this equals the full
   * dynamics' updates at the cost of one backward sweep. "full": every free vertex moves at
   * every step, O(depth^2) work, as Z-IL is usually run.
   */
  schedule: "frontier" | "full";
  /** Which level a vertex updates at (full schedule only): longest path (default) or shortest. */
  clock: "longest" | "shortest";
  /**
   * "accumulate" (default): contributions to a shared parameter are summed over the
   * schedule and applied once. "immediate": each is applied at its step with
   * `learningRate` (a negative control: it drifts from BP by O(learningRate); under the
   * full schedule gamma = 1 dynamics also amplify the perturbation it causes).
   */
  sharedUpdates: "accumulate" | "immediate";
  learningRate: number;
  recordEnergy: boolean;
  /** Hears the state after each step (step 0: the feedforward pass). */
  onStep?: StepListener;
}

/** Shortest path to the output per vertex (for the negative control). */
function shortestLevels(state: PCState): Map<Vertex, number> {
  const level = new Map<Vertex, number>();
  const vertices = state.network.vertices;
  for (let i = vertices.length - 1; i >= 0; i--) {
    const v = vertices[i];
    if (v.isOutput) level.set(v, 0);
    else {
      let best = Infinity;
      for (const { vertex } of v.children) if (level.has(vertex)) best = Math.min(best, level.get(vertex)! + 1);
      if (best < Infinity) level.set(v, best);
    }
  }
  return level;
}

/**
 * Z-IL (Song et al. 2020; Salvatori et al. arXiv 2103.04689): values start at the
 * feedforward pass, gamma = 1, and each vertex's parameters are updated at the inference
 * step equal to its level, with the values from before that step. On a levelled network
 * (network.ts) the error of a vertex at level d is exactly BP's delta at step d, so every
 * update equals BP's (docs/zil-schedule.md).
 */
export function zeroDivergenceLearning(state: PCState, acc: ParameterAccumulator, o: ZilScheduleOptions): ScheduleResult {
  state.outputWeight = 1;
  // Unobserved (no listener, no energies), the wavefront reads nothing it has not written:
  // see frontierStep.
  const unobserved = o.schedule === "frontier" && !o.recordEnergy && !o.onStep;
  state.initializeFeedforward(false, unobserved);
  const network = state.network;
  // Unobserved and accumulating, the wavefront stores every error negated, -e: BP's deltas,
  // formed as BP forms them (the output's negated, the rest by the same products and sums). The
  // accumulated sums are then the gradient estimates, with no pass over the parameters to flip
  // their sign; settleWavefront restores the errors' sign.
  const negated = unobserved && o.sharedUpdates === "accumulate";
  if (negated) {
    const error = state.error[network.output.index]!;
    state.backend.scale(error.size, -1, error.address, error.address);
    acc.negated = true;
  }
  const energies = o.recordEnergy ? [state.energy()] : [];
  const depth = network.depth;

  let clock: (v: Vertex) => number = (v) => v.level;
  if (o.clock === "shortest") {
    const shortest = shortestLevels(state);
    clock = (v) => shortest.get(v) ?? -1;
  }
  const learnAt = (t: number) => {
    for (const v of network.vertices) {
      if (v.isInput || v.params.length === 0 || clock(v) !== t) continue;
      if (o.sharedUpdates === "immediate") applyNow(state, acc, v, o.learningRate);
      else acc.add(state, v);
    }
  };

  if (o.onStep) o.onStep(vertexStepEvent(state, 0));
  learnAt(0);
  for (let t = 1; t <= depth; t++) {
    if (o.schedule === "frontier") frontierStep(state, network.byLevel[t], o.gamma, unobserved);
    else inferenceStep(state, { gamma: o.gamma });
    if (o.recordEnergy) energies.push(state.energy());
    if (o.onStep) o.onStep(vertexStepEvent(state, t));
    learnAt(t);
  }
  if (unobserved) state.unsettled = () => settleWavefront(state, negated);
  return { steps: depth, energies };
}

/**
 * The units an unobserved wavefront run left for nothing to read (frontierStep), brought to
 * what the observed run holds, bit for bit: each internal prediction is the feedforward value
 * (where the value was left), a vertex the wavefront moved has x = x_ff + gamma change = x_ff
 * + e, and one it never reached keeps e = 0. `negated`: the run stored -e (every error, the
 * output's too), so x = x_ff - (-e) and each error is negated back (both exact).
 */
function settleWavefront(state: PCState, negated: boolean): void {
  const backend = state.backend;
  const moved = new Set<Vertex>();
  for (let t = 1; t <= state.network.depth; t++) for (const v of state.network.byLevel[t]) if (isFree(v)) moved.add(v);
  for (const v of state.network.vertices) {
    if (v.isInput) continue;
    const value = state.value[v.index], error = state.error[v.index]!;
    if (v.isOutput) {
      if (negated) backend.scale(error.size, -1, error.address, error.address);
      continue;
    }
    value.copyTo(state.prediction[v.index]!);
    if (moved.has(v)) {
      backend.axpy(value.size, negated ? -1 : 1, error.address, value.address);
      if (negated) backend.scale(error.size, -1, error.address, error.address);
    } else backend.fill(error.size, 0, error.address);
  }
}

/**
 * One Z-IL step restricted to the wavefront: the vertices at this level take the feedback
 * of their children (whose errors became non-zero one step ago). Their parents have not
 * moved, so their predictions are unchanged: the error units change exactly as the value
 * units do (e = x - mu with mu fixed), and are updated by that change rather than by
 * re-subtracting two nearly equal numbers, which in f32 would round |x| away.
 *
 * `unobserved`: nothing outside reads the state during the run, and inside it a moved value
 * is never read again (a vertex's feedback and learning read its children's errors and its
 * parents' values, and its parents, at higher levels, move only later), nor is an error
 * before its vertex's step, nor an internal prediction (errors are updated by the change,
 * not recomputed). So the feedforward pass writes the values alone (no copy into the
 * predictions, no zeroing of the errors), the values stay there, and each error, zero until
 * now, is written as gamma times the change: the same errors, hence the same updates,
 * without four passes per vertex.
 */
function frontierStep(state: PCState, wavefront: Vertex[], gamma: number, unobserved: boolean): void {
  const backend = state.backend;
  const moving = wavefront.filter(isFree);
  // The change is -e_v + feedback, and e_v is exactly zero here: neither v nor its parents
  // have moved since the feedforward pass set it to zero. So the change is the feedback.
  // Unobserved at gamma 1, the error is the feedback itself (1 * change, exactly), written
  // there directly: no vertex of the wavefront reads another's error (a child is a level lower).
  const direct = unobserved && gamma === 1;
  for (const v of moving) feedback(state, v, (direct ? state.error : state.change)[v.index]!);
  for (const v of moving) {
    const change = state.change[v.index]!;
    const error = state.error[v.index]!;
    if (unobserved) {
      if (!direct) backend.scale(change.size, gamma, change.address, error.address);
    } else {
      backend.axpy(change.size, gamma, change.address, state.value[v.index].address);
      backend.axpy(change.size, gamma, change.address, error.address);
    }
  }
}

/** theta += lr (d mu_v/d theta)^T e_v right away; the accumulator records the same amount. */
function applyNow(state: PCState, acc: ParameterAccumulator, v: Vertex, learningRate: number): void {
  const inputs = state.parentValues(v);
  const params = state.params(v);
  const error = state.error[v.index]!;
  v.params.forEach((p, j) =>
    withScratch(state.backend, p.shape, (contribution) => {
      v.op!.paramVjp(j, inputs, params, error, contribution, 0);
      state.backend.axpy(p.size, 1, contribution.address, acc.sums.get(p)!.address);
      state.backend.axpy(p.size, learningRate, contribution.address, p.tensor.address);
    }));
}
