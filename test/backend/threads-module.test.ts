// The two threaded modules keep the rules that make instantiating the kernels module in every
// worker safe (../shared/THREADS-NOTES.md pitfalls 1 and 2), checked on the built binaries:
// - the kernels module imports only the shared memory, has no start function and no mutable
//   global (no allocator, no stack pointer: nothing that differs between instances), and its
//   data segments (constants only) lie below 64 KiB;
// - the main module's own data starts at 64 KiB (--memoryBase), so a worker instantiating the
//   kernels module rewrites only those constants, never the main module's data or heap.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { decodeBase64 } from "../../src/backend/base64.js";
import { simdThreadsWasmBase64, threadsKernelsWasmBase64 } from "../../src/backend/wasm-binaries.generated.js";

const modules = suite("threaded wasm modules");

const MAIN_MEMORY_BASE = 65536;

interface Sections {
  imports: { module: string; name: string; kind: number; shared?: boolean; maximum?: number }[];
  globals: { mutable: boolean }[];
  start: boolean;
  data: { active: boolean; offset?: number; size: number }[];
}

/** The import, global, start and data sections of a wasm binary (just enough of the format). */
function sections(bytes: Uint8Array): Sections {
  let at = 8; // magic and version
  const u32 = (): number => {
    let result = 0, shift = 0, byte: number;
    do {
      byte = bytes[at++];
      result += (byte & 0x7f) * 2 ** shift;
      shift += 7;
    } while (byte & 0x80);
    return result;
  };
  const name = (): string => {
    const length = u32();
    const text = new TextDecoder().decode(bytes.subarray(at, at + length));
    at += length;
    return text;
  };
  const limits = (): { shared: boolean; maximum?: number } => {
    const flags = bytes[at++];
    u32(); // minimum
    return { shared: (flags & 2) !== 0, maximum: flags & 1 ? u32() : undefined };
  };
  /** An i32.const constant expression (0x41 value 0x0b); undefined for anything else. */
  const constantOffset = (): number | undefined => {
    if (bytes[at] !== 0x41) {
      while (bytes[at++] !== 0x0b);
      return undefined;
    }
    at++;
    let result = 0, shift = 0, byte: number;
    do {
      byte = bytes[at++];
      result |= (byte & 0x7f) << shift;
      shift += 7;
    } while (byte & 0x80);
    if (shift < 32 && byte & 0x40) result |= -1 << shift;
    at++; // end
    return result >>> 0;
  };
  const found: Sections = { imports: [], globals: [], start: false, data: [] };
  while (at < bytes.length) {
    const id = bytes[at++];
    const size = u32();
    const end = at + size;
    if (id === 2) {
      for (let i = u32(); i > 0; i--) {
        const module = name(), field = name(), kind = bytes[at++];
        if (kind === 2) found.imports.push({ module, name: field, kind, ...limits() });
        else {
          found.imports.push({ module, name: field, kind });
          if (kind === 0) u32();
          else if (kind === 3) at += 2;
          else limits();
        }
      }
    } else if (id === 6) {
      for (let i = u32(); i > 0; i--) {
        at++; // value type
        found.globals.push({ mutable: bytes[at++] === 1 });
        while (bytes[at++] !== 0x0b); // initializer
      }
    } else if (id === 8) {
      found.start = true;
    } else if (id === 11) {
      for (let i = u32(); i > 0; i--) {
        const flags = u32();
        if (flags === 1) {
          const length = u32();
          at += length;
          found.data.push({ active: false, size: length });
          continue;
        }
        if (flags === 2) u32(); // memory index
        const offset = constantOffset();
        const length = u32();
        at += length;
        found.data.push({ active: true, offset, size: length });
      }
    }
    at = end;
  }
  return found;
}

const kernels = sections(decodeBase64(threadsKernelsWasmBase64));
const main = sections(decodeBase64(simdThreadsWasmBase64));

modules("the kernels module imports only the shared 4 GiB memory", () => {
  assert.equal(kernels.imports.map((i) => `${i.module}.${i.name}`), ["env.memory"]);
  assert.is(kernels.imports[0].kind, 2);
  assert.ok(kernels.imports[0].shared, "shared");
  assert.is(kernels.imports[0].maximum, 65536);
});

modules("the kernels module has no start function and no mutable global", () => {
  assert.not.ok(kernels.start, "a start function would run again in every worker");
  assert.equal(kernels.globals.filter((g) => g.mutable), [], "a mutable global is per-instance state");
});

modules("the kernels module's data is constants below 64 KiB; the main module's starts at 64 KiB", () => {
  for (const segment of kernels.data) {
    assert.ok(segment.active && segment.offset !== undefined, "an active segment at a constant offset");
    assert.ok(segment.offset! + segment.size <= MAIN_MEMORY_BASE, `kernels data at ${segment.offset}+${segment.size}`);
  }
  assert.ok(main.data.length > 0);
  for (const segment of main.data) assert.ok(segment.offset! >= MAIN_MEMORY_BASE, `main data at ${segment.offset}`);
  assert.ok(main.imports.some((i) => i.module === "env" && i.name === "memory" && i.shared && i.maximum === 65536));
});

modules.run();
