// The stored patterns of a memory, M [N, D] on a backend, with the per-pattern quantities
// the similarities need computed once and kept until the memory changes: squared norms
// |m_i|^2, sums sum_k m_ik, the entrywise squares M * M (for masked distances), and a
// float64 copy (for user similarity functions).
import type { Backend } from "../backend/kernels.js";
import { Tensor } from "../tensor.js";

export class StoredPatterns {
  #patterns: Tensor | null = null;
  #norms: Tensor | null = null;
  #sums: Tensor | null = null;
  #squares: Tensor | null = null;
  #copy: Float64Array | null = null;

  constructor(readonly backend: Backend, readonly width: number) {}

  /** Number of stored patterns. */
  get count(): number {
    return this.#patterns ? this.#patterns.shape[0] : 0;
  }

  /** M [N, D]. Owned here: never dispose it. */
  get patterns(): Tensor {
    if (!this.#patterns) throw new Error("StoredPatterns: nothing stored");
    return this.#patterns;
  }

  /** Appends rows [n, D] (copied). */
  append(rows: Tensor): void {
    const previous = this.#patterns;
    const next = new Tensor([this.count + rows.shape[0], this.width], this.backend);
    if (previous) this.backend.copy(previous.size, previous.address, next.address);
    this.backend.copy(rows.size, rows.address, next.address + (previous ? previous.size : 0));
    this.clear();
    this.#patterns = next;
  }

  /** |m_i|^2 [N]. */
  get norms(): Tensor {
    if (!this.#norms) {
      const m = this.patterns;
      this.#norms = new Tensor([this.count], this.backend);
      this.backend.rowSumSquares(this.count, this.width, m.address, this.#norms.address);
    }
    return this.#norms;
  }

  /** sum_k m_ik [N]. */
  get sums(): Tensor {
    if (!this.#sums) {
      const m = this.patterns;
      this.#sums = new Tensor([this.count], this.backend);
      this.backend.rowSum(this.count, this.width, m.address, this.#sums.address);
    }
    return this.#sums;
  }

  /** M * M entrywise [N, D]. */
  get squares(): Tensor {
    if (!this.#squares) {
      const m = this.patterns;
      this.#squares = new Tensor(m.shape, this.backend);
      this.backend.mul(m.size, m.address, m.address, this.#squares.address);
    }
    return this.#squares;
  }

  /** A float64 copy of M, row-major. */
  get values(): Float64Array {
    this.#copy ??= Float64Array.from(this.patterns.dataSync());
    return this.#copy;
  }

  /** Frees everything (the memory becomes empty). */
  clear(): void {
    for (const t of [this.#patterns, this.#norms, this.#sums, this.#squares]) t?.dispose();
    this.#patterns = this.#norms = this.#sums = this.#squares = null;
    this.#copy = null;
  }
}
