// Typed errors. Every message names the op (or node) at fault and the shapes involved.

/** The base class of every error pcgraph throws on purpose: catch it to tell them from other failures. */
export class PcgraphError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** Shapes that do not fit an op: names the op and every shape. */
export class ShapeError extends PcgraphError {}

/** A tensor used after `dispose()`. */
export class DisposedTensorError extends PcgraphError {}

/** An argument outside an op's domain (a negative size, a NaN scalar, a zero stride, ...). */
export class InvalidArgumentError extends PcgraphError {}

/** Tensors from different backends mixed in one op. */
export class BackendMismatchError extends PcgraphError {}

/** The wasm module could not be compiled or instantiated. */
export class BackendLoadError extends PcgraphError {}

/** The wasm core stopped on an internal check (AssemblyScript's abort), with its message and source position. */
export class WasmAbortError extends PcgraphError {}

/** An allocation the backend's memory cannot hold: names the size asked for and the limit. */
export class OutOfMemoryError extends PcgraphError {
  constructor(
    message: string,
    /** Bytes asked for. */
    readonly requestedBytes: number,
    /** The limit that refused them, in bytes. */
    readonly limitBytes: number,
  ) {
    super(message);
  }
}

/** A kernel that failed while it ran (a trap in wasm, in the main thread or in a worker). */
export class KernelError extends PcgraphError {
  constructor(
    message: string,
    /** The kernel (backend method) that failed. */
    readonly kernel: string,
    /** Where it failed: "main thread" or "worker N". */
    readonly thread: string,
  ) {
    super(message);
  }
}
