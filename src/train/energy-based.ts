// Energy-based networks: PC graphs whose energy is the Hopfield energy (src/pc/graph/hopfield.ts)
// plus a nudged loss on the output, trained by Equilibrium Propagation or CHL through the same
// learn / fit / query / checkpoint machinery as every PC graph (docs/energy-based.md). Also the
// energy of nudged PC: the prediction errors with the output free and nudged.
import { InvalidArgumentError } from "../backend/errors.js";
import { PredictionErrors, type EnergyTerm } from "../pc/graph/energy.js";
import { HopfieldEnergy, type HopfieldOptions } from "../pc/graph/hopfield.js";
import { PCGraphModel, type PCGraphModelOptions } from "../pc/graph/model.js";
import { NudgedLoss } from "../pc/graph/nudge.js";
import type { GroupActivation, PCGraphSpec } from "../pc/graph/topology.js";
import { PCGraph, type Query, type QueryResult, type QueryStep, type LearnOptions, type RelaxSettings } from "./pc-graph.js";
import type { ParameterUpdater } from "../pc/graph/schedules.js";
import type { QueryClamps } from "../pc/graph/query.js";
import type { EquilibriumLearningResult } from "./equilibrium-learning.js";
import { equilibriumDefaults } from "./equilibrium-learning.js";
import { batches, type Dataset } from "./data/dataset.js";
import type { PCGraphFitOptions, PCGraphHistory } from "./pc-graph-fit.js";

/** The energy of nudged PC: the prediction errors plus beta C on `output` (left free, not clamped). */
export function nudgedPCEnergy(output = "label"): (model: PCGraphModel) => EnergyTerm[] {
  return (model) => [new PredictionErrors(model), new NudgedLoss(model, output)];
}

/** The energy of an energy-based network: the Hopfield energy (with its options: the feedback gain) plus beta C on `output`. */
export function hopfieldEnergy(output = "label", options: HopfieldOptions = {}): (model: PCGraphModel) => EnergyTerm[] {
  return (model) => [new HopfieldEnergy(model, options), new NudgedLoss(model, output)];
}

/**
 * A layered network "sensory" - "hidden" (or "hidden1", "hidden2", ...) - "label": one
 * undirected edge (one symmetric weight) between consecutive layers, each layer with the
 * activation rho (default the hard sigmoid), a bias on every layer above the input.
 */
export function layeredNetwork(sizes: number[], options: { activation?: GroupActivation } = {}): PCGraphSpec {
  if (!Array.isArray(sizes) || sizes.length < 2 || !sizes.every((n) => Number.isInteger(n) && n >= 1))
    throw new InvalidArgumentError(`layeredNetwork: sizes must be at least two integers >= 1 (input, hidden..., output), got ${JSON.stringify(sizes)}`);
  const activation = options.activation ?? "hardSigmoid";
  const hidden = sizes.length - 2;
  const names = sizes.map((_, i) => (i === 0 ? "sensory" : i === sizes.length - 1 ? "label" : hidden === 1 ? "hidden" : `hidden${i}`));
  return {
    groups: sizes.map((size, i) => ({ name: names[i], size, activation })),
    edges: names.slice(1).map((to, i) => ({ from: names[i], to })),
  };
}

/** What `EnergyBasedNetwork.evaluate` measures. */
export interface EnergyBasedEvaluation {
  /** Mean cost per sample at the free fixed point, 1/2 |output - one-hot|^2. */
  loss: number;
  /** Share of samples whose output's largest unit is the label. */
  accuracy: number;
  /** Query batches whose relaxation ended above its tolerance. */
  unconverged: number;
}

/** Options of an energy-based network: the model's, and the group the loss nudges. */
export interface EnergyBasedOptions extends PCGraphModelOptions, HopfieldOptions {
  /** The group the loss nudges (default "label"). */
  output?: string;
}

/** Relaxation defaults of an energy-based network's queries (gamma <= 1 keeps hard-sigmoid units in their box). */
export const energyBasedQueryDefaults = { steps: 200, gamma: 0.5, tolerance: 1e-4 } as const;

/**
 * An energy-based network: a PC graph with the Hopfield energy and a nudged loss. Weights of
 * lateral (self) edges must be symmetric; they are made so at initialisation, and setWeights
 * refuses asymmetric ones. `learn` and `fit` default to EqProp (symmetric nudging).
 * `feedbackGain` scales the top-down drive (weak feedback, Xie & Seung 2003); it is part of
 * the energy, not of the model's weights, so give it again when building a network from a
 * checkpoint's model (the CLI stores it with the run's settings).
 */
export class EnergyBasedNetwork extends PCGraph {
  /** The nudged loss on the output (its group, target and current beta). */
  readonly nudge: NudgedLoss;
  /** The Hopfield term (its feedback gain and level weights). */
  readonly hopfield: HopfieldEnergy;

  constructor(spec: PCGraphSpec | PCGraphModel, options: EnergyBasedOptions = {}) {
    const output = options.output ?? "label";
    super(spec, { ...options, energy: hopfieldEnergy(output, { feedbackGain: options.feedbackGain }) });
    this.nudge = this.energy.find(NudgedLoss)!;
    this.hopfield = this.energy.find(HopfieldEnergy)!;
    try {
      const symmetric = new Map<string, Float64Array>();
      for (const e of this.model.edges) {
        if (e.from !== e.to) continue;
        const w = Float64Array.from(this.model.weight(e).dataSync());
        const n = e.from.size;
        for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) w[i * n + j] = w[j * n + i] = 0.5 * (w[i * n + j] + w[j * n + i]);
        symmetric.set(e.weightName, w);
      }
      if (spec instanceof PCGraphModel) checkSymmetric(this.model, this.model.getWeights());
      else if (symmetric.size > 0) this.model.setWeights(symmetric, { partial: true });
    } catch (error) {
      if (!(spec instanceof PCGraphModel)) this.model.dispose();
      throw error;
    }
  }

  setWeights(weights: Map<string, ArrayLike<number>>, options?: { partial?: boolean }): void {
    checkSymmetric(this.model, weights);
    super.setWeights(weights, options);
  }

  private withDefaults<T extends Partial<Query>>(q: T): T {
    if (!q || typeof q !== "object") return q;
    return {
      ...q,
      steps: q.steps ?? energyBasedQueryDefaults.steps,
      gamma: q.gamma ?? energyBasedQueryDefaults.gamma,
      tolerance: q.tolerance ?? energyBasedQueryDefaults.tolerance,
    };
  }

  /** A query with the network's relaxation defaults (steps 200, gamma 0.5, tolerance 1e-4). */
  query(q: Query): QueryResult {
    return super.query(this.withDefaults(q));
  }

  querySteps(q: Query): AsyncGenerator<QueryStep, QueryResult> {
    return super.querySteps(this.withDefaults(q));
  }

  /** One learning step by EqProp (default) or CHL. */
  learn(batch: QueryClamps, updater: ParameterUpdater, options: LearnOptions = {}): EquilibriumLearningResult {
    const algorithm = options?.algorithm ?? "eqprop";
    if (algorithm === "pc" || algorithm === "ipc")
      throw new InvalidArgumentError(`an energy-based network learns by "eqprop" or "chl", not ${JSON.stringify(algorithm)} (PC and iPC need the prediction-error energy)`);
    return super.learn(batch, updater, { ...options, algorithm }) as EquilibriumLearningResult;
  }

  /**
   * Classification at the free fixed point over `data`: clamp the features to `inputGroup`,
   * relax (the network's query defaults unless given), read the nudged output. Returns the
   * mean cost per sample 1/2 |output - one-hot|^2 (the loss EqProp and CHL descend), the
   * accuracy of the output's argmax, and how many query batches stopped above their tolerance.
   */
  evaluate(data: Dataset, o: RelaxSettings & { inputGroup?: string; batchSize?: number } = {}): EnergyBasedEvaluation {
    const inputGroup = o.inputGroup ?? "sensory";
    const output = this.nudge.group;
    const classes = output.size;
    if (classes !== data.numClasses) throw new InvalidArgumentError(`group "${output.name}" has ${classes} units, the data ${data.numClasses} classes`);
    let cost = 0;
    let correct = 0;
    let unconverged = 0;
    for (const batch of batches(data, o.batchSize ?? 256, { shuffle: false, reuseBuffers: true })) {
      const result = this.query({ clamp: { [inputGroup]: batch.features }, read: [output.name], steps: o.steps, gamma: o.gamma, tolerance: o.tolerance });
      if (!result.converged) unconverged++;
      const y = result.values[output.name];
      for (let i = 0; i < batch.size; i++) {
        let best = 0;
        for (let j = 0; j < classes; j++) {
          const v = y[i * classes + j];
          cost += 0.5 * (v - batch.oneHot[i * classes + j]) ** 2;
          if (v > y[i * classes + best]) best = j;
        }
        if (best === batch.labels[i]) correct++;
      }
    }
    return { loss: data.size === 0 ? NaN : cost / data.size, accuracy: data.size === 0 ? NaN : correct / data.size, unconverged };
  }

  /** Trains on a dataset (see PCGraphFitOptions); the algorithm defaults to EqProp, the labels are the output's target. */
  fit(data: { train: Dataset; test?: Dataset }, options: PCGraphFitOptions): Promise<PCGraphHistory> {
    return super.fit(data, { ...options, algorithm: options?.algorithm ?? "eqprop" });
  }
}

/** Throws when a lateral (self) edge's weights are not symmetric, naming the entry. */
function checkSymmetric(model: PCGraphModel, weights: Map<string, ArrayLike<number>>): void {
  for (const e of model.edges) {
    if (e.from !== e.to) continue;
    const w = weights.get(e.weightName);
    if (!w) continue;
    const n = e.from.size;
    for (let i = 0; i < n; i++)
      for (let j = 0; j < i; j++) {
        const a = w[i * n + j];
        const b = w[j * n + i];
        if (Math.abs(a - b) > 1e-6 * Math.max(Math.abs(a), Math.abs(b)))
          throw new InvalidArgumentError(`edge ${e.from.name}->${e.to.name}: the weights are not symmetric: [${i}, ${j}] = ${a} but [${j}, ${i}] = ${b} ` +
            "(an energy-based network's lateral weights are one symmetric coupling)");
      }
  }
}

export { equilibriumDefaults };
