// Corrupted queries for associative-memory experiments, as in the Universal Hopfield
// Network paper's reference code (functions.py): Gaussian noise clipped to [0, 1], and the
// bottom rows of an image set to 0. The third kind gives the same rows as unknown through a
// mask, so a memory compares the query over the rows it has instead of over blank ones.
import { InvalidArgumentError } from "../backend/errors.js";
import { Random } from "../random.js";

/** An image layout: D = channels x height x width, rows of pixels along height. */
export interface ImageShape {
  channels: number;
  height: number;
  width: number;
}

/** How a capacity query is made from a stored image: Gaussian noise, or its bottom rows zeroed or masked. */
export type QueryCorruption =
  /** x + N(0, sigma^2) per entry, clipped to [0, 1] unless `clip` is false. */
  | { kind: "noise"; sigma: number; clip?: boolean }
  /** The bottom `fraction` of the image rows set to 0. */
  | { kind: "zeroed"; fraction: number }
  /** The same rows set to 0 and marked unknown by the query's mask. */
  | { kind: "masked"; fraction: number };

/** A short label of a corruption for tables and legends. */
export function queryCorruptionLabel(c: QueryCorruption): string {
  switch (c.kind) {
    case "noise": return `noise sigma ${c.sigma}${c.clip === false ? " unclipped" : ""}`;
    case "zeroed": return `bottom ${c.fraction} zeroed`;
    case "masked": return `bottom ${c.fraction} masked`;
  }
}

/** Returns the corruption when its parameters are in range; throws an InvalidArgumentError naming `argument` otherwise. */
export function checkQueryCorruption(c: QueryCorruption, argument = "corruption"): QueryCorruption {
  if (c === null || typeof c !== "object") throw new InvalidArgumentError(`${argument} must be an object, got ${String(c)}`);
  if (c.kind === "noise") {
    if (!(Number.isFinite(c.sigma) && c.sigma >= 0)) throw new InvalidArgumentError(`${argument}.sigma must be a finite number >= 0, got ${String(c.sigma)}`);
    if (c.clip !== undefined && typeof c.clip !== "boolean") throw new InvalidArgumentError(`${argument}.clip must be true or false, got ${String(c.clip)}`);
  } else if (c.kind === "zeroed" || c.kind === "masked") {
    if (!(Number.isFinite(c.fraction) && c.fraction > 0 && c.fraction < 1))
      throw new InvalidArgumentError(`${argument}.fraction must be in (0, 1), got ${String(c.fraction)}`);
  } else throw new InvalidArgumentError(`${argument}.kind must be "noise", "zeroed" or "masked", got ${JSON.stringify((c as { kind: unknown }).kind)}`);
  return c;
}

/**
 * The first image row that is hidden when the bottom `fraction` is: floor(H (1 - fraction)),
 * as the reference code's int(H * (1 - frac)).
 */
export function firstHiddenRow(height: number, fraction: number): number {
  return Math.floor(height * (1 - fraction));
}

/** 1 for the entries of the top rows that stay visible, 0 for the bottom `fraction` of rows. */
export function visibleRowsMask(shape: ImageShape, fraction: number): Float64Array {
  const mask = new Float64Array(shape.channels * shape.height * shape.width);
  const hidden = firstHiddenRow(shape.height, fraction);
  for (let c = 0; c < shape.channels; c++)
    for (let y = 0; y < hidden; y++) mask.fill(1, (c * shape.height + y) * shape.width, (c * shape.height + y + 1) * shape.width);
  return mask;
}

/**
 * Queries `[rows, D]` made from `patterns` `[rows, D]`: the corrupted copies, and the mask of
 * known entries for a masked corruption (null otherwise). Noise comes from `seed`.
 */
export function corruptQueries(patterns: Float32Array, rows: number, shape: ImageShape, corruption: QueryCorruption,
  seed: number): { queries: Float32Array; mask: Float64Array | null } {
  checkQueryCorruption(corruption);
  const d = shape.channels * shape.height * shape.width;
  if (patterns.length !== rows * d)
    throw new InvalidArgumentError(`corrupt: ${patterns.length} values are not ${rows} patterns of ${d}`);
  const queries = Float32Array.from(patterns);
  if (corruption.kind === "noise") {
    const random = new Random(seed);
    const clip = corruption.clip !== false;
    for (let i = 0; i < queries.length; i++) {
      const noisy = queries[i] + corruption.sigma * random.normal();
      queries[i] = clip ? Math.min(1, Math.max(0, noisy)) : noisy;
    }
    return { queries, mask: null };
  }
  const visible = visibleRowsMask(shape, corruption.fraction);
  for (let i = 0; i < queries.length; i++) if (visible[i % d] === 0) queries[i] = 0;
  return { queries, mask: corruption.kind === "masked" ? visible : null };
}
