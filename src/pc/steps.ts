// The step stream: what every PC algorithm (IL, FPA, Z-IL, PC graphs) can report after each
// inference step, to a listener or an async iterator. Nothing is computed when nobody listens.
import type { PCState } from "./state.js";

/** What an inference step reports to a listener: the step, energy, residual and error norms. */
export interface StepEvent {
  /** 0 is the state before the first update. */
  step: number;
  /** The energy (PC graphs: F / B; IL, FPA, Z-IL: PCState.energy(), its internal errors plus w L). */
  energy: number;
  /**
   * PC graphs: RMS of dF/dx over the free units; IL: max |dF/dx| over the free vertices (what
   * its tolerance reads); NaN where an algorithm does not compute it (FPA, Z-IL).
   */
  residual: number;
  /** Per group (PC graphs) or vertex (IL, FPA, Z-IL): sqrt(sum of squared errors / B). */
  errorNorms: Record<string, number>;
  /** Which relaxation of a multi-phase schedule (EqProp, CHL): "free", "nudged+", "nudged-", "clamped"; absent otherwise. */
  phase?: string;
}

/** Receives a `StepEvent` after each inference step. */
export type StepListener = (event: StepEvent) => void;

/** The event of an IL / FPA / Z-IL state after `step` steps (`residual` when the schedule computes one). */
export function vertexStepEvent(state: PCState, step: number, residual = NaN): StepEvent {
  const errorNorms: Record<string, number> = {};
  for (const v of state.network.vertices) {
    const e = state.error[v.index];
    if (e) errorNorms[v.name] = Math.sqrt(state.backend.sumSquares(e.size, e.address) / state.batch);
  }
  return { step, energy: state.energy(), residual, errorNorms };
}
