// `npm test`: compiles src/ into dist/ (incrementally, so the CLI tests run the current
// code through bin/pcgraph.js exactly as users do), then every uvu suite under test/ in
// Node (through tsx), ending with the one plain line CI reads: "N passed, N failed". A
// compile error counts as one failure. An optional argument narrows the suites to a
// pattern (a regular expression on checkout-relative paths), e.g. `npm test -- test/pc/`.
// The same runner drives Deno and Bun (`npm run test:deno`, `npm run test:bun`).
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const started = performance.now();
const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
const compile = spawnSync(process.execPath, [tsc, "-p", "tsconfig.json"], { cwd: root, stdio: "inherit" });
const extra = [];
if (compile.status === 0) console.log(`dist/ is up to date with src/ (${((performance.now() - started) / 1000).toFixed(1)} s)`);
else extra.push("--failure=TypeScript: src/ does not compile (tsc -p tsconfig.json), so dist/ was not updated");

const script = join(root, "scripts", "run-runtime-tests.mjs");
const { status, signal } = spawnSync(process.execPath, [script, "node", ...process.argv.slice(2), ...extra], { stdio: "inherit" });
process.exit(status ?? (signal ? 1 : 0));
