// Errors of the training layer.
import { PcgraphError } from "../backend/errors.js";
import type { Tensor } from "../tensor.js";

/** Training cannot go on: a non-finite loss, gradient or parameter, a schedule that stopped, ... */
export class TrainingError extends PcgraphError {}

/**
 * Throws a TrainingError naming the first tensor with NaN or infinite entries (one
 * countNonFinite pass per tensor, a streaming reduction in the backend).
 */
export function checkFinite(what: string, tensors: Iterable<[string, Tensor]>, advice: string): void {
  for (const [name, t] of tensors) {
    const count = t.backend.countNonFinite(t.size, t.address);
    if (count > 0)
      throw new TrainingError(`${what} "${name}" has ${count} non-finite ${count === 1 ? "entry" : "entries"} (NaN or ±Infinity) of ${t.size}; ${advice}`);
  }
}
