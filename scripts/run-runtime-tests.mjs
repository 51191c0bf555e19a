// Runs the uvu suites under test/ with another JavaScript runtime (Deno or Bun) and ends
// with the one plain line CI reads: "<runtime>: N passed, N failed".
//
//   node scripts/run-runtime-tests.mjs deno
//   node scripts/run-runtime-tests.mjs bun
//
// Suites that need Node-only modules are left out. Which ones is decided here, not listed
// by hand: every test file's imports are followed (relative imports through the .ts sources,
// bare packages noted) and a file is skipped when anything it reaches at run time imports a
// Node built-in (`node:*`, or a bare built-in name such as "fs") or a Node-only package.
// The chosen files are imported in order from a generated entry module that drives uvu the
// way its CLI does (UVU_DEFER, one queue group per file, then `exec`), so a single summary
// "Total / Passed / Skipped" ends the run. Counts also go to test-results/<runtime>.json.
// Exits non-zero when anything failed, a suite could not be loaded, or no summary appeared.
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { builtinModules } from "node:module";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import ts from "typescript";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const runtime = process.argv[2];
const pattern = new RegExp(process.argv[3] ?? "\\.test\\.ts$", "i");
const timeoutMs = Number(process.env.RUNTIME_TEST_TIMEOUT_MS ?? 10 * 60_000);

/** Packages that only work under Node (build tools, browser drivers, CLIs). */
const NODE_ONLY_PACKAGES = new Set(["esbuild", "tsx", "playwright-core", "playwright", "benny", "assemblyscript", "typescript"]);

const runtimes = {
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
// Import scanning

const builtins = new Set(builtinModules.flatMap((name) => [name, name.split("/")[0]]));

/**
 * Module specifiers a source file loads at run time: static imports and re-exports (not
 * `import type` / `export type`, which are erased), dynamic `import("...")` and
 * `require("...")` with a literal argument. Parsed with the TypeScript compiler, so text in
 * comments and strings does not count.
 */
function runtimeSpecifiers(file, source) {
  const found = [];
  const visit = (node) => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      const typeOnly = ts.isImportDeclaration(node) ? node.importClause?.isTypeOnly : node.isTypeOnly;
      if (!typeOnly) found.push(node.moduleSpecifier.text);
    } else if (ts.isCallExpression(node) && node.arguments.length > 0 && ts.isStringLiteralLike(node.arguments[0])) {
      const callee = node.expression;
      const isImport = callee.kind === ts.SyntaxKind.ImportKeyword;
      const isRequire =
        (ts.isIdentifier(callee) && callee.text === "require") ||
        (ts.isPropertyAccessExpression(callee) && ts.isIdentifier(callee.expression) && callee.expression.text === "require");
      if (isImport || isRequire) found.push(node.arguments[0].text);
    }
    ts.forEachChild(node, visit);
  };
  visit(ts.createSourceFile(file, source, ts.ScriptTarget.Latest, false, file.endsWith("x") ? ts.ScriptKind.TSX : ts.ScriptKind.TS));
  return found;
}

/** The file a relative specifier names: "./x.js" may be x.ts on disk. */
function resolveRelative(from, specifier) {
  const base = resolve(dirname(from), specifier);
  const candidates = [base];
  if (/\.[mc]?js$/.test(base)) candidates.push(base.replace(/\.([mc]?)js$/, ".$1ts"), base.replace(/\.js$/, ".tsx"));
  else candidates.push(`${base}.ts`, `${base}.js`, join(base, "index.ts"), join(base, "index.js"));
  return candidates.find((file) => existsSync(file) && statSync(file).isFile());
}

const packageName = (specifier) => specifier.split("/").slice(0, specifier.startsWith("@") ? 2 : 1).join("/");

/**
 * Why a test file cannot run outside Node, or null when it can: each Node-only import
 * reached from it, with the chain of files that leads there.
 */
function nodeOnlyReason(file) {
  const seen = new Set([file]);
  const queue = [[file, [file]]];
  const reasons = new Map();
  while (queue.length) {
    const [current, chain] = queue.shift();
    for (const specifier of runtimeSpecifiers(current, readFileSync(current, "utf8"))) {
      const via = chain.length > 1 ? ` via ${chain.slice(1).map((f) => rel(f)).join(" -> ")}` : "";
      if (specifier.startsWith(".") || specifier.startsWith("/")) {
        const target = resolveRelative(current, specifier);
        if (!target) reasons.set(specifier, `unresolved "${specifier}" in ${rel(current)}`);
        else if (!seen.has(target)) {
          seen.add(target);
          queue.push([target, [...chain, target]]);
        }
      } else if (reasons.has(specifier)) {
        continue;
      } else if (specifier.startsWith("node:") || builtins.has(specifier) || builtins.has(packageName(specifier))) {
        reasons.set(specifier, `"${specifier}"${via}`);
      } else if (NODE_ONLY_PACKAGES.has(packageName(specifier))) {
        reasons.set(specifier, `Node-only package "${specifier}"${via}`);
      }
    }
  }
  return reasons.size ? `imports ${[...reasons.values()].join(", ")}` : null;
}

function rel(file) {
  return relative(root, file).split(sep).join("/");
}

function testFiles(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    if (name === "node_modules" || name.startsWith(".")) continue;
    const file = join(dir, name);
    if (statSync(file).isDirectory()) out.push(...testFiles(file));
    else if (pattern.test(rel(file))) out.push(file);
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// Selection

const all = testFiles(join(root, "test")).sort((a, b) => rel(a).localeCompare(rel(b)));
const included = [];
const skipped = [];
for (const file of all) {
  const reason = nodeOnlyReason(file);
  if (reason) skipped.push({ file: rel(file), reason });
  else included.push(rel(file));
}

console.log(`${runtime}: ${included.length} test files included, ${skipped.length} skipped`);
for (const file of included) console.log(`  + ${file}`);
for (const { file, reason } of skipped) console.log(`  - ${file}: ${reason}`);
console.log("");

const outDir = join(root, "test-results");
mkdirSync(outDir, { recursive: true });

function finish(passed, failed, code) {
  writeFileSync(
    join(outDir, `${runtime}.json`),
    JSON.stringify({ runtime, passed, failed, files: included, skipped }, null, 2) + "\n",
  );
  console.log(`\n${runtime}: ${passed} passed, ${failed} failed`);
  process.exit(code);
}

if (!existsSync(runtimes[runtime].bin)) {
  console.log(`${runtimes[runtime].bin} not found (install the "${runtime}" devDependency)`);
  finish(0, 1, 1);
}
if (included.length === 0) {
  console.log("no test files to run");
  finish(0, 1, 1);
}

// ---------------------------------------------------------------------------------------
// Entry module: load every suite into uvu's queue, then run them all with one summary.

const entry = join(outDir, `${runtime}-entry.ts`);
const LOAD_FAILURES = "Suites that failed to load:";
writeFileSync(
  entry,
  `// Generated by scripts/run-runtime-tests.mjs; overwritten on each run.
const g = globalThis as unknown as { UVU_DEFER: number; UVU_INDEX: number; UVU_QUEUE: unknown[][] };
g.UVU_DEFER = 1;
const uvu = await import("uvu");
const files: [string, string][] = ${JSON.stringify(included.map((f) => [f, pathToFileURL(join(root, f)).href]))};
const broken: string[] = [];
let index = 0;
for (const [name, url] of files) {
  g.UVU_INDEX = index++;
  g.UVU_QUEUE.push([name]);
  try {
    await import(url);
  } catch (error) {
    broken.push(name);
    console.log(\`\\n\${name} could not be loaded: \${error instanceof Error ? error.stack ?? error.message : String(error)}\`);
  }
}
await uvu.exec();
if (broken.length) console.log(${JSON.stringify(LOAD_FAILURES)} + " " + broken.length + " (" + broken.join(", ") + ")");
`,
);

const { FORCE_COLOR, ...env } = process.env;
const started = performance.now();
const child = spawn(runtimes[runtime].bin, runtimes[runtime].args(entry), {
  cwd: root,
  stdio: ["ignore", "pipe", "inherit"],
  env: { ...env, NO_COLOR: "1", NODE_DISABLE_COLORS: "1", DENO_NO_UPDATE_CHECK: "1", DENO_NO_PROMPT: "1" },
});
const timer = setTimeout(() => {
  console.log(`\n${runtime} did not finish within ${timeoutMs / 1000}s; stopping it`);
  child.kill("SIGKILL");
}, timeoutMs);

let output = "";
child.stdout.on("data", (chunk) => {
  output += chunk;
  process.stdout.write(chunk);
});

child.on("error", (error) => {
  clearTimeout(timer);
  console.log(`could not start ${runtime}: ${error.message}`);
  finish(0, 1, 1);
});

child.on("close", (code, signal) => {
  clearTimeout(timer);
  rmSync(entry, { force: true });
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  const plain = output.replace(/\x1b\[[0-9;]*m/g, "");
  const total = Number(/Total:\s+(\d+)/.exec(plain)?.[1] ?? NaN);
  const passed = Number(/Passed:\s+(\d+)/.exec(plain)?.[1] ?? NaN);
  const skippedTests = Number(/Skipped:\s+(\d+)/.exec(plain)?.[1] ?? 0);
  const loadFailures = Number(new RegExp(`${LOAD_FAILURES}\\s+(\\d+)`).exec(plain)?.[1] ?? 0);
  console.log(`\n${runtime} ran for ${seconds}s (exit ${signal ?? code})`);
  if (!Number.isFinite(total) || !Number.isFinite(passed)) {
    console.log(`the ${runtime} run ended without a summary`);
    finish(0, 1, 1);
  }
  const failed = total - passed - skippedTests + loadFailures;
  const ok = failed === 0 && code === 0;
  finish(passed, ok ? 0 : Math.max(failed, 1), ok ? 0 : 1);
});
