// The Hopfield energy of an energy-based network (Scellier & Bengio 2017, eq. 1) as a term
// over the groups and edges of a PC graph (docs/energy-based.md):
//
//   E = 1/2 sum_g ||X_g||^2 - sum_g sum_b b_g . rho(X_g) - sum_{s->t} <rho(X_s) W_st, rho(X_t)>
//
// with rho the group's activation (hardSigmoid or tanh; any works) and a self edge g->g
// counted as 1/2 <rho(X_g) W_gg, rho(X_g)> (each pair of units once). Each edge is one
// undirected coupling: its one weight W_st is used in both directions (s drives t through
// W_st, t drives s through W_st^T), so the coupling matrix over all units is symmetric by
// construction. A spec giving both s->t and t->s would be two independent weights for one
// pair, which no energy describes, and is refused.
//
// With the drive D_g = b_g + sum_{s->g} rho(X_s) W_sg + sum_{g->t} rho(X_t) W_gt^T
//                      + sum_{g->g} 1/2 rho(X_g) (W_gg + W_gg^T):
//   dE/dX_g  = X_g - rho'(X_g) * D_g
//   dE/dW_st = -rho(X_s)^T rho(X_t) * M_st   (a self edge: 1/2 of it)
//   dE/db_g  = -sum_b rho(X_g)
// A relaxation step X -= gamma dE/dX is X <- (1 - gamma) X + gamma rho'(X) D: at gamma = 1 the
// fixed-point iteration of the network.
//
// Hard-sigmoid units live in the box [0, 1], where rho is the identity: the term replaces their
// gradient by X - clip(X - dE/dX, 0, 1) (projected gradient), so steps of gamma <= 1 stay in
// the box, a unit pushed against a bound stays there, and the residual is 0 exactly at a
// constrained fixed point (the states are clipped to [0, 1] in Scellier & Bengio 2017).
//
// Feedback gain g (Xie & Seung 2003; docs/energy-based.md, "Weak feedback"): each edge s -> t
// drives t bottom-up through W_st and s top-down through g W_st^T, the layered network
//   X_k = rho'(X_k) (b_k + rho(X_{k-1}) W_k + g rho(X_{k+1}) W_{k+1}^T).
// Those dynamics descend the level-weighted energy
//   E_g = sum_g a_g (1/2 ||X_g||^2 - b_g . rho(X_g)) - sum_{s->t} a_t <rho(X_s) W_st, rho(X_t)>,
//   a_g = g^(level(g) - top level),
// in the metric diag(a): dE_g/dX_g = a_g (X_g - rho'(X_g) D~_g), D~ the gained drive, and the
// relaxation steps along (1/a_g) dE_g/dX_g, the network's own dynamics. The parameter gradient
// is that of E_g: dE_g/dW_st = -a_t rho(X_s)^T rho(X_t), dE_g/db_g = -a_g sum_b rho(X_g), the
// layer-wise learning rates g^(k - L) of Xie & Seung. Levels need a layered graph: every edge
// between consecutive levels, or lateral (within a group, gain 1). g = 1 is the energy above.
//
// Products are kept per edge, forward P_e = rho(X_s) W_e and backward Q_e = rho(X_t) W_e^T,
// and recomputed only when their source's values or the parameters change: the product of a
// clamped input is done once per batch, across all phases of a learning step.
import { InvalidArgumentError } from "../../backend/errors.js";
import { withScratch } from "../../scratch.js";
import type { Tensor } from "../../tensor.js";
import { activationGradient } from "./activation.js";
import type { EnergyTerm } from "./energy.js";
import type { PCGraphModel } from "./model.js";
import type { PCGraphState } from "./state.js";
import { TopologyError, type Edge, type Group } from "./topology.js";

interface Stamps {
  forward: Float64Array;
  backward: Float64Array;
  drive: Float64Array;
}

/** Options of the Hopfield energy. */
export interface HopfieldOptions {
  /**
   * Gain g > 0 of the top-down drive (default 1: symmetric feedback). Small g is the weak
   * feedback regime of Xie & Seung (2003), where CHL approximates backprop; g != 1 needs a
   * layered graph and weights the energy per level (see the note at the top of this file).
   */
  feedbackGain?: number;
}

/**
 * How many levels each group lies below the top of its connected part: 0 for the highest
 * groups, +1 per edge downwards (an edge s -> t puts t one level above s). Throws a
 * TopologyError naming an edge that does not join consecutive levels (a skip edge or a cycle).
 */
export function levelsBelowTop(model: PCGraphModel): number[] {
  const level: (number | undefined)[] = model.groups.map(() => undefined);
  for (const root of model.groups) {
    if (level[root.index] !== undefined) continue;
    level[root.index] = 0;
    const part = [root];
    for (let i = 0; i < part.length; i++) {
      const g = part[i];
      for (const e of [...g.outEdges, ...g.inEdges]) {
        if (e.from === e.to) continue; // lateral: within the level
        const [other, want] = e.from === g ? [e.to, level[g.index]! + 1] : [e.from, level[g.index]! - 1];
        if (level[other.index] === undefined) {
          level[other.index] = want;
          part.push(other);
        } else if (level[other.index] !== want)
          throw new TopologyError(e.from.name, `a feedback gain needs a layered network, every edge between consecutive levels; ` +
            `the edge ${e.from.name}->${e.to.name} closes a path of another length (a skip edge or a cycle)`);
      }
    }
    const top = Math.max(...part.map((g) => level[g.index]!));
    for (const g of part) level[g.index] = top - level[g.index]!;
  }
  return level as number[];
}

/**
 * The Hopfield energy of an energy-based network as a PC-graph energy term: its value, step
 * direction (projected in the box, in the metric of the levels with a feedback gain),
 * parameter gradient and the drive that starts init "forward" (see the note at the top).
 */
export class HopfieldEnergy implements EnergyTerm {
  readonly name = "hopfield";
  /** The gain g of the top-down drive (1: symmetric feedback). */
  readonly feedbackGain: number;
  /** a_g per group index: g^-(levels below the top of its connected part); all 1 when g = 1. */
  readonly levelWeights: Float64Array;
  private readonly stamps = new WeakMap<PCGraphState, Stamps>();

  constructor(readonly model: PCGraphModel, options: HopfieldOptions = {}) {
    const gain = options.feedbackGain ?? 1;
    if (typeof gain !== "number" || !Number.isFinite(gain) || gain <= 0)
      throw new InvalidArgumentError(`feedbackGain must be a finite number > 0, got ${JSON.stringify(options.feedbackGain)}`);
    this.feedbackGain = gain;
    const pairs = new Map<string, Edge>();
    for (const e of model.edges) {
      const key = [e.from.name, e.to.name].sort().join("\u0000");
      const other = pairs.get(key);
      if (other)
        throw new TopologyError(e.from.name, `edges ${other.from.name}->${other.to.name} and ${e.from.name}->${e.to.name} both couple the pair: ` +
          "an energy-based network has one symmetric weight per pair of groups, used in both directions (give one of the edges)");
      pairs.set(key, e);
    }
    this.levelWeights = new Float64Array(model.groups.length).fill(1);
    if (gain !== 1) levelsBelowTop(model).forEach((depth, index) => (this.levelWeights[index] = gain ** -depth));
  }

  private stampsOf(state: PCGraphState): Stamps {
    let s = this.stamps.get(state);
    if (!s) {
      const edges = this.model.edges.length;
      const groups = state.groups.length;
      this.stamps.set(state, (s = { forward: new Float64Array(edges).fill(-1), backward: new Float64Array(edges).fill(-1), drive: new Float64Array(groups).fill(-1) }));
    }
    return s;
  }

  /** P_e = rho(X_s) W_e, [B, n_t], brought up to date; returns its stamp. */
  private forwardProduct(state: PCGraphState, e: Edge): number {
    const stamps = this.stampsOf(state);
    const stamp = Math.max(state.version[e.from.index], state.parameterStamp);
    if (stamps.forward[e.index] !== stamp) {
      const out = state.buffer(`hopfieldForward.${e.index}`, e.to);
      state.backend.matmul(false, false, state.batch, e.to.size, e.from.size, 1, state.activation(e.from).address,
        this.model.weight(e).address, 0, out.address);
      stamps.forward[e.index] = stamp;
    }
    return stamp;
  }

  /** Q_e = rho(X_t) W_e^T, [B, n_s], brought up to date; returns its stamp. */
  private backwardProduct(state: PCGraphState, e: Edge): number {
    const stamps = this.stampsOf(state);
    const stamp = Math.max(state.version[e.to.index], state.parameterStamp);
    if (stamps.backward[e.index] !== stamp) {
      const out = state.buffer(`hopfieldBackward.${e.index}`, e.from);
      state.backend.matmul(false, true, state.batch, e.from.size, e.to.size, 1, state.activation(e.to).address,
        this.model.weight(e).address, 0, out.address);
      stamps.backward[e.index] = stamp;
    }
    return stamp;
  }

  /** D_g, [B, n_g], brought up to date (the top-down products weighted by the feedback gain). */
  drive(state: PCGraphState, g: Group): Tensor {
    const k = state.backend;
    const stamps = this.stampsOf(state);
    const drive = state.buffer("hopfieldDrive", g);
    let stamp = state.parameterStamp;
    for (const e of g.inEdges) stamp = Math.max(stamp, this.forwardProduct(state, e));
    for (const e of g.outEdges) stamp = Math.max(stamp, this.backwardProduct(state, e));
    if (stamps.drive[g.index] === stamp) return drive;
    k.fill(drive.size, 0, drive.address);
    const bias = this.model.bias(g);
    if (bias) k.biasAdd(state.batch, g.size, 1, bias.address, drive.address);
    for (const e of g.inEdges) k.axpy(drive.size, e.from === g ? 0.5 : 1, state.buffer(`hopfieldForward.${e.index}`, e.to).address, drive.address);
    for (const e of g.outEdges) k.axpy(drive.size, e.to === g ? 0.5 : this.feedbackGain, state.buffer(`hopfieldBackward.${e.index}`, e.from).address, drive.address);
    stamps.drive[g.index] = stamp;
    return drive;
  }

  prepare(state: PCGraphState): void {
    for (const g of state.groups) if (state.moves(g)) this.drive(state, g);
  }

  value(state: PCGraphState): number {
    const k = state.backend;
    let total = 0;
    for (const g of state.groups) {
      const x = state.values[g.index];
      const a = this.levelWeights[g.index];
      total += 0.5 * a * k.sumSquares(x.size, x.address);
      const bias = this.model.bias(g);
      if (bias)
        withScratch(k, [g.size], (column) => {
          k.biasGrad(state.batch, g.size, 1, state.activation(g).address, 0, column.address);
          k.mul(g.size, column.address, bias.address, column.address);
          total -= a * k.sum(g.size, column.address);
        });
    }
    for (const e of this.model.edges) {
      this.forwardProduct(state, e);
      const product = state.buffer(`hopfieldForward.${e.index}`, e.to);
      withScratch(k, product.shape, (pair) => {
        k.mul(pair.size, product.address, state.activation(e.to).address, pair.address);
        total -= (e.from === e.to ? 0.5 : 1) * this.levelWeights[e.to.index] * k.sum(pair.size, pair.address);
      });
    }
    return total;
  }

  addValueGradient(state: PCGraphState): void {
    const k = state.backend;
    for (const g of state.groups) {
      if (!state.moves(g)) continue;
      const grad = state.gradient(g);
      const x = state.values[g.index];
      const force = state.buffer("hopfieldForce", g);
      // grad += a_g (X - rho'(X) * D)
      const a = this.levelWeights[g.index];
      activationGradient(k, g, x.size, x.address, this.drive(state, g).address, force.address);
      k.axpy(grad.size, a, x.address, grad.address);
      k.axpy(grad.size, -a, force.address, grad.address);
    }
  }

  /**
   * The step direction of the relaxation in place of dF/dX: (1/a_g) dF/dX (the metric of the
   * levels; nothing changes at gain 1), then for hard-sigmoid groups the projected gradient
   * X - clip(X - that, 0, 1) (the box is a product of intervals, so clipping is the projection
   * in any diagonal metric).
   */
  projectValueGradient(state: PCGraphState): void {
    const k = state.backend;
    for (const g of state.groups) {
      if (!state.moves(g)) continue;
      const grad = state.gradient(g);
      const a = this.levelWeights[g.index];
      if (a !== 1) k.scale(grad.size, 1 / a, grad.address, grad.address);
      if (g.activation !== "hardSigmoid") continue;
      const x = state.values[g.index];
      withScratch(k, x.shape, (target) => {
        // grad <- X - clip(X - grad, 0, 1)
        k.sub(x.size, x.address, grad.address, target.address);
        k.clamp(x.size, 0, 1, target.address, target.address);
        k.sub(x.size, x.address, target.address, grad.address);
      });
    }
  }

  addParameterGradient(state: PCGraphState, gradients: Map<string, Tensor>, scale: number): void {
    const k = state.backend;
    for (const e of this.model.edges) {
      const dW = gradients.get(e.weightName)!;
      k.matmul(true, false, e.from.size, e.to.size, state.batch, (e.from === e.to ? -0.5 : -1) * this.levelWeights[e.to.index] * scale,
        state.activation(e.from).address, state.activation(e.to).address, 1, dW.address);
      const mask = this.model.mask(e);
      if (mask) k.mul(dW.size, dW.address, mask.address, dW.address);
    }
    for (const g of state.groups) {
      const bias = this.model.bias(g);
      if (!bias) continue;
      const db = gradients.get(`${g.name}.bias`)!;
      withScratch(k, [g.size], (column) => {
        k.biasGrad(state.batch, g.size, 1, state.activation(g).address, 0, column.address);
        k.axpy(g.size, -scale * this.levelWeights[g.index], column.address, db.address);
      });
    }
  }

  /** The force on each moving group, sqrt(sum d^2 / B) of the step direction d of the last evaluation (dF/dX at gain 1). */
  errorNorms(state: PCGraphState, out: Record<string, number>): void {
    for (const g of state.groups) {
      if (!state.moves(g)) continue;
      const grad = state.gradient(g);
      out[g.name] = Math.sqrt(state.backend.sumSquares(grad.size, grad.address) / state.batch);
    }
  }

  /** init "forward": the drive from the values set so far, clipped to the box for hard-sigmoid groups. */
  forwardValue(state: PCGraphState, g: Group): Tensor {
    const out = state.buffer("hopfieldStart", g);
    const drive = this.drive(state, g);
    if (g.activation === "hardSigmoid") state.backend.clamp(drive.size, 0, 1, drive.address, out.address);
    else drive.copyTo(out);
    return out;
  }
}
