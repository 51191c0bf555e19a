// The energy of a PC graph as a sum of terms, each with its value, its gradient with respect
// to the values (for relaxation) and its gradient with respect to the parameters (for
// learning) side by side. The prediction-error term is the PC energy; other energies (a
// nudged loss, a Hopfield quadratic form) are further terms over the same state.
import { withScratch } from "../../scratch.js";
import type { Tensor } from "../../tensor.js";
import { activationGradient } from "./activation.js";
import type { PCGraphModel } from "./model.js";
import type { PCGraphState } from "./state.js";
import type { Group } from "./topology.js";

/** One term of a PC graph's energy F, with its derivatives in the values and the parameters beside it. */
export interface EnergyTerm {
  readonly name: string;
  /** Brings whatever the term caches (predictions, errors) up to date with the current values and parameters. */
  prepare(state: PCGraphState): void;
  /** The term's value at the prepared state, summed over the batch. */
  value(state: PCGraphState): number;
  /** Adds dE/dX_g into `state.gradient(g)` for every group g that moves (`state.moves(g)`); other groups are not read. */
  addValueGradient(state: PCGraphState): void;
  /** Adds scale * dE/dtheta into `gradients` (by parameter name) for the parameters the term depends on. */
  addParameterGradient(state: PCGraphState, gradients: Map<string, Tensor>, scale: number): void;
  /** Per-group error norms for the step stream: sqrt(sum of squares / B). */
  errorNorms?(state: PCGraphState, out: Record<string, number>): void;
  /**
   * Turns the total dF/dX of the term's groups, once every term has added to it, into the
   * relaxation's step direction: for values that live in a box (the Hopfield energy's
   * hard-sigmoid units in [0, 1]) the projected gradient X - P(X - dF/dX), so a step of
   * gamma <= 1 stays in the box and the residual is 0 exactly at a constrained fixed point;
   * for an energy with a per-group metric a_g (the Hopfield energy with a feedback gain)
   * first (1/a_g) dF/dX, so the relaxation runs the network's own dynamics. The fixed points
   * are those of F either way.
   */
  projectValueGradient?(state: PCGraphState): void;
  /** The starting value of a free group for init "forward" (its prediction, its drive), or null when it has none. */
  forwardValue?(state: PCGraphState, group: Group): Tensor | null;
}

/** F = the sum of the terms. */
export class Energy {
  constructor(readonly terms: readonly EnergyTerm[]) {}

  /** Prepares every term (caches predictions and errors for the current values). */
  prepare(state: PCGraphState): void {
    for (const term of this.terms) term.prepare(state);
  }

  /** The energy summed over the batch (call `prepare` first). */
  value(state: PCGraphState): number {
    let total = 0;
    for (const term of this.terms) total += term.value(state);
    return total;
  }

  /**
   * dF/dX into `state.gradient(g)` for every group that moves, masked to the free units of
   * partially clamped groups (clamped units get 0). Call `prepare` first.
   */
  valueGradient(state: PCGraphState): void {
    const k = state.backend;
    for (const g of state.groups) if (state.moves(g)) { const t = state.gradient(g); k.fill(t.size, 0, t.address); }
    for (const term of this.terms) term.addValueGradient(state);
    for (const term of this.terms) term.projectValueGradient?.(state);
    for (const g of state.groups) {
      const mask = state.freeMask(g);
      if (mask) { const t = state.gradient(g); k.mul(t.size, t.address, mask.address, t.address); }
    }
  }

  /** gradients[theta] = scale * dF/dtheta for every parameter (zeroed first). Call `prepare` first. */
  parameterGradient(state: PCGraphState, gradients: Map<string, Tensor>, scale: number): void {
    const k = state.backend;
    for (const t of gradients.values()) k.fill(t.size, 0, t.address);
    this.addParameterGradient(state, gradients, scale);
  }

  /** gradients[theta] += scale * dF/dtheta (e.g. the second phase of a contrast). Call `prepare` first. */
  addParameterGradient(state: PCGraphState, gradients: Map<string, Tensor>, scale: number): void {
    for (const term of this.terms) term.addParameterGradient(state, gradients, scale);
  }

  /** Per-group error norms of every term, for the step stream. */
  errorNorms(state: PCGraphState): Record<string, number> {
    const out: Record<string, number> = {};
    for (const term of this.terms) term.errorNorms?.(state, out);
    return out;
  }

  /** The term of a class, if the energy has one. */
  find<T extends EnergyTerm>(kind: abstract new (...args: never[]) => T): T | undefined {
    return this.terms.find((t): t is T => t instanceof kind);
  }
}

interface Stamps {
  staticPart: Float64Array;
  prediction: Float64Array;
  error: Float64Array;
}

/**
 * The prediction errors of docs/pc-graphs.md:
 *   MU_t = 1 b_t^T + sum_{s->t} f_s(X_s) W_st,  E_t = X_t - MU_t,  F = 1/2 sum_t ||E_t||^2
 *   dF/dX_g = E_g - f'_g(X_g) * sum_{g->t} E_t W_gt^T
 *   dF/dW_st = -(f_s(X_s)^T E_t) * M_st,  dF/db_t = -sum_b E_t
 * Edges whose source is entirely clamped are summed once per relaxation (with the bias)
 * into a static part; each evaluation adds the moving sources only.
 */
export class PredictionErrors implements EnergyTerm {
  readonly name = "predictionErrors";
  private readonly stamps = new WeakMap<PCGraphState, Stamps>();

  constructor(readonly model: PCGraphModel) {}

  private stampsOf(state: PCGraphState): Stamps {
    let s = this.stamps.get(state);
    if (!s) {
      const n = state.groups.length;
      this.stamps.set(state, (s = { staticPart: new Float64Array(n).fill(-1), prediction: new Float64Array(n).fill(-1), error: new Float64Array(n).fill(-1) }));
    }
    return s;
  }

  /** init "forward": a group's prediction (null for a root). */
  forwardValue(state: PCGraphState, t: Group): Tensor | null {
    return t.inEdges.length === 0 ? null : this.prediction(state, t);
  }

  /** MU_t, brought up to date. */
  prediction(state: PCGraphState, t: Group): Tensor {
    const stamps = this.stampsOf(state);
    const mu = state.buffer("prediction", t);
    const base = Math.max(state.parameterStamp, state.freedomStamp);
    let staticStamp = base;
    let dynamicStamp = base;
    let staticEdges = 0;
    for (const e of t.inEdges) {
      const v = state.version[e.from.index];
      if (state.moves(e.from)) dynamicStamp = Math.max(dynamicStamp, v);
      else {
        staticStamp = Math.max(staticStamp, v);
        staticEdges++;
      }
    }
    const stamp = Math.max(staticStamp, dynamicStamp);
    if (stamps.prediction[t.index] === stamp) return mu;
    const dynamicEdges = t.inEdges.length - staticEdges;
    if (staticEdges > 0 && dynamicEdges > 0) {
      const part = state.buffer("staticPrediction", t);
      if (stamps.staticPart[t.index] !== staticStamp) {
        this.sum(state, t, part, false);
        stamps.staticPart[t.index] = staticStamp;
      }
      part.copyTo(mu);
      this.addEdges(state, t, mu, true, 1);
    } else {
      this.sum(state, t, mu, null);
    }
    stamps.prediction[t.index] = stamp;
    return mu;
  }

  /** out = bias + the edges whose source moves (true), is clamped (false) or all (null). */
  private sum(state: PCGraphState, t: Group, out: Tensor, moving: boolean | null): void {
    const added = this.addEdges(state, t, out, moving, 0);
    if (added === 0) state.backend.fill(out.size, 0, out.address);
    const bias = this.model.bias(t);
    if (bias) state.backend.biasAdd(state.batch, t.size, 1, bias.address, out.address);
  }

  private addEdges(state: PCGraphState, t: Group, out: Tensor, moving: boolean | null, beta: number): number {
    let added = 0;
    for (const e of t.inEdges) {
      if (moving !== null && state.moves(e.from) !== moving) continue;
      const source = state.activation(e.from);
      state.backend.matmul(false, false, state.batch, t.size, e.from.size, 1, source.address, this.model.weight(e).address,
        added === 0 ? beta : 1, out.address);
      added++;
    }
    return added;
  }

  /** E_t = X_t - MU_t, brought up to date (null for a group without incoming edges). */
  error(state: PCGraphState, t: Group): Tensor | null {
    if (t.inEdges.length === 0) return null;
    const stamps = this.stampsOf(state);
    const mu = this.prediction(state, t);
    const e = state.buffer("error", t);
    const stamp = Math.max(stamps.prediction[t.index], state.version[t.index]);
    if (stamps.error[t.index] !== stamp) {
      state.backend.sub(e.size, state.values[t.index].address, mu.address, e.address);
      stamps.error[t.index] = stamp;
    }
    return e;
  }

  prepare(state: PCGraphState): void {
    for (const t of state.groups) this.error(state, t);
  }

  value(state: PCGraphState): number {
    let total = 0;
    for (const t of state.groups) {
      if (t.inEdges.length === 0) continue;
      const e = state.buffer("error", t);
      total += 0.5 * state.backend.sumSquares(e.size, e.address);
    }
    return total;
  }

  addValueGradient(state: PCGraphState): void {
    const k = state.backend;
    for (const g of state.groups) {
      if (!state.moves(g)) continue;
      const grad = state.gradient(g);
      if (g.inEdges.length > 0) k.axpy(grad.size, 1, state.buffer("error", g).address, grad.address);
      if (g.outEdges.length === 0) continue;
      // feedback = sum over children t of E_t W_gt^T, then f'(X_g) * feedback
      const feedback = state.buffer("feedback", g);
      g.outEdges.forEach((e, i) => {
        k.matmul(false, true, state.batch, g.size, e.to.size, 1, state.buffer("error", e.to).address, this.model.weight(e).address,
          i === 0 ? 0 : 1, feedback.address);
      });
      const x = state.values[g.index];
      activationGradient(k, g, x.size, x.address, feedback.address, feedback.address);
      k.axpy(grad.size, -1, feedback.address, grad.address);
    }
  }

  addParameterGradient(state: PCGraphState, gradients: Map<string, Tensor>, scale: number): void {
    const k = state.backend;
    for (const e of this.model.edges) {
      const dW = gradients.get(e.weightName)!;
      const source = state.activation(e.from);
      k.matmul(true, false, e.from.size, e.to.size, state.batch, -scale, source.address, state.buffer("error", e.to).address, 1, dW.address);
      const mask = this.model.mask(e);
      if (mask) k.mul(dW.size, dW.address, mask.address, dW.address);
    }
    for (const g of state.groups) {
      const bias = this.model.bias(g);
      if (!bias) continue;
      const db = gradients.get(`${g.name}.bias`)!;
      withScratch(k, [g.size], (column) => {
        k.biasGrad(state.batch, g.size, 1, state.buffer("error", g).address, 0, column.address);
        k.axpy(g.size, -scale, column.address, db.address);
      });
    }
  }

  errorNorms(state: PCGraphState, out: Record<string, number>): void {
    for (const t of state.groups) {
      if (t.inEdges.length === 0) continue;
      const e = state.buffer("error", t);
      out[t.name] = Math.sqrt(state.backend.sumSquares(e.size, e.address) / state.batch);
    }
  }
}
