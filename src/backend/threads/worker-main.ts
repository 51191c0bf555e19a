// The bootstrap of a worker thread, appended to protocol.ts by the build to form the worker
// script (see scripts/build-wasm.mjs). It waits for its WorkerStart message and serves jobs;
// in a web-style worker (browsers, Deno, Bun) through `self`, under Node's worker_threads
// through its parentPort.
import { serveJobs, type WorkerStart } from "./protocol.js";

declare const self: { postMessage?: unknown; onmessage: ((event: { data: WorkerStart }) => void) | null; close?(): void } | undefined;
declare const require: (name: string) => { parentPort: { once(event: string, fn: (data: WorkerStart) => void): void; close(): void } };

if (typeof self !== "undefined" && typeof self.postMessage === "function") {
  const scope = self;
  scope.onmessage = (event) => {
    scope.onmessage = null;
    // Bun's web-style workers have no close(): there the pool's terminate() ends the thread.
    void serveJobs(event.data).finally(() => scope.close?.());
  };
} else {
  const { parentPort } = require("node:worker_threads");
  parentPort.once("message", (data) => void serveJobs(data).finally(() => parentPort.close()));
}
