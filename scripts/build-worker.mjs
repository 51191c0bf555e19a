// The thread pool's worker script: src/backend/threads/worker-main.ts with what it imports, as
// one plain script (run by Node's worker_threads with eval, or as a module Web Worker from a
// blob URL). scripts/build-wasm.mjs embeds it; a test checks the embedded copy is current.
import { join } from "node:path";
import * as esbuild from "esbuild";

/** The worker script's text, bundled from the sources under `root`. */
export async function bundleWorker(root) {
  const result = await esbuild.build({
    absWorkingDir: root,
    entryPoints: [join("src", "backend", "threads", "worker-main.ts")],
    bundle: true,
    write: false,
    format: "iife",
    platform: "neutral",
    target: "es2022",
    external: ["node:worker_threads"],
    logLevel: "warning",
  });
  return result.outputFiles[0].text;
}
