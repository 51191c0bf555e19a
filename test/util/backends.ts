// Running one kernel on several backends with the same inputs, and comparing results.
import type { Address, Backend } from "../../src/backend/kernels.js";
import { getBackendByName, type BackendName } from "../../src/backend/load.js";

export const wasmBackends: BackendName[] = ["wasm-simd", "wasm-simd-threads", "wasm-scalar"];
export const reference = (): Backend => getBackendByName("reference-f64");

/**
 * Writes `inputs` into fresh buffers on `backend`, allocates `outputs` (name -> length,
 * pre-filled with `initial` values when given, else NaN to prove beta = 0 ignores them),
 * runs `call` with the addresses, reads every output back and frees everything.
 */
export function runKernel(
  backend: Backend,
  inputs: Record<string, ArrayLike<number>>,
  outputs: Record<string, number | ArrayLike<number>>,
  call: (b: Backend, address: Record<string, Address>) => number | void,
): { outputs: Record<string, Float64Array>; result: number | void } {
  const address: Record<string, Address> = {};
  for (const [name, data] of Object.entries(inputs)) {
    address[name] = backend.alloc(data.length);
    backend.write(address[name], data);
  }
  for (const [name, spec] of Object.entries(outputs)) {
    const length = typeof spec === "number" ? spec : spec.length;
    address[name] = backend.alloc(length);
    if (typeof spec === "number") backend.fill(length, NaN, address[name]);
    else backend.write(address[name], spec);
  }
  const result = call(backend, address);
  const read: Record<string, Float64Array> = {};
  for (const [name, spec] of Object.entries(outputs)) {
    const length = typeof spec === "number" ? spec : spec.length;
    read[name] = Float64Array.from(backend.read(address[name], length));
  }
  for (const a of Object.values(address)) backend.free(a);
  return { outputs: read, result };
}

/**
 * Largest |actual - expected| / (absTol + relTol * scale[i]) over all entries; <= 1 passes.
 * `scale` defaults to |expected|; pass the magnitudes of the summed terms for dot products.
 * A non-finite entry passes only when both sides hold the same value (or both NaN): an
 * infinite tolerance (scale |Infinity|) must not accept any finite value.
 */
export function worstError(actual: ArrayLike<number>, expected: ArrayLike<number>, relTol: number, absTol: number,
  scale?: ArrayLike<number>): { ratio: number; index: number } {
  let worst = { ratio: 0, index: -1 };
  if (actual.length !== expected.length) return { ratio: Infinity, index: -1 };
  for (let i = 0; i < expected.length; i++) {
    if (actual[i] === expected[i] || (Number.isNaN(actual[i]) && Number.isNaN(expected[i]))) continue;
    const magnitude = scale ? scale[i] : Math.abs(expected[i]);
    const allowed = absTol + relTol * magnitude;
    const diff = Math.abs(actual[i] - expected[i]);
    const ratio = Number.isFinite(actual[i]) && Number.isFinite(expected[i]) ? diff / allowed : Infinity;
    if (ratio > worst.ratio) worst = { ratio, index: i };
  }
  return worst;
}

/** Throws with context when worstError exceeds 1. */
export function assertClose(label: string, actual: ArrayLike<number>, expected: ArrayLike<number>, relTol: number,
  absTol: number, scale?: ArrayLike<number>): void {
  const { ratio, index } = worstError(actual, expected, relTol, absTol, scale);
  if (ratio > 1)
    throw new Error(`${label}: entry ${index} is ${actual[index]}, expected ${expected[index]} ` +
      `(error ${(ratio).toFixed(2)}x the tolerance rel ${relTol} abs ${absTol}; lengths ${actual.length}/${expected.length})`);
}
