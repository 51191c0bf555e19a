// Learning on PC graphs as schedules over the same evaluate / inferenceStep / relax steps
// (docs/pc-graphs.md):
//   PC:  relax T steps (or to tolerance), then one learning step at the final values;
//   iPC: T times one inference step, then one learning step at the values it reached
//        (arXiv 2212.00720); with T = 1 the two coincide.
// A learning step writes (1/B) dF/dtheta, errors and activations from one evaluation, clips
// it in place when asked, and hands it to an optimizer (anything with `step(model, grads)`).
import { InvalidArgumentError } from "../../backend/errors.js";
import { Tensor } from "../../tensor.js";
import type { Energy } from "./energy.js";
import type { PCGraphModel } from "./model.js";
import { checkRelaxOptions, evaluate, inferenceStep, relax, residual, stepEvent, type RelaxResult, type StepListener } from "./relax.js";
import type { PCGraphState } from "./state.js";

/** Anything that updates parameters from gradients by name, e.g. an optimizer of src/train/optimizers.ts. */
export interface ParameterUpdater {
  /** Applies one update from gradients by parameter name. */
  step(model: PCGraphModel, gradients: Map<string, Tensor>): void;
}

/** Clip by value (each entry into [-value, value]) and/or by global norm (rescale when the norm of all gradients exceeds it). */
export interface ClipOptions {
  value?: number;
  norm?: number;
}

export function checkClip(clip: ClipOptions | undefined): void {
  if (clip === undefined) return;
  if (typeof clip !== "object" || clip === null) throw new InvalidArgumentError(`clip must be { value?, norm? }, got ${JSON.stringify(clip)}`);
  for (const key of Object.keys(clip))
    if (key !== "value" && key !== "norm") throw new InvalidArgumentError(`clip.${key} is not an option (clip takes value and norm)`);
  for (const key of ["value", "norm"] as const) {
    const v = clip[key];
    if (v !== undefined && (typeof v !== "number" || !Number.isFinite(v) || v <= 0))
      throw new InvalidArgumentError(`clip.${key} must be a finite number > 0, got ${JSON.stringify(v)}`);
  }
}

/** Clips the gradient tensors in place. */
export function clipGradients(gradients: Map<string, Tensor>, clip: ClipOptions): void {
  if (clip.value !== undefined)
    for (const g of gradients.values()) g.backend.clamp(g.size, -clip.value, clip.value, g.address, g.address);
  if (clip.norm !== undefined) {
    let sum = 0;
    for (const g of gradients.values()) sum += g.backend.sumSquares(g.size, g.address);
    const norm = Math.sqrt(sum);
    if (norm > clip.norm) for (const g of gradients.values()) g.backend.scale(g.size, clip.norm / norm, g.address, g.address);
  }
}

/** Zeroed gradient tensors, one per parameter of the model. */
export function gradientBuffers(model: PCGraphModel): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  for (const p of model.parameters) {
    const t = new Tensor(p.shape, model.backend);
    model.backend.fill(t.size, 0, t.address);
    out.set(p.name, t);
  }
  return out;
}

/**
 * gradients = (1/B) dF/dtheta at the current values (evaluated here, so errors and
 * activations belong to the same values), clipped in place when asked.
 */
export function learningStep(state: PCGraphState, energy: Energy, gradients: Map<string, Tensor>, clip?: ClipOptions): void {
  evaluate(state, energy, false);
  energy.parameterGradient(state, gradients, 1 / state.batch);
  if (clip) clipGradients(gradients, clip);
}

/** Settings of one PC or iPC learning step: inference steps, rate, tolerance, clipping and a step listener. */
export interface LearningOptions {
  /** Inference steps T. */
  steps: number;
  gamma: number;
  /** PC only: stop relaxing at this residual. */
  tolerance?: number;
  clip?: ClipOptions;
  onStep?: StepListener;
}

/** What a learning step reports: inference steps, energy and residual. */
export interface LearningResult {
  /** Inference steps taken. */
  steps: number;
  /** F / B at the values of the (last) learning step, before the update. */
  energy: number;
  /** RMS of dF/dX over the free units there (iPC: before its last inference step). */
  residual: number;
}

/** PC: relax, then one learning step at the final values, applied by `updater`. */
export function pcLearning(state: PCGraphState, energy: Energy, updater: ParameterUpdater, gradients: Map<string, Tensor>,
  o: LearningOptions): LearningResult {
  checkClip(o.clip);
  const relaxed: RelaxResult = relax(state, energy, { steps: o.steps, gamma: o.gamma, tolerance: o.tolerance, onStep: o.onStep });
  learningStep(state, energy, gradients, o.clip);
  updater.step(state.model, gradients);
  state.parametersChanged();
  return { steps: relaxed.steps, energy: relaxed.energy, residual: relaxed.residual };
}

/**
 * iPC: T times an inference step and then a learning step at the values it reached, each
 * applied by `updater` before the next inference step. Every gradient is this batch's, at
 * this step.
 */
export function incrementalLearning(state: PCGraphState, energy: Energy, updater: ParameterUpdater, gradients: Map<string, Tensor>,
  o: LearningOptions): LearningResult {
  checkRelaxOptions({ steps: o.steps, gamma: o.gamma, onStep: o.onStep }, "iPC");
  if (o.tolerance !== undefined) throw new InvalidArgumentError("iPC: tolerance does not apply (iPC learns at every one of its steps)");
  checkClip(o.clip);
  let r = NaN;
  let e = NaN;
  for (let t = 1; t <= o.steps; t++) {
    evaluate(state, energy, true);
    r = residual(state);
    if (o.onStep) o.onStep(stepEvent(state, energy, t - 1, r));
    inferenceStep(state, o.gamma);
    learningStep(state, energy, gradients, o.clip);
    e = energy.value(state) / state.batch;
    updater.step(state.model, gradients);
    state.parametersChanged();
  }
  if (o.steps === 0) {
    evaluate(state, energy, false);
    e = energy.value(state) / state.batch;
  }
  return { steps: o.steps, energy: e, residual: r };
}
