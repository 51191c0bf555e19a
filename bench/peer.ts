// The peer every benchmark runs beside: TensorFlow.js with its wasm backend (XNNPACK,
// SIMD), pinned to one thread, in this same process.
import * as tf from "@tensorflow/tfjs-core";
import { setThreadsCount } from "@tensorflow/tfjs-backend-wasm";

let ready: Promise<typeof tf> | undefined;

export function tfjsWasm(): Promise<typeof tf> {
  ready ??= (async () => {
    setThreadsCount(1);
    await tf.setBackend("wasm");
    await tf.ready();
    return tf;
  })();
  return ready;
}
