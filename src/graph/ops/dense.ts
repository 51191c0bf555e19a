// Dense (fully connected) layer over one or more inputs with one weight each:
//   mu = sum_i x_i W_i + b,  x_i: [batch, in_i], W_i: [in_i, units], b: [units].
// One input is the usual dense layer; two inputs with weights shared across time steps
// make a recurrent cell (mu_t = x_t W_x + h_{t-1} W_h + b).
import { ShapeError } from "../../backend/errors.js";
import type { Shape, Tensor } from "../../tensor.js";
import type { Initializer, InitializerName, Op, ParamSpec } from "../op.js";
import { formatShape, positiveInt } from "./util.js";

export interface DenseAttrs {
  units: number;
  useBias: boolean;
  kernelInit: InitializerName;
  biasInit: InitializerName;
}

export function initializerFor(name: InitializerName, fanIn: number, fanOut: number): Initializer {
  switch (name) {
    case "zeros": return { kind: "zeros" };
    case "glorotUniform": return { kind: "glorotUniform", fanIn, fanOut };
    case "heNormal": return { kind: "heNormal", fanIn };
    case "heUniform": return { kind: "heUniform", fanIn };
    case "uniform": return { kind: "uniform", low: -0.05, high: 0.05 };
    case "normal": return { kind: "normal", std: 0.05 };
  }
}

export class DenseOp implements Op {
  readonly kind = "dense";
  readonly arity: [number, number] = [1, 16];
  constructor(readonly attrs: DenseAttrs) {
    positiveInt("dense", "units", attrs.units);
  }

  outputShape(inputShapes: Shape[]): Shape {
    for (const s of inputShapes)
      if (s.length !== 1)
        throw new ShapeError(`dense: inputs must be vectors per sample ([features]); got ${inputShapes.map(formatShape).join(", ")} (flatten first)`);
    return [this.attrs.units];
  }

  paramSpecs(inputShapes: Shape[]): ParamSpec[] {
    const units = this.attrs.units;
    const fanIn = inputShapes.reduce((s, shape) => s + shape[0], 0);
    const specs: ParamSpec[] = inputShapes.map((shape, i) => ({
      role: inputShapes.length === 1 ? "weight" : `weight${i}`,
      shape: [shape[0], units],
      init: initializerFor(this.attrs.kernelInit, fanIn, units),
    }));
    if (this.attrs.useBias) specs.push({ role: "bias", shape: [units], init: initializerFor(this.attrs.biasInit, fanIn, units) });
    return specs;
  }

  forward(inputs: Tensor[], params: Tensor[], out: Tensor): void {
    const k = out.backend;
    const batch = out.shape[0];
    const units = this.attrs.units;
    inputs.forEach((x, i) => {
      k.matmul(false, false, batch, units, x.shape[1], 1, x.address, params[i].address, i === 0 ? 0 : 1, out.address);
    });
    if (this.attrs.useBias) k.biasAdd(batch, units, 1, params[inputs.length].address, out.address);
  }

  // d mu / d x_i applied to dy: dy W_i^T
  inputVjp(index: number, inputs: Tensor[], params: Tensor[], dy: Tensor, dx: Tensor, beta: number): void {
    const batch = dy.shape[0];
    dx.backend.matmul(false, true, batch, inputs[index].shape[1], this.attrs.units, 1, dy.address, params[index].address, beta, dx.address);
  }

  // d mu / d W_i applied to dy: x_i^T dy; d mu / d b: sum of dy over the batch
  paramVjp(index: number, inputs: Tensor[], _params: Tensor[], dy: Tensor, dp: Tensor, beta: number): void {
    const k = dp.backend;
    const batch = dy.shape[0];
    if (index < inputs.length) {
      const x = inputs[index];
      k.matmul(true, false, x.shape[1], this.attrs.units, batch, 1, x.address, dy.address, beta, dp.address);
    } else {
      k.biasGrad(batch, this.attrs.units, 1, dy.address, beta, dp.address);
    }
  }
}
