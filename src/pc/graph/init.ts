// Starting values of the free units before a relaxation (docs/pc-graphs.md):
//   "forward": each free group, in an order where sources come first when the edges allow
//              (cycles are cut at the first group met), takes its prediction from the values
//              set so far — the feedforward pass above clamped roots of a feedforward graph
//              (an energy term's `forwardValue`: for the Hopfield energy, its drive);
//   "zeros", a constant, or a seeded normal distribution.
// Clamped units are never written.
import { InvalidArgumentError } from "../../backend/errors.js";
import { Random } from "../../random.js";
import { withScratch } from "../../scratch.js";
import type { Tensor } from "../../tensor.js";
import type { Energy } from "./energy.js";
import type { PCGraphState } from "./state.js";
import type { Group } from "./topology.js";

/** How free units start before relaxation: a forward pass, zeros, a constant, or seeded normal values. */
export type ValueInit =
  | "forward"
  | "zeros"
  | { kind: "constant"; value: number }
  | { kind: "normal"; mean?: number; std: number; seed?: number };

export function checkValueInit(init: ValueInit): void {
  if (init === "forward" || init === "zeros") return;
  if (init && typeof init === "object") {
    if (init.kind === "constant" && Number.isFinite(init.value)) return;
    if (init.kind === "normal" && Number.isFinite(init.std) && init.std >= 0 && Number.isFinite(init.mean ?? 0) && Number.isFinite(init.seed ?? 0)) return;
  }
  throw new InvalidArgumentError(`init must be "forward", "zeros", { kind: "constant", value } or { kind: "normal", mean?, std, seed? }, got ${JSON.stringify(init)}`);
}

/** Writes `values` into the free units of `group` (all of them, or the masked ones). */
export function writeFreeUnits(state: PCGraphState, group: Group, values: Tensor): void {
  const k = state.backend;
  const x = state.values[group.index];
  const mask = state.freeMask(group);
  if (state.freedom[group.index] === "clamped") return;
  if (!mask) values.copyTo(x);
  else
    withScratch(k, x.shape, (delta) => {
      // x += C * (v - x)
      k.sub(x.size, values.address, x.address, delta.address);
      k.mul(x.size, delta.address, mask.address, delta.address);
      k.add(x.size, x.address, delta.address, x.address);
    });
  state.valuesChanged(group);
}

/** Order of the free groups for "forward": Kahn's algorithm over edges between free groups, cycles cut in group order. */
function forwardOrder(state: PCGraphState, groups: Group[]): Group[] {
  const pending = new Set(groups);
  const order: Group[] = [];
  const waiting = (g: Group) => g.inEdges.filter((e) => e.from !== g && pending.has(e.from)).length;
  while (pending.size > 0) {
    let next = [...pending].find((g) => waiting(g) === 0);
    next ??= [...pending][0]; // a cycle: cut it at the first group
    pending.delete(next);
    order.push(next);
  }
  return order;
}

/** Initialises the free units of `groups` (default: every group that moves). */
export function initializeValues(state: PCGraphState, energy: Energy, init: ValueInit, groups?: Group[]): void {
  checkValueInit(init);
  const targets = (groups ?? [...state.groups]).filter((g) => state.moves(g));
  const k = state.backend;
  if (init === "forward") {
    const predictions = energy.terms.find((t) => t.forwardValue !== undefined);
    if (!predictions) throw new InvalidArgumentError('init "forward" needs a term with forward values in the energy (the prediction errors or the Hopfield energy)');
    for (const g of targets)
      withScratch(k, [state.batch, g.size], (zero) => {
        k.fill(zero.size, 0, zero.address);
        writeFreeUnits(state, g, zero);
      });
    for (const g of forwardOrder(state, targets)) {
      const value = predictions.forwardValue!(state, g);
      if (value) writeFreeUnits(state, g, value); // a free root keeps 0
    }
    return;
  }
  const random = typeof init === "object" && init.kind === "normal" ? new Random(init.seed ?? 0) : null;
  for (const g of targets)
    withScratch(k, [state.batch, g.size], (values) => {
      if (init === "zeros") k.fill(values.size, 0, values.address);
      else if (init.kind === "constant") k.fill(values.size, init.value, values.address);
      else {
        const mean = init.mean ?? 0;
        const draws = new Float64Array(values.size);
        for (let i = 0; i < draws.length; i++) draws[i] = mean + init.std * random!.normal();
        values.assign(draws);
      }
      writeFreeUnits(state, g, values);
    });
}
