// Input corruptions for robustness experiments, on pixel values in [0, 1], seeded:
//   gaussian:      x + N(0, sigma^2), clipped to [0, 1] (as ImageNet-C's Gaussian noise)
//   saltAndPepper: each pixel, with probability `amount`, set to 0 or 1 (equally likely)
import { InvalidArgumentError } from "../../backend/errors.js";
import { Random } from "../../random.js";
import { makeDataset, type Dataset } from "./dataset.js";

/** A corruption applied to inputs: none, additive Gaussian noise, or salt-and-pepper. */
export type Corruption =
  | { kind: "none" }
  | { kind: "gaussian"; sigma: number }
  | { kind: "saltAndPepper"; amount: number };

/** Returns the corruption when its parameters are in range; throws an InvalidArgumentError naming the field otherwise. */
export function checkCorruption(c: Corruption): Corruption {
  const bad = (field: string, v: unknown, range: string): never => {
    throw new InvalidArgumentError(`corruption ${c.kind}: ${field} must be ${range}, got ${JSON.stringify(v)}`);
  };
  if (c.kind === "gaussian" && !(Number.isFinite(c.sigma) && c.sigma >= 0)) bad("sigma", c.sigma, "a number >= 0");
  else if (c.kind === "saltAndPepper" && !(Number.isFinite(c.amount) && c.amount >= 0 && c.amount <= 1)) bad("amount", c.amount, "a number in [0, 1]");
  else if (!["none", "gaussian", "saltAndPepper"].includes(c.kind))
    throw new InvalidArgumentError(`unknown corruption ${JSON.stringify((c as { kind: unknown }).kind)} (expected none, gaussian or saltAndPepper)`);
  return c;
}

/** A short label: "clean", "gaussian 0.5", "salt & pepper 0.1". */
export function corruptionLabel(c: Corruption): string {
  if (c.kind === "gaussian") return c.sigma === 0 ? "clean" : `gaussian ${c.sigma}`;
  if (c.kind === "saltAndPepper") return `salt & pepper ${c.amount}`;
  return "clean";
}

/** Corrupts `values` in place with draws from `random`. */
export function corrupt(values: Float32Array, c: Corruption, random: Random): void {
  checkCorruption(c);
  if (c.kind === "gaussian" && c.sigma > 0)
    for (let i = 0; i < values.length; i++) values[i] = Math.min(1, Math.max(0, values[i] + c.sigma * random.normal()));
  else if (c.kind === "saltAndPepper")
    for (let i = 0; i < values.length; i++) if (random.next() < c.amount) values[i] = random.next() < 0.5 ? 0 : 1;
}

/** A corrupted copy of the dataset (labels shared); the same seed gives the same noise. */
export function corruptedDataset(ds: Dataset, c: Corruption, seed: number): Dataset {
  const features = Float32Array.from(ds.features);
  corrupt(features, c, new Random(seed));
  return makeDataset(`${ds.name} (${corruptionLabel(c)})`, features, ds.labels, ds.featureShape, ds.numClasses);
}
