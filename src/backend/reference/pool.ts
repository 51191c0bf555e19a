// Reference max and average pooling (NCHW) and their vector-Jacobian products.
import type { Address, Pool2dGeometry } from "../kernels.js";
import { pool2dOutputShape } from "../kernels.js";

/** Calls visit(yIndex, inputIndices) for every output, with the in-bounds input indices of its window. */
function forEachWindow(g: Pool2dGeometry, visit: (yIndex: number, window: number[]) => void): void {
  const [, , outH, outW] = pool2dOutputShape(g);
  for (let plane = 0; plane < g.batch * g.channels; plane++) {
    for (let oy = 0; oy < outH; oy++) {
      for (let ox = 0; ox < outW; ox++) {
        const window: number[] = [];
        for (let ky = 0; ky < g.kernelHeight; ky++) {
          const iy = oy * g.strideHeight - g.padHeight + ky;
          if (iy < 0 || iy >= g.inHeight) continue;
          for (let kx = 0; kx < g.kernelWidth; kx++) {
            const ix = ox * g.strideWidth - g.padWidth + kx;
            if (ix < 0 || ix >= g.inWidth) continue;
            window.push((plane * g.inHeight + iy) * g.inWidth + ix);
          }
        }
        visit((plane * outH + oy) * outW + ox, window);
      }
    }
  }
}

function firstMax(mem: Float64Array, x: Address, window: number[]): number {
  let best = -1;
  for (const index of window) if (best < 0 || mem[x + index] > mem[x + best]) best = index;
  return best;
}

export function maxPool2d(mem: Float64Array, g: Pool2dGeometry, x: Address, y: Address): void {
  forEachWindow(g, (yi, window) => {
    const best = firstMax(mem, x, window);
    mem[y + yi] = best < 0 ? -Infinity : mem[x + best];
  });
}

export function maxPool2dBackward(mem: Float64Array, g: Pool2dGeometry, x: Address, dy: Address, beta: number, dx: Address): void {
  const size = g.batch * g.channels * g.inHeight * g.inWidth;
  for (let i = 0; i < size; i++) mem[dx + i] = beta === 0 ? 0 : beta * mem[dx + i];
  forEachWindow(g, (yi, window) => {
    const best = firstMax(mem, x, window);
    if (best >= 0) mem[dx + best] += mem[dy + yi];
  });
}

export function avgPool2d(mem: Float64Array, g: Pool2dGeometry, x: Address, y: Address): void {
  const divisor = g.kernelHeight * g.kernelWidth;
  forEachWindow(g, (yi, window) => {
    let total = 0;
    for (const index of window) total += mem[x + index];
    mem[y + yi] = total / divisor;
  });
}

export function avgPool2dBackward(mem: Float64Array, g: Pool2dGeometry, dy: Address, beta: number, dx: Address): void {
  const size = g.batch * g.channels * g.inHeight * g.inWidth;
  for (let i = 0; i < size; i++) mem[dx + i] = beta === 0 ? 0 : beta * mem[dx + i];
  const divisor = g.kernelHeight * g.kernelWidth;
  forEachWindow(g, (yi, window) => {
    for (const index of window) mem[dx + index] += mem[dy + yi] / divisor;
  });
}
