// Separation functions of a Universal Hopfield Network (Millidge et al. 2022, eq. 2):
// z = P^T sep(sim(M, q)). They act on one row of similarity scores (one query against the
// N stored patterns) and sharpen it towards the best match. Computed in float64 in
// TypeScript: a row holds N numbers, small beside the N x D similarity work of the kernels.
//
// Like the paper's reference code, a memory may normalise the scores to sum 1 before the
// separation and the separated weights to sum 1 after it. Normalisation here divides by the
// sum of magnitudes (the plain sum for the non-negative scores of the paper's similarities,
// and still order-preserving for signed ones such as negative distances).
import { InvalidArgumentError } from "../backend/errors.js";

/** How similarity scores become recall weights. */
export type Separation =
  /** Weights are the scores themselves. */
  | { kind: "identity" }
  /** softmax(beta * scores): beta is an inverse temperature (the paper: 1000, on normalised scores). */
  | { kind: "softmax"; beta: number }
  /** One-hot at the first maximum (the limit of softmax as beta -> infinity). */
  | { kind: "max" }
  /** scores^degree, entrywise (the paper: degrees 2, 3, 4, 10 among others). */
  | { kind: "polynomial"; degree: number };

/** A separation, or its name with default parameters (softmax: beta 1000; polynomial: degree 2). */
export type SeparationSpec = Separation | "identity" | "softmax" | "max" | "polynomial";

/** The softmax inverse temperature when "softmax" is given by name (the paper's 1000). */
export const DEFAULT_SOFTMAX_BETA = 1000;
/** The degree when "polynomial" is given by name. */
export const DEFAULT_POLYNOMIAL_DEGREE = 2;

/** Checks a separation's kind and parameters; `argument` names it in errors. */
export function resolveSeparation(spec: SeparationSpec, argument = "separation"): Separation {
  const s: Separation = typeof spec === "string"
    ? spec === "softmax" ? { kind: "softmax", beta: DEFAULT_SOFTMAX_BETA }
      : spec === "polynomial" ? { kind: "polynomial", degree: DEFAULT_POLYNOMIAL_DEGREE }
        : { kind: spec } as Separation
    : spec;
  if (s === null || typeof s !== "object" || !["identity", "softmax", "max", "polynomial"].includes(s.kind))
    throw new InvalidArgumentError(`${argument} must be "identity", "softmax", "max", "polynomial" or an object with such a kind, got ${JSON.stringify(spec)}`);
  if (s.kind === "softmax" && !(typeof s.beta === "number" && Number.isFinite(s.beta) && s.beta > 0))
    throw new InvalidArgumentError(`${argument}.beta must be a finite number > 0, got ${String(s.beta)}`);
  if (s.kind === "polynomial" && !(typeof s.degree === "number" && Number.isFinite(s.degree) && s.degree > 0))
    throw new InvalidArgumentError(`${argument}.degree must be a finite number > 0, got ${String(s.degree)}`);
  return { ...s };
}

/** A short label of a separation for tables and legends, e.g. "softmax(beta=1000)". */
export function separationLabel(s: Separation): string {
  switch (s.kind) {
    case "softmax": return `softmax(beta=${s.beta})`;
    case "polynomial": return `polynomial(${s.degree})`;
    default: return s.kind;
  }
}

/**
 * Divides a row by the sum of its magnitudes, in place. Computed as (s_i / a) / sum (|s_j| / a)
 * with a = max |s_j|, so huge scores cannot overflow and infinite ones (a reciprocal
 * distance of an exact match) take the limit: the infinite entries share the weight. A row
 * of zeros, where every pattern is equally similar, becomes uniform.
 */
export function normalizeRow(row: Float64Array): void {
  let largest = 0;
  for (let i = 0; i < row.length; i++) largest = Math.max(largest, Math.abs(row[i]));
  if (largest === 0) {
    row.fill(1 / row.length);
    return;
  }
  let total = 0;
  for (let i = 0; i < row.length; i++) {
    row[i] = largest === Infinity ? (Math.abs(row[i]) === Infinity ? Math.sign(row[i]) : 0) : row[i] / largest;
    total += Math.abs(row[i]);
  }
  for (let i = 0; i < row.length; i++) row[i] /= total;
}

/** Index of the first maximum of a row. */
export function argmax(row: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < row.length; i++) if (row[i] > row[best]) best = i;
  return best;
}

/**
 * sep(scores) in place: the weights each stored pattern (row of P) gets in the retrieval.
 * With `normalize`, the scores are normalised first and the weights after (a no-op for
 * softmax and max, whose weights already sum to 1).
 */
export function separateRow(row: Float64Array, separation: Separation, normalize: boolean, argument = "separation"): void {
  if (normalize) normalizeRow(row);
  switch (separation.kind) {
    case "identity":
      break;
    case "softmax": {
      let top = -Infinity;
      for (let i = 0; i < row.length; i++) top = Math.max(top, row[i]);
      if (top === Infinity) {
        // beta * Infinity dominates every finite score: the limit shares the weight among them.
        let count = 0;
        for (let i = 0; i < row.length; i++) count += row[i] === Infinity ? 1 : 0;
        for (let i = 0; i < row.length; i++) row[i] = row[i] === Infinity ? 1 / count : 0;
        return;
      }
      // Shifted by the maximum so no exponent is positive (no overflow; the sum is >= 1).
      let total = 0;
      for (let i = 0; i < row.length; i++) {
        row[i] = Math.exp(separation.beta * (row[i] - top));
        total += row[i];
      }
      for (let i = 0; i < row.length; i++) row[i] /= total;
      return;
    }
    case "max": {
      const best = argmax(row);
      row.fill(0);
      row[best] = 1;
      return;
    }
    case "polynomial": {
      const integer = Number.isInteger(separation.degree);
      for (let i = 0; i < row.length; i++) {
        if (row[i] < 0 && !integer)
          throw new InvalidArgumentError(`${argument}.degree ${separation.degree} is not an integer, and a score is negative ` +
            `(${row[i]}): a fractional power of it is undefined; use an integer degree or a similarity with non-negative scores`);
        row[i] = Math.pow(row[i], separation.degree);
      }
      break;
    }
  }
  if (normalize) normalizeRow(row);
}
