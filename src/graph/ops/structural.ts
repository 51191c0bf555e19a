// Parameter-free structural ops: identity, add, elementwise mul, concat, reshape, slice.
import { ShapeError } from "../../backend/errors.js";
import type { Shape, Tensor } from "../../tensor.js";
import { withScratch } from "../../scratch.js";
import { noParams, type Op } from "../op.js";
import { accumulate, formatShape, sameShape, sizeOf } from "./util.js";

abstract class ParameterFree implements Op {
  abstract readonly kind: string;
  abstract readonly attrs: object;
  abstract readonly arity: number | [number, number];
  abstract outputShape(inputShapes: Shape[]): Shape;
  abstract forward(inputs: Tensor[], params: Tensor[], out: Tensor): void;
  abstract inputVjp(index: number, inputs: Tensor[], params: Tensor[], dy: Tensor, dx: Tensor, beta: number): void;
  paramSpecs(): [] {
    return [];
  }
  paramVjp(): never {
    return noParams(this.kind);
  }
}

/** Ops whose output is the input's data unchanged (only the shape may differ): J = I. */
abstract class SameData extends ParameterFree {
  readonly arity = 1;
  forward([x]: Tensor[], _p: Tensor[], out: Tensor): void {
    out.backend.copy(x.size, x.address, out.address);
  }
  inputVjp(_i: number, _x: Tensor[], _p: Tensor[], dy: Tensor, dx: Tensor, beta: number): void {
    accumulate(dy, dx, beta);
  }
}

/** mu = x. Also the relay node that levels skip connections for Z-IL. */
export class IdentityOp extends SameData {
  readonly kind = "identity";
  readonly attrs = {};
  outputShape([input]: Shape[]): Shape {
    return input;
  }
}

/** mu = sum of the inputs (residual and skip connections). */
export class AddOp extends ParameterFree {
  readonly kind = "add";
  readonly attrs = {};
  readonly arity: [number, number] = [2, 64];
  outputShape(inputShapes: Shape[]): Shape {
    for (const s of inputShapes)
      if (!sameShape(s, inputShapes[0]))
        throw new ShapeError(`add: inputs must have equal shapes, got ${inputShapes.map(formatShape).join(", ")}`);
    return inputShapes[0];
  }
  forward(inputs: Tensor[], _p: Tensor[], out: Tensor): void {
    const k = out.backend;
    k.add(out.size, inputs[0].address, inputs[1].address, out.address);
    for (let i = 2; i < inputs.length; i++) k.axpy(out.size, 1, inputs[i].address, out.address);
  }
  inputVjp(_i: number, _x: Tensor[], _p: Tensor[], dy: Tensor, dx: Tensor, beta: number): void {
    accumulate(dy, dx, beta);
  }
}

/** mu = a * b elementwise (gating). */
export class MulOp extends ParameterFree {
  readonly kind = "mul";
  readonly attrs = {};
  readonly arity = 2;
  outputShape(inputShapes: Shape[]): Shape {
    if (!sameShape(inputShapes[0], inputShapes[1]))
      throw new ShapeError(`mul: inputs must have equal shapes, got ${inputShapes.map(formatShape).join(", ")}`);
    return inputShapes[0];
  }
  forward([a, b]: Tensor[], _p: Tensor[], out: Tensor): void {
    out.backend.mul(out.size, a.address, b.address, out.address);
  }
  // d(a*b)/da = diag(b)
  inputVjp(index: number, inputs: Tensor[], _p: Tensor[], dy: Tensor, dx: Tensor, beta: number): void {
    const other = inputs[1 - index];
    const k = dx.backend;
    if (beta === 0) return k.mul(dx.size, dy.address, other.address, dx.address);
    withScratch(k, dx.shape, (scratch) => {
      k.mul(dx.size, dy.address, other.address, scratch.address);
      k.axpby(dx.size, 1, scratch.address, beta, dx.address);
    });
  }
}

/** Concatenation along a per-sample axis. */
export class ConcatOp extends ParameterFree {
  readonly kind = "concat";
  readonly arity: [number, number] = [1, 64];
  constructor(readonly attrs: { axis: number }) {
    super();
  }
  outputShape(inputShapes: Shape[]): Shape {
    const axis = this.attrs.axis;
    const first = inputShapes[0];
    if (!Number.isInteger(axis) || axis < 0 || axis >= first.length)
      throw new ShapeError(`concat: axis ${axis} is out of range for per-sample shape ${formatShape(first)}`);
    for (const s of inputShapes)
      if (s.length !== first.length || s.some((d, i) => i !== axis && d !== first[i]))
        throw new ShapeError(`concat: shapes ${inputShapes.map(formatShape).join(", ")} differ outside axis ${axis}`);
    const out = [...first];
    out[axis] = inputShapes.reduce((sum, s) => sum + s[axis], 0);
    return out;
  }
  /** Rows (batch times leading axes) and row length of input i within the output. */
  private layout(inputs: Tensor[], out: Tensor): { rows: number; outRow: number; widths: number[]; offsets: number[] } {
    const axis = this.attrs.axis + 1; // tensors carry the batch axis
    const rows = sizeOf(out.shape.slice(0, axis));
    const inner = sizeOf(out.shape.slice(axis + 1));
    const widths = inputs.map((t) => t.shape[axis] * inner);
    const offsets: number[] = [];
    widths.reduce((offset, w) => (offsets.push(offset), offset + w), 0);
    return { rows, outRow: out.shape[axis] * inner, widths, offsets };
  }
  forward(inputs: Tensor[], _p: Tensor[], out: Tensor): void {
    const { rows, outRow, widths, offsets } = this.layout(inputs, out);
    inputs.forEach((x, i) => out.backend.copy2d(rows, widths[i], x.address, widths[i], out.address + offsets[i], outRow));
  }
  inputVjp(index: number, inputs: Tensor[], _p: Tensor[], dy: Tensor, dx: Tensor, beta: number): void {
    const { rows, outRow, widths, offsets } = this.layout(inputs, dy);
    const k = dx.backend;
    const gather = (target: Tensor) => k.copy2d(rows, widths[index], dy.address + offsets[index], outRow, target.address, widths[index]);
    if (beta === 0) return gather(dx);
    withScratch(k, dx.shape, (scratch) => {
      gather(scratch);
      k.axpby(dx.size, 1, scratch.address, beta, dx.address);
    });
  }
}

/** The same data with another per-sample shape (flatten is reshape to [size]). */
export class ReshapeOp extends SameData {
  readonly kind = "reshape";
  constructor(readonly attrs: { shape: number[] }) {
    super();
  }
  /** One entry of the target shape may be -1: it is inferred from the size. */
  outputShape([input]: Shape[]): Shape {
    const requested = this.attrs.shape;
    const fail = () => new ShapeError(`reshape: cannot reshape ${formatShape(input)} (${sizeOf(input)} elements) to ${formatShape(requested)}`);
    if (!Array.isArray(requested) || requested.filter((d) => d === -1).length > 1) throw fail();
    if (requested.some((d) => d !== -1 && (!Number.isInteger(d) || d < 1))) throw fail();
    const known = sizeOf(requested.filter((d) => d !== -1));
    const target = requested.map((d) => (d === -1 ? sizeOf(input) / known : d));
    if (!Number.isInteger(sizeOf(target)) || sizeOf(target) !== sizeOf(input) || target.some((d) => !Number.isInteger(d))) throw fail();
    return target;
  }
}

/** A slice [begin, begin + size) along a per-sample axis; `squeeze` drops that axis when size is 1. */
export class SliceOp extends ParameterFree {
  readonly kind = "slice";
  readonly arity = 1;
  constructor(readonly attrs: { axis: number; begin: number; size: number; squeeze: boolean }) {
    super();
  }
  outputShape([input]: Shape[]): Shape {
    const { axis, begin, size, squeeze } = this.attrs;
    if (!Number.isInteger(axis) || axis < 0 || axis >= input.length)
      throw new ShapeError(`slice: axis ${axis} is out of range for per-sample shape ${formatShape(input)}`);
    if (!Number.isInteger(begin) || !Number.isInteger(size) || begin < 0 || size < 1 || begin + size > input[axis])
      throw new ShapeError(`slice: [${begin}, ${begin + size}) is outside axis ${axis} of ${formatShape(input)}`);
    if (squeeze && size !== 1) throw new ShapeError(`slice: squeeze needs size 1, got ${size}`);
    const out = [...input];
    if (squeeze) out.splice(axis, 1);
    else out[axis] = size;
    return out;
  }
  private layout(x: Tensor): { rows: number; rowLength: number; width: number; offset: number } {
    const axis = this.attrs.axis + 1;
    const inner = sizeOf(x.shape.slice(axis + 1));
    return {
      rows: sizeOf(x.shape.slice(0, axis)),
      rowLength: x.shape[axis] * inner,
      width: this.attrs.size * inner,
      offset: this.attrs.begin * inner,
    };
  }
  forward([x]: Tensor[], _p: Tensor[], out: Tensor): void {
    const { rows, rowLength, width, offset } = this.layout(x);
    out.backend.copy2d(rows, width, x.address + offset, rowLength, out.address, width);
  }
  // The adjoint scatters dy into a zero tensor shaped like x.
  inputVjp(_i: number, [x]: Tensor[], _p: Tensor[], dy: Tensor, dx: Tensor, beta: number): void {
    const { rows, rowLength, width, offset } = this.layout(x);
    const k = dx.backend;
    const scatter = (target: Tensor) => {
      k.fill(target.size, 0, target.address);
      k.copy2d(rows, width, dy.address, width, target.address + offset, rowLength);
    };
    if (beta === 0) return scatter(dx);
    withScratch(k, dx.shape, (scratch) => {
      scatter(scratch);
      k.axpby(dx.size, 1, scratch.address, beta, dx.address);
    });
  }
}
