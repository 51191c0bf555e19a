// Runs the uvu suites under test/ in one JavaScript runtime and ends with the one plain line
// CI reads: "N passed, N failed" (Node, for `npm test`) or "<runtime>: N passed, N failed".
//
//   node scripts/run-runtime-tests.mjs node [file pattern]
//   node scripts/run-runtime-tests.mjs deno [file pattern]
//   node scripts/run-runtime-tests.mjs bun  [file pattern]
//
// The pattern is a regular expression matched against checkout-relative paths
// (default: every test/**/*.test.ts). Under Deno and Bun, suites that need Node-only modules
// are left out, decided by following their imports (scripts/test-files.mjs), not by a list.
// The chosen files are imported from a generated entry module that runs them through
// test/harness/suites.ts, which reports every failure by file, suite and test name — also
// those uvu itself loses when a hook throws. Counts, failures and the values suites
// recorded go to test-results/<runtime>.json (or $PCGRAPH_TEST_RESULTS/<runtime>.json). Exits non-zero when anything failed, a suite
// could not be loaded, or the run ended without its summary.
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { platformNeutralTestFiles, rel, root, testFiles, TEST_FILE_PATTERN } from "./test-files.mjs";

const runtime = process.argv[2];
// --failure=TEXT: a failure found before the suites ran (e.g. the TypeScript build), counted in the total.
const earlyFailures = process.argv.slice(3).filter((a) => a.startsWith("--failure=")).map((a) => a.slice("--failure=".length));
// --force-threads=N (npm run test:threads): the default backend becomes wasm-simd-threads with
// N threads splitting every kernel call, however small (test/util/force-threads.ts).
const forceThreads = process.argv.slice(3).find((a) => a.startsWith("--force-threads="))?.slice("--force-threads=".length);
const pattern = process.argv.slice(3).find((a) => !a.startsWith("--")) ?? TEST_FILE_PATTERN;
const timeoutMs = Number(process.env.RUNTIME_TEST_TIMEOUT_MS ?? 10 * 60_000);
const RESULTS_MARKER = "@pcgraph-test-results ";

const runtimes = {
  node: {
    bin: process.execPath,
    // tsx compiles the TypeScript suites; --expose-gc lets memory tests collect on demand.
    args: (entry) => ["--import", "tsx", "--expose-gc", entry],
  },
  deno: {
    bin: join(root, "node_modules", ".bin", process.platform === "win32" ? "deno.cmd" : "deno"),
    // --sloppy-imports: the sources import "./x.js" where the file is x.ts.
    // --no-lock / --no-config / --node-modules-dir=manual: no deno.lock or deno.json, and
    // npm packages come from the existing ./node_modules (nothing is installed or written).
    // Permissions: read the checkout (the suites are imported dynamically) and the
    // environment (FC_SEED, colour settings); no write, net or run.
    args: (entry) => [
      "run", "--sloppy-imports", "--no-lock", "--no-config", "--node-modules-dir=manual",
      `--allow-read=${root}`, "--allow-env", entry,
    ],
  },
  bun: {
    bin: join(root, "node_modules", ".bin", process.platform === "win32" ? "bun.cmd" : "bun"),
    args: (entry) => ["run", "--no-install", entry],
  },
};

if (!runtimes[runtime]) {
  console.error(`usage: node scripts/run-runtime-tests.mjs <${Object.keys(runtimes).join("|")}> [file pattern]`);
  process.exit(2);
}

// ---------------------------------------------------------------------------------------
// Selection

let included;
let skipped = [];
if (runtime === "node") {
  included = testFiles(pattern).map(rel);
} else {
  ({ included, skipped } = platformNeutralTestFiles(pattern));
  console.log(`${runtime}: ${included.length} test files included, ${skipped.length} skipped`);
  for (const file of included) console.log(`  + ${file}`);
  for (const { file, reason } of skipped) console.log(`  - ${file}: ${reason}`);
  console.log("");
}

// PCGRAPH_TEST_RESULTS redirects the results (scripts/check-runners.mjs uses a temporary one).
const outDir = process.env.PCGRAPH_TEST_RESULTS ?? join(root, "test-results");
mkdirSync(outDir, { recursive: true });
const label = runtime === "node" ? "" : `${runtime}: `;

function finish(summary, code) {
  let { passed = 0, failed = 1, failures = [], records = [] } = summary;
  for (const message of earlyFailures) {
    failed += 1;
    failures.push({ file: "(build)", suite: "(before the suites)", test: message, message });
    code = 1;
  }
  writeFileSync(
    join(outDir, `${runtime}.json`),
    JSON.stringify({ runtime, passed, failed, files: included, skipped, failures, records }, null, 2) + "\n",
  );
  if (failures.length) {
    console.log(`\n${label}failed:`);
    for (const f of failures) console.log(`  ${f.file} > ${f.suite} > ${f.test}`);
  }
  console.log(`\n${label}${passed} passed, ${failed} failed`);
  process.exit(code);
}

if (!existsSync(runtimes[runtime].bin)) {
  console.log(`${runtimes[runtime].bin} not found (install the "${runtime}" devDependency)`);
  finish({}, 1);
}
if (included.length === 0) {
  console.log(`no test files match ${pattern}`);
  finish({}, 1);
}

// ---------------------------------------------------------------------------------------
// Entry module: every suite through the harness, then the summary as one marked line.

const entry = join(outDir, `${runtime}-entry-${process.pid}.mts`);
const harness = pathToFileURL(join(root, "test", "harness", "suites.ts")).href;
writeFileSync(
  entry,
  `// Generated by scripts/run-runtime-tests.mjs; deleted after the run.
${forceThreads ? `import ${JSON.stringify(pathToFileURL(join(root, "test", "util", "force-threads.ts")).href)};\n` : ""}import { runSuites } from ${JSON.stringify(harness)};
const files: [string, string][] = ${JSON.stringify(included.map((f) => [f, pathToFileURL(join(root, f)).href]))};
const out = (globalThis as unknown as { process: { stdout: { write(text: string): boolean } } }).process.stdout;
const summary = await runSuites(files.map(([file, url]) => ({ file, load: () => import(url) })), (text) => out.write(text));
out.write("\\n" + ${JSON.stringify(RESULTS_MARKER)} + JSON.stringify(summary) + "\\n");
`,
);

const { FORCE_COLOR, ...env } = process.env;
const started = performance.now();
const child = spawn(runtimes[runtime].bin, runtimes[runtime].args(entry), {
  cwd: root,
  stdio: ["ignore", "pipe", "inherit"],
  env: { ...env, NO_COLOR: "1", NODE_DISABLE_COLORS: "1", DENO_NO_UPDATE_CHECK: "1", DENO_NO_PROMPT: "1",
    ...(forceThreads ? { PCGRAPH_FORCE_THREADS: forceThreads } : {}) },
});
const timer = setTimeout(() => {
  console.log(`\n${runtime} did not finish within ${timeoutMs / 1000}s; stopping it`);
  child.kill("SIGKILL");
}, timeoutMs);

let output = "";
let pending = "";
child.stdout.on("data", (chunk) => {
  output += chunk;
  // Echo everything but the marked summary line.
  pending += chunk;
  const lines = pending.split("\n");
  pending = lines.pop();
  for (const line of lines) if (!line.startsWith(RESULTS_MARKER)) process.stdout.write(line + "\n");
});

child.on("error", (error) => {
  clearTimeout(timer);
  console.log(`could not start ${runtime}: ${error.message}`);
  finish({}, 1);
});

child.on("close", (code, signal) => {
  clearTimeout(timer);
  rmSync(entry, { force: true });
  if (pending && !pending.startsWith(RESULTS_MARKER)) process.stdout.write(pending + "\n");
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  if (runtime !== "node") console.log(`\n${runtime} ran for ${seconds}s (exit ${signal ?? code})`);
  const line = output.split("\n").find((l) => l.startsWith(RESULTS_MARKER));
  if (!line) {
    console.log(`the ${runtime} run ended (exit ${signal ?? code}) without a summary`);
    finish({}, 1);
  }
  const summary = JSON.parse(line.slice(RESULTS_MARKER.length));
  if (code !== 0 && summary.failed === 0) {
    summary.failed = 1;
    summary.failures.push({ file: "(run)", suite: "(process)", test: "(exit)", message: `${runtime} exited with ${signal ?? code}` });
  }
  finish(summary, summary.failed === 0 ? 0 : 1);
});
