// What the trained associative memories (the generative PC memory and the backprop
// autoencoder) share: checked options with errors naming the option, the seeded order of the
// stored patterns per epoch, and the record of a training run.
import { InvalidArgumentError } from "../backend/errors.js";
import { Random } from "../random.js";
import { epochSeed } from "../train/fit.js";
import type { OptimizerConfig } from "../train/optimizers.js";

/** Activation of the hidden layers of a trained memory (the paper's two choices). */
export type MemoryActivation = "relu" | "tanh";
/** The activations a trained memory accepts. */
export const memoryActivations: readonly MemoryActivation[] = ["relu", "tanh"];

/** One epoch of training a memory on its stored patterns. */
export interface MemoryEpochRecord {
  /** 1-based, counted over the memory's whole life. */
  epoch: number;
  /**
   * Mean over the stored patterns, per pattern entry, of what training minimises: the PC
   * memory's energy F / (N D), the autoencoder's squared error 1/2 |x - AE(x)|^2 / D.
   */
  lossPerEntry: number;
  seconds: number;
}

/** How a call to `store` (or `train`) ended. */
export interface MemoryTrainingResult {
  /** Epochs run by this call. */
  epochs: number;
  /** The last epoch's loss per entry (NaN when no epoch ran). */
  lossPerEntry: number;
  /** True when the loss per entry reached the tolerance. */
  converged: boolean;
  seconds: number;
}

/** Throws an InvalidArgumentError naming `where` and the option. */
export function optionError(where: string, option: string, message: string): never {
  throw new InvalidArgumentError(`${where}: ${option} ${message}`);
}

/** An integer >= min, or the fallback when undefined. */
export function integerOption(where: string, option: string, value: unknown, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isInteger(value) || value < min) optionError(where, option, `must be an integer >= ${min}, got ${JSON.stringify(value)}`);
  return value;
}

/** A finite number > 0 (or >= 0 when `zero`), or the fallback when undefined. */
export function positiveOption(where: string, option: string, value: unknown, fallback: number, zero = false): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0 || (!zero && value === 0))
    optionError(where, option, `must be a finite number ${zero ? ">=" : ">"} 0, got ${JSON.stringify(value)}`);
  return value;
}

/** A finite number, or the fallback when undefined. */
export function finiteOption(where: string, option: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isFinite(value)) optionError(where, option, `must be a finite number, got ${JSON.stringify(value)}`);
  return value;
}

/** A heavy-ball momentum in [0, 1), or the fallback when undefined. */
export function momentumOption(where: string, option: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !(value >= 0 && value < 1)) optionError(where, option, `must be a number in [0, 1), got ${JSON.stringify(value)}`);
  return value;
}

/** One of the memory activations, or the fallback when undefined. */
export function activationOption(where: string, value: unknown, fallback: MemoryActivation): MemoryActivation {
  if (value === undefined) return fallback;
  if (!memoryActivations.includes(value as MemoryActivation))
    optionError(where, "activation", `must be ${memoryActivations.map((a) => JSON.stringify(a)).join(" or ")}, got ${JSON.stringify(value)}`);
  return value as MemoryActivation;
}

/** An options object (undefined counts as empty). */
export function objectOption<T extends object>(where: string, option: string, value: T | undefined): Partial<T> {
  if (value === undefined) return {};
  if (value === null || typeof value !== "object" || Array.isArray(value)) optionError(where, option, `must be an object, got ${JSON.stringify(value)}`);
  return value;
}

/** Refuses keys an options object does not take (a misspelt option would otherwise be ignored). */
export function knownKeys(where: string, option: string, value: object, keys: readonly string[]): void {
  for (const key of Object.keys(value))
    if (!keys.includes(key)) optionError(where, `${option}.${key}`, `is not an option (${option} takes ${keys.join(", ")})`);
}

/** The default optimizer of both trained memories: Adam at 1e-3. */
export const DEFAULT_MEMORY_OPTIMIZER: OptimizerConfig = { kind: "adam", learningRate: 1e-3 };

/** The order the stored patterns are visited in at an epoch: a seeded shuffle. */
export function epochOrder(count: number, seed: number, epoch: number): Int32Array {
  return new Random(epochSeed(seed, epoch)).shuffle(Int32Array.from({ length: count }, (_, i) => i)) as Int32Array;
}

/** Copies rows `order[start .. start + rows)` of `patterns` (rows of `width`) into `out`. */
export function gatherRows(patterns: Float32Array, width: number, order: Int32Array, start: number, rows: number, out: Float32Array): Float32Array {
  for (let r = 0; r < rows; r++) {
    const i = order[start + r];
    out.set(patterns.subarray(i * width, (i + 1) * width), r * width);
  }
  return out;
}
