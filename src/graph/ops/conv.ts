// 2-D convolution (NCHW) with optional bias. Input per sample [C, H, W]; weight
// [filters, C / groups, kH, kW]; output [filters, outH, outW].
import { ShapeError } from "../../backend/errors.js";
import { conv2dOutputShape, type Conv2dGeometry } from "../../backend/kernels.js";
import type { Shape, Tensor } from "../../tensor.js";
import type { InitializerName, Op, ParamSpec } from "../op.js";
import { initializerFor } from "./dense.js";
import { formatShape, pair, positiveInt, requireRank } from "./util.js";

export interface Conv2dAttrs {
  filters: number;
  kernelSize: [number, number];
  strides: [number, number];
  padding: [number, number];
  dilation: [number, number];
  groups: number;
  useBias: boolean;
  kernelInit: InitializerName;
  biasInit: InitializerName;
}

export class Conv2dOp implements Op {
  readonly kind = "conv2d";
  readonly arity = 1;
  readonly attrs: Conv2dAttrs;
  /** Sizes may be given as one number or an [height, width] pair; they are stored as pairs. */
  constructor(attrs: Conv2dAttrs) {
    this.attrs = {
      ...attrs,
      filters: positiveInt("conv2d", "filters", attrs.filters),
      kernelSize: pair("conv2d", "kernelSize", attrs.kernelSize, 1),
      strides: pair("conv2d", "strides", attrs.strides, 1),
      padding: pair("conv2d", "padding", attrs.padding, 0),
      dilation: pair("conv2d", "dilation", attrs.dilation, 1),
      groups: positiveInt("conv2d", "groups", attrs.groups),
    };
  }

  geometry(batch: number, input: Shape): Conv2dGeometry {
    const a = this.attrs;
    return {
      batch, inChannels: input[0], inHeight: input[1], inWidth: input[2], outChannels: a.filters,
      kernelHeight: a.kernelSize[0], kernelWidth: a.kernelSize[1], strideHeight: a.strides[0], strideWidth: a.strides[1],
      padHeight: a.padding[0], padWidth: a.padding[1], dilationHeight: a.dilation[0], dilationWidth: a.dilation[1],
      groups: a.groups,
    };
  }

  outputShape([input]: Shape[]): Shape {
    requireRank("conv2d", input, 3, "input [channels, height, width]");
    const a = this.attrs;
    if (input[0] % a.groups !== 0 || a.filters % a.groups !== 0)
      throw new ShapeError(`conv2d: groups ${a.groups} must divide input channels ${input[0]} and filters ${a.filters} (input ${formatShape(input)})`);
    const [, c, h, w] = conv2dOutputShape(this.geometry(1, input));
    if (h < 1 || w < 1)
      throw new ShapeError(`conv2d: input ${formatShape(input)} is too small for kernel ${formatShape(a.kernelSize)} with padding ${formatShape(a.padding)}, dilation ${formatShape(a.dilation)} (output ${h}x${w})`);
    return [c, h, w];
  }

  paramSpecs([input]: Shape[]): ParamSpec[] {
    const a = this.attrs;
    const perGroup = input[0] / a.groups;
    const fanIn = perGroup * a.kernelSize[0] * a.kernelSize[1];
    const fanOut = (a.filters / a.groups) * a.kernelSize[0] * a.kernelSize[1];
    const specs: ParamSpec[] = [
      { role: "weight", shape: [a.filters, perGroup, a.kernelSize[0], a.kernelSize[1]], init: initializerFor(a.kernelInit, fanIn, fanOut) },
    ];
    if (a.useBias) specs.push({ role: "bias", shape: [a.filters], init: initializerFor(a.biasInit, fanIn, fanOut) });
    return specs;
  }

  forward([x]: Tensor[], params: Tensor[], out: Tensor): void {
    const g = this.geometry(x.shape[0], x.shape.slice(1));
    out.backend.conv2d(g, x.address, params[0].address, 0, out.address);
    if (this.attrs.useBias) out.backend.biasAdd(g.batch, g.outChannels, out.shape[2] * out.shape[3], params[1].address, out.address);
  }

  inputVjp(_index: number, [x]: Tensor[], params: Tensor[], dy: Tensor, dx: Tensor, beta: number): void {
    const g = this.geometry(x.shape[0], x.shape.slice(1));
    dx.backend.conv2dBackwardInput(g, dy.address, params[0].address, beta, dx.address);
  }

  paramVjp(index: number, [x]: Tensor[], _params: Tensor[], dy: Tensor, dp: Tensor, beta: number): void {
    const g = this.geometry(x.shape[0], x.shape.slice(1));
    if (index === 0) dp.backend.conv2dBackwardWeights(g, x.address, dy.address, beta, dp.address);
    else dp.backend.biasGrad(g.batch, g.outChannels, dy.shape[2] * dy.shape[3], dy.address, beta, dp.address);
  }
}

export interface Conv2dTransposeAttrs {
  /** Output channels. */
  filters: number;
  kernelSize: [number, number];
  strides: [number, number];
  padding: [number, number];
  /** Extra rows and columns at the bottom and right of the output, each below the stride. */
  outputPadding: [number, number];
  dilation: [number, number];
  groups: number;
  useBias: boolean;
  kernelInit: InitializerName;
  biasInit: InitializerName;
}

/**
 * Transposed 2-D convolution (NCHW): the adjoint of a conv2d that maps the output shape back
 * to the input shape. Input per sample [C, h, w]; weight [C, filters / groups, kH, kW] (the
 * adjoint conv's weight, as in PyTorch's ConvTranspose2d); output [filters, H, W] with
 * H = (h - 1) stride - 2 padding + dilation (kH - 1) + 1 + outputPadding.
 * Forward is the conv's input derivative; its own input derivative is the conv itself.
 */
export class Conv2dTransposeOp implements Op {
  readonly kind = "conv2dTranspose";
  readonly arity = 1;
  readonly attrs: Conv2dTransposeAttrs;
  constructor(attrs: Conv2dTransposeAttrs) {
    this.attrs = {
      ...attrs,
      filters: positiveInt("conv2dTranspose", "filters", attrs.filters),
      kernelSize: pair("conv2dTranspose", "kernelSize", attrs.kernelSize, 1),
      strides: pair("conv2dTranspose", "strides", attrs.strides, 1),
      padding: pair("conv2dTranspose", "padding", attrs.padding, 0),
      outputPadding: pair("conv2dTranspose", "outputPadding", attrs.outputPadding, 0),
      dilation: pair("conv2dTranspose", "dilation", attrs.dilation, 1),
      groups: positiveInt("conv2dTranspose", "groups", attrs.groups),
    };
    const a = this.attrs;
    if (a.outputPadding[0] >= a.strides[0] || a.outputPadding[1] >= a.strides[1])
      throw new ShapeError(`conv2dTranspose: outputPadding ${formatShape(a.outputPadding)} must be below the strides ${formatShape(a.strides)}`);
  }

  /** Geometry of the adjoint conv2d: it maps this op's output [filters, H, W] to its input [C, h, w]. */
  geometry(batch: number, input: Shape): Conv2dGeometry {
    const a = this.attrs;
    const [, outHeight, outWidth] = this.outputShape([input]);
    return {
      batch, inChannels: a.filters, inHeight: outHeight, inWidth: outWidth, outChannels: input[0],
      kernelHeight: a.kernelSize[0], kernelWidth: a.kernelSize[1], strideHeight: a.strides[0], strideWidth: a.strides[1],
      padHeight: a.padding[0], padWidth: a.padding[1], dilationHeight: a.dilation[0], dilationWidth: a.dilation[1],
      groups: a.groups,
    };
  }

  outputShape([input]: Shape[]): Shape {
    requireRank("conv2dTranspose", input, 3, "input [channels, height, width]");
    const a = this.attrs;
    if (input[0] % a.groups !== 0 || a.filters % a.groups !== 0)
      throw new ShapeError(`conv2dTranspose: groups ${a.groups} must divide input channels ${input[0]} and filters ${a.filters} (input ${formatShape(input)})`);
    const size = (axis: 0 | 1) =>
      (input[axis + 1] - 1) * a.strides[axis] - 2 * a.padding[axis] + a.dilation[axis] * (a.kernelSize[axis] - 1) + 1 + a.outputPadding[axis];
    const [h, w] = [size(0), size(1)];
    if (h < 1 || w < 1)
      throw new ShapeError(`conv2dTranspose: input ${formatShape(input)} with kernel ${formatShape(a.kernelSize)}, strides ${formatShape(a.strides)} and padding ${formatShape(a.padding)} gives an empty output (${h}x${w})`);
    return [a.filters, h, w];
  }

  paramSpecs([input]: Shape[]): ParamSpec[] {
    const a = this.attrs;
    const perGroup = a.filters / a.groups;
    const fanIn = (input[0] / a.groups) * a.kernelSize[0] * a.kernelSize[1];
    const fanOut = perGroup * a.kernelSize[0] * a.kernelSize[1];
    const specs: ParamSpec[] = [
      { role: "weight", shape: [input[0], perGroup, a.kernelSize[0], a.kernelSize[1]], init: initializerFor(a.kernelInit, fanIn, fanOut) },
    ];
    if (a.useBias) specs.push({ role: "bias", shape: [a.filters], init: initializerFor(a.biasInit, fanIn, fanOut) });
    return specs;
  }

  forward([x]: Tensor[], params: Tensor[], out: Tensor): void {
    const g = this.geometry(x.shape[0], x.shape.slice(1));
    out.backend.conv2dBackwardInput(g, x.address, params[0].address, 0, out.address);
    if (this.attrs.useBias) out.backend.biasAdd(g.batch, g.inChannels, g.inHeight * g.inWidth, params[1].address, out.address);
  }

  // The forward rule is x -> W^T x, so J^T dy = W dy: the adjoint conv's forward pass.
  inputVjp(_index: number, [x]: Tensor[], params: Tensor[], dy: Tensor, dx: Tensor, beta: number): void {
    const g = this.geometry(x.shape[0], x.shape.slice(1));
    dx.backend.conv2d(g, dy.address, params[0].address, beta, dx.address);
  }

  // <dy, W^T x> = <W dy, x>: the weight derivative of the adjoint conv with dy as its input and x as its output gradient.
  paramVjp(index: number, [x]: Tensor[], _params: Tensor[], dy: Tensor, dp: Tensor, beta: number): void {
    const g = this.geometry(x.shape[0], x.shape.slice(1));
    if (index === 0) dp.backend.conv2dBackwardWeights(g, dy.address, x.address, beta, dp.address);
    else dp.backend.biasGrad(g.batch, g.inChannels, g.inHeight * g.inWidth, dy.address, beta, dp.address);
  }
}
