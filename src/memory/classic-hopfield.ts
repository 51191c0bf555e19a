// The classic binary Hopfield network (Hopfield 1982): bipolar patterns p in {-1, +1}^D stored
// by the Hebbian outer-product rule W = sum_mu p_mu p_mu^T with a zero diagonal, recalled by
// sign updates x <- sign(W x) until nothing changes.
//
// It is a Universal Hopfield Network in disguise (Millidge et al. 2022, section 3): with M
// the stored patterns, W x = M^T (M x) - N x, and M^T (M x) = P^T sep(sim(M, x)) with dot
// similarity, identity separation, no normalisation and P = M. So each update here is one
// UHN retrieval, minus the self-coupling N x that the zero diagonal removes, then a sign.
// The field is exact in f32 while N * D < 2^24 (sums of products of +-1 are integers).
import { InvalidArgumentError } from "../backend/errors.js";
import type { Backend } from "../backend/kernels.js";
import type { BackendName } from "../backend/load.js";
import { Tensor } from "../tensor.js";
import type { AssociativeMemory } from "./associative-memory.js";
import { toMask, toRows, type MaskInput, type Rows } from "./inputs.js";
import { UniversalHopfield } from "./universal-hopfield.js";

/** Options of `ClassicHopfield`: the sweep limit of a recall and the backend. */
export interface ClassicHopfieldOptions {
  /** Most synchronous sweeps of sign updates per recall (default 100): they may cycle. */
  maxSteps?: number;
  backend?: Backend | BackendName;
}

/** +1 where x > threshold, -1 elsewhere: binary images (0/1 or grey levels) as bipolar patterns. */
export function toBipolar(values: ArrayLike<number>, threshold = 0.5): Float64Array {
  return Float64Array.from(values as ArrayLike<number>, (v) => (v > threshold ? 1 : -1));
}

/**
 * The classic Hopfield network (Hopfield 1982) on bipolar patterns: Hebbian weights and synchronous
 * sign updates until a fixed point, as a Universal Hopfield Network with dot-product similarity.
 */
export class ClassicHopfield implements AssociativeMemory {
  readonly maxSteps: number;
  /** Sweeps the last recall took (the largest over its batch). */
  lastSteps = 0;
  readonly #retrieval: UniversalHopfield;

  constructor(options: ClassicHopfieldOptions = {}) {
    const maxSteps = options.maxSteps ?? 100;
    if (!Number.isInteger(maxSteps) || maxSteps < 1)
      throw new InvalidArgumentError(`ClassicHopfield: maxSteps must be an integer >= 1, got ${String(maxSteps)}`);
    this.maxSteps = maxSteps;
    this.#retrieval = new UniversalHopfield({ similarity: "dot", separation: "identity", normalize: false, backend: options.backend });
  }

  /** The backend holding the stored patterns. */
  get backend(): Backend {
    return this.#retrieval.backend;
  }

  get size(): number {
    return this.#retrieval.size;
  }

  get patternSize(): number {
    return this.#retrieval.patternSize;
  }

  get outputSize(): number {
    return this.#retrieval.patternSize;
  }

  /** Stores bipolar patterns (every entry -1 or +1; see toBipolar). No targets: it is auto-associative. */
  store(patterns: Rows, targets?: Rows): this {
    const where = "ClassicHopfield.store";
    if (targets !== undefined) throw new InvalidArgumentError(`${where}: targets given, but a classic Hopfield network is auto-associative`);
    const rows = toRows(where, "patterns", patterns, this.backend, this.size > 0 ? this.patternSize : undefined);
    try {
      checkBipolar(where, "patterns", rows.tensor.dataSync(), rows.cols, null);
      this.#retrieval.store(rows.tensor);
    } finally {
      if (rows.owned) rows.tensor.dispose();
    }
    return this;
  }

  /** The Hebbian weights W = sum_mu p_mu p_mu^T with a zero diagonal, [D, D]. */
  hebbianWeights(): Tensor {
    const m = this.#retrieval.patterns();
    const [n, d] = [this.size, this.patternSize];
    const patterns = new Tensor([n, d], this.backend).assign(m);
    const weights = new Tensor([d, d], this.backend);
    this.backend.matmul(true, false, d, d, n, 1, patterns.address, patterns.address, 0, weights.address);
    patterns.dispose();
    for (let i = 0; i < d; i++) this.backend.fill(1, 0, weights.address + i * d + i);
    return weights;
  }

  /**
   * Sign updates from bipolar queries [B, D] (or [D]) until a fixed point or maxSteps: a new
   * tensor of +-1. With a mask, unknown entries start at 0, so the first field W x compares
   * the known entries only; every entry is updated from then on.
   */
  recall(queries: Rows, mask?: MaskInput): Tensor {
    const where = "ClassicHopfield.recall";
    if (this.size === 0) throw new InvalidArgumentError(`${where}: the memory is empty; store patterns first`);
    const d = this.patternSize;
    const rows = toRows(where, "queries", queries, this.backend, d);
    try {
      const known = mask === undefined ? null : toMask(where, mask, rows.rows, d);
      const state = Float64Array.from(rows.tensor.dataSync());
      checkBipolar(where, "queries", state, d, known);
      if (known) for (let i = 0; i < state.length; i++) state[i] *= known.values[known.rows > 1 ? i : i % d];
      const x = new Tensor([rows.rows, d], this.backend).assign(state);
      try {
        this.lastSteps = 0;
        for (let step = 1; step <= this.maxSteps; step++) {
          const field = this.#retrieval.recall(x);
          let changed = false;
          try {
            // W x = M^T (M x) - N x (the zero diagonal), then x <- sign(W x); a zero field keeps x.
            this.backend.axpy(field.size, -this.size, x.address, field.address);
            const h = field.dataSync();
            for (let i = 0; i < state.length; i++) {
              const next = h[i] > 0 ? 1 : h[i] < 0 ? -1 : state[i];
              if (next !== state[i]) changed = true;
              state[i] = next;
            }
          } finally {
            field.dispose();
          }
          this.lastSteps = step;
          if (!changed) break;
          x.assign(state);
        }
        return rows.single ? new Tensor([d], this.backend).assign(state) : x.assign(state).clone();
      } finally {
        x.dispose();
      }
    } finally {
      if (rows.owned) rows.tensor.dispose();
    }
  }

  clear(): void {
    this.#retrieval.clear();
  }

  /** Frees the stored patterns. */
  dispose(): void {
    this.#retrieval.dispose();
  }
}

function checkBipolar(where: string, argument: string, values: ArrayLike<number>, cols: number, mask: ReturnType<typeof toMask> | null): void {
  for (let i = 0; i < values.length; i++) {
    const knownEntry = !mask || mask.values[mask.rows > 1 ? i : i % cols] === 1;
    if (knownEntry && values[i] !== 1 && values[i] !== -1)
      throw new InvalidArgumentError(`${where}: ${argument}[${Math.floor(i / cols)}][${i % cols}] is ${values[i]}; ` +
        `a classic Hopfield network stores and recalls bipolar vectors (-1 or +1; toBipolar converts images)`);
  }
}
