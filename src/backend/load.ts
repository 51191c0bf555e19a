// Loading the wasm core: SIMD detection, the choice between the two builds, and a registry
// of live backends. The wasm bytes are embedded (base64) so no path or fetch is involved.
import { decodeBase64 } from "./base64.js";
import { BackendLoadError, InvalidArgumentError } from "./errors.js";
import { instantiateAsync, instantiateSync } from "./instantiate.js";
import type { Backend } from "./kernels.js";
import { ReferenceBackend } from "./reference/index.js";
import { scalarWasmBase64, simdWasmBase64 } from "./wasm-binaries.generated.js";
import { WasmBackend, type WasmExports } from "./wasm.js";

/** The backends pcgraph ships: the wasm core with and without SIMD (float32), and the plain TypeScript float64 reference. */
export type BackendName = "wasm-simd" | "wasm-scalar" | "reference-f64";

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
 */
export async function ready(name?: BackendName): Promise<Backend> {
  const target = name ?? (current ? (current.name as BackendName) : simdSupported() ? "wasm-simd" : "wasm-scalar");
  if (!created.has(target) && target !== "reference-f64") {
    const simd = target === "wasm-simd";
    if (simd && !simdSupported()) throw new BackendLoadError("wasm-simd requested but this runtime has no wasm SIMD");
    try {
      const exports = await instantiateAsync(decodeBase64(simd ? simdWasmBase64 : scalarWasmBase64));
      if (!created.has(target)) created.set(target, new WasmBackend(exports as unknown as WasmExports));
    } catch (cause) {
      throw new BackendLoadError(`could not instantiate the ${simd ? "SIMD" : "scalar"} wasm build: ${String(cause)}`);
    }
  }
  const backend = getBackendByName(target);
  if (!name && !current) current = backend;
  return backend;
}

/** The backend of that name, instantiated on first use (each has its own memory). */
export function getBackendByName(name: BackendName): Backend {
  let backend = created.get(name);
  if (!backend) {
    if (name === "wasm-simd") {
      if (!simdSupported()) throw new BackendLoadError("wasm-simd requested but this runtime has no wasm SIMD");
      backend = instantiateWasm(true);
    } else if (name === "wasm-scalar") backend = instantiateWasm(false);
    else if (name === "reference-f64") backend = new ReferenceBackend();
    else throw new InvalidArgumentError(`unknown backend "${String(name)}" (expected wasm-simd, wasm-scalar or reference-f64)`);
    created.set(name, backend);
  }
  return backend;
}

let current: Backend | undefined;

/** The default backend: wasm-simd where supported, else wasm-scalar. */
export function getBackend(): Backend {
  if (!current) current = getBackendByName(simdSupported() ? "wasm-simd" : "wasm-scalar");
  return current;
}

/** Makes `name` the default backend for new tensors. */
export function setBackend(name: BackendName): Backend {
  current = getBackendByName(name);
  return current;
}

/** What `backendInfo()` reports about the default backend. */
export interface BackendInfo {
  name: string;
  dtype: string;
  simd: boolean;
  simdSupportedByRuntime: boolean;
  reservedBytes: number;
}

/** Which backend is in use and whether SIMD was chosen. */
export function backendInfo(): BackendInfo {
  const backend = getBackend();
  return {
    name: backend.name,
    dtype: backend.dtype,
    simd: backend.name === "wasm-simd",
    simdSupportedByRuntime: simdSupported(),
    reservedBytes: backend.reservedBytes(),
  };
}
