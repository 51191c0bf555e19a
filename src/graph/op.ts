// An op: one node's forward rule mu = f(inputs; params) and its local derivatives, side by
// side. Derivatives are vector-Jacobian products evaluated at the given inputs and
// parameters: the reference backprop chains them, and the PC engine uses the very same
// products for J^T e (inference) and (d mu / d theta)^T e (learning). No op knows about
// either algorithm.
//
// Tensors carry a leading batch axis: an op's `inputs[i]` is [batch, ...inputShape[i]],
// and shapes passed to `outputShape` and `paramSpecs` are per-sample shapes.
import type { Tensor, Shape } from "../tensor.js";

/** How a parameter's initial values are drawn (from the graph's seeded generator). */
export type Initializer =
  | { kind: "zeros" }
  | { kind: "constant"; value: number }
  | { kind: "uniform"; low: number; high: number }
  | { kind: "normal"; std: number }
  /** Glorot/Xavier uniform: U(-a, a), a = sqrt(6 / (fanIn + fanOut)). */
  | { kind: "glorotUniform"; fanIn: number; fanOut: number }
  /** He/Kaiming normal: N(0, 2 / fanIn). */
  | { kind: "heNormal"; fanIn: number }
  /** He/Kaiming uniform: U(-a, a), a = sqrt(6 / fanIn). */
  | { kind: "heUniform"; fanIn: number };

/** Initialiser names accepted by the builder's options; fan-in and fan-out come from the layer. */
export type InitializerName = "zeros" | "glorotUniform" | "heNormal" | "heUniform" | "uniform" | "normal";

/** A parameter an op needs: its role, shape and initialiser. */
export interface ParamSpec {
  /** Role within the op, e.g. "weight", "bias". */
  role: string;
  shape: Shape;
  init: Initializer;
}

/**
 * An op: its forward rule and its local derivatives (to each input and each parameter), side
 * by side. Backprop and the PC algorithms are written against this interface only.
 */
export interface Op {
  /** Op kind, as in summaries and serialised graphs, e.g. "dense". */
  readonly kind: string;
  /** Op attributes, JSON-serialisable; `createOp(kind, attrs)` rebuilds the op. */
  readonly attrs: object;
  /** Number of inputs accepted: exact, or [min, max]. */
  readonly arity: number | [number, number];
  /** Per-sample output shape; throws a ShapeError that names the op and shapes (the caller adds the node). */
  outputShape(inputShapes: Shape[]): Shape;
  /** Parameters the op owns for these input shapes (empty for parameter-free ops). */
  paramSpecs(inputShapes: Shape[]): ParamSpec[];
  /** out = f(inputs; params). */
  forward(inputs: Tensor[], params: Tensor[], out: Tensor): void;
  /** dx = (d out / d inputs[index])^T dy + beta * dx. */
  inputVjp(index: number, inputs: Tensor[], params: Tensor[], dy: Tensor, dx: Tensor, beta: number): void;
  /** dp = (d out / d params[index])^T dy + beta * dp. */
  paramVjp(index: number, inputs: Tensor[], params: Tensor[], dy: Tensor, dp: Tensor, beta: number): void;
}

/** Throws for ops whose parameter count is zero: calling paramVjp on them is a bug. */
export function noParams(kind: string): never {
  throw new Error(`${kind} has no parameters`);
}

export function batchOf(t: Tensor): number {
  return t.shape[0];
}
