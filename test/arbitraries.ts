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

import type { GroupActivation, PCGraphSpec } from "../src/pc/graph/topology.js";

/** A random PC graph: 1-4 groups of 1-5 units, random edges (cycles, both directions, self edges, masks) and clamps. */
export interface RandomPCGraph {
  spec: PCGraphSpec;
  batch: number;
  seed: number;
  /** Per group: "clamped", "free", or a free mask (1 = free) of B x n values. */
  freedom: ("clamped" | "free" | number[])[];
}

// Smooth activations (finite differences across a kink would be meaningless) plus
// leakyRelu, whose kink at 0 a random value almost surely misses by more than the FD step.
const smoothActivations: GroupActivation[] = ["identity", "tanh", "sigmoid", "softplus", "gelu", "leakyRelu"];

export function randomPCGraph(draw: Draw): RandomPCGraph {
  const count = draw.int(1, 4);
  const groups = Array.from({ length: count }, (_, i) => ({
    name: `g${i}`, size: draw.int(1, 5), activation: smoothActivations[draw.int(0, smoothActivations.length - 1)],
  }));
  const batch = draw.int(1, 3);
  const seedValue = draw.int(0, 1e6);
  const edges: PCGraphSpec["edges"] = [];
  for (const from of groups)
    for (const to of groups) {
      if (from === to && from.size < 2) continue;
      if (draw.int(0, 2) === 0) continue;
      const masked = draw.int(0, 3) === 0;
      let mask: number[] | undefined;
      if (masked) {
        mask = Array.from({ length: from.size * to.size }, (_, i) =>
          from === to && Math.floor(i / to.size) === i % to.size ? 0 : draw.int(0, 1));
        if (!mask.includes(1)) mask = undefined;
        else if (from !== to && !mask.includes(0)) mask = undefined;
      }
      edges.push({ from: from.name, to: to.name, ...(mask ? { mask } : {}) });
    }
  // Every group needs an edge: connect the lonely ones to the next group.
  for (const [i, g] of groups.entries())
    if (!edges.some((e) => e.from === g.name || e.to === g.name)) {
      const other = groups[(i + 1) % count];
      if (other === g) {
        if (g.size < 2) g.size = 2;
        edges.push({ from: g.name, to: g.name });
      } else edges.push({ from: g.name, to: other.name });
    }
  const freedom = groups.map((g) => {
    const kind = draw.int(0, 2);
    if (kind === 0) return "clamped" as const;
    if (kind === 1) return "free" as const;
    return Array.from({ length: batch * g.size }, () => draw.int(0, 1));
  });
  return { spec: { groups, edges }, batch, seed: seedValue, freedom };
}

export const pcGraphArbitrary = (): fc.Arbitrary<RandomPCGraph> =>
  fc.gen().map((g) => randomPCGraph({ int: (min, max) => g(fc.integer, { min, max }) }));

export function describePCGraph(drawn: RandomPCGraph): string {
  const groups = drawn.spec.groups.map((g, i) => `  ${g.name}[${g.size}] ${g.activation} ${Array.isArray(drawn.freedom[i]) ? `partial ${JSON.stringify(drawn.freedom[i])}` : drawn.freedom[i]}`);
  const edges = drawn.spec.edges.map((e) => `  ${e.from} -> ${e.to}${e.mask ? ` mask ${JSON.stringify(Array.from(e.mask))}` : ""}`);
  return `PC graph, batch ${drawn.batch}, seed ${drawn.seed}:\n${groups.join("\n")}\n${edges.join("\n")}`;
}

/**
 * A random energy-based network: input "in" (clamped), 1-2 hidden groups, output "out", one
 * undirected edge between consecutive layers, sometimes a skip edge in -> out and a lateral
 * (self) edge on the first hidden group; weights of standard deviation `weightStd`, biases in
 * [-0.2, 0.6], inputs and targets in [0, 1].
 */
export interface RandomEnergyBased {
  spec: PCGraphSpec;
  activation: "hardSigmoid" | "tanh";
  batch: number;
  seed: number;
  weightStd: number;
  describe(): string;
}

export const energyBasedArbitrary = (o: { activations?: ("hardSigmoid" | "tanh")[]; maxSize?: number; lateral?: boolean; skip?: boolean; maxBatch?: number } = {}): fc.Arbitrary<RandomEnergyBased> =>
  fc.record({
    activation: fc.constantFrom(...(o.activations ?? ["hardSigmoid", "tanh"] as const)),
    sizes: fc.array(fc.integer({ min: 1, max: o.maxSize ?? 6 }), { minLength: 3, maxLength: 4 }),
    skip: o.skip === false ? fc.constant(false) : fc.boolean(),
    lateral: o.lateral === false ? fc.constant(false) : fc.boolean(),
    batch: fc.integer({ min: 1, max: o.maxBatch ?? 3 }),
    seed,
    weightStd: fc.double({ min: 0.1, max: 0.3, noNaN: true }),
  }).map(({ activation, sizes, skip, lateral, batch, seed: seedValue, weightStd }) => {
    const names = sizes.map((_, i) => (i === 0 ? "in" : i === sizes.length - 1 ? "out" : `h${i}`));
    const groups = sizes.map((size, i) => ({ name: names[i], size: i === 1 && lateral ? Math.max(size, 2) : size, activation }));
    const edges: PCGraphSpec["edges"] = names.slice(1).map((to, i) => ({ from: names[i], to }));
    if (skip) edges.push({ from: "in", to: "out" });
    if (lateral) edges.push({ from: names[1], to: names[1] });
    const spec = { groups, edges };
    return {
      spec, activation, batch, seed: seedValue, weightStd,
      describe: () => `energy-based network, ${activation}, batch ${batch}, seed ${seedValue}, weight std ${weightStd.toFixed(3)}: ` +
        `${groups.map((g) => `${g.name}[${g.size}]`).join(" ")}; edges ${edges.map((e) => `${e.from}-${e.to}`).join(", ")}`,
    };
  });

import type { Conv2dGeometry } from "../src/backend/kernels.js";

/** Convolution geometries with every output size >= 1: grouped, strided, padded and dilated. */
export const convGeometry = (maxBatch = 3, maxSize = 11): fc.Arbitrary<Conv2dGeometry> =>
  fc
    .record({
      batch: fc.integer({ min: 1, max: maxBatch }),
      groups: fc.integer({ min: 1, max: 3 }),
      inPerGroup: fc.integer({ min: 1, max: 3 }),
      // 4..9 output channels per group reach the 4-row SIMD tiles and their remainders.
      outPerGroup: fc.oneof(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 4, max: 9 })),
      inHeight: awkwardSize(maxSize),
      inWidth: awkwardSize(2 * maxSize),
      kernelHeight: fc.integer({ min: 1, max: 4 }),
      kernelWidth: fc.integer({ min: 1, max: 4 }),
      strideHeight: fc.oneof(fc.constant(1), fc.integer({ min: 1, max: 3 })),
      strideWidth: fc.oneof(fc.constant(1), fc.integer({ min: 1, max: 3 })),
      padHeight: fc.integer({ min: 0, max: 2 }),
      padWidth: fc.integer({ min: 0, max: 2 }),
      dilationHeight: fc.integer({ min: 1, max: 2 }),
      dilationWidth: fc.integer({ min: 1, max: 2 }),
    })
    .map((r) => ({
      batch: r.batch,
      inChannels: r.groups * r.inPerGroup,
      outChannels: r.groups * r.outPerGroup,
      groups: r.groups,
      inHeight: Math.max(r.inHeight, r.dilationHeight * (r.kernelHeight - 1) + 1 - 2 * r.padHeight),
      inWidth: Math.max(r.inWidth, r.dilationWidth * (r.kernelWidth - 1) + 1 - 2 * r.padWidth),
      kernelHeight: r.kernelHeight,
      kernelWidth: r.kernelWidth,
      strideHeight: r.strideHeight,
      strideWidth: r.strideWidth,
      padHeight: r.padHeight,
      padWidth: r.padWidth,
      dilationHeight: r.dilationHeight,
      dilationWidth: r.dilationWidth,
    }));
