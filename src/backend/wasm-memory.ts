// The parts of a WebAssembly.Memory the backends use. Declared here rather than taken from
// the WebAssembly namespace so that the published types compile without the DOM library
// (Node's own type definitions have no WebAssembly namespace).

/** A wasm linear memory: its current buffer (shared by the threaded backend) and growth in 64 KiB pages. */
export interface WasmMemory {
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
  grow(deltaPages: number): number;
}

/** A compiled WebAssembly.Module (opaque here, for the same reason). */
export type WasmModule = object;

/** A wasm instance's exports, by name. */
export type WasmInstanceExports = Readonly<Record<string, unknown>>;
