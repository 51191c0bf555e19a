// The interface every associative memory in pcgraph offers: store patterns, then recall a
// stored pattern (or its associated target) from a corrupted or partial query. The
// capacity experiments and the command line drive memories only through it.
import type { Tensor } from "../tensor.js";
import type { MaskInput, Rows } from "./inputs.js";

/** An associative memory: store patterns, then recall a stored pattern (or its target) from a corrupted or partial query. */
export interface AssociativeMemory {
  /** Number of stored patterns (N). */
  readonly size: number;
  /** Entries per stored pattern and per query (D); 0 before the first store. */
  readonly patternSize: number;
  /** Entries per recalled vector: D for an auto-associative memory, the targets' size otherwise. */
  readonly outputSize: number;
  /**
   * Adds patterns [n, D] (and, for a hetero-associative memory, the targets [n, D'] to recall
   * for them). Returns the memory.
   */
  store(patterns: Rows, targets?: Rows): this;
  /**
   * The recalled vectors for queries [B, D] (or one query [D]): a new tensor [B, D'] (or
   * [D']) the caller disposes. `mask` marks the known query entries (1 = known); a memory
   * compares queries with its patterns over the known entries only.
   */
  recall(queries: Rows, mask?: MaskInput): Tensor;
  /** Frees the stored patterns; the memory is empty afterwards. */
  clear(): void;
  /** Frees the memory's tensors. */
  dispose(): void;
}
