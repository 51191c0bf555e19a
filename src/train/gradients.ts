// One interface over every way of computing a training step's gradients.
import type { Graph } from "../graph/graph.js";
import { PCEngine, type PCOptions, type PCResult } from "../pc/engine.js";
import { BackpropEngine, type Batch } from "../reference/backprop.js";
import type { Tensor } from "../tensor.js";

/** How gradients are computed: backprop, or one of the predictive coding algorithms. */
export type Algorithm = "bp" | "zil" | "il" | "fpa";
/** Every `Algorithm`. */
export const algorithms: readonly Algorithm[] = ["bp", "zil", "il", "fpa"];

/** Gradient estimates for a graph, batch after batch: backprop or a PC engine behind one interface. */
export interface GradientEngine {
  /**
   * Loss at the feedforward prediction and dL/dtheta estimates by parameter name (owned by
   * the engine); IL also reports how far inference got (see PCResult.inference).
   */
  run(batch: Batch): { loss: number; gradients: Map<string, Tensor>; inference?: PCResult["inference"] };
  /** Frees the engine's buffers and gradients. */
  dispose(): void;
}

/** A gradient engine for the algorithm; `pc` tunes IL/FPA/Z-IL (steps, gamma, ...). */
export function gradientEngine(graph: Graph, algorithm: Algorithm, pc: Omit<PCOptions, "algorithm"> = {}): GradientEngine {
  if (algorithm === "bp") return new BackpropEngine(graph);
  return new PCEngine(graph, { ...pc, algorithm });
}
