// The Tensor type: a shape plus a buffer in a backend's memory. The buffer is freed by
// `dispose()` (or by leaving a `tidy` scope, or by `using`); reading the data returns a copy,
// so no typed array over wasm memory ever escapes.
// The reference below travels into the declarations, so a consumer's TypeScript knows
// Symbol.dispose whatever its "lib" setting.
/// <reference lib="esnext.disposable" preserve="true" />
import { DisposedTensorError, InvalidArgumentError, OutOfMemoryError, ShapeError } from "./backend/errors.js";
import type { Address, Backend } from "./backend/kernels.js";
import { getBackend, getBackendByName, type BackendName } from "./backend/load.js";

/** A shape: the size of each axis (the first is the batch where a batch applies). */
export type Shape = readonly number[];
/** Numbers nested in arrays, e.g. [[1, 2], [3, 4]]; `tensor()` infers the shape. */
export type NestedArray = number | NestedArray[];

/** Where a new tensor lives: a backend or its name (default: the current backend). */
export interface TensorOptions {
  /** A backend or its name; the default backend when omitted. */
  backend?: Backend | BackendName;
}

interface LiveCount {
  tensors: number;
  bytes: number;
}

const live = new Map<Backend, LiveCount>();
/** Tensors of the kernels' scratch pool (scratch.ts): counted apart from the user's. */
const scratch = new Map<Backend, LiveCount>();
const pooled = new WeakSet<Tensor>();
const scopes: Set<Tensor>[] = [];

export function sizeOf(shape: Shape): number {
  let size = 1;
  for (const dim of shape) size *= dim;
  return size;
}

export function formatShape(shape: Shape): string {
  return `[${shape.join(",")}]`;
}

function checkShape(shape: Shape, op: string): void {
  if (!Array.isArray(shape)) throw new ShapeError(`${op}: shape must be an array of sizes, got ${String(shape)}`);
  for (const dim of shape)
    if (!Number.isInteger(dim) || dim < 0)
      throw new ShapeError(`${op}: shape ${formatShape(shape)} has an invalid size ${dim} (sizes are integers >= 0)`);
}

export function resolveBackend(backend: Backend | BackendName | undefined): Backend {
  if (backend === undefined) return getBackend();
  return typeof backend === "string" ? getBackendByName(backend) : backend;
}

/**
 * A shape plus a buffer in one backend's memory. Free it with `dispose()`, `using`, or a
 * `tidy` scope; `memory()` counts the live ones. Reading (`dataSync`, `toArray`) returns a copy.
 */
export class Tensor {
  readonly shape: Shape;
  readonly size: number;
  readonly backend: Backend;
  #address: Address | null;

  /** Allocates an uninitialised tensor; prefer the factories (`tensor`, `zeros`, ...). */
  constructor(shape: Shape, backend: Backend) {
    checkShape(shape, "Tensor");
    this.shape = Object.freeze([...shape]);
    this.size = sizeOf(shape);
    this.backend = backend;
    try {
      this.#address = backend.alloc(this.size);
    } catch (error) {
      if (!(error instanceof OutOfMemoryError)) throw error;
      throw new OutOfMemoryError(`tensor ${formatShape(shape)}: ${error.message}`, error.requestedBytes, error.limitBytes);
    }
    const count = live.get(backend) ?? { tensors: 0, bytes: 0 };
    count.tensors += 1;
    count.bytes += this.size * backend.bytesPerElement;
    live.set(backend, count);
    scopes[scopes.length - 1]?.add(this);
  }

  /** The element type: float32 on the wasm backends, float64 on the reference. */
  get dtype(): "float32" | "float64" {
    return this.backend.dtype;
  }

  /** Number of axes. */
  get rank(): number {
    return this.shape.length;
  }

  /** True once the buffer has been freed. */
  get isDisposed(): boolean {
    return this.#address === null;
  }

  /** The buffer's element address, for kernels. Throws if the tensor was disposed. */
  get address(): Address {
    if (this.#address === null)
      throw new DisposedTensorError(`tensor ${formatShape(this.shape)} was used after dispose()`);
    return this.#address;
  }

  /** A copy of the data. */
  dataSync(): Float32Array | Float64Array {
    return this.backend.read(this.address, this.size);
  }

  /** A copy of the values, as a promise (for symmetry with TF.js; the copy is made at once). */
  async data(): Promise<Float32Array | Float64Array> {
    return this.dataSync();
  }

  /** The data as nested arrays of numbers, following the shape. */
  toArray(): NestedArray {
    const flat = Array.from(this.dataSync());
    const build = (axis: number, offset: number): NestedArray => {
      if (axis === this.shape.length) return flat[offset];
      const stride = sizeOf(this.shape.slice(axis + 1));
      return Array.from({ length: this.shape[axis] }, (_, i) => build(axis + 1, offset + i * stride));
    };
    return build(0, 0);
  }

  /** Overwrites the data from a flat array of the same size. */
  assign(values: ArrayLike<number>): this {
    if (values.length !== this.size)
      throw new ShapeError(`assign: ${values.length} values for a tensor of shape ${formatShape(this.shape)} (${this.size} elements)`);
    this.backend.write(this.address, values);
    return this;
  }

  /** Copies this tensor's data into `target` (same size). */
  copyTo(target: Tensor): Tensor {
    if (target.size !== this.size)
      throw new ShapeError(`copyTo: source ${formatShape(this.shape)} and target ${formatShape(target.shape)} differ in size`);
    sameBackend("copyTo", this, target);
    this.backend.copy(this.size, this.address, target.address);
    return target;
  }

  /** A new tensor with a copy of the values, on the same backend. */
  clone(): Tensor {
    return this.copyTo(new Tensor(this.shape, this.backend));
  }

  /** A new tensor with the same data and another shape of the same size. */
  reshape(shape: Shape): Tensor {
    checkShape(shape, "reshape");
    if (sizeOf(shape) !== this.size)
      throw new ShapeError(`reshape: cannot reshape ${formatShape(this.shape)} (${this.size} elements) to ${formatShape(shape)}`);
    return this.copyTo(new Tensor(shape, this.backend));
  }

  /** Frees the buffer; later use throws a DisposedTensorError. Disposing twice is harmless. */
  dispose(): void {
    if (this.#address === null) return;
    this.backend.free(this.#address);
    this.#address = null;
    const count = (pooled.has(this) ? scratch : live).get(this.backend)!;
    count.tensors -= 1;
    count.bytes -= this.size * this.backend.bytesPerElement;
    for (const scope of scopes) scope.delete(this);
  }

  /** Frees the buffer at the end of a `using` block. */
  [Symbol.dispose](): void {
    this.dispose();
  }

  /** A short description: shape, dtype, backend and the first values. */
  toString(): string {
    if (this.isDisposed) return `Tensor(${formatShape(this.shape)}, disposed)`;
    return `Tensor(${formatShape(this.shape)}, ${this.backend.name}) ${JSON.stringify(this.toArray())}`;
  }
}

export function sameBackend(op: string, ...tensors: Tensor[]): Backend {
  const backend = tensors[0].backend;
  for (const t of tensors) {
    t.address; // throws on a disposed tensor
    if (t.backend !== backend)
      throw new InvalidArgumentError(
        `${op}: tensors live on different backends (${tensors.map((x) => x.backend.name).join(", ")})`,
      );
  }
  return backend;
}

function flatten(values: NestedArray, shape: number[], out: number[], depth: number): void {
  if (typeof values === "number") {
    if (depth !== shape.length && shape.length > 0)
      throw new ShapeError(`tensor: ragged nested array (a number at depth ${depth}, expected depth ${shape.length})`);
    out.push(values);
    return;
  }
  if (!Array.isArray(values)) throw new InvalidArgumentError(`tensor: expected numbers or arrays, got ${typeof values}`);
  if (depth === shape.length) shape.push(values.length);
  else if (shape[depth] !== values.length)
    throw new ShapeError(`tensor: ragged nested array (length ${values.length} at depth ${depth}, expected ${shape[depth]})`);
  for (const v of values) flatten(v, shape, out, depth + 1);
}

/**
 * A tensor from a flat TypedArray/number[] and a shape, or from nested arrays (shape inferred).
 */
export function tensor(values: ArrayLike<number> | NestedArray, shape?: Shape, options: TensorOptions = {}): Tensor {
  let flat: ArrayLike<number>;
  let inferred: number[];
  if (typeof values === "number") {
    flat = [values];
    inferred = [];
  } else if (Array.isArray(values)) {
    const out: number[] = [];
    inferred = [];
    flatten(values as NestedArray, inferred, out, 0);
    flat = out;
  } else if (ArrayBuffer.isView(values)) {
    flat = values;
    inferred = [values.length];
  } else {
    throw new InvalidArgumentError(`tensor: expected a TypedArray, number[] or nested arrays, got ${typeof values}`);
  }
  const finalShape = shape ?? inferred;
  checkShape(finalShape, "tensor");
  if (sizeOf(finalShape) !== flat.length)
    throw new ShapeError(`tensor: ${flat.length} values do not fill shape ${formatShape(finalShape)} (${sizeOf(finalShape)} elements)`);
  const t = new Tensor(finalShape, resolveBackend(options.backend));
  t.backend.write(t.address, flat);
  return t;
}

/** A tensor whose contents are unspecified: for outputs written in full by a kernel. */
export function empty(shape: Shape, options: TensorOptions = {}): Tensor {
  return new Tensor(shape, resolveBackend(options.backend));
}

/** A tensor of `shape` with every value `value`. */
export function full(shape: Shape, value: number, options: TensorOptions = {}): Tensor {
  const t = empty(shape, options);
  t.backend.fill(t.size, value, t.address);
  return t;
}

/** A tensor of zeros. */
export function zeros(shape: Shape, options: TensorOptions = {}): Tensor {
  return full(shape, 0, options);
}

/** A tensor of ones. */
export function ones(shape: Shape, options: TensorOptions = {}): Tensor {
  return full(shape, 1, options);
}

/** What `memory()` reports: live tensors and their bytes, overall and per backend. */
export interface MemoryInfo {
  /** Tensors not yet disposed, over all backends (the kernels' scratch pool aside). */
  numTensors: number;
  /** Bytes held by those tensors. */
  numBytes: number;
  /**
   * The scratch pool: buffers the library reuses across calls for kernels that cannot
   * work in place (freed by `releaseScratch()`, reallocated when next needed).
   */
  scratch: { numTensors: number; numBytes: number };
  /** Per backend: live tensors, their bytes, and the memory the backend reserved. */
  backends: { name: string; numTensors: number; numBytes: number; reservedBytes: number }[];
}

/** What is alive: the leak check for long runs. */
export function memory(): MemoryInfo {
  const backends = [...new Set([...live.keys(), ...scratch.keys()])].map((backend) => ({
    name: backend.name,
    numTensors: live.get(backend)?.tensors ?? 0,
    numBytes: live.get(backend)?.bytes ?? 0,
    reservedBytes: backend.reservedBytes(),
  }));
  const pool = [...scratch.values()];
  return {
    numTensors: backends.reduce((s, b) => s + b.numTensors, 0),
    numBytes: backends.reduce((s, b) => s + b.numBytes, 0),
    scratch: { numTensors: pool.reduce((s, c) => s + c.tensors, 0), numBytes: pool.reduce((s, c) => s + c.bytes, 0) },
    backends,
  };
}

/**
 * Internal (scratch.ts): moves a fresh tensor into the scratch pool's count and out of
 * every `tidy` scope, so neither a leak check nor the end of a scope mistakes it for the
 * user's.
 */
export function adoptAsScratch(t: Tensor): Tensor {
  if (pooled.has(t) || t.isDisposed) return t;
  pooled.add(t);
  const bytes = t.size * t.backend.bytesPerElement;
  const from = live.get(t.backend)!;
  from.tensors -= 1;
  from.bytes -= bytes;
  const to = scratch.get(t.backend) ?? { tensors: 0, bytes: 0 };
  to.tensors += 1;
  to.bytes += bytes;
  scratch.set(t.backend, to);
  for (const scope of scopes) scope.delete(t);
  return t;
}

/**
 * Runs `fn`, then disposes every tensor created inside it except those it returns (a
 * Tensor, or an array/object of them) and those passed to `keep`. Exception-safe.
 */
export function tidy<T>(fn: () => T): T {
  const scope = new Set<Tensor>();
  scopes.push(scope);
  let result: T;
  try {
    result = fn();
  } catch (error) {
    for (const t of scope) t.dispose();
    throw error;
  } finally {
    scopes.pop();
  }
  const kept = new Set<Tensor>();
  collect(result, kept);
  for (const t of scope) if (!kept.has(t)) t.dispose();
  // Returned tensors belong to the enclosing scope, if any.
  for (const t of kept) if (scope.has(t)) scopes[scopes.length - 1]?.add(t);
  return result;
}

function collect(value: unknown, into: Set<Tensor>): void {
  if (value instanceof Tensor) into.add(value);
  else if (Array.isArray(value)) for (const v of value) collect(v, into);
  else if (value && typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype)
    for (const v of Object.values(value)) collect(v, into);
}

/** Removes a tensor from every enclosing `tidy` scope so it outlives them. */
export function keep<T extends Tensor>(t: T): T {
  for (const scope of scopes) scope.delete(t);
  return t;
}
