// A group's activation f and its derivative, on the backend's kernels:
//   forward:   out = f(x)
//   gradient:  dx = f'(x) * dy        (dx may alias dy)
import type { Address, Backend } from "../../backend/kernels.js";
import type { Group } from "./topology.js";

export function activate(k: Backend, group: Group, n: number, x: Address, out: Address): void {
  switch (group.activation) {
    case "identity":
      if (x !== out) k.copy(n, x, out);
      return;
    case "leakyRelu":
      return k.leakyRelu(n, group.slope, x, out);
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
    default:
      return k[`${group.activation}Grad`](n, x, dy, dx);
  }
}
