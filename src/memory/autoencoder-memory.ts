// A backprop autoencoder as an associative memory: the baseline of Salvatori et al. 2021
// (after Radhakrishnan et al. 2020, "Overparameterized neural networks implement associative
// memory": an autoencoder trained to reproduce its training set to near-zero error has
// them as attractors of x <- AE(x)). Built with the graph layer (`sequential`: dense layers
// and activations, mse loss) and trained by the reference backprop with the optimizers of
// src/train. Its decoder has the shape of the PC memory's generative network
// (code -> hidden -> ... -> pattern); the encoder mirrors it.
// Recall iterates the autoencoder: x <- AE(x) for a corrupted query, and
// x <- m * q + (1 - m) * AE(x) for a partial one (the known entries m * q held).
import { InvalidArgumentError } from "../backend/errors.js";
import type { Backend } from "../backend/kernels.js";
import type { BackendName } from "../backend/load.js";
import { layers, sequential, type Layer } from "../graph/builder.js";
import { predict } from "../graph/forward.js";
import type { Graph } from "../graph/graph.js";
import { BackpropEngine } from "../reference/backprop.js";
import { resolveBackend, Tensor } from "../tensor.js";
import { createOptimizer, type Optimizer, type OptimizerConfig } from "../train/optimizers.js";
import type { AssociativeMemory } from "./associative-memory.js";
import { toMask, toRows, type Mask, type MaskInput, type Rows } from "./inputs.js";
import {
  activationOption, DEFAULT_MEMORY_OPTIMIZER, epochOrder, gatherRows, integerOption, knownKeys, objectOption, optionError, positiveOption,
  type MemoryActivation, type MemoryEpochRecord, type MemoryTrainingResult,
} from "./memory-training.js";

/** How the autoencoder learns its patterns (backprop on 1/2 |x - AE(x)|^2). */
export interface AutoencoderTraining {
  /** Stored patterns per batch (default 50). */
  batchSize: number;
  /** Most epochs one `store` runs (default 500). */
  epochs: number;
  /** Training stops once an epoch's mean loss per entry, 1/2 |x - AE(x)|^2 / D, is at most this (default 2e-6). */
  tolerance: number;
  /** Default Adam, learning rate 1e-3. */
  optimizer: OptimizerConfig;
}

/** Everything that defines the autoencoder memory (JSON). */
export interface AutoencoderMemorySettings {
  /** D (0 until the first store when not given). */
  patternSize: number;
  /** Widths of the decoder's hidden layers from the code down to the output (default [256]); the encoder mirrors them. */
  hiddenSizes: number[];
  /** Width of the code (default: the first hidden size). */
  codeSize: number;
  /** Activation after every layer but the output (default "tanh"). */
  activation: MemoryActivation;
  /** Seed of the initial weights and of the order of the patterns in training (default 0). */
  seed: number;
  training: AutoencoderTraining;
  /** Passes x <- AE(x) for a corrupted query (default 20). */
  corruptedIterations: number;
  /** Passes x <- m q + (1 - m) AE(x) for a partial query (default 20). */
  partialIterations: number;
}

/** Options of `new AutoencoderMemory`: any part of the settings. */
export interface AutoencoderMemoryOptions extends Partial<Omit<AutoencoderMemorySettings, "training">> {
  training?: Partial<AutoencoderTraining>;
  backend?: Backend | BackendName;
  /** Called after every training epoch. */
  onEpoch?(record: MemoryEpochRecord): void;
}

const KEYS = ["patternSize", "hiddenSizes", "codeSize", "activation", "seed", "training", "corruptedIterations", "partialIterations", "backend", "onEpoch"] as const;
const TRAINING_KEYS = ["batchSize", "epochs", "tolerance", "optimizer"] as const;

/** Checks options and fills in the defaults; every error names the option. */
export function resolveAutoencoderSettings(options: AutoencoderMemoryOptions, where = "AutoencoderMemory"): AutoencoderMemorySettings {
  const o = objectOption(where, "options", options);
  knownKeys(where, "options", o, KEYS);
  let hiddenSizes = [256];
  if (o.hiddenSizes !== undefined) {
    if (!Array.isArray(o.hiddenSizes) || o.hiddenSizes.length === 0) optionError(where, "hiddenSizes", `must be a non-empty list of sizes, got ${JSON.stringify(o.hiddenSizes)}`);
    hiddenSizes = o.hiddenSizes.map((n, i) => integerOption(where, `hiddenSizes[${i}]`, n, 0, 1));
  }
  const t = objectOption(where, "training", o.training);
  knownKeys(where, "training", t, TRAINING_KEYS);
  return {
    patternSize: integerOption(where, "patternSize", o.patternSize, 0, 1),
    hiddenSizes,
    codeSize: integerOption(where, "codeSize", o.codeSize, hiddenSizes[0], 1),
    activation: activationOption(where, o.activation, "tanh"),
    seed: integerOption(where, "seed", o.seed, 0, 0),
    training: {
      batchSize: integerOption(where, "training.batchSize", t.batchSize, 50, 1),
      epochs: integerOption(where, "training.epochs", t.epochs, 500, 0),
      tolerance: positiveOption(where, "training.tolerance", t.tolerance, 2e-6, true),
      optimizer: t.optimizer === undefined ? { ...DEFAULT_MEMORY_OPTIMIZER } : structuredClone(objectOption(where, "training.optimizer", t.optimizer) as OptimizerConfig),
    },
    corruptedIterations: integerOption(where, "corruptedIterations", o.corruptedIterations, 20, 1),
    partialIterations: integerOption(where, "partialIterations", o.partialIterations, 20, 1),
  };
}

export class AutoencoderMemory implements AssociativeMemory {
  readonly backend: Backend;
  #settings: AutoencoderMemorySettings;
  #graph: Graph | null = null;
  #engine: BackpropEngine | null = null;
  #optimizer: Optimizer | null = null;
  #patterns = new Float32Array(0);
  #count = 0;
  #epochs = 0;
  #converged = false;
  readonly #history: MemoryEpochRecord[] = [];
  readonly #onEpoch?: (record: MemoryEpochRecord) => void;
  readonly #batches = new Map<number, { rows: Float32Array; tensor: Tensor }>();

  constructor(options: AutoencoderMemoryOptions = {}) {
    this.#settings = resolveAutoencoderSettings(options);
    if (options.onEpoch !== undefined && typeof options.onEpoch !== "function") optionError("AutoencoderMemory", "onEpoch", "must be a function");
    this.#onEpoch = options.onEpoch;
    this.backend = resolveBackend(options.backend);
    if (this.#settings.patternSize > 0) this.#build();
  }

  /** The settings (a copy). */
  get settings(): AutoencoderMemorySettings {
    return structuredClone(this.#settings);
  }

  /** The autoencoder graph (null before the first store unless patternSize was given). */
  get graph(): Graph | null {
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

  /** Every training epoch so far. */
  get history(): readonly MemoryEpochRecord[] {
    return this.#history;
  }

  /** True when the last training reached the loss tolerance. */
  get converged(): boolean {
    return this.#converged;
  }

  /** Adds patterns [n, D] and trains on every stored pattern (see AutoencoderTraining). */
  store(patterns: Rows, targets?: Rows): this {
    this.append(patterns, targets);
    this.train();
    return this;
  }

  /** Adds patterns [n, D] without training (train later with `train`). */
  append(patterns: Rows, targets?: Rows): this {
    const where = "AutoencoderMemory.store";
    if (targets !== undefined) throw new InvalidArgumentError(`${where}: targets are not supported (the autoencoder memory is auto-associative)`);
    const rows = toRows(where, "patterns", patterns, this.backend, this.#settings.patternSize > 0 ? this.#settings.patternSize : undefined);
    try {
      if (this.#settings.patternSize === 0) this.#settings.patternSize = rows.cols;
      const d = this.#settings.patternSize;
      const grown = new Float32Array((this.#count + rows.rows) * d);
      grown.set(this.#patterns.subarray(0, this.#count * d));
      grown.set(rows.tensor.dataSync(), this.#count * d);
      this.#patterns = grown;
      this.#count += rows.rows;
    } finally {
      if (rows.owned) rows.tensor.dispose();
    }
    if (!this.#graph) this.#build();
    this.#converged = false;
    return this;
  }

  /** Trains for at most `epochs` epochs (default training.epochs), stopping at the loss tolerance. */
  train(epochs = this.#settings.training.epochs): MemoryTrainingResult {
    const where = "AutoencoderMemory.train";
    if (!Number.isInteger(epochs) || epochs < 0) throw new InvalidArgumentError(`${where}: epochs must be an integer >= 0, got ${JSON.stringify(epochs)}`);
    const graph = this.#requireStored(where);
    const t = this.#settings.training;
    const d = this.#settings.patternSize;
    this.#engine ??= new BackpropEngine(graph);
    this.#optimizer ??= createOptimizer(t.optimizer);
    const started = performance.now();
    let lossPerEntry = NaN;
    let run = 0;
    while (run < epochs) {
      const epochStarted = performance.now();
      const order = epochOrder(this.#count, this.#settings.seed, this.#epochs);
      let loss = 0;
      for (let start = 0; start < this.#count; start += t.batchSize) {
        const size = Math.min(t.batchSize, this.#count - start);
        const batch = this.#batch(size);
        batch.tensor.assign(gatherRows(this.#patterns, d, order, start, size, batch.rows));
        // The target is the input: L = 1/(2B) sum |AE(x) - x|^2.
        const result = this.#engine.run({ inputs: batch.tensor, target: batch.tensor });
        if (!Number.isFinite(result.loss)) throw new InvalidArgumentError(`${where}: the loss became ${result.loss} at epoch ${this.#epochs + 1}; lower the learning rate`);
        this.#optimizer.step(graph, result.gradients);
        loss += result.loss * size;
      }
      run++;
      this.#epochs++;
      lossPerEntry = loss / (this.#count * d);
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

  /** Iterates the autoencoder from the queries (holding the known entries of a partial query); a new tensor. */
  recall(queries: Rows, mask?: MaskInput): Tensor {
    const where = "AutoencoderMemory.recall";
    const graph = this.#requireStored(where);
    const d = this.patternSize;
    const rows = toRows(where, "queries", queries, this.backend, d);
    let current: Tensor | null = null;
    try {
      const checked: Mask | null = mask === undefined ? null : toMask(where, mask, rows.rows, d);
      const query = Float32Array.from(rows.tensor.dataSync());
      current = new Tensor([rows.rows, d], this.backend).assign(query);
      const iterations = checked ? this.#settings.partialIterations : this.#settings.corruptedIterations;
      for (let i = 0; i < iterations; i++) {
        const next = predict(graph, current);
        current.dispose();
        current = next;
        if (checked) {
          const values = Float32Array.from(current.dataSync());
          for (let k = 0; k < values.length; k++) if (checked.values[checked.rows === 1 ? k % d : k] === 1) values[k] = query[k];
          current.assign(values);
        }
      }
      const out = rows.single ? current.reshape([d]) : current;
      if (out !== current) current.dispose();
      current = null;
      return out;
    } finally {
      current?.dispose();
      if (rows.owned) rows.tensor.dispose();
    }
  }

  /** Forgets the stored patterns and the training (new initial weights from the same seed). */
  clear(): void {
    this.#release();
    this.#patterns = new Float32Array(0);
    this.#count = 0;
    this.#epochs = 0;
    this.#converged = false;
    this.#history.length = 0;
    if (this.#settings.patternSize > 0) this.#build();
  }

  dispose(): void {
    this.#release();
    this.#patterns = new Float32Array(0);
    this.#count = 0;
  }

  /** The same as `dispose()`, for `using memory = ...`. */
  [Symbol.dispose](): void {
    this.dispose();
  }

  #release(): void {
    this.#engine?.dispose();
    this.#engine = null;
    this.#optimizer?.dispose();
    this.#optimizer = null;
    for (const b of this.#batches.values()) b.tensor.dispose();
    this.#batches.clear();
    this.#graph?.dispose();
    this.#graph = null;
  }

  #build(): void {
    const s = this.#settings;
    const act = (): Layer => (s.activation === "relu" ? layers.relu() : layers.tanh());
    const encoder = [...s.hiddenSizes].reverse();
    const stack: Layer[] = [];
    for (const width of encoder) stack.push(layers.dense(width), act());
    stack.push(layers.dense(s.codeSize), act());
    for (const width of s.hiddenSizes) stack.push(layers.dense(width), act());
    stack.push(layers.dense(s.patternSize));
    this.#graph = sequential([s.patternSize], stack, { loss: "mse", seed: s.seed, backend: this.backend });
  }

  #batch(size: number): { rows: Float32Array; tensor: Tensor } {
    let b = this.#batches.get(size);
    if (!b) this.#batches.set(size, (b = { rows: new Float32Array(size * this.patternSize), tensor: new Tensor([size, this.patternSize], this.backend) }));
    return b;
  }

  #requireStored(where: string): Graph {
    if (this.#count === 0 || !this.#graph) throw new InvalidArgumentError(`${where}: the memory is empty; store patterns first`);
    return this.#graph;
  }
}
