// The generative predictive-coding memory of Salvatori et al. 2021 ("Associative Memories
// via Predictive Coding", arXiv 2109.08063): a PC graph
//     memory -> hidden -> ... -> sensory
// (docs/pc-graphs.md, a backward `hierarchical` graph, mu = W f(x) + b with f ReLU or tanh)
// trained by inference learning (PC or iPC) on the stored patterns until its energy is near
// zero. Recall is a schedule of queries on that graph:
//   - corrupted query c (no mask), the paper's retrieval function F iterated K times:
//     clamp the sensory group to the current estimate, start the memory group at its
//     constant start and the hidden groups at their forward predictions, relax T steps, and
//     take the sensory prediction MU_sensory as the next estimate;
//   - partial query (a mask of known entries), the paper's completion: clamp the known
//     entries, let the unknown ones and every hidden unit relax (to convergence), read the
//     sensory values. Iterations restart the hidden units, the unknown entries keep their values.
// There is no parallel engine: training is PCGraph.learn, recall is PCGraph.query (and
// querySteps for the step stream).
//
// The memory keeps the patterns it stored, so that a later `store` trains on all of them
// (training on the new ones alone would overwrite the old).
import { InvalidArgumentError } from "../backend/errors.js";
import type { Backend } from "../backend/kernels.js";
import type { BackendName } from "../backend/load.js";
import type { PCGraphModel, WeightInit } from "../pc/graph/model.js";
import { hierarchical, resolveTopology, topologyToSpec, type GroupList, type PCGraphSpec } from "../pc/graph/topology.js";
import type { StepEvent } from "../pc/steps.js";
import { resolveBackend, Tensor } from "../tensor.js";
import type { OptimizerStateData } from "../train/checkpoint.js";
import { createOptimizer, type Optimizer, type OptimizerConfig } from "../train/optimizers.js";
import { PCGraph, pcLearningAlgorithms, type PCLearningAlgorithm, type Query } from "../train/pc-graph.js";
import type { AssociativeMemory } from "./associative-memory.js";
import { toMask, toRows, type Mask, type MaskInput, type Rows } from "./inputs.js";
import {
  activationOption, momentumOption, epochOrder, finiteOption, gatherRows, integerOption, knownKeys, objectOption, optionError,
  positiveOption, type MemoryActivation, type MemoryEpochRecord, type MemoryTrainingResult,
} from "./memory-training.js";

/** One relaxation schedule of a recall: K relaxations of at most T steps each. */
export interface RecallSchedule {
  /** Relaxations K (the paper iterates its retrieval function F). */
  iterations: number;
  /** Inference steps T per relaxation. */
  steps: number;
  /** Inference rate gamma. */
  gamma: number;
  /** A relaxation stops early at this residual (0: always T steps). */
  tolerance: number;
  /** Heavy-ball momentum of the relaxation in [0, 1) (0: plain gradient descent). */
  momentum: number;
}

/** How the PC memory learns its patterns (inference learning on the PC graph). */
export interface PCMemoryTraining {
  /** "ipc" (default: weights learn at every inference step, which converges in fewer epochs here) or "pc". */
  algorithm: PCLearningAlgorithm;
  /** Inference steps T per batch (default 10). */
  steps: number;
  /** Inference rate gamma (default 0.1). */
  gamma: number;
  /** Stored patterns per learning batch (default 50). */
  batchSize: number;
  /** Most epochs one `store` runs (default 500). */
  epochs: number;
  /** Training stops once an epoch's energy per pattern entry, F / (N D), is at most this (default 2e-6). */
  tolerance: number;
  /** Default Adam, learning rate 3e-4 (at 1e-3 the energy spikes once it is small). */
  optimizer: OptimizerConfig;
}

/** Everything that defines a PC memory: its network, training and recall schedules (JSON; stored in checkpoints). */
export interface PCMemorySettings {
  /** D: entries per pattern (the sensory group). */
  patternSize: number;
  /** Sizes of the hidden groups, from the memory group down to the sensory group (default [256]). */
  hiddenSizes: number[];
  /** Size of the memory group (default: the first hidden size). */
  memorySize: number;
  /** f of the memory and hidden groups (default "tanh": smooth, so the momentum of partial recalls does not strand units where ReLU is flat). */
  activation: MemoryActivation;
  /** The value every memory unit starts each relaxation from (default 0 for tanh; 0.1 for ReLU, whose derivative is 0 at 0). */
  memoryStart: number;
  /** Seed of the initial weights and of the order of the patterns in training (default 0). */
  seed: number;
  weightInit: WeightInit;
  training: PCMemoryTraining;
  /** Recall of a corrupted query (no mask): default 20 iterations of T = training.steps at training.gamma, as trained. */
  corrupted: RecallSchedule;
  /** Recall of a partial query (a mask): default one relaxation of 1000 steps at gamma 0.1 with momentum 0.9, stopping at residual 1e-5. */
  partial: RecallSchedule;
}

/** Options of `new PCMemory`: any part of the settings (checked; unknown keys are refused). */
export interface PCMemoryOptions extends Partial<Omit<PCMemorySettings, "training" | "corrupted" | "partial" | "patternSize">> {
  /** D; when omitted the network is built at the first store. */
  patternSize?: number;
  training?: Partial<PCMemoryTraining>;
  corrupted?: Partial<RecallSchedule>;
  partial?: Partial<RecallSchedule>;
  backend?: Backend | BackendName;
  /** Called after every training epoch. */
  onEpoch?(record: MemoryEpochRecord): void;
}

/** How the last `recall` ended. */
export interface PCMemoryRecallInfo {
  /** Relaxations run (K). */
  iterations: number;
  /** Inference steps over all of them. */
  steps: number;
  /** F / B at the end of the last relaxation (near 0: the recall is an image the network generates exactly). */
  energy: number;
  /** RMS of dF/dX over the free units there. */
  residual: number;
}

/** A step of `recallSteps`: the relaxation's step event, which relaxation it is, and the recall so far. */
export interface PCMemoryRecallStep extends StepEvent {
  /** 1-based relaxation of the schedule. */
  iteration: number;
  /** K. */
  iterations: number;
  /**
   * The recall at this step [B, D] (a copy): the sensory prediction for a corrupted query,
   * the sensory values (known entries as given) for a partial one.
   */
  estimate(): Float32Array | Float64Array;
}

const SETTING_KEYS = ["patternSize", "hiddenSizes", "memorySize", "activation", "memoryStart", "seed", "weightInit", "training", "corrupted", "partial", "backend", "onEpoch"] as const;
const TRAINING_KEYS = ["algorithm", "steps", "gamma", "batchSize", "epochs", "tolerance", "optimizer"] as const;
const SCHEDULE_KEYS = ["iterations", "steps", "gamma", "tolerance", "momentum"] as const;

function resolveSchedule(where: string, option: string, given: Partial<RecallSchedule> | undefined, fallback: RecallSchedule): RecallSchedule {
  const o = objectOption(where, option, given);
  knownKeys(where, option, o, SCHEDULE_KEYS);
  return {
    iterations: integerOption(where, `${option}.iterations`, o.iterations, fallback.iterations, 1),
    steps: integerOption(where, `${option}.steps`, o.steps, fallback.steps, 1),
    gamma: positiveOption(where, `${option}.gamma`, o.gamma, fallback.gamma),
    tolerance: positiveOption(where, `${option}.tolerance`, o.tolerance, fallback.tolerance, true),
    momentum: momentumOption(where, `${option}.momentum`, o.momentum, fallback.momentum),
  };
}

/** Checks options (or stored settings) and fills in the defaults; every error names the option. */
export function resolvePCMemorySettings(options: PCMemoryOptions | PCMemorySettings, where = "PCMemory"): PCMemorySettings & { patternSize: number } {
  const o = objectOption(where, "options", options as PCMemoryOptions);
  knownKeys(where, "options", o, SETTING_KEYS);
  const patternSize = integerOption(where, "patternSize", o.patternSize, 0, 1);
  let hiddenSizes = [256];
  if (o.hiddenSizes !== undefined) {
    if (!Array.isArray(o.hiddenSizes) || o.hiddenSizes.length === 0) optionError(where, "hiddenSizes", `must be a non-empty list of sizes, got ${JSON.stringify(o.hiddenSizes)}`);
    hiddenSizes = o.hiddenSizes.map((n, i) => integerOption(where, `hiddenSizes[${i}]`, n, 0, 1));
  }
  const activation = activationOption(where, o.activation, "tanh");
  const t = objectOption(where, "training", o.training);
  knownKeys(where, "training", t, TRAINING_KEYS);
  if (t.algorithm !== undefined && !pcLearningAlgorithms.includes(t.algorithm))
    optionError(where, "training.algorithm", `must be "pc" or "ipc", got ${JSON.stringify(t.algorithm)}`);
  const optimizer = objectOption(where, "training.optimizer", t.optimizer) as OptimizerConfig;
  const training: PCMemoryTraining = {
    algorithm: t.algorithm ?? "ipc",
    steps: integerOption(where, "training.steps", t.steps, 10, 1),
    gamma: positiveOption(where, "training.gamma", t.gamma, 0.1),
    batchSize: integerOption(where, "training.batchSize", t.batchSize, 50, 1),
    epochs: integerOption(where, "training.epochs", t.epochs, 500, 0),
    tolerance: positiveOption(where, "training.tolerance", t.tolerance, 2e-6, true),
    optimizer: t.optimizer === undefined ? { kind: "adam", learningRate: 3e-4 } : structuredClone(optimizer),
  };
  return {
    patternSize,
    hiddenSizes,
    memorySize: integerOption(where, "memorySize", o.memorySize, hiddenSizes[0], 1),
    activation,
    memoryStart: finiteOption(where, "memoryStart", o.memoryStart, activation === "relu" ? 0.1 : 0),
    seed: integerOption(where, "seed", o.seed, 0, 0),
    weightInit: o.weightInit ?? "glorotUniform",
    training,
    corrupted: resolveSchedule(where, "corrupted", o.corrupted, { iterations: 20, steps: training.steps, gamma: training.gamma, tolerance: 0, momentum: 0 }),
    partial: resolveSchedule(where, "partial", o.partial, { iterations: 1, steps: 1000, gamma: 0.1, tolerance: 1e-5, momentum: 0.9 }),
  };
}

/** The group names of the network: "sensory", "hidden" (or "hidden1".."hiddenK" from the sensory side up) and "memory". */
export function pcMemoryGroups(settings: PCMemorySettings): GroupList {
  const hidden = [...settings.hiddenSizes].reverse();
  return [
    ["sensory", settings.patternSize],
    ...hidden.map((size, i): [string, number, MemoryActivation] => [hidden.length === 1 ? "hidden" : `hidden${i + 1}`, size, settings.activation]),
    ["memory", settings.memorySize, settings.activation],
  ];
}

export class PCMemory implements AssociativeMemory {
  readonly backend: Backend;
  #settings: PCMemorySettings;
  #graph: PCGraph | null = null;
  #optimizer: Optimizer | null = null;
  #patterns = new Float32Array(0);
  #count = 0;
  #epochs = 0;
  #converged = false;
  readonly #history: MemoryEpochRecord[] = [];
  readonly #onEpoch?: (record: MemoryEpochRecord) => void;
  #lastRecall: PCMemoryRecallInfo | null = null;
  readonly #rows = new Map<number, Float32Array>();
  readonly #starts = new Map<number, Float32Array>();

  constructor(options: PCMemoryOptions = {}) {
    this.#settings = resolvePCMemorySettings(options);
    if (options.onEpoch !== undefined && typeof options.onEpoch !== "function") optionError("PCMemory", "onEpoch", "must be a function");
    this.#onEpoch = options.onEpoch;
    this.backend = resolveBackend(options.backend);
    if (this.#settings.patternSize > 0) this.#build();
  }

  /**
   * A memory on a trained network (e.g. from a PC-graph checkpoint): `settings` as
   * `memory.settings` gave them, `patterns` [N, D] the patterns it stored (kept for later
   * stores); to continue training exactly, the optimizer state and `memory.epochs`.
   */
  static restore(model: PCGraphModel, settings: PCMemorySettings, patterns: Rows,
    options: { optimizer?: OptimizerStateData; epochs?: number; onEpoch?: (record: MemoryEpochRecord) => void } = {}): PCMemory {
    const where = "PCMemory.restore";
    const resolved = resolvePCMemorySettings(settings, where);
    if (resolved.patternSize === 0) optionError(where, "settings.patternSize", "is missing");
    const expected = topologyToSpec(resolveTopology(hierarchical(pcMemoryGroups(resolved), { direction: "backward" })));
    if (JSON.stringify(expected) !== JSON.stringify(model.spec))
      throw new InvalidArgumentError(`${where}: the network (${describeSpec(model.spec)}) is not the one the settings describe (${describeSpec(expected)})`);
    const memory = new PCMemory({ ...resolved, patternSize: undefined, backend: model.backend, onEpoch: options.onEpoch });
    memory.#settings.patternSize = resolved.patternSize;
    const rows = toRows(where, "patterns", patterns, model.backend, resolved.patternSize);
    try {
      memory.#append(rows.tensor.dataSync(), rows.rows);
    } finally {
      if (rows.owned) rows.tensor.dispose();
    }
    if (options.optimizer) {
      memory.#optimizer = createOptimizer(resolved.training.optimizer);
      memory.#optimizer.loadState(options.optimizer);
    }
    memory.#epochs = integerOption(where, "options.epochs", options.epochs, 0, 0);
    memory.#graph = new PCGraph(model);
    memory.#converged = true;
    return memory;
  }

  /** The settings (a copy): network, training and recall schedules. */
  get settings(): PCMemorySettings {
    return structuredClone(this.#settings);
  }

  /** The PC graph (built at the first store unless patternSize was given); null before. */
  get network(): PCGraph | null {
    return this.#graph;
  }

  get size(): number {
    return this.#count;
  }

  get patternSize(): number {
    return this.#settings.patternSize;
  }

  get outputSize(): number {
    return this.#settings.patternSize;
  }

  /** The stored patterns [N, D] (a copy). */
  patterns(): Float32Array {
    return this.#patterns.slice(0, this.#count * this.#settings.patternSize);
  }

  /** Every training epoch of this object (a restored memory starts a new list). */
  get history(): readonly MemoryEpochRecord[] {
    return this.#history;
  }

  /** Epochs trained over the memory's life (restored ones included): the next epoch's order depends on it. */
  get epochs(): number {
    return this.#epochs;
  }

  /** True when the last training reached the energy tolerance. */
  get converged(): boolean {
    return this.#converged;
  }

  /** How the last `recall` ended (null before one). */
  get lastRecall(): PCMemoryRecallInfo | null {
    return this.#lastRecall ? { ...this.#lastRecall } : null;
  }

  /** The optimizer's state (for checkpoints); null before training. */
  optimizerState(): OptimizerStateData | null {
    return this.#optimizer?.state() ?? null;
  }

  /**
   * Adds patterns [n, D] and trains the network on every stored pattern until the energy per
   * pattern entry reaches `training.tolerance`, or for `training.epochs` epochs. A
   * hetero-associative target is not supported (the paper's network stores one modality).
   */
  store(patterns: Rows, targets?: Rows): this {
    this.append(patterns, targets);
    this.train();
    return this;
  }

  /** Adds patterns [n, D] without training (train later with `train`). */
  append(patterns: Rows, targets?: Rows): this {
    const where = "PCMemory.store";
    if (targets !== undefined) throw new InvalidArgumentError(`${where}: targets are not supported (the PC memory is auto-associative; store the concatenation to associate two parts)`);
    const rows = toRows(where, "patterns", patterns, this.backend, this.#settings.patternSize > 0 ? this.#settings.patternSize : undefined);
    try {
      if (this.#settings.patternSize === 0) this.#settings.patternSize = rows.cols;
      this.#append(rows.tensor.dataSync(), rows.rows);
    } finally {
      if (rows.owned) rows.tensor.dispose();
    }
    this.#converged = false;
    if (!this.#graph) this.#build();
    return this;
  }

  /**
   * Trains on the stored patterns for at most `epochs` epochs (default training.epochs),
   * stopping once an epoch's energy per entry is at most training.tolerance.
   */
  train(epochs = this.#settings.training.epochs): MemoryTrainingResult {
    const where = "PCMemory.train";
    if (!Number.isInteger(epochs) || epochs < 0) throw new InvalidArgumentError(`${where}: epochs must be an integer >= 0, got ${JSON.stringify(epochs)}`);
    const graph = this.#requireStored(where);
    const t = this.#settings.training;
    const d = this.#settings.patternSize;
    const started = performance.now();
    this.#optimizer ??= createOptimizer(t.optimizer);
    let lossPerEntry = NaN;
    let run = 0;
    while (run < epochs) {
      const epochStarted = performance.now();
      const order = epochOrder(this.#count, this.#settings.seed, this.#epochs);
      let energy = 0;
      for (let start = 0; start < this.#count; start += t.batchSize) {
        const rows = Math.min(t.batchSize, this.#count - start);
        const batch = gatherRows(this.#patterns, d, order, start, rows, this.#rowBuffer(rows));
        const result = graph.learn({ clamp: { sensory: batch }, start: { memory: this.#memoryStart(rows) } }, this.#optimizer,
          { algorithm: t.algorithm, steps: t.steps, gamma: t.gamma });
        if (!Number.isFinite(result.energy))
          throw new InvalidArgumentError(`${where}: the energy became ${result.energy} at epoch ${this.#epochs + 1}; lower training.gamma or the learning rate`);
        energy += result.energy * rows;
      }
      run++;
      this.#epochs++;
      lossPerEntry = energy / (this.#count * d);
      const record = { epoch: this.#epochs, lossPerEntry, seconds: (performance.now() - epochStarted) / 1000 };
      this.#history.push(record);
      this.#onEpoch?.(record);
      if (lossPerEntry <= t.tolerance) {
        this.#converged = true;
        break;
      }
    }
    return { epochs: run, lossPerEntry, converged: this.#converged, seconds: (performance.now() - started) / 1000 };
  }

  /**
   * Recalls queries [B, D] (or one [D]): without a mask each query is a corrupted pattern and
   * the `corrupted` schedule runs (iterated F); with a mask (1 = known entry) the `partial`
   * schedule completes the unknown entries. Returns a new tensor the caller disposes.
   */
  recall(queries: Rows, mask?: MaskInput): Tensor {
    const { values, rows, single, checkedMask } = this.#queries("PCMemory.recall", queries, mask);
    let estimate: Float32Array | Float64Array = values;
    const schedule = checkedMask ? this.#settings.partial : this.#settings.corrupted;
    const info: PCMemoryRecallInfo = { iterations: schedule.iterations, steps: 0, energy: NaN, residual: NaN };
    for (let iteration = 1; iteration <= schedule.iterations; iteration++) {
      const q = this.#iterationQuery(estimate, checkedMask, iteration, schedule);
      const result = this.#graph!.query(q);
      estimate = checkedMask ? result.values.sensory : result.predictions.sensory;
      info.steps += result.steps;
      info.energy = result.energy;
      info.residual = result.residual;
    }
    this.#lastRecall = info;
    return new Tensor(single ? [this.patternSize] : [rows, this.patternSize], this.backend).assign(estimate);
  }

  /**
   * The same recall as an async iterator over every inference step of every relaxation
   * (step 0 of each is its starting state); returns the recall [B, D] (a copy).
   */
  async *recallSteps(queries: Rows, mask?: MaskInput): AsyncGenerator<PCMemoryRecallStep, Float32Array | Float64Array> {
    const { values, checkedMask } = this.#queries("PCMemory.recallSteps", queries, mask);
    let estimate: Float32Array | Float64Array = values;
    const schedule = checkedMask ? this.#settings.partial : this.#settings.corrupted;
    for (let iteration = 1; iteration <= schedule.iterations; iteration++) {
      const run = this.#graph!.querySteps(this.#iterationQuery(estimate, checkedMask, iteration, schedule));
      for (;;) {
        const next = await run.next();
        if (next.done) {
          estimate = checkedMask ? next.value.values.sensory : next.value.predictions.sensory;
          break;
        }
        const step = next.value;
        yield {
          step: step.step, energy: step.energy, residual: step.residual, errorNorms: step.errorNorms, iteration, iterations: schedule.iterations,
          estimate: () => (checkedMask ? step.read("sensory") : step.predict("sensory")),
        };
      }
    }
    return estimate;
  }

  /** Forgets the stored patterns and the training (the network starts again from its initial weights). */
  clear(): void {
    this.#graph?.dispose();
    this.#graph = null;
    this.#optimizer?.dispose();
    this.#optimizer = null;
    this.#patterns = new Float32Array(0);
    this.#count = 0;
    this.#epochs = 0;
    this.#converged = false;
    this.#history.length = 0;
    this.#rows.clear();
    this.#starts.clear();
    if (this.#settings.patternSize > 0) this.#build();
  }

  dispose(): void {
    this.#graph?.dispose();
    this.#graph = null;
    this.#optimizer?.dispose();
    this.#optimizer = null;
    this.#patterns = new Float32Array(0);
    this.#count = 0;
  }

  /** The same as `dispose()`, for `using memory = ...`. */
  [Symbol.dispose](): void {
    this.dispose();
  }

  #build(): void {
    const s = this.#settings;
    this.#graph = new PCGraph(hierarchical(pcMemoryGroups(s), { direction: "backward" }), { backend: this.backend, seed: s.seed, weightInit: s.weightInit });
  }

  #append(values: ArrayLike<number>, rows: number): void {
    const d = this.#settings.patternSize;
    const needed = (this.#count + rows) * d;
    if (needed > this.#patterns.length) {
      const grown = new Float32Array(Math.max(needed, 2 * this.#patterns.length));
      grown.set(this.#patterns.subarray(0, this.#count * d));
      this.#patterns = grown;
    }
    this.#patterns.set(values, this.#count * d);
    this.#count += rows;
  }

  #requireStored(where: string): PCGraph {
    if (this.#count === 0 || !this.#graph) throw new InvalidArgumentError(`${where}: the memory is empty; store patterns first`);
    return this.#graph;
  }

  #rowBuffer(rows: number): Float32Array {
    let b = this.#rows.get(rows);
    if (!b) this.#rows.set(rows, (b = new Float32Array(rows * this.#settings.patternSize)));
    return b;
  }

  #memoryStart(rows: number): Float32Array {
    let s = this.#starts.get(rows);
    if (!s) this.#starts.set(rows, (s = new Float32Array(rows * this.#settings.memorySize).fill(this.#settings.memoryStart)));
    return s;
  }

  #queries(where: string, queries: Rows, mask: MaskInput | undefined) {
    this.#requireStored(where);
    const rows = toRows(where, "queries", queries, this.backend, this.patternSize);
    try {
      const checkedMask: Mask | null = mask === undefined ? null : toMask(where, mask, rows.rows, this.patternSize);
      return { values: Float32Array.from(rows.tensor.dataSync()), rows: rows.rows, single: rows.single, checkedMask };
    } finally {
      if (rows.owned) rows.tensor.dispose();
    }
  }

  /** One relaxation of a recall: clamp the estimate (or its known entries), restart the memory and hidden units. */
  #iterationQuery(estimate: Float32Array | Float64Array, mask: Mask | null, iteration: number, schedule: RecallSchedule): Query {
    const rows = estimate.length / this.patternSize;
    const settings = { steps: schedule.steps, gamma: schedule.gamma, tolerance: schedule.tolerance, momentum: schedule.momentum };
    const memory = this.#memoryStart(rows);
    if (!mask) return { clamp: { sensory: estimate }, start: { memory }, read: [], predict: ["sensory"], ...settings };
    return {
      clamp: { sensory: { values: estimate, mask: mask.values } },
      // The unknown entries start at their prediction, later relaxations where the last one left them.
      start: iteration === 1 ? { memory } : { memory, sensory: estimate },
      read: ["sensory"],
      ...settings,
    };
  }
}

function describeSpec(spec: PCGraphSpec): string {
  return spec.groups.map((g) => `${g.name} ${g.size} ${g.activation ?? "identity"}`).join(", ");
}
