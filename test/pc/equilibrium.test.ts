// Properties of energy-based learning (docs/energy-based.md) on random small networks in
// float64, against oracles written independently of the code they check:
// - a Hopfield energy and its gradient written here (plain loops), checked by central
//   differences, against the energy term's value, value gradient and parameter gradient;
// - src/reference/equilibrium.ts (its own fixed-point solver and implicit differentiation),
//   checked here against central differences of the equilibrium loss;
// - a float64 backprop written here, and the project's reference backprop, for nudged PC.
// Then: relaxation descends the energy, the free fixed point has dE/dx = 0, EqProp's error
// falls as beta (one-sided) and beta^2 (symmetric), CHL's full clamp does not converge while
// its nudged clamp converges to its own limit, nudged PC converges to BP.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import fc from "fast-check";
import { GraphBuilder } from "../../src/graph/builder.js";
import { pcGradients } from "../../src/pc/engine.js";
import { Energy, PredictionErrors } from "../../src/pc/graph/energy.js";
import { equilibriumGradient, type EquilibriumOptions } from "../../src/pc/graph/equilibrium.js";
import { HopfieldEnergy } from "../../src/pc/graph/hopfield.js";
import { initializeValues } from "../../src/pc/graph/init.js";
import { PCGraphModel } from "../../src/pc/graph/model.js";
import { NudgedLoss } from "../../src/pc/graph/nudge.js";
import { evaluate, relax } from "../../src/pc/graph/relax.js";
import { gradientBuffers } from "../../src/pc/graph/schedules.js";
import { PCGraphState } from "../../src/pc/graph/state.js";
import type { PCGraphSpec } from "../../src/pc/graph/topology.js";
import { randomBatch } from "../../src/pc/random-graph.js";
import { backprop } from "../../src/reference/backprop.js";
import { clampedResponseReference, equilibriumReference, type EquilibriumProblem } from "../../src/reference/equilibrium.js";
import { Random } from "../../src/random.js";
import type { Tensor } from "../../src/tensor.js";
import { energyBasedArbitrary, randomArray, type RandomEnergyBased } from "../arbitraries.js";
import { leakFree } from "../util/leaks.js";

const eq = suite("energy-based learning");

// ---- a float64 Hopfield energy written for the test ------------------------------------------

type Values = Record<string, Float64Array>;

function rho(activation: string, x: number): number {
  if (activation === "hardSigmoid") return Math.min(Math.max(x, 0), 1);
  if (activation === "tanh") return Math.tanh(x);
  if (activation === "sigmoid") return 1 / (1 + Math.exp(-x));
  return x;
}

function rhoSlope(activation: string, x: number): number {
  if (activation === "hardSigmoid") return x >= 0 && x <= 1 ? 1 : 0;
  if (activation === "tanh") return 1 - Math.tanh(x) ** 2;
  if (activation === "sigmoid") return rho("sigmoid", x) * (1 - rho("sigmoid", x));
  return 1;
}

/**
 * The weight a_g = gain^-(levels below the output) of each group of a drawn layered network
 * ("in", "h1", ..., "out" in order, one level each); all 1 at gain 1.
 */
function levelWeightsOf(spec: PCGraphSpec, gain: number): Map<string, number> {
  return new Map(spec.groups.map((g, i) => [g.name, gain ** -(spec.groups.length - 1 - i)]));
}

/**
 * E_g = sum a_g (1/2 sum x^2 - sum b rho) - sum_edges a_to rho_s W rho_t (self edges 1/2) + beta 1/2 |x_out - y|^2,
 * summed over the batch (a_g = 1 without level weights: the Hopfield energy).
 */
function testEnergy(spec: PCGraphSpec, weights: Map<string, ArrayLike<number>>, v: Values, batch: number, beta = 0, target?: ArrayLike<number>,
  level: Map<string, number> = levelWeightsOf(spec, 1)): number {
  const act = new Map(spec.groups.map((g) => [g.name, g.activation ?? "identity"]));
  const size = new Map(spec.groups.map((g) => [g.name, g.size]));
  let e = 0;
  for (const g of spec.groups) {
    const b = weights.get(`${g.name}.bias`);
    for (let s = 0; s < batch; s++)
      for (let i = 0; i < g.size; i++) {
        const x = v[g.name][s * g.size + i];
        e += level.get(g.name)! * (0.5 * x * x - (b ? b[i] * rho(act.get(g.name)!, x) : 0));
      }
  }
  for (const edge of spec.edges) {
    const w = weights.get(`${edge.from}->${edge.to}.weight`)!;
    const n = size.get(edge.from)!;
    const m = size.get(edge.to)!;
    const half = (edge.from === edge.to ? 0.5 : 1) * level.get(edge.to)!;
    for (let s = 0; s < batch; s++)
      for (let p = 0; p < n; p++)
        for (let q = 0; q < m; q++)
          e -= half * rho(act.get(edge.from)!, v[edge.from][s * n + p]) * w[p * m + q] * rho(act.get(edge.to)!, v[edge.to][s * m + q]);
  }
  if (beta !== 0 && target) for (let i = 0; i < target.length; i++) e += 0.5 * beta * (v.out[i] - target[i]) ** 2;
  return e;
}

/** dE/dX of every group (plain loops): X - rho'(X) (b + sum of the couplings' drives) + beta (X_out - Y). */
function testGradient(spec: PCGraphSpec, weights: Map<string, ArrayLike<number>>, v: Values, batch: number, beta = 0, target?: ArrayLike<number>): Values {
  const act = new Map(spec.groups.map((g) => [g.name, g.activation ?? "identity"]));
  const size = new Map(spec.groups.map((g) => [g.name, g.size]));
  const drive: Values = {};
  for (const g of spec.groups) {
    const b = weights.get(`${g.name}.bias`);
    drive[g.name] = new Float64Array(batch * g.size);
    if (b) for (let s = 0; s < batch; s++) for (let i = 0; i < g.size; i++) drive[g.name][s * g.size + i] = b[i];
  }
  for (const edge of spec.edges) {
    const w = weights.get(`${edge.from}->${edge.to}.weight`)!;
    const n = size.get(edge.from)!;
    const m = size.get(edge.to)!;
    const half = edge.from === edge.to ? 0.5 : 1;
    for (let s = 0; s < batch; s++)
      for (let p = 0; p < n; p++)
        for (let q = 0; q < m; q++) {
          drive[edge.to][s * m + q] += half * rho(act.get(edge.from)!, v[edge.from][s * n + p]) * w[p * m + q];
          drive[edge.from][s * n + p] += half * w[p * m + q] * rho(act.get(edge.to)!, v[edge.to][s * m + q]);
        }
  }
  const out: Values = {};
  for (const g of spec.groups) {
    out[g.name] = v[g.name].map((x, i) => x - rhoSlope(act.get(g.name)!, x) * drive[g.name][i]);
    if (g.name === "out" && beta !== 0 && target) for (let i = 0; i < target.length; i++) out.out[i] += beta * (v.out[i] - target[i]);
  }
  return out;
}

// ---- setting up the library and the reference on the same network ----------------------------

interface Built {
  model: PCGraphModel;
  energy: Energy;
  nudge: NudgedLoss;
  state: PCGraphState;
  x: Float64Array;
  y: Float64Array;
  problem: EquilibriumProblem;
  /** Loads the batch: input clamped, others free from zeros, the target set. */
  load(): void;
  dispose(): void;
}

const unit = (length: number, seedValue: number) => randomArray(length, seedValue).map((v) => 0.5 * (v + 1));

function build(drawn: RandomEnergyBased, backend: "reference-f64" | "wasm-simd" = "reference-f64", feedbackGain = 1): Built {
  const model = new PCGraphModel(drawn.spec, { backend, seed: drawn.seed, weightInit: { kind: "normal", std: drawn.weightStd } });
  const random = new Random(drawn.seed + 1);
  const updates = new Map<string, Float64Array>();
  for (const p of model.parameters) if (p.name.endsWith(".bias")) updates.set(p.name, Float64Array.from({ length: p.size }, () => random.uniform(-0.2, 0.6)));
  for (const e of model.edges)
    if (e.from === e.to) {
      const n = e.from.size;
      const w = Float64Array.from(model.weight(e).dataSync());
      for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) w[i * n + j] = w[j * n + i];
      updates.set(e.weightName, w);
    }
  model.setWeights(updates, { partial: true });
  const nudge = new NudgedLoss(model, "out");
  const energy = new Energy([new HopfieldEnergy(model, { feedbackGain }), nudge]);
  const state = new PCGraphState(model, drawn.batch);
  const input = model.group("in");
  const x = unit(drawn.batch * input.size, drawn.seed + 2);
  const y = unit(drawn.batch * model.group("out").size, drawn.seed + 3);
  const load = () => {
    state.values[input.index].assign(x);
    state.valuesChanged(input);
    for (const g of model.groups) state.setFreedom(g, g === input ? "clamped" : "free");
    initializeValues(state, energy, "zeros");
    nudge.setTarget(state, y);
  };
  load();
  return {
    model, energy, nudge, state, x, y, load,
    problem: { topology: model.topology, weights: model.getWeights(), batch: drawn.batch, clamped: { in: x }, output: "out", target: y, feedbackGain },
    dispose: () => {
      state.dispose();
      model.dispose();
    },
  };
}

const read = (s: Built): Values => Object.fromEntries(s.model.groups.map((g) => [g.name, Float64Array.from(s.state.values[g.index].dataSync())]));

/** Parameters in model order as one vector. */
function flatten(model: PCGraphModel, gradients: Map<string, Tensor | Float64Array>): Float64Array {
  const out: number[] = [];
  for (const p of model.parameters) {
    const g = gradients.get(p.name)!;
    out.push(...(g instanceof Float64Array ? g : g.dataSync()));
  }
  return Float64Array.from(out);
}

function norm(a: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i] * a[i];
  return Math.sqrt(sum);
}
const relativeError = (a: Float64Array, b: Float64Array) => norm(a.map((v, i) => v - b[i])) / norm(b);

/** Least-squares slope of log10(error) against log10(beta). */
function slope(betas: number[], errors: number[]): number {
  const lx = betas.map(Math.log10);
  const ly = errors.map(Math.log10);
  const mx = lx.reduce((a, b) => a + b) / lx.length;
  const my = ly.reduce((a, b) => a + b) / ly.length;
  return lx.reduce((s, x, i) => s + (x - mx) * (ly[i] - my), 0) / lx.reduce((s, x) => s + (x - mx) ** 2, 0);
}

// The fixed points are solved tightly: the one-sided error at beta 1e-4 is ~1e-4 relative,
// the symmetric one ~1e-8, so a fixed point off by r costs ~r / beta; r <= 1e-14 keeps that
// below 1e-9 of the gradient (docs/energy-based.md, precision).
const tight = { steps: 50000, gamma: 0.5, tolerance: 1e-15 };
const betas = [1e-1, 1e-2, 1e-3, 1e-4];

function estimate(s: Built, o: Omit<EquilibriumOptions, "free" | "second">): Float64Array {
  s.load();
  const gradients = gradientBuffers(s.model);
  try {
    const result = equilibriumGradient(s.state, s.energy, gradients, { ...o, free: tight, second: tight, nonConvergence: "ignore" });
    for (const p of result.phases)
      if (p.residual > 1e-13) throw new Error(`the ${p.phase} phase stopped at residual ${p.residual} (${p.steps} steps): not tight enough for the slope`);
    return flatten(s.model, gradients);
  } finally {
    for (const g of gradients.values()) g.dispose();
  }
}

/** A network whose free fixed point is a strict minimum away from the kinks, with a gradient to measure. */
function wellPosed(s: Built): { gradient: Float64Array; loss: number } | null {
  const ref = equilibriumReference(s.problem, { curvature: true });
  const gradient = flatten(s.model, ref.gradients);
  if (ref.margin < 1e-3 || (ref.curvature ?? 0) < 0.05 || norm(gradient) < 1e-6 || ref.residual > 1e-13) return null;
  return { gradient, loss: ref.loss };
}

// ---- the energy term against the energy written here ---------------------------------------------

// Tolerance: central differences with h = 1e-6 of an energy of size O(10) err by ~h^2 |E'''|
// plus rounding ~1e-16 |E| / h ~ 1e-9; 1e-6 (1 + |g|) leaves a wide margin over both (with a
// feedback gain >= 0.2 the level weights stay below 125, and the tolerance scales with them).
eq("the Hopfield term's energy, step direction (projected in the box; dE/dX over the level weight with a feedback gain) and parameter gradient equal an energy written here and its central differences", leakFree(() => {
  fc.assert(
    fc.property(energyBasedArbitrary(), fc.double({ min: 0, max: 1, noNaN: true }), fc.oneof(fc.constant(1), fc.double({ min: 0.2, max: 1, noNaN: true })), (drawn, beta, drawnGain) => {
      // a feedback gain needs a layered network: no skip edge
      const gain = drawn.spec.edges.some((e) => e.from === "in" && e.to === "out") ? 1 : drawnGain;
      const level = levelWeightsOf(drawn.spec, gain);
      const s = build(drawn, "reference-f64", gain);
      try {
        // Values of the free groups inside the box (away from the kinks of the hard sigmoid).
        const values = read(s);
        s.model.groups.forEach((g, i) => {
          if (g.name === "in") return;
          values[g.name] = randomArray(drawn.batch * g.size, drawn.seed + 10 + i).map((v) => 0.5 + 0.4 * v);
          s.state.values[g.index].assign(values[g.name]);
          s.state.valuesChanged(g);
        });
        s.nudge.beta = beta;
        evaluate(s.state, s.energy, true);
        const weights = s.model.getWeights();
        const value = s.energy.value(s.state);
        const expected = testEnergy(drawn.spec, weights, values, drawn.batch, beta, s.y, level);
        if (Math.abs(value - expected) > 1e-10 * (1 + Math.abs(expected))) throw new Error(`energy ${value} != ${expected} (gain ${gain}) on ${drawn.describe()}`);
        const h = 1e-6;
        for (const g of s.model.groups) {
          if (g.name === "in") continue;
          const grad = s.state.gradient(g).dataSync();
          for (let i = 0; i < grad.length; i++) {
            const plus = { ...values, [g.name]: values[g.name].slice() };
            const minus = { ...values, [g.name]: values[g.name].slice() };
            plus[g.name][i] += h;
            minus[g.name][i] -= h;
            const a = level.get(g.name)!;
            const fd = (testEnergy(drawn.spec, weights, plus, drawn.batch, beta, s.y, level) - testEnergy(drawn.spec, weights, minus, drawn.batch, beta, s.y, level)) / (2 * h);
            const x = values[g.name][i];
            const want = drawn.activation === "hardSigmoid" ? x - Math.min(Math.max(x - fd / a, 0), 1) : fd / a;
            if (Math.abs(grad[i] - want) > 1e-6 * (1 + Math.abs(want)))
              throw new Error(`the step direction of ${g.name}[${i}] is ${grad[i]}, central differences say ${want} (gain ${gain}) on ${drawn.describe()}`);
          }
        }
        s.nudge.beta = 0;
        const gradients = gradientBuffers(s.model);
        try {
          evaluate(s.state, s.energy, false);
          s.energy.parameterGradient(s.state, gradients, 1);
          for (const p of s.model.parameters) {
            const got = gradients.get(p.name)!.dataSync();
            for (let i = 0; i < p.size; i++) {
              const plus = new Map(weights);
              const minus = new Map(weights);
              plus.set(p.name, weights.get(p.name)!.slice());
              minus.set(p.name, weights.get(p.name)!.slice());
              plus.get(p.name)![i] += h;
              minus.get(p.name)![i] -= h;
              const fd = (testEnergy(drawn.spec, plus, values, drawn.batch, 0, undefined, level) - testEnergy(drawn.spec, minus, values, drawn.batch, 0, undefined, level)) / (2 * h);
              const edge = s.model.edges.find((e) => e.weightName === p.name);
              const want = edge?.mask && edge.mask[i] === 0 ? 0 : fd;
              if (Math.abs(got[i] - want) > 1e-6 * (1 + Math.abs(want)))
                throw new Error(`dE/d${p.name}[${i}] is ${got[i]}, central differences say ${want} (gain ${gain}) on ${drawn.describe()}`);
            }
          }
        } finally {
          for (const g of gradients.values()) g.dispose();
        }
      } finally {
        s.dispose();
      }
    }),
    { numRuns: 25, includeErrorInReport: true },
  );
}));

// Tolerance: a projected gradient step of gamma <= 1 / L cannot raise the energy (descent lemma
// for the projected gradient); 1e-12 (1 + |F|) absorbs the rounding of F itself.
eq("relaxation never raises the energy for a small step, free or nudged, hard sigmoid (in its box) or tanh", leakFree(() => {
  fc.assert(
    fc.property(energyBasedArbitrary(), fc.constantFrom(0, 0.5, 2), (drawn, beta) => {
      const s = build(drawn);
      try {
        s.nudge.beta = beta;
        const energies: number[] = [];
        const result = relax(s.state, s.energy, { steps: 60, gamma: 0.2, onStep: (e) => energies.push(e.energy) });
        for (let t = 1; t < energies.length; t++)
          if (energies[t] > energies[t - 1] + 1e-12 * (1 + Math.abs(energies[t - 1])))
            throw new Error(`the energy rose at step ${t}: ${energies[t - 1]} -> ${energies[t]} (beta ${beta}) on ${drawn.describe()}`);
        assert.ok(result.energy <= energies[0]);
        if (drawn.activation === "hardSigmoid")
          for (const g of s.model.groups) for (const v of s.state.values[g.index].dataSync()) assert.ok(v >= 0 && v <= 1, `${g.name} left the box: ${v}`);
      } finally {
        s.nudge.beta = 0;
        s.dispose();
      }
    }),
    { numRuns: 40, includeErrorInReport: true },
  );
}));

eq("a step above the curvature can raise the energy (the property above has teeth)", leakFree(() => {
  const drawn = fc.sample(energyBasedArbitrary({ activations: ["tanh"], lateral: false }), { numRuns: 1, seed: 7 })[0];
  const s = build({ ...drawn, weightStd: 1.5 });
  try {
    const energies: number[] = [];
    relax(s.state, s.energy, { steps: 20, gamma: 2.5, onStep: (e) => energies.push(e.energy) });
    assert.ok(energies.some((e, t) => t > 0 && e > energies[t - 1]), `energies ${energies.map((e) => e.toFixed(3)).join(", ")}`);
  } finally {
    s.dispose();
  }
}));

// Tolerance: the relaxation stops at a residual of 1e-15; the gradient written here, evaluated
// at those values, is then ~1e-15 (RMS), so 1e-12 per unit is a margin of 1000; the fixed point
// is unique near a strict minimum, so the reference's agrees to ~residual / curvature.
eq("the free fixed point satisfies dE/dX = 0 (projected onto the box) and is the reference's fixed point", leakFree(() => {
  let checked = 0;
  fc.assert(
    fc.property(energyBasedArbitrary(), (drawn) => {
      const s = build(drawn);
      try {
        const ref = equilibriumReference(s.problem, { curvature: true });
        fc.pre((ref.curvature ?? 0) > 0.05);
        const result = relax(s.state, s.energy, tight);
        assert.ok(result.converged, `relaxation converged (residual ${result.residual})`);
        const values = read(s);
        const grad = testGradient(drawn.spec, s.model.getWeights(), values, drawn.batch);
        for (const g of s.model.groups) {
          if (g.name === "in") continue;
          values[g.name].forEach((x, i) => {
            const projected = drawn.activation === "hardSigmoid" ? x - Math.min(Math.max(x - grad[g.name][i], 0), 1) : grad[g.name][i];
            if (Math.abs(projected) > 1e-12) throw new Error(`dE/dX of ${g.name}[${i}] is ${projected} at the fixed point on ${drawn.describe()}`);
            const other = ref.fixedPoint[g.name][i];
            if (Math.abs(x - other) > 1e-9) throw new Error(`${g.name}[${i}] is ${x}, the reference's fixed point ${other} on ${drawn.describe()}`);
          });
        }
        checked++;
      } finally {
        s.dispose();
      }
    }),
    { numRuns: 30, includeErrorInReport: true },
  );
  assert.ok(checked >= 20, `${checked} networks checked`);
}));

// ---- the oracle against central differences of the equilibrium loss --------------------------

// Tolerance: the loss is re-solved to ~1e-15 per evaluation; with h = 1e-6 central
// differences err by ~1e-15 / 1e-6 + h^2 |L'''| ~ 1e-9; 1e-6 (1 + |g|) is a margin of 1000.
eq("the reference equilibrium gradient (implicit differentiation) equals central differences of the loss at the re-solved fixed point, with symmetric or weak feedback", leakFree(() => {
  fc.assert(
    fc.property(energyBasedArbitrary({ maxSize: 4 }), fc.oneof(fc.constant(1), fc.double({ min: 0.05, max: 1, noNaN: true })), (drawn, drawnGain) => {
      const gain = drawn.spec.edges.some((e) => e.from === "in" && e.to === "out") ? 1 : drawnGain;
      const s = build(drawn, "reference-f64", gain);
      try {
        const ref = equilibriumReference(s.problem, { curvature: true });
        fc.pre(ref.margin > 1e-3 && (ref.curvature ?? 0) > 0.05);
        const h = 1e-6;
        for (const [name, values] of s.problem.weights) {
          const grad = ref.gradients.get(name)!;
          for (let i = 0; i < values.length; i++) {
            const at = (delta: number) => {
              const weights = new Map(s.problem.weights);
              const w = Float64Array.from(values);
              w[i] += delta;
              // a lateral weight is one coupling: its mirror moves with it
              const edge = s.model.edges.find((e) => e.weightName === name);
              if (edge && edge.from === edge.to) {
                const n = edge.from.size;
                w[(i % n) * n + Math.floor(i / n)] = w[i];
              }
              weights.set(name, w);
              return equilibriumReference({ ...s.problem, weights }, { start: ref.fixedPoint }).loss;
            };
            const edge = s.model.edges.find((e) => e.weightName === name);
            if (edge?.mask && edge.mask[i] === 0) continue;
            const lateral = edge && edge.from === edge.to;
            const fd = (at(h) - at(-h)) / (2 * h);
            // moving W[i,j] and W[j,i] together changes L by the sum of both entries' gradients
            const n = edge?.from.size ?? 0;
            const want = lateral ? grad[i] + grad[(i % n) * n + Math.floor(i / n)] : grad[i];
            if (Math.abs(fd - want) > 1e-6 * (1 + Math.abs(fd)))
              throw new Error(`dL/d${name}[${i}]: implicit differentiation ${want}, central differences ${fd} (feedback gain ${gain}) on ${drawn.describe()}`);
          }
        }
      } finally {
        s.dispose();
      }
    }),
    { numRuns: 15, includeErrorInReport: true },
  );
}));

// ---- the convergence rates ---------------------------------------------------------------------

interface Rates {
  oneSided: number[];
  symmetric: number[];
}

const measuredRates: { drawn: string; rates: Rates }[] = [];

// Tolerance: a fit over beta 1e-1..1e-4 is pulled by the largest beta, where the fixed point
// may leave its set of units held at a bound (the error is then larger than its O(beta) law);
// the slopes must still be "about 1" [0.85, 1.35] and "about 2" [1.75, 2.6], and over the
// last decade (1e-3 to 1e-4), where nothing changes, 1 +- 0.05 and 2 +- 0.05.
eq("EqProp's one-sided estimate converges to the equilibrium gradient as beta (slope ~1), the symmetric one as beta^2 (slope ~2)", leakFree(() => {
  fc.assert(
    fc.property(energyBasedArbitrary({ maxSize: 5 }), (drawn) => {
      const s = build(drawn);
      try {
        const posed = wellPosed(s);
        fc.pre(posed !== null);
        const rates: Rates = { oneSided: [], symmetric: [] };
        for (const beta of betas) {
          rates.oneSided.push(relativeError(estimate(s, { algorithm: "eqprop", nudging: "one-sided", beta }), posed!.gradient));
          rates.symmetric.push(relativeError(estimate(s, { algorithm: "eqprop", nudging: "symmetric", beta }), posed!.gradient));
        }
        measuredRates.push({ drawn: drawn.describe(), rates });
        const fit1 = slope(betas, rates.oneSided);
        const fit2 = slope(betas, rates.symmetric);
        const tail1 = Math.log10(rates.oneSided[2] / rates.oneSided[3]);
        const tail2 = Math.log10(rates.symmetric[2] / rates.symmetric[3]);
        const report = `one-sided ${rates.oneSided.map((e) => e.toExponential(2)).join(" ")} (slope ${fit1.toFixed(3)}, last decade ${tail1.toFixed(3)}); ` +
          `symmetric ${rates.symmetric.map((e) => e.toExponential(2)).join(" ")} (slope ${fit2.toFixed(3)}, last decade ${tail2.toFixed(3)}) on ${drawn.describe()}`;
        if (!(fit1 > 0.85 && fit1 < 1.35 && Math.abs(tail1 - 1) < 0.05)) throw new Error(`one-sided rate off: ${report}`);
        if (!(fit2 > 1.75 && fit2 < 2.6 && Math.abs(tail2 - 2) < 0.05)) throw new Error(`symmetric rate off: ${report}`);
      } finally {
        s.dispose();
      }
    }),
    { numRuns: 8, includeErrorInReport: true },
  );
  const median = (xs: number[]) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const fits = measuredRates.map((m) => [slope(betas, m.rates.oneSided), slope(betas, m.rates.symmetric)]);
  console.log(`  EqProp slopes over beta 1e-1..1e-4 (median of ${fits.length} networks): one-sided ${median(fits.map((f) => f[0])).toFixed(2)}, symmetric ${median(fits.map((f) => f[1])).toFixed(2)}`);
}));

// Tolerance: as above for the nudged clamp's own limit (slope 1 +- 0.05 over the last
// decade). The negative control: the full clamp is off the gradient by more than 10% on most
// networks (it descends E(clamped) - E(free), not the loss), and the nudged clamp's limit is
// off it too (by the inverse Schur complement of the output block), so neither converges to
// the gradient, while EqProp (above) does.
eq("CHL: the full clamp does not converge to the equilibrium gradient (negative control); the nudged clamp converges as beta, to the clamped response", leakFree(() => {
  const networks = fc.sample(energyBasedArbitrary({ maxSize: 5 }), { numRuns: 40, seed: 12 });
  const full: number[] = [];
  const limitGap: number[] = [];
  let used = 0;
  for (const drawn of networks) {
    if (used === 8) break;
    const s = build(drawn);
    try {
      const posed = wellPosed(s);
      if (!posed) continue;
      used++;
      full.push(relativeError(estimate(s, { algorithm: "chl", clamp: "full" }), posed.gradient));
      const limit = flatten(s.model, clampedResponseReference(s.problem));
      const errors = betas.map((beta) => relativeError(estimate(s, { algorithm: "chl", clamp: "nudged", beta }), limit));
      const tail = Math.log10(errors[2] / errors[3]);
      assert.ok(Math.abs(tail - 1) < 0.05 && errors[3] < 1e-3, `nudged CHL converges to its limit as beta: ${errors.map((e) => e.toExponential(2)).join(" ")} on ${drawn.describe()}`);
      limitGap.push(relativeError(limit, posed.gradient));
    } finally {
      s.dispose();
    }
  }
  assert.is(used, 8, "enough well-posed networks");
  const median = (xs: number[]) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  console.log(`  CHL relative error to the equilibrium gradient (median of ${used}): full clamp ${median(full).toExponential(2)}, nudged clamp's limit ${median(limitGap).toExponential(2)}`);
  assert.ok(full.filter((e) => e > 0.1).length >= 6, `the full clamp is off the gradient: ${full.map((e) => e.toExponential(2)).join(" ")}`);
  assert.ok(limitGap.filter((e) => e > 0.01).length >= 6, `the nudged clamp's limit is off the gradient: ${limitGap.map((e) => e.toExponential(2)).join(" ")}`);
}));

// ---- weak feedback: where CHL's limit meets the gradient ------------------------------------------

/** CHL's nudged-clamp limit as beta -> 0 from two estimates, 2 G(beta) - G(2 beta) (Richardson: error O(beta^2)). */
function chlLimit(s: Built, beta: number): Float64Array {
  const once = estimate(s, { algorithm: "chl", clamp: "nudged", beta });
  const twice = estimate(s, { algorithm: "chl", clamp: "nudged", beta: 2 * beta });
  return once.map((v, i) => 2 * v - twice[i]);
}

// The derivation (docs/energy-based.md, "Why CHL's nudged clamp misses the gradient"): on a
// chain in -> h -> out of single hard-sigmoid units inside the box, the clamp moves the output
// by beta (Y - X_out) where the free response is that over the Schur complement
// S = 1 - g w^2 (w the h -> out weight, g the feedback gain), so every entry of CHL's limit is
// (1 - g w^2) times the gradient. Tolerance: the limit is extrapolated to O(beta^2) ~ 1e-8
// and each phase solved to 1e-15 (over beta 1e-4: ~1e-11 x the level weight 1/g <= 10);
// 1e-6 relative is a margin of 100.
eq("on a chain, CHL's nudged-clamp limit is (1 - g w^2) times the equilibrium gradient: the Schur complement of the output block, exactly", leakFree(() => {
  let checked = 0;
  fc.assert(
    fc.property(
      fc.double({ min: -1.2, max: 1.2, noNaN: true }), fc.double({ min: -0.9, max: 0.9, noNaN: true }), fc.double({ min: 0.2, max: 0.5, noNaN: true }),
      fc.double({ min: 0.2, max: 0.5, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 0.1, max: 1, noNaN: true }),
      (inWeight, outWeight, hiddenBias, outBias, target, gain) => {
        const drawn: RandomEnergyBased = {
          spec: { groups: ["in", "h1", "out"].map((name) => ({ name, size: 1, activation: "hardSigmoid" as const })), edges: [{ from: "in", to: "h1" }, { from: "h1", to: "out" }] },
          activation: "hardSigmoid", batch: 1, seed: 1, weightStd: 0.1, describe: () => "chain",
        };
        const s = build(drawn, "reference-f64", gain);
        try {
          s.model.setWeights(new Map([["in->h1.weight", [inWeight]], ["h1->out.weight", [outWeight]], ["h1.bias", [hiddenBias]], ["out.bias", [outBias]]]), { partial: true });
          s.y[0] = target;
          const problem = { ...s.problem, weights: s.model.getWeights(), target: s.y };
          const ref = equilibriumReference(problem);
          // inside the box, away from its bounds, with an error to learn from
          fc.pre(ref.margin > 0.02 && Math.abs(ref.fixedPoint.out[0] - target) > 0.05);
          const gradient = flatten(s.model, ref.gradients);
          const limit = chlLimit(s, 1e-4);
          const factor = 1 - gain * outWeight * outWeight;
          const expected = gradient.map((v) => factor * v);
          const error = relativeError(limit, expected);
          if (!(error < 1e-6))
            throw new Error(`CHL's limit ${Array.from(limit, (v) => v.toExponential(4)).join(" ")} vs (1 - g w^2) x gradient ${Array.from(expected, (v) => v.toExponential(4)).join(" ")}: relative error ${error.toExponential(2)} (g ${gain}, w ${outWeight})`);
          checked++;
        } finally {
          s.dispose();
        }
      }),
    { numRuns: 20, includeErrorInReport: true },
  );
  assert.ok(checked >= 10, `${checked} chains checked`);
}));

const gains = [1, 0.1, 0.01];
const weakFeedback: { drawn: string; chl: number[]; full: number[] }[] = [];

// Weak feedback (Xie & Seung 2003; docs/energy-based.md): with the top-down drive scaled by g,
// the output block's Schur complement is S = 1 - g M + O(g^2) on outputs inside the box, so
// CHL's nudged-clamp limit is off the equilibrium gradient by O(g): slope 1 in g. The oracle is
// the reference's gradient of the gained dynamics (no energy: J^{-T} of its own residual); that
// EqProp on the level-weighted energy matches it at every g shows the energy is the dynamics'.
// Tolerance: the limit is extrapolated (O(beta^2) ~ 1e-8) and the fixed points solved to
// 1e-15, which costs up to ~1e-15 x 1e4 (the largest level weight) / 1e-4 ~ 1e-7 of the gradient
// at g = 0.01, against a gap of ~1e-2 x the gap at g = 1: the decade 0.1 -> 0.01 must fall by
// 10^(1 +- 0.1). EqProp symmetric at beta 1e-3: O(beta^2) ~ 1e-6, within 1e-4.
eq("with weak feedback g, CHL's nudged-clamp limit approaches the equilibrium gradient as O(g) on layered hard-sigmoid networks with outputs inside the box; EqProp stays exact at every g", leakFree(() => {
  let used = 0;
  fc.assert(
    fc.property(energyBasedArbitrary({ activations: ["hardSigmoid"], maxSize: 5, skip: false }), (drawn) => {
      const errors = { chl: [] as number[], full: [] as number[] };
      for (const gain of gains) {
        const s = build(drawn, "reference-f64", gain);
        try {
          const posed = wellPosed(s);
          // every output inside the box (an output held at a bound has no gradient, but the clamp moves it)
          fc.pre(posed !== null && equilibriumReference(s.problem).fixedPoint.out.every((v) => v > 1e-3 && v < 1 - 1e-3));
          const eqprop = relativeError(estimate(s, { algorithm: "eqprop", nudging: "symmetric", beta: 1e-3 }), posed!.gradient);
          if (!(eqprop < 1e-4)) throw new Error(`EqProp on the level-weighted energy is off the gradient of the gained dynamics by ${eqprop.toExponential(2)} at g ${gain} on ${drawn.describe()}`);
          errors.chl.push(relativeError(chlLimit(s, 1e-4), posed!.gradient));
          errors.full.push(relativeError(estimate(s, { algorithm: "chl", clamp: "full" }), posed!.gradient));
        } finally {
          s.dispose();
        }
      }
      weakFeedback.push({ drawn: drawn.describe(), ...errors });
      used++;
      const decade = Math.log10(errors.chl[1] / errors.chl[2]);
      if (!(Math.abs(decade - 1) < 0.1))
        throw new Error(`CHL's limit off the gradient by ${errors.chl.map((e) => e.toExponential(2)).join(", ")} at g ${gains.join(", ")}: ` +
          `the last decade falls by 10^${decade.toFixed(3)}, not 10^1, on ${drawn.describe()}`);
    }),
    { numRuns: 6, includeErrorInReport: true },
  );
  assert.ok(used >= 6, `${used} networks measured`);
  const median = (xs: number[]) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const column = (key: "chl" | "full", i: number) => median(weakFeedback.map((w) => w[key][i])).toExponential(2);
  console.log(`  weak feedback: CHL relative error to the equilibrium gradient at g ${gains.join(", ")} (median of ${weakFeedback.length}): ` +
    `nudged clamp's limit ${gains.map((_, i) => column("chl", i)).join(", ")}; full clamp ${gains.map((_, i) => column("full", i)).join(", ")}`);
}));

// ---- nudged PC on feedforward graphs -----------------------------------------------------------

/** BP of the chain in -> h1 (tanh) -> ... -> out (identity), mu_t = f(x_s) W + b, L = 1/(2B) sum |mu_out - y|^2 (written here). */
function testBackprop(sizes: number[], weights: Map<string, ArrayLike<number>>, x: Float64Array, y: Float64Array, batch: number): Map<string, Float64Array> {
  const names = sizes.map((_, i) => (i === 0 ? "in" : i === sizes.length - 1 ? "out" : `h${i}`));
  const f = (i: number, v: number) => (i === 0 ? v : Math.tanh(v));
  const df = (i: number, v: number) => (i === 0 ? 1 : 1 - Math.tanh(v) ** 2);
  const values: Float64Array[] = [x];
  for (let l = 1; l < sizes.length; l++) {
    const w = weights.get(`${names[l - 1]}->${names[l]}.weight`)!;
    const b = weights.get(`${names[l]}.bias`)!;
    const v = new Float64Array(batch * sizes[l]);
    for (let s = 0; s < batch; s++)
      for (let q = 0; q < sizes[l]; q++) {
        let mu = b[q];
        for (let p = 0; p < sizes[l - 1]; p++) mu += f(l - 1, values[l - 1][s * sizes[l - 1] + p]) * w[p * sizes[l] + q];
        v[s * sizes[l] + q] = mu;
      }
    values.push(v);
  }
  const grads = new Map<string, Float64Array>();
  let delta = values[sizes.length - 1].map((v, i) => (v - y[i]) / batch);
  for (let l = sizes.length - 1; l >= 1; l--) {
    const w = weights.get(`${names[l - 1]}->${names[l]}.weight`)!;
    const dW = new Float64Array(sizes[l - 1] * sizes[l]);
    const db = new Float64Array(sizes[l]);
    const below = new Float64Array(batch * sizes[l - 1]);
    for (let s = 0; s < batch; s++)
      for (let q = 0; q < sizes[l]; q++) {
        const d = delta[s * sizes[l] + q];
        db[q] += d;
        for (let p = 0; p < sizes[l - 1]; p++) {
          const v = values[l - 1][s * sizes[l - 1] + p];
          dW[p * sizes[l] + q] += f(l - 1, v) * d;
          below[s * sizes[l - 1] + p] += w[p * sizes[l] + q] * d * df(l - 1, v);
        }
      }
    grads.set(`${names[l - 1]}->${names[l]}.weight`, dW);
    grads.set(`${names[l]}.bias`, db);
    delta = below;
  }
  return grads;
}

// Tolerance: nudged PC's error is O(beta) (the output moves by beta / (1 + beta) of the way to
// the target): slope over the last decade 1 +- 0.05, over all four 1 +- 0.1.
eq("nudged PC (the PC energy, output free and nudged by beta) converges to BP's gradient as beta on feedforward graphs", leakFree(() => {
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 3, maxLength: 5 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 0, max: 1e6 }), (sizes, batch, seedValue) => {
      const names = sizes.map((_, i) => (i === 0 ? "in" : i === sizes.length - 1 ? "out" : `h${i}`));
      const spec: PCGraphSpec = {
        groups: sizes.map((size, i) => ({ name: names[i], size, activation: i === 0 || i === sizes.length - 1 ? "identity" : "tanh" })),
        edges: names.slice(1).map((to, i) => ({ from: names[i], to })),
      };
      const model = new PCGraphModel(spec, { backend: "reference-f64", seed: seedValue, weightInit: { kind: "normal", std: 0.6 } });
      const nudge = new NudgedLoss(model, "out");
      const energy = new Energy([new PredictionErrors(model), nudge]);
      const state = new PCGraphState(model, batch);
      const gradients = gradientBuffers(model);
      try {
        const x = randomArray(batch * sizes[0], seedValue + 1);
        const y = randomArray(batch * sizes[sizes.length - 1], seedValue + 2);
        const bp = flatten(model, testBackprop(sizes, model.getWeights(), x, y, batch));
        fc.pre(norm(bp) > 1e-6);
        const errors = betas.map((beta) => {
          state.values[0].assign(x);
          state.valuesChanged(model.groups[0]);
          for (const g of model.groups) state.setFreedom(g, g.index === 0 ? "clamped" : "free");
          initializeValues(state, energy, "forward");
          nudge.setTarget(state, y);
          equilibriumGradient(state, energy, gradients, { algorithm: "eqprop", nudging: "one-sided", beta, free: tight, second: { ...tight, gamma: 0.2 }, nonConvergence: "error" });
          return relativeError(flatten(model, gradients), bp);
        });
        const fit = slope(betas, errors);
        const tail = Math.log10(errors[2] / errors[3]);
        if (!(Math.abs(fit - 1) < 0.1 && Math.abs(tail - 1) < 0.05))
          throw new Error(`nudged PC's error ${errors.map((e) => e.toExponential(2)).join(" ")} (slope ${fit.toFixed(3)}) on sizes ${sizes}, batch ${batch}, seed ${seedValue}`);
      } finally {
        for (const g of gradients.values()) g.dispose();
        state.dispose();
        model.dispose();
      }
    }),
    { numRuns: 10, includeErrorInReport: true },
  );
}));

// Tolerance: the IL engine relaxes until its residual is 1e-10 of the feedforward one (asserted
// reached), so its error is its O(w) law, not the relaxation's: slope 1 +- 0.1.
eq("nudged PC as the IL engine with output weight beta: its error to the reference backprop falls as beta", leakFree(() => {
  const g = new GraphBuilder();
  const x = g.input([5], "x");
  const out = g.dense(g.tanh(g.dense(g.tanh(g.dense(x, 6)), 6)), 3);
  const graph = g.build({ output: out, loss: "mse", seed: 2, backend: "reference-f64" });
  const batch = randomBatch(graph, 4, 3);
  const bp = backprop(graph, batch).gradients;
  const flatBP = Float64Array.from([...bp.values()].flatMap((t) => [...t.dataSync()]));
  try {
    const errors = betas.map((beta) => {
      const { gradients, inference } = pcGradients(graph, batch, { algorithm: "il", steps: 4000, tolerance: 1e-10, gamma: 0.2, outputWeight: beta, recordEnergy: false });
      assert.ok(inference?.converged, `IL at beta ${beta} reached its tolerance (residual ${inference?.residual} after ${inference?.steps} steps)`);
      const flat = Float64Array.from([...bp.keys()].flatMap((name) => [...gradients.get(name)!.dataSync()]));
      for (const t of gradients.values()) t.dispose();
      return relativeError(flat, flatBP);
    });
    const fit = slope(betas, errors);
    console.log(`  IL with output weight beta: relative error ${errors.map((e) => e.toExponential(2)).join(", ")} at beta ${betas.join(", ")} (slope ${fit.toFixed(3)})`);
    assert.ok(Math.abs(fit - 1) < 0.1, `slope ${fit}`);
  } finally {
    for (const t of [...bp.values(), ...Object.values(batch.inputs), batch.target]) t.dispose();
    graph.dispose();
  }
}));

eq.run();
