import { suite } from "uvu";
import * as assert from "uvu/assert";
import { getBackendByName, simdSupported, backendInfo, ready } from "../../src/backend/load.js";
import { decodeBase64 } from "../../src/backend/base64.js";
import { WasmAbortError } from "../../src/backend/errors.js";
import { instantiateAsync, instantiateSync } from "../../src/backend/instantiate.js";
import { scalarWasmBase64, simdWasmBase64 } from "../../src/backend/wasm-binaries.generated.js";

const load = suite("backend loading");

load("SIMD is detected in this runtime and the default backend uses it", () => {
  assert.ok(simdSupported());
  const info = backendInfo();
  assert.is(info.name, "wasm-simd");
  assert.is(info.simd, true);
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
