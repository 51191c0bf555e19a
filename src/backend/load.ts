// Loading the wasm core: SIMD and shared-memory detection, the choice between the builds,
// and a registry of live backends. The wasm bytes (and the thread pool's worker script) are
// embedded, so no path or fetch is involved.
import { decodeBase64 } from "./base64.js";
import { BackendLoadError, InvalidArgumentError } from "./errors.js";
import { instantiateAsync, instantiateSync } from "./instantiate.js";
import type { Backend } from "./kernels.js";
import { ReferenceBackend } from "./reference/index.js";
import { ThreadedBackend, type ThreadOptions } from "./threaded.js";
import {
  scalarWasmBase64, simdThreadsWasmBase64, simdWasmBase64, threadsKernelsWasmBase64, threadWorkerSourceBase64,
} from "./wasm-binaries.generated.js";
import { WasmBackend, type WasmExports } from "./wasm.js";

/**
 * The backends pcgraph ships: the wasm core on shared memory with worker threads, with SIMD on
 * one thread, without SIMD (all float32), and the plain TypeScript float64 reference.
 */
export type BackendName = "wasm-simd-threads" | "wasm-simd" | "wasm-scalar" | "reference-f64";
/** Every backend name, the default first where the runtime allows it. */
export const backendNames: readonly BackendName[] = ["wasm-simd-threads", "wasm-simd", "wasm-scalar", "reference-f64"];

/** Options of `setBackend`, `getBackendByName` and `ready`; only the threaded backend has any. */
export type BackendOptions = ThreadOptions;

// A minimal module using v128 (i8x16.splat, i8x16.popcnt): it validates only where wasm
// SIMD is supported (the probe used by wasm-feature-detect).
const SIMD_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253, 15, 253, 98, 11,
]);

/** True when this runtime supports fixed-width wasm SIMD. */
export function simdSupported(): boolean {
  try {
    return typeof WebAssembly === "object" && WebAssembly.validate(SIMD_PROBE);
  } catch {
    return false;
  }
}

/**
 * True where the threaded backend can run: wasm SIMD, SharedArrayBuffer and Atomics, and,
 * in a browser, a cross-origin isolated page (COOP same-origin and COEP require-corp), without
 * which no shared memory can be handed to a worker.
 */
export function threadsSupported(): boolean {
  const isolated = (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated;
  return typeof SharedArrayBuffer === "function" && typeof Atomics === "object" && isolated !== false && simdSupported();
}

// The main module's declared initial memory (asconfig.json options.initialMemory), in pages;
// the threaded backend's shared memory may grow to 4 GiB (65536 pages).
const THREADED_INITIAL_PAGES = 64;
const WASM32_MAX_PAGES = 65536;

/** The thread pool's worker script (src/backend/threads/worker-main.ts, built). */
const workerSource = (): string => new TextDecoder().decode(decodeBase64(threadWorkerSourceBase64));

function sharedMemory(): WebAssembly.Memory {
  return new WebAssembly.Memory({ initial: THREADED_INITIAL_PAGES, maximum: WASM32_MAX_PAGES, shared: true });
}

function instantiateThreaded(options: BackendOptions): ThreadedBackend {
  if (!threadsSupported()) throw new BackendLoadError("wasm-simd-threads requested but this runtime has no shared memory or no wasm SIMD (browsers need cross-origin isolation)");
  try {
    const memory = sharedMemory();
    const exports = instantiateSync(decodeBase64(simdThreadsWasmBase64), memory);
    const kernelsModule = new WebAssembly.Module(decodeBase64(threadsKernelsWasmBase64));
    const kernels = new WebAssembly.Instance(kernelsModule, { env: { memory } });
    return new ThreadedBackend(exports as unknown as WasmExports, kernels.exports, kernelsModule, workerSource(), options);
  } catch (cause) {
    throw new BackendLoadError(`could not instantiate the threaded wasm build: ${String(cause)}`);
  }
}

async function instantiateThreadedAsync(options: BackendOptions): Promise<ThreadedBackend> {
  if (!threadsSupported()) throw new BackendLoadError("wasm-simd-threads requested but this runtime has no shared memory or no wasm SIMD (browsers need cross-origin isolation)");
  try {
    const memory = sharedMemory();
    const exports = await instantiateAsync(decodeBase64(simdThreadsWasmBase64), memory);
    const kernelsModule = await WebAssembly.compile(decodeBase64(threadsKernelsWasmBase64));
    const kernels = await WebAssembly.instantiate(kernelsModule, { env: { memory } });
    return new ThreadedBackend(exports as unknown as WasmExports, kernels.exports, kernelsModule, workerSource(), options);
  } catch (cause) {
    throw new BackendLoadError(`could not instantiate the threaded wasm build: ${String(cause)}`);
  }
}

/** The default backend's name: threads where shared memory exists, else SIMD, else scalar. */
export function defaultBackendName(): BackendName {
  return threadsSupported() ? "wasm-simd-threads" : simdSupported() ? "wasm-simd" : "wasm-scalar";
}

function instantiateWasm(simd: boolean): WasmBackend {
  const bytes = decodeBase64(simd ? simdWasmBase64 : scalarWasmBase64);
  try {
    const exports = instantiateSync(bytes);
    return new WasmBackend(exports as unknown as WasmExports);
  } catch (cause) {
    throw new BackendLoadError(`could not instantiate the ${simd ? "SIMD" : "scalar"} wasm build: ${String(cause)}`);
  }
}

const created = new Map<BackendName, Backend>();

/**
 * Compiles and instantiates a backend asynchronously (the default one when no name is
 * given). Browsers limit synchronous compilation on the main thread, so call
 * `await ready()` there before the first tensor; Node, Deno and Bun also compile on demand.
 * For the threaded backend it also waits until its workers have started.
 */
export async function ready(name?: BackendName, options?: BackendOptions): Promise<Backend> {
  const target = name ?? (current ? (current.name as BackendName) : defaultBackendName());
  if (!created.has(target) && target === "wasm-simd-threads") {
    const backend = await instantiateThreadedAsync(options ?? {});
    if (!created.has(target)) created.set(target, backend);
  } else if (!created.has(target) && target !== "reference-f64") {
    const simd = target === "wasm-simd";
    if (simd && !simdSupported()) throw new BackendLoadError("wasm-simd requested but this runtime has no wasm SIMD");
    try {
      const exports = await instantiateAsync(decodeBase64(simd ? simdWasmBase64 : scalarWasmBase64));
      if (!created.has(target)) created.set(target, new WasmBackend(exports as unknown as WasmExports));
    } catch (cause) {
      throw new BackendLoadError(`could not instantiate the ${simd ? "SIMD" : "scalar"} wasm build: ${String(cause)}`);
    }
  }
  const backend = getBackendByName(target, options);
  if (!name && !current) current = backend;
  if (backend instanceof ThreadedBackend) await backend.whenStarted();
  return backend;
}

/**
 * A new backend of that name with a memory of its own, outside the registry: nothing else
 * shares it, and it is collected once unreachable (call `dispose()` first to stop its workers).
 */
export function createBackend(name: BackendName, options?: BackendOptions): Backend {
  if (name === "wasm-simd-threads") return instantiateThreaded(options ?? {});
  if (options && Object.keys(options).length > 0)
    throw new InvalidArgumentError(`${name} takes no options (threads apply to wasm-simd-threads)`);
  if (name === "wasm-simd") {
    if (!simdSupported()) throw new BackendLoadError("wasm-simd requested but this runtime has no wasm SIMD");
    return instantiateWasm(true);
  }
  if (name === "wasm-scalar") return instantiateWasm(false);
  if (name === "reference-f64") return new ReferenceBackend();
  throw new InvalidArgumentError(`unknown backend "${String(name)}" (expected ${backendNames.join(", ")})`);
}

/**
 * The backend of that name, instantiated on first use (each has its own memory). `options`
 * (threads, parallelThreshold) apply to the threaded backend.
 */
export function getBackendByName(name: BackendName, options?: BackendOptions): Backend {
  let backend = created.get(name);
  if (!backend) {
    backend = createBackend(name, options);
    created.set(name, backend);
  } else if (options && backend instanceof ThreadedBackend) {
    void backend.configure(options);
  } else if (options && Object.keys(options).length > 0) {
    throw new InvalidArgumentError(`${name} takes no options (threads apply to wasm-simd-threads)`);
  }
  return backend;
}

let current: Backend | undefined;

/** The default backend: wasm-simd-threads where shared memory exists, else wasm-simd where supported, else wasm-scalar. */
export function getBackend(): Backend {
  if (!current) current = getBackendByName(defaultBackendName());
  return current;
}

/**
 * Makes `name` the default backend for new tensors; `options.threads` sets the threaded
 * backend's thread count (1 keeps every kernel on the calling thread).
 */
export function setBackend(name: BackendName, options?: BackendOptions): Backend {
  current = getBackendByName(name, options);
  return current;
}

/**
 * Stops the worker threads of every backend that has them. Tensors stay valid and kernels go
 * on running on the calling thread; a Node process with nothing else to do then exits.
 */
export function disposeBackends(): void {
  for (const backend of created.values()) backend.dispose?.();
}

/** What `backendInfo()` reports about the default backend. */
export interface BackendInfo {
  name: string;
  dtype: string;
  simd: boolean;
  simdSupportedByRuntime: boolean;
  /** Whether this runtime can share wasm memory between threads (the threaded backend). */
  threadsSupportedByRuntime: boolean;
  /** Threads that share large kernels, the calling thread included (1 on the other backends). */
  threads: number;
  /** Worker threads started and taking work now. */
  readyWorkers: number;
  /** Why a worker could not start, if one could not (the backend then uses fewer threads). */
  workerFailure?: string;
  reservedBytes: number;
}

/** "wasm-simd-threads (2 threads)", or the name of a single-threaded backend. */
export function describeBackend(backend: Backend): string {
  if (!(backend instanceof ThreadedBackend)) return backend.name;
  const { threads } = backend.threadInfo();
  return `${backend.name} (${threads} thread${threads === 1 ? "" : "s"})`;
}

/** Which backend is in use, whether SIMD was chosen and how many threads it uses. */
export function backendInfo(): BackendInfo {
  const backend = getBackend();
  const threads = backend instanceof ThreadedBackend ? backend.threadInfo() : undefined;
  return {
    name: backend.name,
    dtype: backend.dtype,
    simd: backend.name === "wasm-simd" || backend.name === "wasm-simd-threads",
    simdSupportedByRuntime: simdSupported(),
    threadsSupportedByRuntime: threadsSupported(),
    threads: threads?.threads ?? 1,
    readyWorkers: threads?.readyWorkers ?? 0,
    workerFailure: threads?.stats.startFailure,
    reservedBytes: backend.reservedBytes(),
  };
}
