// First-order optimizers over a graph's parameters: SGD, momentum (heavy-ball or Nesterov)
// and Adam (with L2 or decoupled weight decay), plus learning-rate schedules. Every update
// runs through backend kernels on the parameter tensors; the per-parameter state ("slots")
// is allocated on the first step and reused, so a step allocates nothing afterwards.
//
// Update rules, with g the gradient, p the parameter, lr the scheduled learning rate and
// wd the weight decay (L2: g <- g + wd p, unless decoupled):
//   sgd:       p <- p - lr g
//   momentum:  v <- mu v + g;  p <- p - lr v            (nesterov: p <- p - lr (g + mu v))
//   adam:      m <- b1 m + (1-b1) g;  v <- b2 v + (1-b2) g^2;
//              p <- p - lr (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)
//   adam with decoupledWeightDecay (AdamW): p <- (1 - lr wd) p before the Adam update.
import { InvalidArgumentError } from "../backend/errors.js";
import type { Backend } from "../backend/kernels.js";
import type { Parameter } from "../graph/graph.js";
import { formatShape, Tensor } from "../tensor.js";
import type { OptimizerStateData } from "./checkpoint.js";
import { checkFinite } from "./errors.js";

/** The optimizers: plain SGD, SGD with (Nesterov) momentum, and Adam (with L2 or decoupled weight decay). */
export type OptimizerKind = "sgd" | "momentum" | "adam";
/** Every `OptimizerKind`. */
export const optimizerKinds: readonly OptimizerKind[] = ["sgd", "momentum", "adam"];

/** A learning-rate schedule over optimizer steps. */
export type ScheduleConfig =
  | { kind: "constant" }
  /** lr * gamma^floor(step / stepSize). */
  | { kind: "step"; stepSize: number; gamma: number }
  /** Cosine decay from lr to minLearningRate (default 0) over totalSteps, then constant. */
  | { kind: "cosine"; totalSteps: number; minLearningRate?: number };

/** An optimizer's kind and settings; options that do not apply to the kind are refused. */
export interface OptimizerConfig {
  kind: OptimizerKind;
  learningRate: number;
  /** Momentum coefficient mu (momentum only; default 0.9). */
  momentum?: number;
  /** Nesterov momentum (momentum only; default false). */
  nesterov?: boolean;
  /** Adam's first-moment decay (default 0.9). */
  beta1?: number;
  /** Adam's second-moment decay (default 0.999). */
  beta2?: number;
  /** Adam's denominator offset (default 1e-8). */
  epsilon?: number;
  /** L2 coefficient added to the gradient as wd * p (default 0). */
  weightDecay?: number;
  /** Adam only: apply weight decay to the parameters directly (AdamW) instead of to the gradient. */
  decoupledWeightDecay?: boolean;
  schedule?: ScheduleConfig;
}

/** What an optimizer updates: named parameters on one backend (a Graph, a PC graph's model, ...). */
export interface ParameterSet {
  readonly parameters: readonly Parameter[];
  readonly backend: Backend;
}

/** Serialisable optimizer state: the shape checkpoints store. */
export type { OptimizerStateData };

/** Updates a graph's parameters from gradients, keeping its slots (momentum, Adam's moments) in the graph's backend. */
export interface Optimizer {
  readonly config: Readonly<ResolvedOptimizerConfig>;
  /**
   * Applies one update from dL/dtheta by parameter name to `parameters` (default: every
   * parameter of `graph`, a Graph or any ParameterSet such as a PC graph's model); the others
   * stay frozen. An optimizer keeps to the graph and the parameter list of its first step.
   * Throws a TrainingError naming the parameter, and changes nothing, when a gradient has a
   * NaN or infinite entry (one streaming countNonFinite pass over each gradient).
   */
  step(graph: ParameterSet, gradients: Map<string, Tensor>, parameters?: readonly Parameter[]): void;
  /** The learning rate the next step will use (after the schedule). */
  learningRate(): number;
  /** Steps taken so far. */
  readonly steps: number;
  /** A copy of the state: step count and every slot. */
  state(): OptimizerStateData;
  /** Restores a state from `state()` (slots are applied on the next step if none exist yet). */
  loadState(state: OptimizerStateData): void;
  /** Frees the slot tensors. */
  dispose(): void;
}

/** An optimizer config with every default filled in, as the optimizer uses it. */
export type ResolvedOptimizerConfig = Required<Omit<OptimizerConfig, "schedule">> & { schedule: ScheduleConfig };

/** Throws an InvalidArgumentError whose message starts with the field at fault. */
export function invalidOption(field: string, message: string): never {
  throw new InvalidArgumentError(`${field} ${message}`);
}

function finite(field: string, value: unknown, check: (v: number) => boolean, range: string): number {
  if (typeof value !== "number" || !Number.isFinite(value) || !check(value))
    invalidOption(field, `must be a number ${range}, got ${JSON.stringify(value)}`);
  return value;
}

function positiveInteger(field: string, value: unknown): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1)
    invalidOption(field, `must be an integer >= 1, got ${JSON.stringify(value)}`);
  return value;
}

function bool(field: string, value: unknown): boolean {
  if (typeof value !== "boolean") invalidOption(field, `must be true or false, got ${JSON.stringify(value)}`);
  return value;
}

const ownFields: Record<OptimizerKind, readonly string[]> = {
  sgd: [],
  momentum: ["momentum", "nesterov"],
  adam: ["beta1", "beta2", "epsilon", "decoupledWeightDecay"],
};
const commonFields = ["kind", "learningRate", "weightDecay", "schedule"];

function resolveSchedule(value: unknown, learningRate: number): ScheduleConfig {
  if (value === undefined) return { kind: "constant" };
  if (!value || typeof value !== "object") invalidOption("optimizer.schedule", `must be an object, got ${JSON.stringify(value)}`);
  const s = value as Record<string, unknown>;
  const allowed: Record<string, string[]> = { constant: ["kind"], step: ["kind", "stepSize", "gamma"], cosine: ["kind", "totalSteps", "minLearningRate"] };
  if (typeof s.kind !== "string" || !(s.kind in allowed))
    invalidOption("optimizer.schedule.kind", `must be "constant", "step" or "cosine", got ${JSON.stringify(s.kind)}`);
  for (const key of Object.keys(s))
    if (!allowed[s.kind].includes(key)) invalidOption(`optimizer.schedule.${key}`, `is not an option of the ${s.kind} schedule`);
  if (s.kind === "constant") return { kind: "constant" };
  if (s.kind === "step")
    return {
      kind: "step",
      stepSize: positiveInteger("optimizer.schedule.stepSize", s.stepSize),
      gamma: finite("optimizer.schedule.gamma", s.gamma, (v) => v > 0, "> 0"),
    };
  const minLearningRate = finite("optimizer.schedule.minLearningRate", s.minLearningRate ?? 0,
    (v) => v >= 0 && v <= learningRate, `in [0, learningRate = ${learningRate}]`);
  return { kind: "cosine", totalSteps: positiveInteger("optimizer.schedule.totalSteps", s.totalSteps), minLearningRate };
}

/** Checks a config and fills in the defaults. */
export function resolveOptimizerConfig(config: OptimizerConfig): ResolvedOptimizerConfig {
  if (!config || typeof config !== "object") invalidOption("optimizer", `must be an object, got ${JSON.stringify(config)}`);
  const kind = config.kind;
  if (!optimizerKinds.includes(kind)) invalidOption("optimizer.kind", `must be one of ${optimizerKinds.join(", ")}, got ${JSON.stringify(kind)}`);
  for (const key of Object.keys(config))
    if (config[key as keyof OptimizerConfig] !== undefined && !commonFields.includes(key) && !ownFields[kind].includes(key)) {
      const owner = optimizerKinds.find((k) => ownFields[k].includes(key));
      invalidOption(`optimizer.${key}`, owner ? `applies to the ${owner} optimizer, not ${kind}` : "is not an optimizer option");
    }
  const learningRate = finite("optimizer.learningRate", config.learningRate, (v) => v >= 0, ">= 0");
  return {
    kind,
    learningRate,
    momentum: finite("optimizer.momentum", config.momentum ?? 0.9, (v) => v >= 0 && v < 1, "in [0, 1)"),
    nesterov: bool("optimizer.nesterov", config.nesterov ?? false),
    beta1: finite("optimizer.beta1", config.beta1 ?? 0.9, (v) => v >= 0 && v < 1, "in [0, 1)"),
    beta2: finite("optimizer.beta2", config.beta2 ?? 0.999, (v) => v >= 0 && v < 1, "in [0, 1)"),
    epsilon: finite("optimizer.epsilon", config.epsilon ?? 1e-8, (v) => v > 0, "> 0"),
    weightDecay: finite("optimizer.weightDecay", config.weightDecay ?? 0, (v) => v >= 0, ">= 0"),
    decoupledWeightDecay: bool("optimizer.decoupledWeightDecay", config.decoupledWeightDecay ?? false),
    schedule: resolveSchedule(config.schedule, learningRate),
  };
}

/** The learning rate of a schedule at a step (0 = the first step). */
export function scheduledLearningRate(base: number, schedule: ScheduleConfig, step: number): number {
  switch (schedule.kind) {
    case "constant":
      return base;
    case "step":
      return base * Math.pow(schedule.gamma, Math.floor(step / schedule.stepSize));
    case "cosine": {
      const min = schedule.minLearningRate ?? 0;
      const progress = Math.min(step, schedule.totalSteps) / schedule.totalSteps;
      return min + ((base - min) * (1 + Math.cos(Math.PI * progress))) / 2;
    }
  }
}

/**
 * The first step in [from, to) at which the schedule's learning rate is exactly 0, or null.
 * Schedules that can reach 0 (a base rate of 0, cosine decay to 0, a step decay that
 * underflows) never rise again, so the last step decides and a bisection finds the first.
 */
export function firstStepAtZeroRate(config: Pick<ResolvedOptimizerConfig, "learningRate" | "schedule">, from: number, to: number): number | null {
  const rate = (step: number) => scheduledLearningRate(config.learningRate, config.schedule, step);
  if (to <= from || rate(to - 1) !== 0) return null;
  let lo = from;
  let hi = to - 1; // rate(hi) === 0
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    if (rate(mid) === 0) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** The config as it is stored in a checkpoint: only the options that apply to its kind. */
function storedConfig(c: ResolvedOptimizerConfig): Record<string, unknown> {
  const out: Record<string, unknown> = { kind: c.kind, learningRate: c.learningRate, weightDecay: c.weightDecay };
  for (const key of ownFields[c.kind]) out[key] = c[key as keyof ResolvedOptimizerConfig];
  out.schedule = structuredClone(c.schedule);
  return out;
}

/** Slot names per parameter for each kind. */
const slotNames: Record<OptimizerKind, readonly string[]> = { sgd: [], momentum: ["velocity"], adam: ["m", "v"] };

interface ParamSlots {
  param: Parameter;
  slots: Tensor[];
  /** Adam with L2 decay: g + wd p, since adamStep reads the gradient as is. */
  decayedGrad: Tensor | null;
}

class KernelOptimizer implements Optimizer {
  readonly config: Readonly<ResolvedOptimizerConfig>;
  private stepCount = 0;
  private graph: ParameterSet | null = null;
  private bound: ParamSlots[] = [];
  private pending: OptimizerStateData["slots"] | null = null;

  constructor(config: OptimizerConfig) {
    this.config = Object.freeze(resolveOptimizerConfig(config));
  }

  get steps(): number {
    return this.stepCount;
  }

  learningRate(): number {
    return scheduledLearningRate(this.config.learningRate, this.config.schedule, this.stepCount);
  }

  /** Allocates zeroed slots for `parameters` of `graph` (or checks that they match the bound ones). */
  private bind(graph: ParameterSet, parameters: readonly Parameter[]): void {
    if (this.graph === graph && parameters.length === this.bound.length && this.bound.every((b, i) => b.param === parameters[i])) return;
    if (this.graph) {
      // Another graph object with the same parameters (e.g. rebuilt from a checkpoint) keeps the slots.
      const same = this.graph.backend === graph.backend && this.bound.length === parameters.length &&
        this.bound.every((b, i) => b.param.name === parameters[i].name && formatShape(b.param.shape) === formatShape(parameters[i].shape));
      if (!same) invalidOption("graph", "differs from the graph or parameters this optimizer was stepping (parameters or backend); create a new optimizer");
      this.bound.forEach((b, i) => (b.param = parameters[i]));
      this.graph = graph;
      return;
    }
    for (const p of parameters)
      if (!graph.parameters.includes(p)) invalidOption("parameters", `"${p.name}" is not a parameter of the graph`);
    const names = slotNames[this.config.kind];
    const l2Adam = this.config.kind === "adam" && this.config.weightDecay > 0 && !this.config.decoupledWeightDecay;
    const bound: ParamSlots[] = [];
    try {
      for (const param of parameters) {
        const slots = names.map(() => zeroed(param.shape, graph.backend));
        bound.push({ param, slots, decayedGrad: null });
        if (l2Adam) bound[bound.length - 1].decayedGrad = new Tensor(param.shape, graph.backend);
      }
      if (this.pending) this.applySlots(bound, this.pending);
    } catch (error) {
      for (const b of bound) disposeSlots(b);
      throw error;
    }
    this.pending = null;
    this.bound = bound;
    this.graph = graph;
  }

  private applySlots(bound: ParamSlots[], slots: OptimizerStateData["slots"]): void {
    const byName = new Map(slots.map((s) => [s.name, s]));
    const names = slotNames[this.config.kind];
    const expected = bound.length * names.length;
    if (slots.length !== expected)
      invalidOption("optimizer state.slots", `has ${slots.length} slots, the ${this.config.kind} optimizer needs ${expected} for this graph`);
    for (const b of bound)
      names.forEach((slotName, j) => {
        const name = `${b.param.name}.${slotName}`;
        const s = byName.get(name);
        if (!s) invalidOption("optimizer state.slots", `has no slot "${name}"`);
        if (formatShape(s.shape) !== formatShape(b.param.shape) || s.data.length !== b.param.size)
          invalidOption("optimizer state.slots", `slot "${name}" has shape ${formatShape(s.shape)} (${s.data.length} values), the parameter ${formatShape(b.param.shape)}`);
        b.slots[j].assign(s.data);
      });
  }

  step(graph: ParameterSet, gradients: Map<string, Tensor>, parameters: readonly Parameter[] = graph.parameters): void {
    this.bind(graph, parameters);
    const c = this.config;
    const k: Backend = graph.backend;
    const lr = this.learningRate();
    const wd = c.weightDecay;
    const t = this.stepCount + 1;
    const c1 = 1 - Math.pow(c.beta1, t);
    const c2 = 1 - Math.pow(c.beta2, t);
    const checked = this.bound.map((b): [string, Tensor] => {
      const p = b.param.tensor;
      const g = gradients.get(b.param.name);
      if (!g) invalidOption("gradients", `has no gradient for parameter "${b.param.name}"`);
      if (g.size !== p.size || g.backend !== k)
        invalidOption("gradients", `gradient of "${b.param.name}" is ${formatShape(g.shape)} on ${g.backend.name}, the parameter ${formatShape(p.shape)} on ${k.name}`);
      return [b.param.name, g];
    });
    // Nothing is updated unless every gradient is finite: a NaN in the data must not reach the weights.
    checkFinite("the gradient of parameter", checked, "no parameter was updated (look for NaN or infinite values in the batch)");
    for (const b of this.bound) {
      const p = b.param.tensor;
      const g = gradients.get(b.param.name)!;
      const n = p.size;
      if (c.kind === "sgd") {
        // p <- (1 - lr wd) p - lr g
        k.axpby(n, -lr, g.address, 1 - lr * wd, p.address);
      } else if (c.kind === "momentum") {
        const v = b.slots[0];
        k.axpby(n, 1, g.address, c.momentum, v.address); // v <- mu v + g
        if (wd > 0) k.axpy(n, wd, p.address, v.address); // ... + wd p
        if (c.nesterov) {
          // p <- p - lr (g + wd p + mu v)
          k.axpby(n, -lr, g.address, 1 - lr * wd, p.address);
          k.axpy(n, -lr * c.momentum, v.address, p.address);
        } else {
          k.axpy(n, -lr, v.address, p.address);
        }
      } else {
        let grad = g;
        if (wd > 0 && c.decoupledWeightDecay) k.scale(n, 1 - lr * wd, p.address, p.address);
        else if (wd > 0) {
          grad = b.decayedGrad!;
          k.copy(n, g.address, grad.address);
          k.axpy(n, wd, p.address, grad.address);
        }
        k.adamStep(n, lr, c.beta1, c.beta2, c.epsilon, c1, c2, p.address, grad.address, b.slots[0].address, b.slots[1].address);
      }
    }
    this.stepCount = t;
  }

  state(): OptimizerStateData {
    let slots: OptimizerStateData["slots"];
    if (this.pending) slots = this.pending.map((s) => ({ name: s.name, shape: [...s.shape], data: s.data.slice() }));
    else {
      const names = slotNames[this.config.kind];
      slots = this.bound.flatMap((b) =>
        names.map((slotName, j) => ({ name: `${b.param.name}.${slotName}`, shape: [...b.param.shape], data: b.slots[j].dataSync() })),
      );
    }
    return { kind: this.config.kind, config: storedConfig(this.config), step: this.stepCount, slots };
  }

  loadState(state: OptimizerStateData): void {
    if (!state || typeof state !== "object") invalidOption("optimizer state", `must be an object, got ${JSON.stringify(state)}`);
    if (state.kind !== this.config.kind)
      invalidOption("optimizer state.kind", `is "${state.kind}" but this optimizer is "${this.config.kind}"`);
    if (!Number.isInteger(state.step) || state.step < 0) invalidOption("optimizer state.step", `must be an integer >= 0, got ${state.step}`);
    if (!Array.isArray(state.slots)) invalidOption("optimizer state.slots", "must be an array");
    if (this.graph) this.applySlots(this.bound, state.slots);
    else this.pending = state.slots.map((s) => ({ name: s.name, shape: [...s.shape], data: s.data.slice() }));
    this.stepCount = state.step;
  }

  dispose(): void {
    for (const b of this.bound) disposeSlots(b);
    this.bound = [];
    this.graph = null;
  }
}

function zeroed(shape: readonly number[], backend: Backend): Tensor {
  const t = new Tensor(shape, backend);
  backend.fill(t.size, 0, t.address);
  return t;
}

function disposeSlots(b: ParamSlots): void {
  for (const s of b.slots) s.dispose();
  b.decayedGrad?.dispose();
}

/** An optimizer for `config`; options that do not apply to its kind are rejected. */
export function createOptimizer(config: OptimizerConfig): Optimizer {
  return new KernelOptimizer(config);
}

/** True for an Optimizer instance (rather than a config). */
export function isOptimizer(value: OptimizerConfig | Optimizer): value is Optimizer {
  return typeof (value as Optimizer).step === "function";
}
