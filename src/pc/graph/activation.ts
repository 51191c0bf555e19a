// A group's activation f and its derivative, on the backend's kernels:
//   forward:   out = f(x)
//   gradient:  dx = f'(x) * dy        (dx may alias dy)
// The hard sigmoid f(x) = min(max(x, 0), 1) of energy-based networks (Scellier & Bengio 2017)
// is composed from existing kernels; its derivative is 1 on the closed interval [0, 1] (the
// slope of the linear piece, also at the corners), so a unit held at 0 or 1 by the box of
// the Hopfield energy still feels its drive (src/pc/graph/hopfield.ts).
import type { Address, Backend } from "../../backend/kernels.js";
import { withScratch } from "../../scratch.js";
import type { Group } from "./topology.js";

export function activate(k: Backend, group: Group, n: number, x: Address, out: Address): void {
  switch (group.activation) {
    case "identity":
      if (x !== out) k.copy(n, x, out);
      return;
    case "leakyRelu":
      return k.leakyRelu(n, group.slope, x, out);
    case "hardSigmoid":
      return k.clamp(n, 0, 1, x, out);
    default:
      return k[group.activation](n, x, out);
  }
}

export function activationGradient(k: Backend, group: Group, n: number, x: Address, dy: Address, dx: Address): void {
  switch (group.activation) {
    case "identity":
      if (dy !== dx) k.copy(n, dy, dx);
      return;
    case "leakyRelu":
      return k.leakyReluGrad(n, group.slope, x, dy, dx);
    case "hardSigmoid":
      return hardSigmoidGradient(k, n, x, dy, dx);
    default:
      return k[`${group.activation}Grad`](n, x, dy, dx);
  }
}

/** dx = dy * [0 <= x <= 1] = dy - dy * [x < 0] - dy * [x > 1], from reluGrad (dy * [u > 0]) at u = -x and u = x - 1. */
function hardSigmoidGradient(k: Backend, n: number, x: Address, dy: Address, dx: Address): void {
  withScratch(k, [n], (below) =>
    withScratch(k, [n], (above) => {
      k.scale(n, -1, x, below.address);
      k.reluGrad(n, below.address, dy, below.address);
      k.fill(n, -1, above.address);
      k.axpy(n, 1, x, above.address);
      k.reluGrad(n, above.address, dy, above.address);
      k.sub(n, dy, below.address, dx);
      k.sub(n, dx, above.address, dx);
    }));
}
