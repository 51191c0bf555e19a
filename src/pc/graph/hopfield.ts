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
// Products are kept per edge, forward P_e = rho(X_s) W_e and backward Q_e = rho(X_t) W_e^T,
// and recomputed only when their source's values or the parameters change: the product of a
// clamped input is done once per batch, across all phases of a learning step.
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

export class HopfieldEnergy implements EnergyTerm {
  readonly name = "hopfield";
  private readonly stamps = new WeakMap<PCGraphState, Stamps>();

  constructor(readonly model: PCGraphModel) {
    const pairs = new Map<string, Edge>();
    for (const e of model.edges) {
      const key = [e.from.name, e.to.name].sort().join("\u0000");
      const other = pairs.get(key);
      if (other)
        throw new TopologyError(e.from.name, `edges ${other.from.name}->${other.to.name} and ${e.from.name}->${e.to.name} both couple the pair: ` +
          "an energy-based network has one symmetric weight per pair of groups, used in both directions (give one of the edges)");
      pairs.set(key, e);
    }
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

  /** D_g, [B, n_g], brought up to date. */
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
    for (const e of g.outEdges) k.axpy(drive.size, e.to === g ? 0.5 : 1, state.buffer(`hopfieldBackward.${e.index}`, e.from).address, drive.address);
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
      total += 0.5 * k.sumSquares(x.size, x.address);
      const bias = this.model.bias(g);
      if (bias)
        withScratch(k, [g.size], (column) => {
          k.biasGrad(state.batch, g.size, 1, state.activation(g).address, 0, column.address);
          k.mul(g.size, column.address, bias.address, column.address);
          total -= k.sum(g.size, column.address);
        });
    }
    for (const e of this.model.edges) {
      this.forwardProduct(state, e);
      const product = state.buffer(`hopfieldForward.${e.index}`, e.to);
      withScratch(k, product.shape, (pair) => {
        k.mul(pair.size, product.address, state.activation(e.to).address, pair.address);
        total -= (e.from === e.to ? 0.5 : 1) * k.sum(pair.size, pair.address);
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
      // grad += X - rho'(X) * D
      activationGradient(k, g, x.size, x.address, this.drive(state, g).address, force.address);
      k.axpy(grad.size, 1, x.address, grad.address);
      k.axpy(grad.size, -1, force.address, grad.address);
    }
  }

  projectValueGradient(state: PCGraphState): void {
    const k = state.backend;
    for (const g of state.groups) {
      if (!state.moves(g) || g.activation !== "hardSigmoid") continue;
      const grad = state.gradient(g);
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
      k.matmul(true, false, e.from.size, e.to.size, state.batch, (e.from === e.to ? -0.5 : -1) * scale,
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
        k.axpy(g.size, -scale, column.address, db.address);
      });
    }
  }

  /** The force on each moving group, sqrt(sum (dF/dX)^2 / B) from the last evaluation of the gradient. */
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
