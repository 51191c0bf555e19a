// The reference equilibrium gradient of an energy-based network: the oracle EqProp and CHL
// are proved against (docs/energy-based.md). Plain float64 TypeScript over the topology and
// a weight map, sharing no code with the energy terms, relaxation or schedules it checks.
//
// For each sample it solves the free fixed point of the Hopfield energy
//   E(z) = 1/2 |z|^2 - b . rho(z) - sum_{s->t} rho(z_s)^T W_st rho(z_t)   (self edges: 1/2)
// over the free units z (clamped groups held at their data): projected gradient descent
// (hard-sigmoid units stay in [0, 1]), then Newton steps on the units not held at a bound,
// to a residual near float64 rounding. Then implicit differentiation (recurrent backprop):
// on the active units A, g_A(z*, theta) = 0 gives dz_A/dtheta = -H_AA^{-1} dg_A/dtheta, so with
// lambda = H_AA^{-1} dC/dz_A (H symmetric),
//   dC/dtheta = -lambda^T dg_A/dtheta = sum_i lambda_i rho'(z_i) dD_i/dtheta,
// D_i the unit's drive, C = 1/2 |z_o - y|^2. Averaged over the batch: L = mean_b C_b.
//
// With a feedback gain g (EquilibriumProblem.feedbackGain) the reference solves the network's
// dynamics directly, with no energy: r(z) = z - rho'(z) D~(z) = 0, where an edge s -> t drives t
// through W and s through g W^T, so the coupling is no longer symmetric. The same solver runs
// on r (its Jacobian J = I - diag(rho'' D~) - diag(rho') C~ diag(rho') in place of the Hessian),
// and implicit differentiation takes lambda = J_AA^{-T} dC/dz_A; a weight W[p, q] of s -> t then
// enters D~ of the unit q of t (factor 1) and of the unit p of s (factor g).
import { InvalidArgumentError } from "../backend/errors.js";
import type { Edge, Group, Topology } from "../pc/graph/topology.js";

/** A network, its weights, a batch with the clamped groups' data, and the output with its target: what the oracle differentiates. */
export interface EquilibriumProblem {
  topology: Topology;
  /** Parameters by name ("from->to.weight" [n_from x n_to] row-major, "group.bias"). */
  weights: Map<string, ArrayLike<number>>;
  batch: number;
  /** Values of the clamped groups, B x n_g each; every other group is free. */
  clamped: Record<string, ArrayLike<number>>;
  /** The output group and its target (B x n_o); C = 1/2 |z_o - y|^2 per sample. */
  output: string;
  target: ArrayLike<number>;
  /** Gain g of the top-down drive (default 1: the symmetric network of the energy above). */
  feedbackGain?: number;
}

/** How the oracle solves a fixed point: tolerance, descent steps and rate, start, nudge or clamp. */
export interface EquilibriumSolveOptions {
  /** Stop when the RMS of the projected gradient per sample is at most this (default 1e-14). */
  tolerance?: number;
  /** Projected gradient steps before Newton (default 2000, stopping at 1e-8). */
  descentSteps?: number;
  /** Step of the projected gradient descent (default 0.5). */
  gamma?: number;
  /** Starting values of the free groups (B x n_g each; default zeros). */
  start?: Record<string, ArrayLike<number>>;
  /** Nudging strength beta of an added beta C (default 0: the free phase). */
  beta?: number;
  /** Clamp the output at these values (B x n_o) instead of leaving it free (CHL's clamped phase). */
  clampOutput?: ArrayLike<number>;
  /** Also estimate the smallest eigenvalue of the Hessian (equilibriumReference only). */
  curvature?: boolean;
}

/** The oracle's answer: the loss at the free fixed point, its gradient, the fixed point and how well posed it is. */
export interface EquilibriumReference {
  /** L = mean over the batch of C at the free fixed point. */
  loss: number;
  /** dL/dtheta by parameter name. */
  gradients: Map<string, Float64Array>;
  /** The fixed point of every free group, B x n_g. */
  fixedPoint: Record<string, Float64Array>;
  /** The largest per-sample RMS of the projected gradient at the fixed point. */
  residual: number;
  /**
   * How far the fixed point is from changing its set of units held at a bound: the smallest
   * distance, over hard-sigmoid units, of the value (units that move) or of the projected step
   * X - dF/dX (units held at 0 or 1) from the bounds. Finite differences need it above their step.
   */
  margin: number;
  /**
   * With `curvature: true`: the smallest eigenvalue of the Hessian on the moving units (a minimum
   * when > 0), to +-1e-3; with a feedback gain, of the symmetric part of the Jacobian J (when
   * positive, every eigenvalue of J has a positive real part: the fixed point attracts).
   */
  curvature?: number;
}

type Rho = { f(x: number): number; d(x: number): number; dd(x: number): number; box: boolean };

function rhoOf(g: Group): Rho {
  switch (g.activation) {
    case "hardSigmoid":
      // In the box [0, 1] rho is the identity; its slope is 1 on the closed interval.
      return { f: (x) => Math.min(Math.max(x, 0), 1), d: (x) => (x >= 0 && x <= 1 ? 1 : 0), dd: () => 0, box: true };
    case "tanh":
      return { f: Math.tanh, d: (x) => 1 - Math.tanh(x) ** 2, dd: (x) => -2 * Math.tanh(x) * (1 - Math.tanh(x) ** 2), box: false };
    case "sigmoid": {
      const s = (x: number) => 1 / (1 + Math.exp(-x));
      return { f: s, d: (x) => s(x) * (1 - s(x)), dd: (x) => s(x) * (1 - s(x)) * (1 - 2 * s(x)), box: false };
    }
    case "identity":
      return { f: (x) => x, d: () => 1, dd: () => 0, box: false };
    default:
      throw new InvalidArgumentError(`equilibrium reference: activation "${g.activation}" of group "${g.name}" is not supported (hardSigmoid, tanh, sigmoid, identity)`);
  }
}

/**
 * One sample's network: units of all groups in one vector, the coupling as a dense matrix whose
 * row i holds what drives unit i (symmetric without a feedback gain).
 */
class SampleNetwork {
  readonly n: number;
  readonly offset: number[];
  readonly rho: Rho[];
  readonly free: boolean[];
  readonly coupling: Float64Array;
  readonly bias: Float64Array;

  constructor(readonly topology: Topology, weights: Map<string, ArrayLike<number>>, clampedGroups: Set<string>, readonly gain = 1) {
    if (!Number.isFinite(gain) || gain <= 0) throw new InvalidArgumentError(`equilibrium reference: feedbackGain must be a finite number > 0, got ${gain}`);
    this.n = topology.units;
    this.offset = [];
    topology.groups.reduce((o, g) => (this.offset.push(o), o + g.size), 0);
    this.rho = [];
    this.free = [];
    for (const g of topology.groups)
      for (let i = 0; i < g.size; i++) {
        this.rho.push(rhoOf(g));
        this.free.push(!clampedGroups.has(g.name));
      }
    const n = this.n;
    this.coupling = new Float64Array(n * n);
    this.bias = new Float64Array(n);
    for (const e of topology.edges) {
      const w = weights.get(e.weightName);
      if (!w || w.length !== e.from.size * e.to.size) throw new InvalidArgumentError(`equilibrium reference: weight "${e.weightName}" is missing or has the wrong size`);
      const self = e.from === e.to;
      for (let p = 0; p < e.from.size; p++)
        for (let q = 0; q < e.to.size; q++) {
          const i = this.offset[e.from.index] + p;
          const j = this.offset[e.to.index] + q;
          const v = w[p * e.to.size + q];
          // Non-self edges couple (i, j) once, i (from) hearing j (to) through the gain; a self
          // edge's W and W^T each count 1/2.
          this.coupling[i * n + j] += self ? 0.5 * v : gain * v;
          this.coupling[j * n + i] += self ? 0.5 * v : v;
        }
    }
    for (const g of topology.groups) {
      const b = weights.get(`${g.name}.bias`);
      if (b) for (let i = 0; i < g.size; i++) this.bias[this.offset[g.index] + i] = b[i];
    }
  }

  private moving: number[] = [];
  private staticDrive = new Float64Array(0);

  /**
   * Fixes the units that do not move (their values as in z) for the solves that follow: their
   * part of the drive is summed once, so a drive costs (moving units)^2, not N^2.
   */
  freeze(z: Float64Array, movable: (i: number) => boolean): void {
    const n = this.n;
    this.moving = [];
    for (let i = 0; i < n; i++) if (movable(i)) this.moving.push(i);
    const fixed: number[] = [];
    for (let j = 0; j < n; j++) if (!movable(j)) fixed.push(j);
    this.staticDrive = new Float64Array(n);
    for (const i of this.moving) {
      let s = this.bias[i];
      for (const j of fixed) s += this.coupling[i * n + j] * this.rho[j].f(z[j]);
      this.staticDrive[i] = s;
    }
  }

  /** D = b + C rho(z) on the moving units (0 elsewhere; call freeze first). */
  drive(z: Float64Array): Float64Array {
    const n = this.n;
    const d = new Float64Array(n);
    const r = this.moving.map((j) => this.rho[j].f(z[j]));
    for (const i of this.moving) {
      let s = this.staticDrive[i];
      this.moving.forEach((j, k) => (s += this.coupling[i * n + j] * r[k]));
      d[i] = s;
    }
    return d;
  }

  /** E(z) + beta C(z) (NaN with a feedback gain: the reference then solves dynamics it does not write as an energy). */
  energy(z: Float64Array, output: number[], target: ArrayLike<number>, beta: number): number {
    if (this.gain !== 1) return NaN;
    const r = z.map((v, i) => this.rho[i].f(v));
    let e = 0;
    for (let i = 0; i < this.n; i++) {
      e += 0.5 * z[i] * z[i] - this.bias[i] * r[i];
      for (let j = 0; j < this.n; j++) e -= 0.5 * r[i] * this.coupling[i * this.n + j] * r[j];
    }
    let c = 0;
    output.forEach((u, k) => (c += 0.5 * (z[u] - target[k]) ** 2));
    return e + beta * c;
  }

  /** dF/dz on every unit (F = E + beta C); with a feedback gain, the residual of the dynamics plus beta (z_o - y). */
  gradient(z: Float64Array, output: number[], target: ArrayLike<number>, beta: number): Float64Array {
    const d = this.drive(z);
    const g = z.map((v, i) => v - this.rho[i].d(v) * d[i]);
    output.forEach((u, k) => (g[u] += beta * (z[u] - target[k])));
    return g;
  }
}

/** Solves A x = b in place (LU with partial pivoting); A is m x m row-major. */
export function solveDense(a: Float64Array, b: Float64Array, m: number): Float64Array {
  const x = Float64Array.from(b);
  const lu = Float64Array.from(a);
  for (let c = 0; c < m; c++) {
    let pivot = c;
    for (let r = c + 1; r < m; r++) if (Math.abs(lu[r * m + c]) > Math.abs(lu[pivot * m + c])) pivot = r;
    if (lu[pivot * m + c] === 0) throw new InvalidArgumentError("equilibrium reference: the Hessian on the active units is singular");
    if (pivot !== c) {
      for (let k = 0; k < m; k++) [lu[c * m + k], lu[pivot * m + k]] = [lu[pivot * m + k], lu[c * m + k]];
      [x[c], x[pivot]] = [x[pivot], x[c]];
    }
    for (let r = c + 1; r < m; r++) {
      const f = lu[r * m + c] / lu[c * m + c];
      if (f === 0) continue;
      for (let k = c; k < m; k++) lu[r * m + k] -= f * lu[c * m + k];
      x[r] -= f * x[c];
    }
  }
  for (let r = m - 1; r >= 0; r--) {
    let s = x[r];
    for (let k = r + 1; k < m; k++) s -= lu[r * m + k] * x[k];
    x[r] = s / lu[r * m + r];
  }
  return x;
}

interface Solved {
  z: Float64Array;
  active: number[];
  residual: number;
  margin: number;
}

/** True when the symmetric m x m matrix is positive definite (Cholesky succeeds). */
function positiveDefinite(a: Float64Array, m: number): boolean {
  const l = new Float64Array(m * m);
  for (let i = 0; i < m; i++)
    for (let j = 0; j <= i; j++) {
      let s = a[i * m + j];
      for (let k = 0; k < j; k++) s -= l[i * m + k] * l[j * m + k];
      if (i === j) {
        if (!(s > 0)) return false;
        l[i * m + i] = Math.sqrt(s);
      } else l[i * m + j] = s / l[j * m + j];
    }
  return true;
}

/** The smallest eigenvalue of a symmetric matrix, by bisection on the shift that keeps it positive definite. */
function smallestEigenvalue(a: Float64Array, m: number): number {
  if (m === 0) return Infinity;
  let bound = 0;
  for (let i = 0; i < m; i++) {
    let row = 0;
    for (let j = 0; j < m; j++) row += Math.abs(a[i * m + j]);
    bound = Math.max(bound, row);
  }
  let low = -bound - 1;
  let high = bound + 1;
  const shifted = new Float64Array(a.length);
  while (high - low > 1e-3) {
    const mid = 0.5 * (low + high);
    shifted.set(a);
    for (let i = 0; i < m; i++) shifted[i * m + i] -= mid;
    if (positiveDefinite(shifted, m)) low = mid;
    else high = mid;
  }
  return low;
}

/**
 * Units that move: free, and not held at a bound of the box, i.e. where the projected step
 * clip(z - g, 0, 1) does not land on a bound. A unit decaying towards a bound (z > 0 tiny,
 * pushed down) counts as held there.
 */
function activeUnits(net: SampleNetwork, z: Float64Array, g: Float64Array, clampOutput: Set<number>): number[] {
  const active: number[] = [];
  for (let i = 0; i < net.n; i++) {
    if (!net.free[i] || clampOutput.has(i)) continue;
    if (net.rho[i].box && (z[i] - g[i] <= 0 || z[i] - g[i] >= 1)) continue;
    active.push(i);
  }
  return active;
}

function projectedResidual(net: SampleNetwork, z: Float64Array, g: Float64Array, clampOutput: Set<number>): number {
  let sum = 0;
  let count = 0;
  for (let i = 0; i < net.n; i++) {
    if (!net.free[i] || clampOutput.has(i)) continue;
    const p = net.rho[i].box ? z[i] - Math.min(Math.max(z[i] - g[i], 0), 1) : g[i];
    sum += p * p;
    count++;
  }
  return count === 0 ? 0 : Math.sqrt(sum / count);
}

/**
 * The Jacobian of dF/dz (the Hessian of F; with a feedback gain, of the dynamics' residual) on
 * the units `active`: I - diag(rho'' D) - diag(rho') C diag(rho') (+ beta on output units).
 */
function hessian(net: SampleNetwork, z: Float64Array, active: number[], output: Set<number>, beta: number): Float64Array {
  const m = active.length;
  const d = net.drive(z);
  const h = new Float64Array(m * m);
  for (let a = 0; a < m; a++) {
    const i = active[a];
    for (let c = 0; c < m; c++) {
      const j = active[c];
      h[a * m + c] = -net.rho[i].d(z[i]) * net.coupling[i * net.n + j] * net.rho[j].d(z[j]);
    }
    h[a * m + a] += 1 - net.rho[i].dd(z[i]) * d[i] + (output.has(i) ? beta : 0);
  }
  return h;
}

function solveSample(net: SampleNetwork, z: Float64Array, outputUnits: number[], target: ArrayLike<number>, o: EquilibriumSolveOptions,
  clampOutput: Set<number>): Solved {
  const beta = o.beta ?? 0;
  const tolerance = o.tolerance ?? 1e-14;
  const gamma = o.gamma ?? 0.5;
  const outputSet = new Set(outputUnits);
  const movable = (i: number) => net.free[i] && !clampOutput.has(i);
  net.freeze(z, movable);
  const step = (g: Float64Array) => {
    for (let i = 0; i < net.n; i++) {
      if (!movable(i)) continue;
      const projected = net.rho[i].box ? z[i] - Math.min(Math.max(z[i] - g[i], 0), 1) : g[i];
      z[i] -= gamma * projected;
    }
  };
  let g = net.gradient(z, outputUnits, target, beta);
  for (let t = 0; t < (o.descentSteps ?? 2000) && projectedResidual(net, z, g, clampOutput) > 1e-8; t++) {
    step(g);
    g = net.gradient(z, outputUnits, target, beta);
  }
  for (let t = 0; t < 100; t++) {
    const r = projectedResidual(net, z, g, clampOutput);
    if (r <= tolerance) break;
    const active = activeUnits(net, z, g, clampOutput);
    // Units held at a bound go there exactly; Newton moves the others.
    for (let i = 0; i < net.n; i++)
      if (movable(i) && net.rho[i].box && !active.includes(i)) z[i] = Math.min(Math.max(z[i] - g[i], 0), 1);
    const h = hessian(net, z, active, outputSet, beta);
    const delta = solveDense(h, Float64Array.from(active, (i) => -g[i]), active.length);
    const previous = Float64Array.from(z);
    active.forEach((i, a) => {
      z[i] += delta[a];
      if (net.rho[i].box) z[i] = Math.min(Math.max(z[i], 0), 1);
    });
    const gNext = net.gradient(z, outputUnits, target, beta);
    if (projectedResidual(net, z, gNext, clampOutput) >= r) {
      // Newton made no progress (an active set still settling): back to a few projected steps.
      z.set(previous);
      for (let k = 0; k < 200; k++) {
        step(g);
        g = net.gradient(z, outputUnits, target, beta);
      }
      continue;
    }
    g = gNext;
  }
  let margin = Infinity;
  for (let i = 0; i < net.n; i++) {
    if (!movable(i) || !net.rho[i].box) continue;
    const step = z[i] - g[i];
    margin = Math.min(margin, step <= 0 || step >= 1 ? Math.min(Math.abs(step), Math.abs(step - 1)) : Math.min(z[i], 1 - z[i]));
  }
  return { z, active: activeUnits(net, z, g, clampOutput), residual: projectedResidual(net, z, g, clampOutput), margin };
}

function groupOf(topology: Topology, name: string): Group {
  const g = topology.groups.find((x) => x.name === name);
  if (!g) throw new InvalidArgumentError(`equilibrium reference: unknown group "${name}"`);
  return g;
}

/** A sample's full unit vector: clamped groups from the data, free groups from `start` (or 0). */
function sampleVector(net: SampleNetwork, p: EquilibriumProblem, b: number, start?: Record<string, ArrayLike<number>>): Float64Array {
  const z = new Float64Array(net.n);
  for (const g of p.topology.groups) {
    const source = p.clamped[g.name] ?? start?.[g.name];
    if (!source) continue;
    for (let i = 0; i < g.size; i++) z[net.offset[g.index] + i] = source[b * g.size + i];
  }
  return z;
}

/**
 * The fixed points of F = E + beta C (beta from the options; the output clamped at
 * `clampOutput` when given), one per sample, solved to `tolerance`.
 */
export function solveEquilibrium(p: EquilibriumProblem, o: EquilibriumSolveOptions = {}): { fixedPoint: Record<string, Float64Array>; residual: number; energy: number } {
  const net = new SampleNetwork(p.topology, p.weights, new Set(Object.keys(p.clamped)), p.feedbackGain);
  const out = groupOf(p.topology, p.output);
  const outputUnits = Array.from({ length: out.size }, (_, i) => net.offset[out.index] + i);
  const fixedPoint: Record<string, Float64Array> = {};
  for (const g of p.topology.groups) if (!(g.name in p.clamped)) fixedPoint[g.name] = new Float64Array(p.batch * g.size);
  let residual = 0;
  let energy = 0;
  for (let b = 0; b < p.batch; b++) {
    const z = sampleVector(net, p, b, o.start);
    const target = Array.prototype.slice.call(p.target, b * out.size, (b + 1) * out.size) as number[];
    const clampOutput = new Set<number>();
    if (o.clampOutput) outputUnits.forEach((u, k) => (clampOutput.add(u), (z[u] = o.clampOutput![b * out.size + k])));
    const solved = solveSample(net, z, outputUnits, target, o, clampOutput);
    residual = Math.max(residual, solved.residual);
    energy += net.energy(solved.z, outputUnits, target, o.beta ?? 0);
    for (const g of p.topology.groups)
      if (fixedPoint[g.name]) for (let i = 0; i < g.size; i++) fixedPoint[g.name][b * g.size + i] = solved.z[net.offset[g.index] + i];
  }
  return { fixedPoint, residual, energy };
}

/** The loss at the free fixed point and its exact gradient by implicit differentiation. */
export function equilibriumReference(p: EquilibriumProblem, o: Omit<EquilibriumSolveOptions, "beta" | "clampOutput"> = {}): EquilibriumReference {
  if (!Number.isInteger(p.batch) || p.batch < 1) throw new InvalidArgumentError(`equilibrium reference: batch must be an integer >= 1, got ${p.batch}`);
  const { topology } = p;
  const net = new SampleNetwork(topology, p.weights, new Set(Object.keys(p.clamped)), p.feedbackGain);
  const out = groupOf(topology, p.output);
  if (out.name in p.clamped) throw new InvalidArgumentError(`equilibrium reference: the output "${out.name}" must be free`);
  const outputUnits = Array.from({ length: out.size }, (_, i) => net.offset[out.index] + i);
  const gradients = new Map<string, Float64Array>();
  for (const e of topology.edges) gradients.set(e.weightName, new Float64Array(e.from.size * e.to.size));
  for (const g of topology.groups) if (p.weights.has(`${g.name}.bias`)) gradients.set(`${g.name}.bias`, new Float64Array(g.size));
  const fixedPoint: Record<string, Float64Array> = {};
  for (const g of topology.groups) if (!(g.name in p.clamped)) fixedPoint[g.name] = new Float64Array(p.batch * g.size);
  let loss = 0;
  let residual = 0;
  let margin = Infinity;
  let curvature = Infinity;
  for (let b = 0; b < p.batch; b++) {
    const target = Array.prototype.slice.call(p.target, b * out.size, (b + 1) * out.size) as number[];
    const solved = solveSample(net, sampleVector(net, p, b, o.start), outputUnits, target, o, new Set());
    const z = solved.z;
    residual = Math.max(residual, solved.residual);
    margin = Math.min(margin, solved.margin);
    for (const g of topology.groups)
      if (fixedPoint[g.name]) for (let i = 0; i < g.size; i++) fixedPoint[g.name][b * g.size + i] = z[net.offset[g.index] + i];
    const dC = new Float64Array(net.n);
    outputUnits.forEach((u, k) => {
      loss += 0.5 * (z[u] - target[k]) ** 2;
      dC[u] = z[u] - target[k];
    });
    // lambda = J_AA^{-T} dC/dz_A (J = H, symmetric, without a feedback gain); weighted by rho' it
    // is the sensitivity of the loss to each unit's drive.
    const active = solved.active;
    const m = active.length;
    const h = hessian(net, z, active, new Set(), 0);
    const transposed = new Float64Array(m * m);
    for (let a = 0; a < m; a++) for (let c = 0; c < m; c++) transposed[c * m + a] = h[a * m + c];
    if (o.curvature) curvature = Math.min(curvature, smallestEigenvalue(h.map((v, k) => 0.5 * (v + transposed[k])), m));
    const lambda = solveDense(transposed, Float64Array.from(active, (i) => dC[i]), m);
    const sensitivity = new Float64Array(net.n);
    active.forEach((i, a) => (sensitivity[i] = lambda[a] * net.rho[i].d(z[i])));
    const r = z.map((v, i) => net.rho[i].f(v));
    for (const e of topology.edges) addWeightGradient(e, net, r, sensitivity, gradients.get(e.weightName)!, p.batch);
    for (const g of topology.groups) {
      const db = gradients.get(`${g.name}.bias`);
      if (db) for (let q = 0; q < g.size; q++) db[q] += sensitivity[net.offset[g.index] + q] / p.batch;
    }
  }
  return { loss: loss / p.batch, gradients, fixedPoint, residual, margin, ...(o.curvature ? { curvature } : {}) };
}

/** dC/dW[p, q] = s_tq rho(z_sp) + g s_sp rho(z_tq) (self edges: 1/2 of both, no gain), masked, averaged over the batch. */
function addWeightGradient(e: Edge, net: SampleNetwork, r: Float64Array, s: Float64Array, dW: Float64Array, batch: number): void {
  const half = e.from === e.to ? 0.5 : 1;
  const gain = e.from === e.to ? 1 : net.gain;
  for (let p = 0; p < e.from.size; p++)
    for (let q = 0; q < e.to.size; q++) {
      if (e.mask && e.mask[p * e.to.size + q] === 0) continue;
      const i = net.offset[e.from.index] + p;
      const j = net.offset[e.to.index] + q;
      dW[p * e.to.size + q] += (half * (s[j] * r[i] + gain * s[i] * r[j])) / batch;
    }
}

/**
 * The limit of CHL's nudged clamp as beta -> 0: the output clamped at X_o^0 + beta (Y - X_o^0)
 * moves the hidden units by dh = -H_hh^{-1} H_ho d (d = Y - X_o^0, H on the units free in the
 * clamped phase), and (1/beta)(G(clamped) - G(free)) tends to the change of G = dE/dtheta along
 * that move: -(drho_s^T rho_t + rho_s^T drho_t) for a weight, -drho for a bias. It is the
 * equilibrium gradient only when the output's feedback vanishes: in general it differs from it
 * by the inverse of the Schur complement of the output block (docs/energy-based.md).
 */
export function clampedResponseReference(p: EquilibriumProblem, o: Omit<EquilibriumSolveOptions, "beta" | "clampOutput"> = {}): Map<string, Float64Array> {
  if ((p.feedbackGain ?? 1) !== 1) throw new InvalidArgumentError("clampedResponseReference: the clamped response is defined here for feedbackGain 1 (the symmetric network)");
  const { topology } = p;
  const net = new SampleNetwork(topology, p.weights, new Set(Object.keys(p.clamped)));
  const out = groupOf(topology, p.output);
  const outputUnits = Array.from({ length: out.size }, (_, i) => net.offset[out.index] + i);
  const outputSet = new Set(outputUnits);
  const gradients = new Map<string, Float64Array>();
  for (const e of topology.edges) gradients.set(e.weightName, new Float64Array(e.from.size * e.to.size));
  for (const g of topology.groups) if (p.weights.has(`${g.name}.bias`)) gradients.set(`${g.name}.bias`, new Float64Array(g.size));
  for (let b = 0; b < p.batch; b++) {
    const target = Array.prototype.slice.call(p.target, b * out.size, (b + 1) * out.size) as number[];
    const solved = solveSample(net, sampleVector(net, p, b, o.start), outputUnits, target, o, new Set());
    const z = solved.z;
    const hidden = solved.active.filter((i) => !outputSet.has(i));
    const dz = new Float64Array(net.n);
    outputUnits.forEach((u, k) => (dz[u] = target[k] - z[u]));
    // H_hh dh = -H_ho d, with H_ho = -rho'_h C_ho rho'_o.
    const rhs = Float64Array.from(hidden, (i) => outputUnits.reduce((s, u) => s + net.rho[i].d(z[i]) * net.coupling[i * net.n + u] * net.rho[u].d(z[u]) * dz[u], 0));
    const dh = solveDense(hessian(net, z, hidden, new Set(), 0), rhs, hidden.length);
    hidden.forEach((i, a) => (dz[i] = dh[a]));
    const r = z.map((v, i) => net.rho[i].f(v));
    const dr = z.map((v, i) => net.rho[i].d(v) * dz[i]);
    for (const e of topology.edges) {
      const half = e.from === e.to ? 0.5 : 1;
      const dW = gradients.get(e.weightName)!;
      for (let q = 0; q < e.to.size; q++)
        for (let s = 0; s < e.from.size; s++) {
          if (e.mask && e.mask[s * e.to.size + q] === 0) continue;
          const i = net.offset[e.from.index] + s;
          const j = net.offset[e.to.index] + q;
          dW[s * e.to.size + q] -= (half * (dr[i] * r[j] + r[i] * dr[j])) / p.batch;
        }
    }
    for (const g of topology.groups) {
      const db = gradients.get(`${g.name}.bias`);
      if (db) for (let q = 0; q < g.size; q++) db[q] -= dr[net.offset[g.index] + q] / p.batch;
    }
  }
  return gradients;
}
