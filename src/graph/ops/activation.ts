// Elementwise activations as ops: mu = f(x), J^T dy = f'(x) * dy.
import { InvalidArgumentError } from "../../backend/errors.js";
import type { Activation } from "../../backend/kernels.js";
import type { Shape, Tensor } from "../../tensor.js";
import { withScratch } from "../../scratch.js";
import { noParams, type Op } from "../op.js";

/** Activation names a graph may use: every kernel activation, and leakyRelu. */
export type ActivationName = Activation | "leakyRelu";
export const activationNames: readonly ActivationName[] = ["relu", "leakyRelu", "tanh", "sigmoid", "softplus", "gelu", "exp", "log"];

export interface ActivationAttrs {
  fn: ActivationName;
  /** Negative slope of leakyRelu. */
  slope?: number;
}

export class ActivationOp implements Op {
  readonly arity = 1;
  readonly kind: string;
  constructor(readonly attrs: ActivationAttrs) {
    if (!activationNames.includes(attrs.fn)) throw new Error(`unknown activation "${attrs.fn}"`);
    if (attrs.fn === "leakyRelu" && attrs.slope !== undefined && !Number.isFinite(attrs.slope))
      throw new InvalidArgumentError(`leakyRelu: slope must be a finite number, got ${JSON.stringify(attrs.slope)}`);
    this.kind = attrs.fn;
  }

  outputShape([input]: Shape[]): Shape {
    return input;
  }

  paramSpecs(): [] {
    return [];
  }

  forward([x]: Tensor[], _params: Tensor[], out: Tensor): void {
    const k = out.backend;
    if (this.attrs.fn === "leakyRelu") k.leakyRelu(x.size, this.attrs.slope ?? 0.01, x.address, out.address);
    else k[this.attrs.fn](x.size, x.address, out.address);
  }

  private gradient(x: Tensor, dy: Tensor, dx: Tensor): void {
    const k = dx.backend;
    if (this.attrs.fn === "leakyRelu") k.leakyReluGrad(x.size, this.attrs.slope ?? 0.01, x.address, dy.address, dx.address);
    else k[`${this.attrs.fn}Grad`](x.size, x.address, dy.address, dx.address);
  }

  inputVjp(_index: number, [x]: Tensor[], _params: Tensor[], dy: Tensor, dx: Tensor, beta: number): void {
    if (beta === 0) return this.gradient(x, dy, dx);
    withScratch(dx.backend, dx.shape, (scratch) => {
      this.gradient(x, dy, scratch);
      dx.backend.axpby(dx.size, 1, scratch.address, beta, dx.address);
    });
  }

  paramVjp(): never {
    return noParams(this.kind);
  }
}
