// PCGraph: a predictive-coding graph of any topology with the operations a user calls —
// queries (clamp anything, relax, read), learning steps (PC, iPC, and EqProp or CHL when the
// energy has a nudged loss) with any optimizer,
// `fit` on a dataset, the per-step stream, and (de)serialisation. It composes the pieces of
// src/pc/graph/: the model (parameters), the energy (a sum of terms), per-batch-size states,
// relaxation and the learning schedules.
import { InvalidArgumentError } from "../backend/errors.js";
import type { Backend } from "../backend/kernels.js";
import type { Parameter } from "../graph/graph.js";
import { Energy, PredictionErrors, type EnergyTerm } from "../pc/graph/energy.js";
import type { ValueInit } from "../pc/graph/init.js";
import { PCGraphModel, type PCGraphModelOptions } from "../pc/graph/model.js";
import { checkReads, loadQuery, queryBatch, type QueryClamps } from "../pc/graph/query.js";
import { checkRelaxOptions, relax, relaxation, type RelaxResult, type StepEvent, type StepListener } from "../pc/graph/relax.js";
import {
  checkClip, gradientBuffers, incrementalLearning, pcLearning, type ClipOptions, type LearningResult, type ParameterUpdater,
} from "../pc/graph/schedules.js";
import { PCGraphState } from "../pc/graph/state.js";
import type { Group, PCGraphSpec } from "../pc/graph/topology.js";
import type { Tensor } from "../tensor.js";
import type { Dataset } from "./data/dataset.js";
import { learnAtEquilibrium, type EquilibriumSettings, type EquilibriumLearningResult } from "./equilibrium-learning.js";
import { fitPCGraph, pcGraphAccuracy, type PCGraphFitOptions, type PCGraphHistory } from "./pc-graph-fit.js";

/**
 * How a PC graph learns: PC (relax, then update), incremental PC (iPC: update at every
 * inference step), or EqProp and CHL (free and nudged or clamped phases; they need a
 * NudgedLoss in the energy, src/pc/graph/equilibrium.ts).
 */
export type PCLearningAlgorithm = "pc" | "ipc" | "eqprop" | "chl";
/** Every `PCLearningAlgorithm`. */
export const pcLearningAlgorithms: readonly PCLearningAlgorithm[] = ["pc", "ipc", "eqprop", "chl"];

/** Options of `new PCGraph`: the model's options and extra energy terms. */
export interface PCGraphOptions extends PCGraphModelOptions {
  /** The energy's terms (default: the prediction errors, the PC energy). */
  energy?: (model: PCGraphModel) => EnergyTerm[];
}

/** Relaxation settings of a query. */
export interface RelaxSettings {
  /** Step budget (default 200). */
  steps?: number;
  /** Inference rate (default 0.05: trained decoders into 784 pixels make the curvature large, and above 2 / curvature the energy rises). */
  gamma?: number;
  /** Stop at this residual (default 1e-4; 0 runs the whole budget unless exactly at rest). */
  tolerance?: number;
  /** Heavy-ball momentum in [0, 1) (default 0: plain gradient descent, whose energy falls at every step for a small gamma). */
  momentum?: number;
  /** Throw when the tolerance is not reached (default false: the result reports it). */
  requireConvergence?: boolean;
}

export interface Query extends QueryClamps, RelaxSettings {
  /** Groups to read after relaxing (not entirely clamped); may be empty when `predict` names a group. */
  read: string[];
  /**
   * Groups whose prediction MU_g (docs/pc-graphs.md, eq. 1) to read after relaxing, clamped
   * ones included: e.g. the image a generative memory predicts for its clamped query. Each
   * needs incoming edges, and the energy its prediction-error term.
   */
  predict?: string[];
  onStep?: StepListener;
}

/** What a query returns: where relaxation ended, and the values of the groups asked for. */
export interface QueryResult extends RelaxResult {
  batch: number;
  /** The read groups' values after relaxing, B x n_g each (copies). */
  values: Record<string, Float32Array | Float64Array>;
  /** The predictions of the groups named in `predict` at the final values, B x n_g each (copies). */
  predictions: Record<string, Float32Array | Float64Array>;
}

/** A step of `querySteps`: the event plus the current values of any group (a copy, read on demand). */
export interface QueryStep extends StepEvent {
  /** A copy of a group's current values [B, n_g]. */
  read(group: string): Float32Array | Float64Array;
  /** The current prediction MU_g of a group with incoming edges (a copy). */
  predict(group: string): Float32Array | Float64Array;
}

/** Settings of `PCGraph.learn`: the algorithm, inference steps and rate, tolerance, clipping and a step listener. */
export interface LearnOptions {
  /**
   * "pc" (default): relax, then learn; "ipc": learn at every inference step; "eqprop" and
   * "chl": a free phase and nudged or clamped phases, with the data of the nudged group as
   * the target (see `equilibrium`).
   */
  algorithm?: PCLearningAlgorithm;
  /** Inference steps T (default 20). */
  steps?: number;
  /** Inference rate (default 0.1). */
  gamma?: number;
  /** PC only: stop relaxing at this residual. */
  tolerance?: number;
  clip?: ClipOptions;
  onStep?: StepListener;
  /** EqProp and CHL: beta, nudging or clamp, the second phase's relaxation, what non-convergence does. */
  equilibrium?: EquilibriumSettings;
}

export const queryDefaults = { steps: 200, gamma: 0.05, tolerance: 1e-4 } as const;
export const learnDefaults = { steps: 20, gamma: 0.1 } as const;

/**
 * A PC graph ready to use: a model, its energy, and one state per batch size; answers clamp-anything
 * queries (classify, generate, complete, denoise) and learns with PC or iPC.
 */
export class PCGraph {
  readonly model: PCGraphModel;
  readonly energy: Energy;
  private readonly states = new Map<number, PCGraphState>();
  private gradients: Map<string, Tensor> | null = null;

  constructor(spec: PCGraphSpec | PCGraphModel, options: PCGraphOptions = {}) {
    this.model = spec instanceof PCGraphModel ? spec : new PCGraphModel(spec, options);
    try {
      this.energy = new Energy(options.energy ? options.energy(this.model) : [new PredictionErrors(this.model)]);
    } catch (error) {
      if (!(spec instanceof PCGraphModel)) this.model.dispose();
      throw error;
    }
  }

  /** The backend of the parameters and units. */
  get backend(): Backend {
    return this.model.backend;
  }

  /** The trainable parameters. */
  get parameters(): readonly Parameter[] {
    return this.model.parameters;
  }

  /** The groups, in topology order. */
  get groups(): readonly Group[] {
    return this.model.groups;
  }

  /** Number of trainable values. */
  get parameterCount(): number {
    return this.model.parameterCount;
  }

  /** The state for a batch size (allocated once and reused). */
  state(batch: number): PCGraphState {
    let s = this.states.get(batch);
    if (!s) this.states.set(batch, (s = new PCGraphState(this.model, batch)));
    return s;
  }

  /** Frees the per-batch-size states (they are rebuilt on demand). */
  releaseStates(): void {
    for (const s of this.states.values()) s.dispose();
    this.states.clear();
  }

  private prepareQuery(q: Query): { state: PCGraphState; reads: Group[]; predicted: Group[] } {
    if (!q || typeof q !== "object") throw new InvalidArgumentError("query: expected { clamp?, start?, read, ... }");
    const predicted = this.checkPredictions(q.predict);
    // Reading predictions only is a complete query (e.g. the image predicted for a clamped one).
    const reads = predicted.length > 0 && Array.isArray(q.read) && q.read.length === 0 ? [] : checkReads(this.model, q, q.read);
    const batch = queryBatch(this.model, q);
    const state = this.state(batch);
    state.parametersChanged(); // weights may have been changed from outside since the last use
    loadQuery(state, this.energy, q);
    return { state, reads, predicted };
  }

  /** The groups of `query.predict`: known, with incoming edges, and an energy that predicts. */
  private checkPredictions(names: string[] | undefined): Group[] {
    if (names === undefined) return [];
    if (!Array.isArray(names)) throw new InvalidArgumentError(`query: predict must be a list of group names, got ${JSON.stringify(names)}`);
    if (names.length > 0 && !this.energy.find(PredictionErrors)) throw new InvalidArgumentError("query: predict needs the prediction-error term in the energy");
    return names.map((name) => {
      const g = this.model.group(name);
      if (g.inEdges.length === 0) throw new InvalidArgumentError(`query: group "${name}" is predicted by no edge, so it has no prediction to read`);
      return g;
    });
  }

  /** Copies of the groups' predictions at the state's current values. */
  private readPredictions(state: PCGraphState, groups: Group[]): Record<string, Float32Array | Float64Array> {
    const out: Record<string, Float32Array | Float64Array> = {};
    const predictions = this.energy.find(PredictionErrors);
    for (const g of groups) out[g.name] = predictions!.prediction(state, g).dataSync();
    return out;
  }

  private relaxOptions(q: Partial<Query>) {
    return {
      steps: q.steps ?? queryDefaults.steps,
      gamma: q.gamma ?? queryDefaults.gamma,
      tolerance: q.tolerance ?? queryDefaults.tolerance,
      momentum: q.momentum,
      requireConvergence: q.requireConvergence,
      onStep: q.onStep,
    };
  }

  /** Clamps, relaxes and reads: one query on the current weights. */
  query(q: Query): QueryResult {
    checkRelaxOptions(this.relaxOptions(q ?? {}), "query");
    const { state, reads, predicted } = this.prepareQuery(q);
    const result = relax(state, this.energy, this.relaxOptions(q));
    const values: Record<string, Float32Array | Float64Array> = {};
    for (const g of reads) values[g.name] = state.values[g.index].dataSync();
    return { ...result, batch: state.batch, values, predictions: this.readPredictions(state, predicted) };
  }

  /**
   * The same query as an async iterator over its steps (step 0 is the starting state); the
   * iterator's return value is the QueryResult. Each step's `read(group)` copies the
   * current values; it is valid until the iterator moves on.
   */
  async *querySteps(q: Query): AsyncGenerator<QueryStep, QueryResult> {
    checkRelaxOptions(this.relaxOptions(q ?? {}), "query");
    const { state, reads, predicted } = this.prepareQuery(q);
    const run = relaxation(state, this.energy, { ...this.relaxOptions(q), onStep: undefined }, true);
    for (;;) {
      const next = run.next();
      if (next.done) {
        const values: Record<string, Float32Array | Float64Array> = {};
        for (const g of reads) values[g.name] = state.values[g.index].dataSync();
        return { ...next.value, batch: state.batch, values, predictions: this.readPredictions(state, predicted) };
      }
      const event = next.value!;
      q.onStep?.(event);
      yield {
        ...event,
        read: (name: string) => state.values[this.model.group(name).index].dataSync(),
        predict: (name: string) => this.readPredictions(state, this.checkPredictions([name]))[name],
      };
    }
  }

  /**
   * One learning step on a batch: load the clamps (init "forward" unless given), then PC or
   * iPC; `updater` (an optimizer) applies the gradients. Returns the steps taken and the
   * energy per sample where the (last) update was computed.
   */
  learn(batch: QueryClamps, updater: ParameterUpdater, options: LearnOptions = {}): LearningResult | EquilibriumLearningResult {
    const algorithm = options.algorithm ?? "pc";
    if (!pcLearningAlgorithms.includes(algorithm))
      throw new InvalidArgumentError(`algorithm must be "pc", "ipc", "eqprop" or "chl", got ${JSON.stringify(algorithm)}`);
    if (!updater || typeof updater.step !== "function") throw new InvalidArgumentError("learn: needs an optimizer (anything with step(model, gradients))");
    if (algorithm === "eqprop" || algorithm === "chl") {
      this.gradients ??= gradientBuffers(this.model);
      return learnAtEquilibrium(this, batch, updater, this.gradients, { ...options, algorithm });
    }
    const o = {
      steps: options.steps ?? learnDefaults.steps, gamma: options.gamma ?? learnDefaults.gamma, tolerance: options.tolerance,
      clip: options.clip, onStep: options.onStep,
    };
    checkRelaxOptions(o, algorithm === "pc" ? "PC" : "iPC");
    checkClip(o.clip);
    if (algorithm === "ipc" && o.tolerance !== undefined) throw new InvalidArgumentError("iPC: tolerance does not apply (iPC learns at every one of its steps)");
    const size = queryBatch(this.model, batch);
    const state = this.state(size);
    state.parametersChanged();
    loadQuery(state, this.energy, batch);
    this.gradients ??= gradientBuffers(this.model);
    return algorithm === "pc"
      ? pcLearning(state, this.energy, updater, this.gradients, o)
      : incrementalLearning(state, this.energy, updater, this.gradients, o);
  }

  /**
   * Trains on a dataset: each batch clamps the features to the input group ("sensory") and
   * the one-hot labels to the label group ("label"), then one PC or iPC step; the test set
   * is classified after every epoch. See PCGraphFitOptions.
   */
  fit(data: { train: Dataset; test?: Dataset }, options: PCGraphFitOptions): Promise<PCGraphHistory> {
    return fitPCGraph(this, data, options);
  }

  /** Classification accuracy: clamp the input group, relax, read the label group's argmax. */
  accuracy(data: Dataset, options: Parameters<typeof pcGraphAccuracy>[2] = {}): number {
    return pcGraphAccuracy(this, data, options);
  }

  /** The gradients of the last learning step (owned by the graph; valid until the next one). */
  get lastGradients(): Map<string, Tensor> | null {
    return this.gradients;
  }

  /** A copy of every parameter's values, by name. */
  getWeights(): Map<string, Float64Array> {
    return this.model.getWeights();
  }

  /** Sets parameters from values by name (all of them unless `partial`). */
  setWeights(weights: Map<string, ArrayLike<number>>, options?: { partial?: boolean }): void {
    this.model.setWeights(weights, options);
  }

  /** Frees every tensor: states, gradients and the model. */
  dispose(): void {
    this.releaseStates();
    for (const g of this.gradients?.values() ?? []) g.dispose();
    this.gradients = null;
    this.model.dispose();
  }
}

export type { ValueInit, QueryClamps };
