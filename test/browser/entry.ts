// In-browser test run: the platform-neutral kernel suites and the Z-IL = BP suites, run
// through uvu's own queue (as its CLI does) after the wasm builds are compiled
// asynchronously. Results land on window.__pcgraphTestResults.
//
//   index.html                      kernel suites (every property on wasm-simd and wasm-scalar),
//                                   backend loading, Z-IL, IL, Predify, the associative memories and PC graphs; the default backend is SIMD
//   index.html?backend=wasm-scalar  setBackend("wasm-scalar") first, then the scalar-default
//                                   checks and the Z-IL, IL, Predify, memory and PC-graph suites
//   &seed=N                         fast-check seed (as FC_SEED in Node)
import { logText, stripAnsi } from "./setup.js";
import { backendInfo, ready, setBackend } from "../../src/backend/load.js";

export interface Failure {
  file: string;
  message: string;
}

export interface BrowserTestResults {
  page: string;
  backend: string;
  passed: number;
  failed: number;
  skipped: number;
  failures: Failure[];
  log: string;
  durationMs: number;
}

type Runner = () => Promise<[true | string, number, number, number]>;
type Group = [string | null, ...Runner[]];

declare global {
  // eslint-disable-next-line no-var
  var UVU_QUEUE: Group[];
  // eslint-disable-next-line no-var
  var UVU_INDEX: number | undefined;
  // eslint-disable-next-line no-var
  var __PCGRAPH_FC_SEED: string | undefined;
  interface Window {
    __pcgraphTestResults?: BrowserTestResults;
  }
}

// Each import is a literal so the bundler includes it; modules are evaluated lazily, when
// the loop below reaches them, so every file's suites land in their own queue group.
const kernelSuites: [string, () => Promise<unknown>][] = [
  ["test/backend/load.test.ts", () => import("../backend/load.test.js")],
  ["test/backend/matmul.test.ts", () => import("../backend/matmul.test.js")],
  ["test/backend/conv.test.ts", () => import("../backend/conv.test.js")],
  ["test/backend/pool.test.ts", () => import("../backend/pool.test.js")],
  ["test/backend/elementwise.test.ts", () => import("../backend/elementwise.test.js")],
  ["test/backend/activations.test.ts", () => import("../backend/activations.test.js")],
  ["test/backend/reductions.test.ts", () => import("../backend/reductions.test.js")],
  ["test/backend/optimizers.test.ts", () => import("../backend/optimizers.test.js")],
  ["test/backend/distances.test.ts", () => import("../backend/distances.test.js")],
];
const pcSuites: [string, () => Promise<unknown>][] = [
  ["test/pc/zil.test.ts", () => import("../pc/zil.test.js")],
  ["test/pc/il.test.ts", () => import("../pc/il.test.js")],
  ["test/graph/conv-transpose.test.ts", () => import("../graph/conv-transpose.test.js")],
  ["test/pc/predify.test.ts", () => import("../pc/predify.test.js")],
  ["test/pc/predify-config.test.ts", () => import("../pc/predify-config.test.js")],
  ["test/memory/similarity.test.ts", () => import("../memory/similarity.test.js")],
  ["test/memory/retrieval.test.ts", () => import("../memory/retrieval.test.js")],
  ["test/memory/errors.test.ts", () => import("../memory/errors.test.js")],
  ["test/memory/capacity.test.ts", () => import("../memory/capacity.test.js")],
  ["test/pc/pc-graph.test.ts", () => import("../pc/pc-graph.test.js")],
  ["test/pc/pc-graph-api.test.ts", () => import("../pc/pc-graph-api.test.js")],
  ["test/pc/steps.test.ts", () => import("../pc/steps.test.js")],
];
const scalarSuites: [string, () => Promise<unknown>][] = [
  ["test/browser/scalar-default.ts", () => import("./scalar-default.js")],
];

async function main(): Promise<BrowserTestResults> {
  const started = performance.now();
  const params = new URLSearchParams(location.search);
  const forced = params.get("backend");
  if (params.has("seed")) globalThis.__PCGRAPH_FC_SEED = params.get("seed")!;

  const failures: Failure[] = [];
  let passed = 0;
  let failed = 0;
  let skipped = 0;

  // Browsers restrict synchronous wasm compilation on the main thread: compile both builds
  // asynchronously first; every later getBackendByName() returns these instances.
  await ready("wasm-simd");
  await ready("wasm-scalar");
  let files: [string, () => Promise<unknown>][];
  if (forced === null) {
    await ready();
    files = [...kernelSuites, ...pcSuites];
  } else if (forced === "wasm-scalar") {
    setBackend("wasm-scalar");
    files = [...scalarSuites, ...pcSuites];
  } else {
    throw new Error(`unsupported ?backend=${forced} (expected wasm-scalar or nothing)`);
  }
  const backend = backendInfo().name;
  console.log(`pcgraph browser tests: default backend ${backend}, ${navigator.userAgent}`);

  globalThis.UVU_QUEUE ??= [];
  for (const [index, [file, load]] of files.entries()) {
    globalThis.UVU_INDEX = index;
    globalThis.UVU_QUEUE.push([file]);
    try {
      await load();
    } catch (error) {
      failed += 1;
      failures.push({ file, message: `could not load: ${error instanceof Error ? error.stack ?? error.message : String(error)}` });
    }
  }

  // The loop of uvu's exec(), keeping its counts instead of printing them only.
  for (const group of globalThis.UVU_QUEUE) {
    const file = String(group.shift() ?? "");
    console.log(`\n${file}`);
    for (const runner of group as Runner[]) {
      const [errors, ran, skip, total] = await runner();
      passed += ran;
      skipped += skip;
      failed += total - ran;
      if (errors !== true) failures.push({ file, message: stripAnsi(errors) });
      else if (ran < total) failures.push({ file, message: `${total - ran} test(s) did not run (a hook threw)` });
    }
  }
  const durationMs = Math.round(performance.now() - started);
  console.log(`\n  Total:     ${passed + failed}\n  Passed:    ${passed}\n  Skipped:   ${skipped}\n  Duration:  ${durationMs}ms\n`);
  return { page: location.pathname + location.search, backend, passed, failed, skipped, failures, log: "", durationMs };
}

function publish(results: BrowserTestResults): void {
  results.log = logText();
  window.__pcgraphTestResults = results;
  const out = document.getElementById("log");
  if (out) out.textContent = `${results.passed} passed, ${results.failed} failed\n\n` +
    results.failures.map((f) => `${f.file}\n${f.message}`).join("\n") + "\n" + results.log;
  document.title = `${results.failed ? "FAIL" : "PASS"}: ${results.passed} passed, ${results.failed} failed`;
}

main().then(publish, (error: unknown) => {
  const message = error instanceof Error ? error.stack ?? error.message : String(error);
  console.error(`browser test run crashed: ${message}`);
  publish({ page: location.pathname + location.search, backend: "unknown", passed: 0, failed: 1, skipped: 0,
    failures: [{ file: "test/browser/entry.ts", message }], log: "", durationMs: 0 });
});
