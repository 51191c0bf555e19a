// Small helpers shared by op definitions.
import { ShapeError } from "../../backend/errors.js";
import { formatShape, sizeOf, type Shape, type Tensor } from "../../tensor.js";

/** dst = src + beta * dst (same size). */
export function accumulate(src: Tensor, dst: Tensor, beta: number): void {
  const k = dst.backend;
  if (beta === 0) k.copy(src.size, src.address, dst.address);
  else k.axpby(src.size, 1, src.address, beta, dst.address);
}

export function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

export function requireRank(kind: string, shape: Shape, rank: number, what: string): void {
  if (shape.length !== rank)
    throw new ShapeError(`${kind}: expected ${what} of rank ${rank} per sample, got ${formatShape(shape)}`);
}

export function positiveInt(kind: string, name: string, value: unknown): number {
  if (!Number.isInteger(value) || (value as number) < 1)
    throw new ShapeError(`${kind}: ${name} must be a positive integer, got ${String(value)}`);
  return value as number;
}

export function nonNegativeInt(kind: string, name: string, value: unknown): number {
  if (!Number.isInteger(value) || (value as number) < 0)
    throw new ShapeError(`${kind}: ${name} must be an integer >= 0, got ${String(value)}`);
  return value as number;
}

/** [h, w] from a number or a pair. */
export function pair(kind: string, name: string, value: number | readonly [number, number], min: number): [number, number] {
  const valid = typeof value === "number" || (Array.isArray(value) && value.length === 2);
  if (!valid) throw new ShapeError(`${kind}: ${name} must be an integer >= ${min} or a pair of them, got ${JSON.stringify(value)}`);
  const p: [number, number] = typeof value === "number" ? [value, value] : [value[0], value[1]];
  for (const v of p)
    if (!Number.isInteger(v) || v < min)
      throw new ShapeError(`${kind}: ${name} must be an integer >= ${min} or a pair of them, got ${JSON.stringify(value)}`);
  return p;
}

export { sizeOf, formatShape };
