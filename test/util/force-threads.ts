// Preloaded by `npm run test:threads` (PCGRAPH_FORCE_THREADS=N): every suite then runs with the
// default backend set to wasm-simd-threads with N threads and a parallel threshold of 0, so
// every kernel call on the default backend is split between the main thread and the workers.
// Suites that name a backend ("wasm-simd", ...) keep it.
import { ready, setBackend } from "../../src/backend/load.js";

// Imported without the variable (a test file pattern that happens to match it), it does nothing.
const requested = process.env.PCGRAPH_FORCE_THREADS;
if (requested !== undefined) {
  const threads = Number(requested);
  if (!Number.isInteger(threads) || threads < 1) throw new Error(`PCGRAPH_FORCE_THREADS=${requested}: expected a thread count`);
  await ready("wasm-simd-threads", { threads, parallelThreshold: 0 });
  setBackend("wasm-simd-threads");
  console.log(`default backend: wasm-simd-threads, ${threads} threads, every kernel split`);
}
