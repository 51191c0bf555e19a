#!/usr/bin/env node
// npm run bench:browser — the MLP training step in headless Chromium on a cross-origin isolated
// page: pcgraph (wasm-simd-threads, 1 thread and all of them) beside TF.js's wasm backend with
// its own threads enabled (bench/browser/main.ts). Builds the page into build/bench-browser/
// with the TF.js wasm binaries beside it, serves it with the COOP/COEP headers, and prints the
// table with the host, the browser and the load average.
import { copyFileSync, mkdirSync, readdirSync } from "node:fs";
import { builtinModules } from "node:module";
import { availableParallelism, cpus, loadavg } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";
import { noNodeBuiltins } from "./build-browser.mjs";
import { serve } from "./serve.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const outDir = join(root, "build", "bench-browser");
const chromiumPath = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const load = () => loadavg().map((x) => x.toFixed(2)).join(" ");

/**
 * TF.js (its Emscripten loaders, tfjs-data, seedrandom) names Node builtins on paths a browser
 * never takes: give imports from node_modules an empty module. pcgraph's own imports still go
 * through noNodeBuiltins.
 */
const builtinNames = new Set(builtinModules.flatMap((name) => [name, `node:${name}`]));
const peerNodeStubs = {
  name: "peer-node-stubs",
  setup(build) {
    build.onResolve({ filter: /.*/ }, (args) =>
      builtinNames.has(args.path) && args.importer.includes("node_modules") ? { path: args.path, namespace: "peer-node-stub" } : undefined);
    build.onLoad({ filter: /.*/, namespace: "peer-node-stub" }, () => ({ contents: "export default {};", loader: "js" }));
  },
};

mkdirSync(outDir, { recursive: true });
await esbuild.build({
  entryPoints: [join(root, "bench", "browser", "main.ts")],
  outfile: join(outDir, "bench.js"),
  bundle: true,
  format: "esm",
  platform: "browser",
  target: "es2022",
  plugins: [peerNodeStubs, noNodeBuiltins],
  logLevel: "warning",
});
copyFileSync(join(root, "bench", "browser", "index.html"), join(outDir, "index.html"));
const wasmDir = join(root, "node_modules", "@tensorflow", "tfjs-backend-wasm", "dist");
for (const file of readdirSync(wasmDir).filter((f) => f.endsWith(".wasm"))) copyFileSync(join(wasmDir, file), join(outDir, file));

const server = await serve(outDir, { port: 0, isolation: true });
const { chromium } = await import("playwright-core");
const browser = await chromium.launch({
  executablePath: chromiumPath,
  headless: true,
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"],
});
const startLoad = load();
const date = new Date().toISOString().replace("T", " ").slice(0, 16) + " UTC";
try {
  const page = await browser.newPage();
  page.on("pageerror", (error) => console.error(`page error: ${error.message}`));
  page.on("response", (response) => {
    if (response.status() >= 400) console.error(`page request ${response.status()}: ${response.url()}`);
  });
  page.on("console", (message) => {
    if (message.type() === "error" || message.type() === "warning") console.error(`page ${message.type()}: ${message.text()}`);
  });
  await page.goto(server.url);
  await page.waitForFunction(() => window.__pcgraphBench !== undefined, undefined, { timeout: 600_000, polling: 500 });
  const result = await page.evaluate(() => window.__pcgraphBench);
  if (result.error) throw new Error(`the benchmark page failed: ${result.error}`);
  console.log("\nMLP 784-256-256-10 training step at batch 64 in headless Chromium, cross-origin isolated page, main thread; ms (median of interleaved rounds)");
  console.log(`host: ${cpus()[0]?.model.trim()}, ${availableParallelism()} cores, Chromium ${browser.version()}, ${date}; load average (1/5/15 min) at start ${startLoad}`);
  for (const note of result.notes) console.log(note);
  console.log(`| ${result.header.join(" | ")} |`);
  console.log(`| ${result.header.map((_, i) => (i === 0 ? "---" : "---:")).join(" | ")} |`);
  for (const row of result.rows) console.log(`| ${row.join(" | ")} |`);
  console.log(`load average at end: ${load()}`);
} finally {
  await browser.close();
  await server.close();
}
