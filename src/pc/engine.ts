// PCEngine: runs one learning step of IL, Z-IL or FPA on a batch and returns gradient
// estimates (the negative of the PC parameter update per unit learning rate), so that every
// algorithm plugs into the same optimizers and can be compared with backprop directly:
// Z-IL's equal BP's gradients exactly.
import { InvalidArgumentError } from "../backend/errors.js";
import type { Graph } from "../graph/graph.js";
import type { Tensor } from "../tensor.js";
import { ParameterAccumulator } from "./dynamics.js";
import { PCNetwork } from "./network.js";
import { fixedPredictionLearning, inferenceLearning, zeroDivergenceLearning, type ZilScheduleOptions } from "./schedules.js";
import { PCState, type PCBatch } from "./state.js";
import type { StepEvent, StepListener } from "./steps.js";

/** The predictive coding algorithms: Z-IL (updates equal to backprop), inference learning, and the fixed prediction assumption. */
export type PCAlgorithm = "zil" | "il" | "fpa";

/** Which PC algorithm a `PCEngine` runs and its inference settings. */
export interface PCOptions {
  algorithm: PCAlgorithm;
  /**
   * Inference steps. IL: the budget, at most this many (default 500); FPA: exactly
   * this many (default: the longest path to the output). Z-IL always takes its depth.
   */
  steps?: number;
  /**
   * IL only: inference stops once the residual max |dF/dx| is at most this fraction of its
   * value at the feedforward state (default 1e-3), or stops early when it has stalled (no
   * new low in 100 steps); 0 takes the whole step budget.
   */
  tolerance?: number;
  /** Inference rate gamma: IL default 0.2; FPA and Z-IL default 1 (Z-IL is exact only at 1). */
  gamma?: number;
  /** IL only: heavy-ball momentum of the inference descent, in [0, 1) (default 0.95; 0: plain gradient descent). */
  momentum?: number;
  /** IL's output-error weight w (default 1); the estimate is rescaled by 1/w. */
  outputWeight?: number;
  /** Z-IL schedule options; see schedules.ts. `relay: false` skips levelling (a negative control). */
  zil?: Partial<ZilScheduleOptions> & { relay?: boolean };
  /** Record the energy after every inference step (default: on for IL, off otherwise). */
  recordEnergy?: boolean;
  /** Hears every inference step: energy and error norm per vertex (nothing is computed without it). */
  onStep?: StepListener;
}

/** What one `PCEngine.run` returns. */
export interface PCResult {
  /** Loss at the feedforward prediction (the same loss BP reports). */
  loss: number;
  /** dL/dtheta estimates by parameter name. Owned by the engine: valid until the next run or dispose. */
  gradients: Map<string, Tensor>;
  steps: number;
  energies: number[];
  /**
   * IL only: how far inference got towards equilibrium. `residual` is max |dF/dx| over the
   * free vertices at the end, `initialResidual` the same at the feedforward state,
   * `converged` whether residual <= tolerance * initialResidual within the step budget, and
   * `stalled` whether inference stopped early because the residual had stopped falling
   * (no new low in 100 steps: float32 rounding or the kinks of ReLU).
   */
  inference?: { steps: number; residual: number; initialResidual: number; converged: boolean; stalled: boolean };
}

/** IL's defaults, measured to reach the tolerance on 5-layer tanh MLPs: npm run experiment:il-convergence. */
export const IL_DEFAULTS = { gamma: 0.2, momentum: 0.95, tolerance: 1e-3, maxSteps: 500 } as const;

function checkNumber(name: string, value: number, min: number, integer = false): number {
  if (!Number.isFinite(value) || value < min || (integer && !Number.isInteger(value)))
    throw new InvalidArgumentError(`PC option ${name} must be ${integer ? "an integer" : "a number"} >= ${min}, got ${value}`);
  return value;
}

function checkMomentum(value: number): number {
  if (!(Number.isFinite(value) && value >= 0 && value < 1))
    throw new InvalidArgumentError(`PC option momentum must be a number in [0, 1), got ${value}`);
  return value;
}

/**
 * Runs one PC algorithm on a graph: for each batch, clamps the inputs and the target, relaxes
 * the value units by the algorithm's schedule and returns the parameter-gradient estimates.
 * Its units are allocated once per batch size and reused; `dispose()` frees them.
 */
export class PCEngine {
  readonly network: PCNetwork;
  private state: PCState | null = null;
  private readonly accumulator: ParameterAccumulator;
  private readonly gradients = new Map<string, Tensor>();
  private readonly zilOptions: ZilScheduleOptions;
  private listener: StepListener | undefined;

  constructor(readonly graph: Graph, readonly options: PCOptions) {
    if (!["zil", "il", "fpa"].includes(options.algorithm))
      throw new InvalidArgumentError(`unknown PC algorithm "${options.algorithm}" (expected zil, il or fpa)`);
    const zil = options.zil ?? {};
    this.zilOptions = {
      gamma: checkNumber("gamma", options.gamma ?? 1, Number.MIN_VALUE),
      schedule: zil.schedule ?? "frontier",
      clock: zil.clock ?? "longest",
      sharedUpdates: zil.sharedUpdates ?? "accumulate",
      learningRate: zil.learningRate ?? 0,
      recordEnergy: options.recordEnergy ?? false,
      onStep: options.onStep,
    };
    if (this.zilOptions.schedule === "frontier" && this.zilOptions.clock !== "longest")
      throw new InvalidArgumentError("Z-IL: the frontier schedule updates each vertex at its level; clock 'shortest' needs schedule 'full'");
    this.listener = options.onStep;
    this.network = new PCNetwork(graph, { relay: options.algorithm === "zil" && zil.relay !== false });
    // The accumulators are the gradient tensors the runs return: no copy at the end of a run.
    this.accumulator = new ParameterAccumulator(graph.parameters, this.gradients);
  }

  private stateFor(batch: number): PCState {
    if (this.state?.batch !== batch) {
      this.state?.dispose();
      this.state = new PCState(this.network, batch);
    }
    return this.state;
  }

  /** One learning step's gradient estimates on a batch (parameters are not changed). */
  run(batch: PCBatch): PCResult {
    const size = batch.target.shape[0];
    const state = this.stateFor(size);
    state.load(batch);
    const acc = this.accumulator;
    acc.zero();
    const o = this.options;
    let scale = 1;
    let result;
    let inference: PCResult["inference"];
    if (o.algorithm === "il") {
      const outputWeight = checkNumber("outputWeight", o.outputWeight ?? 1, Number.MIN_VALUE);
      scale = 1 / outputWeight;
      const il = inferenceLearning(state, acc, {
        maxSteps: checkNumber("steps", o.steps ?? IL_DEFAULTS.maxSteps, 0, true),
        tolerance: checkNumber("tolerance", o.tolerance ?? IL_DEFAULTS.tolerance, 0),
        gamma: checkNumber("gamma", o.gamma ?? IL_DEFAULTS.gamma, Number.MIN_VALUE),
        momentum: checkMomentum(o.momentum ?? IL_DEFAULTS.momentum),
        outputWeight,
        recordEnergy: o.recordEnergy ?? true,
        onStep: this.listener,
      });
      inference = { steps: il.steps, residual: il.residual, initialResidual: il.initialResidual, converged: il.converged, stalled: il.stalled };
      result = il;
    } else if (o.algorithm === "fpa") {
      result = fixedPredictionLearning(state, acc, {
        steps: checkNumber("steps", o.steps ?? this.network.depth, 0, true),
        gamma: checkNumber("gamma", o.gamma ?? 1, Number.MIN_VALUE),
        recordEnergy: o.recordEnergy ?? false,
        onStep: this.listener,
      });
    } else if (this.zilOptions.sharedUpdates === "immediate") {
      const saved = this.graph.getWeights();
      try {
        result = zeroDivergenceLearning(state, acc, this.zilOptions);
      } finally {
        this.graph.setWeights(saved);
      }
    } else {
      result = zeroDivergenceLearning(state, acc, this.zilOptions);
    }
    acc.toGradients(scale, this.gradients);
    return { loss: state.feedforwardLoss, gradients: this.gradients, steps: result.steps, energies: result.energies, ...(inference ? { inference } : {}) };
  }

  /**
   * One run as an async iterator over its inference steps (energy and error norm per
   * vertex); the iterator's return value is the run's result. The run itself is synchronous:
   * the events are yielded once it has finished, in order.
   */
  async *steps(batch: PCBatch): AsyncGenerator<StepEvent, PCResult> {
    const events: StepEvent[] = [];
    const listener = this.options.onStep;
    const collect: StepListener = (event) => {
      listener?.(event);
      events.push(event);
    };
    this.listener = this.zilOptions.onStep = collect;
    let result: PCResult;
    try {
      result = this.run(batch);
    } finally {
      this.listener = this.zilOptions.onStep = listener;
    }
    yield* events;
    return result;
  }

  /** The state of the last run (value, prediction and error units), for inspection. */
  get lastState(): PCState | null {
    this.state?.settle();
    return this.state;
  }

  /** Frees the units, the accumulators and the gradient tensors. */
  dispose(): void {
    this.state?.dispose();
    this.accumulator.dispose(); // the gradient tensors with it
    this.gradients.clear();
  }
}

/** One-off: gradient estimates of a PC algorithm as fresh tensors (the caller disposes them). */
export function pcGradients(graph: Graph, batch: PCBatch, options: PCOptions): Omit<PCResult, "gradients"> & { gradients: Map<string, Tensor> } {
  const engine = new PCEngine(graph, options);
  try {
    const result = engine.run(batch);
    return { ...result, gradients: new Map([...result.gradients].map(([name, t]) => [name, t.clone()])) };
  } finally {
    engine.dispose();
  }
}
