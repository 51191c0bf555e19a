// The peer every benchmark runs beside: TensorFlow.js with its wasm backend (XNNPACK, SIMD)
// in this same process. Under Node its wasm backend never loads the multithreaded build
// (its WASM_HAS_MULTITHREAD_SUPPORT flag is false whenever IS_NODE), so it runs one thread
// whatever setThreadsCount says; peerDescription() reports the count it actually uses.
import * as tf from "@tensorflow/tfjs-core";
import { getThreadsCount } from "@tensorflow/tfjs-backend-wasm";

let ready: Promise<typeof tf> | undefined;

export function tfjsWasm(): Promise<typeof tf> {
  ready ??= (async () => {
    await tf.setBackend("wasm");
    await tf.ready();
    return tf;
  })();
  return ready;
}

/** "TF.js 4.22.0 wasm (XNNPACK, SIMD, 1 thread)", as measured after initialisation. */
export async function peerDescription(): Promise<string> {
  await tfjsWasm();
  const simd = await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT");
  const threads = getThreadsCount();
  return `TF.js ${tf.version_core} wasm backend (XNNPACK, ${simd ? "SIMD" : "no SIMD"}, ${threads} thread${threads === 1 ? "" : "s"})`;
}
