// Op kinds by name: how a serialised or declared node becomes an Op.
import { GraphError } from "./errors.js";
import type { Op } from "./op.js";
import { ActivationOp, activationNames, type ActivationName } from "./ops/activation.js";
import { Conv2dOp, Conv2dTransposeOp, type Conv2dAttrs, type Conv2dTransposeAttrs } from "./ops/conv.js";
import { DenseOp, type DenseAttrs } from "./ops/dense.js";
import { Pool2dOp, type Pool2dAttrs } from "./ops/pool.js";
import { AddOp, ConcatOp, IdentityOp, MulOp, ReshapeOp, SliceOp } from "./ops/structural.js";

type Attrs = Record<string, unknown>;

const factories: Record<string, (attrs: Attrs) => Op> = {
  dense: (a) => new DenseOp({ useBias: true, kernelInit: "glorotUniform", biasInit: "zeros", ...a } as DenseAttrs),
  conv2d: (a) =>
    new Conv2dOp({
      strides: [1, 1], padding: [0, 0], dilation: [1, 1], groups: 1, useBias: true, kernelInit: "heUniform", biasInit: "zeros",
      ...a,
    } as Conv2dAttrs),
  conv2dTranspose: (a) =>
    new Conv2dTransposeOp({
      strides: [1, 1], padding: [0, 0], outputPadding: [0, 0], dilation: [1, 1], groups: 1, useBias: true, kernelInit: "heUniform",
      biasInit: "zeros", ...a,
    } as Conv2dTransposeAttrs),
  maxPool2d: (a) => new Pool2dOp({ padding: [0, 0], ...a, mode: "max" } as Pool2dAttrs),
  avgPool2d: (a) => new Pool2dOp({ padding: [0, 0], ...a, mode: "avg" } as Pool2dAttrs),
  identity: () => new IdentityOp(),
  add: () => new AddOp(),
  mul: () => new MulOp(),
  concat: (a) => new ConcatOp({ axis: 0, ...a } as { axis: number }),
  reshape: (a) => new ReshapeOp(a as { shape: number[] }),
  slice: (a) => new SliceOp({ squeeze: false, ...a } as { axis: number; begin: number; size: number; squeeze: boolean }),
};
for (const fn of activationNames) factories[fn] = (a) => new ActivationOp({ ...a, fn: fn as ActivationName });

/** Every op kind a GraphSpec may name, "input" included. */
export const opKinds: readonly string[] = ["input", ...Object.keys(factories)];

/** Builds the op of that kind; `nodeName` is for the error message. */
export function createOp(kind: string, attrs: Attrs, nodeName: string): Op {
  const factory = Object.hasOwn(factories, kind) ? factories[kind] : undefined;
  if (!factory) throw new GraphError(nodeName, `unknown op "${kind}" (known: ${opKinds.join(", ")})`);
  try {
    return factory(attrs ?? {});
  } catch (error) {
    throw GraphError.wrap(nodeName, kind, error);
  }
}
