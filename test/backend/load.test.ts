import { suite } from "uvu";
import * as assert from "uvu/assert";
import {
  backendInfo, defaultBackendName, getBackendByName, ready, setBackend, simdSupported, threadsSupported,
} from "../../src/backend/load.js";
import { decodeBase64 } from "../../src/backend/base64.js";
import { WasmAbortError } from "../../src/backend/errors.js";
import { instantiateAsync, instantiateSync } from "../../src/backend/instantiate.js";
import { scalarWasmBase64, simdWasmBase64 } from "../../src/backend/wasm-binaries.generated.js";

const load = suite("backend loading");

load("SIMD and shared memory are detected, and the default backend uses both where it can", () => {
  assert.ok(simdSupported());
  // Node, Deno and Bun always share memory; a browser page only when cross-origin isolated.
  const isolated = (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated;
  assert.is(threadsSupported(), typeof SharedArrayBuffer === "function" && isolated !== false);
  const expected = threadsSupported() ? "wasm-simd-threads" : "wasm-simd";
  assert.is(defaultBackendName(), expected);
  const info = backendInfo();
  assert.is(info.name, expected);
  assert.is(info.simd, true);
  assert.ok(info.threads >= 1);
});

load("a page that is not cross-origin isolated falls back to one thread", () => {
  const global = globalThis as { crossOriginIsolated?: boolean };
  const before = Object.getOwnPropertyDescriptor(global, "crossOriginIsolated");
  Object.defineProperty(global, "crossOriginIsolated", { value: false, configurable: true });
  try {
    assert.not.ok(threadsSupported());
    assert.is(defaultBackendName(), "wasm-simd");
  } finally {
    if (before) Object.defineProperty(global, "crossOriginIsolated", before);
    else delete global.crossOriginIsolated;
  }
});

load("setBackend takes the thread count; getBackendByName rejects options for other backends", async () => {
  if (!threadsSupported()) return;
  const threaded = await ready("wasm-simd-threads", { threads: 2 });
  assert.is(setBackend("wasm-simd-threads", { threads: 1 }), threaded);
  assert.is(backendInfo().threads, 1);
  await ready("wasm-simd-threads", { threads: "auto" });
  assert.ok(backendInfo().threads >= 1);
  assert.throws(() => getBackendByName("wasm-simd", { threads: 2 }), /takes no options/);
});

load("the scalar build has no v128 code and the SIMD build has", () => {
  const scalar = getBackendByName("wasm-scalar") as unknown as { simd: boolean; name: string };
  const simd = getBackendByName("wasm-simd") as unknown as { simd: boolean; name: string };
  assert.is(scalar.simd, false);
  assert.is(scalar.name, "wasm-scalar");
  assert.is(simd.simd, true);
});

load("ready() resolves to the same backend instance that synchronous lookups return", async () => {
  const simd = await ready("wasm-simd");
  assert.is(simd, getBackendByName("wasm-simd"));
  const scalar = await ready("wasm-scalar");
  assert.is(scalar.name, "wasm-scalar");
  assert.is(await ready("reference-f64"), getBackendByName("reference-f64"));
});

// Instantiation uses the plain WebAssembly API (no loader package): the module's only import
// is AssemblyScript's abort, whose message and source position are read from wasm memory.
load("an abort inside the wasm core is a WasmAbortError with AssemblyScript's message and source position", async () => {
  for (const base64 of [scalarWasmBase64, simdWasmBase64]) {
    // A private instance, so the shared backends are not touched.
    const exports = instantiateSync(decodeBase64(base64)) as { alloc(bytes: number): number };
    assert.throws(() => exports.alloc(0xfffffff0), (error: unknown) =>
      error instanceof WasmAbortError && /^wasm abort: Allocation too large at ~lib\/rt\/tlsf\.ts:\d+:\d+$/.test(error.message));
    assert.ok(exports.alloc(16) > 0, "the instance still allocates after the abort");
  }
  const asyncExports = (await instantiateAsync(decodeBase64(scalarWasmBase64))) as { alloc(bytes: number): number; memory: WebAssembly.Memory };
  assert.ok(asyncExports.memory instanceof WebAssembly.Memory);
  assert.throws(() => asyncExports.alloc(0xfffffff0), (error: unknown) => error instanceof WasmAbortError);
});

load.run();
