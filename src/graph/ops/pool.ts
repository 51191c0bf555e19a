// Max and average pooling (NCHW), parameter-free.
import { ShapeError } from "../../backend/errors.js";
import { pool2dOutputShape, type Pool2dGeometry } from "../../backend/kernels.js";
import type { Shape, Tensor } from "../../tensor.js";
import { noParams, type Op } from "../op.js";
import { formatShape, pair, requireRank } from "./util.js";

export interface Pool2dAttrs {
  mode: "max" | "avg";
  kernelSize: [number, number];
  strides: [number, number];
  padding: [number, number];
}

export class Pool2dOp implements Op {
  readonly arity = 1;
  readonly kind: string;
  readonly attrs: Pool2dAttrs;
  /** Sizes may be one number or an [height, width] pair; strides default to the window. */
  constructor(attrs: Pool2dAttrs) {
    this.kind = attrs.mode === "max" ? "maxPool2d" : "avgPool2d";
    const kernel = pair(this.kind, "kernelSize", attrs.kernelSize, 1);
    const strides = pair(this.kind, "strides", attrs.strides ?? kernel, 1);
    const padding = pair(this.kind, "padding", attrs.padding ?? 0, 0);
    if (padding[0] * 2 > kernel[0] || padding[1] * 2 > kernel[1])
      throw new ShapeError(`${this.kind}: padding ${formatShape(padding)} must be at most half the kernel ${formatShape(kernel)}`);
    this.attrs = { ...attrs, kernelSize: kernel, strides, padding };
  }

  geometry(batch: number, input: Shape): Pool2dGeometry {
    const a = this.attrs;
    return {
      batch, channels: input[0], inHeight: input[1], inWidth: input[2],
      kernelHeight: a.kernelSize[0], kernelWidth: a.kernelSize[1], strideHeight: a.strides[0], strideWidth: a.strides[1],
      padHeight: a.padding[0], padWidth: a.padding[1],
    };
  }

  outputShape([input]: Shape[]): Shape {
    requireRank(this.kind, input, 3, "input [channels, height, width]");
    const [, c, h, w] = pool2dOutputShape(this.geometry(1, input));
    if (h < 1 || w < 1)
      throw new ShapeError(`${this.kind}: input ${formatShape(input)} is smaller than the window ${formatShape(this.attrs.kernelSize)}`);
    return [c, h, w];
  }

  paramSpecs(): [] {
    return [];
  }

  forward([x]: Tensor[], _params: Tensor[], out: Tensor): void {
    const g = this.geometry(x.shape[0], x.shape.slice(1));
    if (this.attrs.mode === "max") out.backend.maxPool2d(g, x.address, out.address);
    else out.backend.avgPool2d(g, x.address, out.address);
  }

  inputVjp(_index: number, [x]: Tensor[], _params: Tensor[], dy: Tensor, dx: Tensor, beta: number): void {
    const g = this.geometry(x.shape[0], x.shape.slice(1));
    if (this.attrs.mode === "max") dx.backend.maxPool2dBackward(g, x.address, dy.address, beta, dx.address);
    else dx.backend.avgPool2dBackward(g, dy.address, beta, dx.address);
  }

  paramVjp(): never {
    return noParams(this.kind);
  }
}
