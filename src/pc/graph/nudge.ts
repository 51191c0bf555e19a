// The nudged loss: beta * C(X_o, Y) on one group o, the cost that pulls the output of an
// energy-based network (or of a PC graph whose output is free) towards its target Y
// (Scellier & Bengio 2017, the total energy F = E + beta C; docs/energy-based.md):
//
//   C = 1/2 sum_b ||X_o - Y||^2,   dF/dX_o += beta (X_o - Y),   no parameter gradient.
//
// beta = 0 is the free phase (the term contributes nothing and costs nothing); the schedules
// of equilibrium.ts set it per phase. The target is per state (per batch size).
import { InvalidArgumentError, ShapeError } from "../../backend/errors.js";
import { withScratch } from "../../scratch.js";
import { Tensor } from "../../tensor.js";
import type { EnergyTerm } from "./energy.js";
import type { PCGraphModel } from "./model.js";
import type { PCGraphState } from "./state.js";
import type { Group } from "./topology.js";

/** The nudged loss beta C(X_o, Y) on one group as an energy term (beta set per phase; see the note at the top). */
export class NudgedLoss implements EnergyTerm {
  readonly name = "nudgedLoss";
  readonly group: Group;
  /** The nudging strength of the current phase (0: free). */
  beta = 0;
  private readonly loaded = new WeakSet<PCGraphState>();

  constructor(readonly model: PCGraphModel, group: string) {
    this.group = model.group(group);
  }

  /** Y, [B, n_o] (owned by the state). */
  target(state: PCGraphState): Tensor {
    return state.buffer("nudgeTarget", this.group);
  }

  /** True once a target has been set for this state. */
  hasTarget(state: PCGraphState): boolean {
    return this.loaded.has(state);
  }

  /** Sets Y; checks its size and that every value is finite (naming the sample and unit of the first that is not). */
  setTarget(state: PCGraphState, data: Tensor | ArrayLike<number>): void {
    const g = this.group;
    const n = data instanceof Tensor ? data.size : data.length;
    if (n !== state.batch * g.size)
      throw new ShapeError(`group "${g.name}": the target has ${n} values, expected batch ${state.batch} x ${g.size} = ${state.batch * g.size}`);
    const values = data instanceof Tensor ? data.dataSync() : data;
    for (let i = 0; i < n; i++) {
      const v = values[i];
      if (typeof v !== "number" || !Number.isFinite(v)) {
        const sample = Math.floor(i / g.size);
        throw new InvalidArgumentError(`group "${g.name}": the target has ${v} at sample ${sample}, unit ${i - sample * g.size}`);
      }
    }
    const target = this.target(state);
    if (data instanceof Tensor) data.copyTo(target);
    else target.assign(data);
    this.loaded.add(state);
  }

  /** C = 1/2 sum ||X_o - Y||^2 at the current values (the unweighted cost, summed over the batch). */
  cost(state: PCGraphState): number {
    if (!this.loaded.has(state)) return NaN;
    const k = state.backend;
    const x = state.values[this.group.index];
    return withScratch(k, x.shape, (difference) => {
      k.sub(x.size, x.address, this.target(state).address, difference.address);
      return 0.5 * k.sumSquares(x.size, difference.address);
    });
  }

  prepare(): void {}

  value(state: PCGraphState): number {
    return this.beta === 0 ? 0 : this.beta * this.cost(state);
  }

  addValueGradient(state: PCGraphState): void {
    if (this.beta === 0 || !state.moves(this.group)) return;
    const k = state.backend;
    const x = state.values[this.group.index];
    const grad = state.gradient(this.group);
    // grad += beta (X - Y)
    k.axpy(x.size, this.beta, x.address, grad.address);
    k.axpy(x.size, -this.beta, this.target(state).address, grad.address);
  }

  addParameterGradient(): void {}

  /** The output's distance to its target, sqrt(sum ||X_o - Y||^2 / B), as "<group>:target". */
  errorNorms(state: PCGraphState, out: Record<string, number>): void {
    if (this.loaded.has(state)) out[`${this.group.name}:target`] = Math.sqrt((2 * this.cost(state)) / state.batch);
  }
}
