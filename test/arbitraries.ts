// Shared fast-check generators ("arbitraries"): sizes, values, seeds.
import fc from "fast-check";

// Properties run from a fixed seed so a run is reproducible; FC_SEED explores others.
fc.configureGlobal({ seed: Number(process.env.FC_SEED ?? 20261123) });

/** Sizes that stress vector remainders: 1, small primes, non-multiples of 4, and a few larger. */
export const awkwardSize = (max = 67): fc.Arbitrary<number> =>
  fc.oneof(
    fc.constantFrom(1, 2, 3, 4, 5, 7, 8, 11, 13, 16, 17, 31, 33).filter((n) => n <= max),
    fc.integer({ min: 1, max }),
  );

/** A float in [-range, range] without NaN or infinities (f32-representable magnitudes). */
export const finiteValue = (range = 4): fc.Arbitrary<number> =>
  fc.double({ min: -range, max: range, noNaN: true, noDefaultInfinity: true });

/** A seed for deterministic data generation inside a property. */
export const seed = fc.integer({ min: 0, max: 0x7fffffff });

/** Deterministic pseudo-random numbers (mulberry32) from a seed: bulk data without shrinking cost. */
export function randomArray(length: number, seedValue: number, range = 1): Float64Array {
  let state = seedValue >>> 0;
  const out = new Float64Array(length);
  for (let i = 0; i < length; i++) {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    const unit = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    out[i] = (unit * 2 - 1) * range;
  }
  return out;
}

import type { Draw } from "../src/pc/random-graph.js";
import { randomGraph, type RandomGraph } from "../src/pc/random-graph.js";

/** Random graphs (src/pc/random-graph.ts) under fast-check, so failures shrink. */
export const graphArbitrary = (maxDepth = 12): fc.Arbitrary<RandomGraph> =>
  fc.gen().map((g) => {
    const draw: Draw = { int: (min, max) => g(fc.integer, { min, max }) };
    return randomGraph(draw, maxDepth);
  });

/** A one-line-per-node rendering of a graph spec, for failure messages. */
export function describeGraph(drawn: RandomGraph): string {
  const nodes = drawn.spec.nodes.map((n) => `  ${n.name} = ${n.op}(${(n.inputs ?? []).join(", ")})${n.shape ? ` shape [${n.shape}]` : ""}${n.shareParamsWith ? ` shares ${JSON.stringify(n.shareParamsWith)}` : ""}`);
  return `${drawn.family} graph, batch ${drawn.batch}, seed ${drawn.seed}, loss ${drawn.spec.loss}, output ${drawn.spec.output}:\n${nodes.join("\n")}`;
}
