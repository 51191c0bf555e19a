import { suite } from "uvu";
import * as assert from "uvu/assert";
import { getBackendByName, simdSupported, backendInfo } from "../../src/backend/load.js";

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

load.run();
