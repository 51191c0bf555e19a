// In-browser test run: the suites picked for this page by scripts/build-browser.mjs (every
// platform-neutral suite on the default page; the scalar-default checks and every suite
// outside test/backend/ on the forced-scalar page), run through the same harness as in Node, Deno and Bun
// (test/harness/suites.ts) after the wasm builds are compiled asynchronously. Results land
// on window.__pcgraphTestResults.
//
//   index.html                      served cross-origin isolated: the default backend is
//                                   wasm-simd-threads
//   index.html?isolation=off        served without isolation: backend loading only, whose
//                                   default must fall back to wasm-simd
//   index.html?backend=wasm-scalar  setBackend("wasm-scalar") first
//   &seed=N                         fast-check seed (as FC_SEED in Node)
import { logText } from "./setup.js";
import { runSuites, type TestFailure } from "../harness/suites.js";
import type { RecordedValue } from "../harness/records.js";
import { backendInfo, ready, setBackend } from "../../src/backend/load.js";
// A virtual module written by the build: { file, load }[] per page.
// @ts-expect-error -- resolved by the esbuild plugin in scripts/build-browser.mjs
import { defaultPage, scalarPage } from "pcgraph:test-suites";

export interface BrowserTestResults {
  page: string;
  backend: string;
  passed: number;
  failed: number;
  skipped: number;
  failures: TestFailure[];
  records: RecordedValue[];
  files: string[];
  log: string;
  durationMs: number;
}

type SuiteList = { file: string; load: () => Promise<unknown> }[];

declare global {
  // eslint-disable-next-line no-var
  var __PCGRAPH_FC_SEED: string | undefined;
  interface Window {
    __pcgraphTestResults?: BrowserTestResults;
  }
}

async function main(): Promise<BrowserTestResults> {
  const params = new URLSearchParams(location.search);
  const forced = params.get("backend");
  if (params.has("seed")) globalThis.__PCGRAPH_FC_SEED = params.get("seed")!;

  // Browsers restrict synchronous wasm compilation on the main thread: compile both builds
  // asynchronously first; every later getBackendByName() returns these instances.
  await ready("wasm-simd");
  await ready("wasm-scalar");
  let files: SuiteList;
  if (forced === null && params.get("isolation") === "off") {
    // Not cross-origin isolated: no shared memory, so the default must fall back to wasm-simd.
    await ready();
    files = (defaultPage as SuiteList).filter((f) => f.file === "test/backend/load.test.ts");
  } else if (forced === null) {
    await ready();
    files = defaultPage as SuiteList;
  } else if (forced === "wasm-scalar") {
    setBackend("wasm-scalar");
    files = scalarPage as SuiteList;
  } else {
    throw new Error(`unsupported ?backend=${forced} (expected wasm-scalar or nothing)`);
  }
  const backend = backendInfo().name;
  console.log(`pcgraph browser tests: default backend ${backend}, ${navigator.userAgent}`);
  const summary = await runSuites(files, (text) => console.log(text));
  return {
    page: location.pathname + location.search, backend, passed: summary.passed, failed: summary.failed,
    skipped: summary.skipped, failures: summary.failures, records: summary.records, files: files.map((f) => f.file),
    log: "", durationMs: summary.durationMs,
  };
}

function publish(results: BrowserTestResults): void {
  results.log = logText();
  window.__pcgraphTestResults = results;
  const out = document.getElementById("log");
  if (out) out.textContent = `${results.passed} passed, ${results.failed} failed\n\n` +
    results.failures.map((f) => `${f.file} > ${f.suite} > ${f.test}\n${f.message}`).join("\n") + "\n" + results.log;
  document.title = `${results.failed ? "FAIL" : "PASS"}: ${results.passed} passed, ${results.failed} failed`;
}

main().then(publish, (error: unknown) => {
  const message = error instanceof Error ? error.stack ?? error.message : String(error);
  console.error(`browser test run crashed: ${message}`);
  publish({ page: location.pathname + location.search, backend: "unknown", passed: 0, failed: 1, skipped: 0,
    failures: [{ file: "test/browser/entry.ts", suite: "(page)", test: "(run)", message }], records: [], files: [], log: "", durationMs: 0 });
});
