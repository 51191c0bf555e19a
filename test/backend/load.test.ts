import { suite } from "uvu";
import * as assert from "uvu/assert";
import { getBackendByName, simdSupported, backendInfo, ready } from "../../src/backend/load.js";

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

load.run();
