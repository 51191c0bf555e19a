// Instantiating the AssemblyScript wasm with the plain WebAssembly API. The module imports
// one function, env.abort(message, file, line, column), which AssemblyScript calls on a
// failed assertion, `unreachable` or an allocation its heap cannot meet; its string
// arguments are pointers to AssemblyScript strings (UTF-16LE, byte length in the u32 just
// before the data).
import { WasmAbortError } from "./errors.js";
import type { WasmMemory } from "./wasm-memory.js";

type Exports = Record<string, unknown>;

/** Reads the AssemblyScript string at byte address `pointer` (0: none). */
function readString(memory: WasmMemory | undefined, pointer: number): string {
  const address = pointer >>> 0;
  if (!memory || address < 4 || address > memory.buffer.byteLength) return "";
  const bytes = new DataView(memory.buffer).getUint32(address - 4, true);
  const units = Math.min(bytes >>> 1, (memory.buffer.byteLength - address) >>> 1);
  let text = "";
  const chars = new Uint16Array(memory.buffer, address, units);
  for (let i = 0; i < units; i += 1024) text += String.fromCharCode(...chars.subarray(i, i + 1024));
  return text;
}

/**
 * The imports the module needs, bound to its memory once that exists; `shared`, when given, is
 * the memory the module imports (the threaded build) instead of defining its own.
 */
function imports(shared?: WasmMemory): { importObject: WebAssembly.Imports; bind(exports: Exports): Exports } {
  let memory: WasmMemory | undefined = shared;
  const abort = (message: number, file: number, line: number, column: number): never => {
    const text = readString(memory, message) || "abort";
    const where = readString(memory, file);
    throw new WasmAbortError(`wasm abort: ${text}${where ? ` at ${where}:${line >>> 0}:${column >>> 0}` : ""}`);
  };
  return {
    importObject: { env: shared ? { abort, memory: shared as WebAssembly.Memory } : { abort } },
    bind(exports) {
      memory = (exports.memory as WasmMemory | undefined) ?? shared;
      return exports;
    },
  };
}

/** Compiles and instantiates synchronously (Node, Deno, Bun, workers; browsers limit this on the main thread). */
export function instantiateSync(bytes: Uint8Array, memory?: WasmMemory): Exports {
  const { importObject, bind } = imports(memory);
  const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes as BufferSource), importObject);
  return bind(instance.exports as Exports);
}

/** Compiles and instantiates asynchronously (any runtime). */
export async function instantiateAsync(bytes: Uint8Array, memory?: WasmMemory): Promise<Exports> {
  const { importObject, bind } = imports(memory);
  const { instance } = await WebAssembly.instantiate(bytes as BufferSource, importObject);
  return bind(instance.exports as Exports);
}
