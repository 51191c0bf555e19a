// Reference 2-D convolution (NCHW), its two vector-Jacobian products, and bias kernels:
// direct loops over every output element and kernel tap.
import type { Address, Conv2dGeometry } from "../kernels.js";
import { conv2dOutputShape } from "../kernels.js";

/** Calls visit(xIndex, wIndex, yIndex) for every (output, tap) pair that reads a real input pixel. */
function forEachTap(g: Conv2dGeometry, visit: (xIndex: number, wIndex: number, yIndex: number) => void): void {
  const [, , outH, outW] = conv2dOutputShape(g);
  const inPerGroup = g.inChannels / g.groups;
  const outPerGroup = g.outChannels / g.groups;
  for (let nb = 0; nb < g.batch; nb++) {
    for (let oc = 0; oc < g.outChannels; oc++) {
      const group = Math.floor(oc / outPerGroup);
      for (let oy = 0; oy < outH; oy++) {
        for (let ox = 0; ox < outW; ox++) {
          const yIndex = ((nb * g.outChannels + oc) * outH + oy) * outW + ox;
          for (let ic = 0; ic < inPerGroup; ic++) {
            const channel = group * inPerGroup + ic;
            for (let ky = 0; ky < g.kernelHeight; ky++) {
              const iy = oy * g.strideHeight - g.padHeight + ky * g.dilationHeight;
              if (iy < 0 || iy >= g.inHeight) continue;
              for (let kx = 0; kx < g.kernelWidth; kx++) {
                const ix = ox * g.strideWidth - g.padWidth + kx * g.dilationWidth;
                if (ix < 0 || ix >= g.inWidth) continue;
                const xIndex = ((nb * g.inChannels + channel) * g.inHeight + iy) * g.inWidth + ix;
                const wIndex = ((oc * inPerGroup + ic) * g.kernelHeight + ky) * g.kernelWidth + kx;
                visit(xIndex, wIndex, yIndex);
              }
            }
          }
        }
      }
    }
  }
}

function scaleInPlace(mem: Float64Array, start: Address, length: number, beta: number): void {
  for (let i = 0; i < length; i++) mem[start + i] = beta === 0 ? 0 : beta * mem[start + i];
}

export function conv2d(mem: Float64Array, g: Conv2dGeometry, x: Address, w: Address, beta: number, y: Address): void {
  const [nb, oc, oh, ow] = conv2dOutputShape(g);
  scaleInPlace(mem, y, nb * oc * oh * ow, beta);
  forEachTap(g, (xi, wi, yi) => {
    mem[y + yi] += mem[x + xi] * mem[w + wi];
  });
}

export function conv2dBackwardInput(mem: Float64Array, g: Conv2dGeometry, dy: Address, w: Address, beta: number, dx: Address): void {
  scaleInPlace(mem, dx, g.batch * g.inChannels * g.inHeight * g.inWidth, beta);
  forEachTap(g, (xi, wi, yi) => {
    mem[dx + xi] += mem[dy + yi] * mem[w + wi];
  });
}

export function conv2dBackwardWeights(mem: Float64Array, g: Conv2dGeometry, x: Address, dy: Address, beta: number, dw: Address): void {
  scaleInPlace(mem, dw, g.outChannels * (g.inChannels / g.groups) * g.kernelHeight * g.kernelWidth, beta);
  forEachTap(g, (xi, wi, yi) => {
    mem[dw + wi] += mem[dy + yi] * mem[x + xi];
  });
}

export function biasAdd(mem: Float64Array, outer: number, channels: number, inner: number, bias: Address, y: Address): void {
  for (let o = 0; o < outer; o++)
    for (let c = 0; c < channels; c++)
      for (let i = 0; i < inner; i++) mem[y + (o * channels + c) * inner + i] += mem[bias + c];
}

export function biasGrad(mem: Float64Array, outer: number, channels: number, inner: number, dy: Address, beta: number, db: Address): void {
  for (let c = 0; c < channels; c++) {
    let total = 0;
    for (let o = 0; o < outer; o++)
      for (let i = 0; i < inner; i++) total += mem[dy + (o * channels + c) * inner + i];
    mem[db + c] = total + (beta === 0 ? 0 : beta * mem[db + c]);
  }
}
