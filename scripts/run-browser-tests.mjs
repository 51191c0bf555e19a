// Runs the browser test pages in headless Chromium and ends with the one line CI reads:
// "browser: N passed, N failed". Builds the bundles (scripts/build-browser.mjs), serves
// test/browser, build/browser-tests and dist/browser on 127.0.0.1, loads the default test
// page, the forced-scalar test page and a page that imports the library bundle
// (dist/browser/pcgraph.js) as users do, and writes test-results/browser.json (or
// $PCGRAPH_TEST_RESULTS/browser.json) with the counts, every failure by file, suite and
// test, and the values suites recorded. Exits non-zero on any failure, page error or
// timeout. FC_SEED is passed to the pages as ?seed=.
//
//   node scripts/run-browser-tests.mjs [file pattern]
//
// The pattern (a regular expression on checkout-relative paths, default every
// test/**/*.test.ts) picks the suites; the library-bundle page runs with the default only.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { dirname, extname, join, normalize, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { buildBrowser } from "./build-browser.mjs";
import { TEST_FILE_PATTERN } from "./test-files.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const PAGE_TIMEOUT_MS = Number(process.env.BROWSER_TEST_TIMEOUT_S ?? 180) * 1000;
const started = Date.now();

const pattern = process.argv[2] ?? TEST_FILE_PATTERN;
// Pages are served cross-origin isolated (COOP same-origin, COEP require-corp), where the
// default backend is the threaded one, except with ?isolation=off, where it must be wasm-simd.
const pages = [
  { label: "default (wasm-simd-threads, cross-origin isolated)", query: "", suites: "defaultPage", expect: "wasm-simd-threads" },
  ...(pattern === TEST_FILE_PATTERN
    ? [{ label: "not cross-origin isolated (wasm-simd)", query: "?isolation=off", suites: "defaultPage", expect: "wasm-simd" }]
    : []),
  { label: "forced wasm-scalar", query: "?backend=wasm-scalar", suites: "scalarPage", expect: "wasm-scalar" },
  ...(pattern === TEST_FILE_PATTERN ? [{ label: "library bundle", path: "/bundle.html", query: "", expect: "wasm-simd-threads" }] : []),
];

const MIME = {
  ".html": "text/html; charset=utf-8",
  ".js": "application/javascript; charset=utf-8",
  ".mjs": "application/javascript; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".wasm": "application/wasm",
  ".css": "text/css; charset=utf-8",
};

const results = { runtime: "browser", passed: 0, failed: 0, files: [], failures: [], records: [] };
const outDir = process.env.PCGRAPH_TEST_RESULTS ?? join(root, "test-results");

function finish(code, timed = true) {
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, "browser.json"), JSON.stringify(results, null, 2) + "\n");
  if (timed) console.log(`\nbrowser tests took ${((Date.now() - started) / 1000).toFixed(1)} s (build, every page, browser start and stop)`);
  if (results.failures.length) {
    console.log(`\nbrowser: failed:`);
    for (const f of results.failures) console.log(`  ${f.file} > ${f.suite} > ${f.test}`);
  }
  console.log(`browser: ${results.passed} passed, ${results.failed} failed`);
  process.exitCode = code;
}

if (!existsSync(CHROMIUM)) {
  console.error(`Chromium was not found at ${CHROMIUM}. Install it with \`apt-get install -y chromium\` ` +
    `(or set CHROMIUM_PATH to a Chromium or Chrome binary).`);
  results.failed = 1;
  results.failures.push({ file: "(runner)", suite: "(chromium)", test: "(start)", message: `Chromium was not found at ${CHROMIUM}` });
  finish(1, false);
} else {
  await main();
}

async function main() {
  let server;
  let browser;
  let code = 1;
  try {
    const { pages: suitesPerPage } = await buildBrowser({ pattern });
    server = await serve([join(root, "test", "browser"), join(root, "build", "browser-tests"), join(root, "dist", "browser")]);
    const { chromium } = await import("playwright-core");
    // chromium.launch starts from a fresh temporary user-data-dir of its own (a
    // --user-data-dir argument is refused there) and deletes it on close.
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    });
    const context = await browser.newContext();
    const seed = process.env.FC_SEED ? `seed=${encodeURIComponent(process.env.FC_SEED)}` : "";

    let ok = true;
    for (const { label, path = "/index.html", query, suites, expect } of pages) {
      if (suites && suitesPerPage[suites].length === 0) continue; // nothing matches the pattern on this page
      const search = seed ? (query ? `${query}&${seed}` : `?${seed}`) : query;
      const url = `${server.origin}${path}${search}`;
      ok = (await runPage(context, label, url, expect)) && ok;
    }
    code = ok ? 0 : 1;
  } catch (error) {
    const message = error instanceof Error ? error.stack ?? error.message : String(error);
    console.error(`browser test run failed: ${message}`);
    results.failed = Math.max(results.failed, 1);
    results.failures.push({ file: "(runner)", suite: "(browser)", test: "(run)", message });
  } finally {
    await browser?.close().catch(() => {});
    server?.closeAllConnections();
    if (server) await new Promise((resolve) => server.close(resolve));
  }
  if (code === 0 && results.failed > 0) code = 1;
  finish(code);
}

/** Loads one page, waits for its results, prints them; false on any failure or page error. */
async function runPage(context, label, url, expectedBackend) {
  const page = await context.newPage();
  const pageErrors = [];
  page.on("console", (message) => {
    if (message.type() === "error") {
      pageErrors.push(message.text());
      console.error(`[${label}] console error: ${message.text()}`);
    }
  });
  page.on("pageerror", (error) => {
    pageErrors.push(error.message);
    console.error(`[${label}] page error: ${error.stack ?? error.message}`);
  });
  page.on("crash", () => {
    pageErrors.push("page crashed");
    console.error(`[${label}] page crashed`);
  });
  page.on("requestfailed", (request) => {
    pageErrors.push(`request failed: ${request.url()}`);
    console.error(`[${label}] request failed: ${request.url()} (${request.failure()?.errorText})`);
  });

  const pageStarted = Date.now();
  console.log(`\n${label}: ${url}`);
  let outcome;
  try {
    // The Node-side timer also covers a page whose main thread never yields again.
    let timer;
    const deadline = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${PAGE_TIMEOUT_MS / 1000} s`)), PAGE_TIMEOUT_MS);
    });
    try {
      outcome = await Promise.race([deadline, (async () => {
        await page.goto(url, { waitUntil: "domcontentloaded", timeout: PAGE_TIMEOUT_MS });
        await page.waitForFunction(() => window.__pcgraphTestResults !== undefined, undefined,
          { timeout: PAGE_TIMEOUT_MS, polling: 250 });
        return page.evaluate(() => window.__pcgraphTestResults);
      })()]);
    } finally {
      clearTimeout(timer);
    }
  } catch (error) {
    const message = error instanceof Error ? error.message.split("\n")[0] : String(error);
    console.error(`[${label}] no results: ${message}`);
    results.failed += 1;
    results.failures.push({ file: "(page)", suite: label, test: "(no results)", message });
    await page.close().catch(() => {});
    return false;
  }
  await page.close().catch(() => {});

  process.stdout.write(outcome.log.replace(/^/gm, "  ").trimEnd() + "\n");
  for (const failure of outcome.failures) {
    console.log(`\n[${label}] FAIL ${failure.file} > ${failure.suite ?? "(page)"} > ${failure.test ?? "(check)"}\n${failure.message}`);
    results.failures.push({ ...failure, suite: failure.suite ?? label, test: failure.test ?? "(check)" });
  }
  // A console error or uncaught exception outside a test still fails the page, and so does a
  // default backend other than the page's isolation calls for.
  const wrongBackend = outcome.backend !== expectedBackend;
  if (wrongBackend) console.log(`\n[${label}] FAIL: default backend ${outcome.backend}, expected ${expectedBackend}`);
  const extra = outcome.failed === 0 && (pageErrors.length > 0 || wrongBackend) ? 1 : 0;
  if (extra) results.failures.push({ file: "(page)", suite: label, test: wrongBackend ? "(default backend)" : "(page error)",
    message: wrongBackend ? `default backend ${outcome.backend}, expected ${expectedBackend}` : pageErrors.join("\n") });
  results.passed += outcome.passed;
  results.failed += outcome.failed + extra;
  for (const file of outcome.files ?? []) if (!results.files.includes(file)) results.files.push(file);
  for (const r of outcome.records ?? []) {
    const earlier = results.records.find((e) => e.key === r.key);
    if (!earlier) results.records.push(r);
    else if (earlier.value !== r.value) {
      results.failed += 1;
      results.failures.push({ file: r.file, suite: label, test: `record ${r.key}`, message: `${r.value} on this page, ${earlier.value} on an earlier one` });
    }
  }
  const seconds = ((Date.now() - pageStarted) / 1000).toFixed(1);
  console.log(`${label}: ${outcome.passed} passed, ${outcome.failed + extra} failed ` +
    `(default backend ${outcome.backend}, ${seconds} s)`);
  return outcome.failed === 0 && extra === 0 && !wrongBackend;
}

/** A static server on 127.0.0.1 (free port) looking each path up in the directories in order. */
function serve(directories) {
  const server = createServer((request, response) => {
    try {
      respond(request, response);
    } catch (error) {
      response.writeHead(500, { "content-type": "text/plain" });
      response.end(String(error));
    }
  });
  function respond(request, response) {
    const requested = new URL(request.url ?? "/", "http://localhost");
    const path = decodeURIComponent(requested.pathname);
    // Cross-origin isolation (SharedArrayBuffer, threads) unless the page asks for none.
    const isolation = requested.searchParams.get("isolation") === "off" ? {} :
      { "cross-origin-opener-policy": "same-origin", "cross-origin-embedder-policy": "require-corp" };
    const relative = normalize(path === "/" ? "/index.html" : path).replace(/^([/\\])+/, "");
    for (const directory of directories) {
      const file = join(directory, relative);
      if (!file.startsWith(directory + sep) || !existsSync(file)) continue;
      let body;
      try {
        body = readFileSync(file);
      } catch {
        continue; // a directory
      }
      response.writeHead(200, {
        "content-type": MIME[extname(file)] ?? "application/octet-stream",
        "cache-control": "no-store",
        ...isolation,
      });
      response.end(body);
      return;
    }
    // Browsers ask for this on their own; it is not a test failure.
    response.writeHead(path === "/favicon.ico" ? 204 : 404, { "content-type": "text/plain" });
    response.end(path === "/favicon.ico" ? undefined : `not found: ${path}`);
  }
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.origin = `http://127.0.0.1:${port}`;
      resolve(server);
    });
  });
}
