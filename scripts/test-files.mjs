// Which test files exist and which of them can run outside Node. Shared by the runners of
// every runtime (scripts/run-runtime-tests.mjs for Node, Deno and Bun; the browser build),
// so a new suite is picked up everywhere without being listed by hand.
//
// A file is Node-only when anything it reaches at run time imports a Node built-in
// (`node:*`, or a bare built-in name such as "fs") or a Node-only package: every test
// file's imports are followed (relative imports through the .ts sources, bare packages
// noted), parsed with the TypeScript compiler so text in comments and strings does not count.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { builtinModules } from "node:module";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

export const root = join(dirname(fileURLToPath(import.meta.url)), "..");

/** The default pattern: every suite file under test/. */
export const TEST_FILE_PATTERN = "\\.test\\.ts$";

/**
 * Node modules the library imports dynamically only where no web Worker exists (Node 20's
 * thread pool): Deno, Bun and browsers take the web Worker path and never load them.
 */
export const NODE_FALLBACKS = { "src/backend/threads/spawn.ts": ["node:worker_threads", "node:os"] };

/** Packages that only work under Node (build tools, browser drivers, CLIs). */
export const NODE_ONLY_PACKAGES = new Set(["esbuild", "tsx", "playwright-core", "playwright", "benny", "assemblyscript", "typescript", "typedoc"]);

const builtins = new Set(builtinModules.flatMap((name) => [name, name.split("/")[0]]));

/** A path relative to the checkout, with forward slashes. */
export function rel(file) {
  return relative(root, file).split(sep).join("/");
}

/**
 * Module specifiers a source file loads at run time: static imports and re-exports (not
 * `import type` / `export type`, which are erased), dynamic `import("...")` and
 * `require("...")` with a literal argument.
 */
export function runtimeSpecifiers(file, source) {
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
export function resolveRelative(from, specifier) {
  const base = resolve(dirname(from), specifier);
  const candidates = [base];
  if (/\.[mc]?js$/.test(base)) candidates.push(base.replace(/\.([mc]?)js$/, ".$1ts"), base.replace(/\.js$/, ".tsx"));
  else candidates.push(`${base}.ts`, `${base}.js`, join(base, "index.ts"), join(base, "index.js"));
  return candidates.find((file) => existsSync(file) && statSync(file).isFile());
}

const packageName = (specifier) => specifier.split("/").slice(0, specifier.startsWith("@") ? 2 : 1).join("/");

/**
 * Why a file cannot run outside Node, or null when it can: each Node-only import reached
 * from it, with the chain of files that leads there.
 */
export function nodeOnlyReason(file) {
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
      } else if (NODE_FALLBACKS[rel(current)]?.includes(specifier)) {
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

/**
 * Suite files under test/ (names ending in .test.ts) whose checkout-relative path matches `pattern`
 * (a RegExp or string), sorted. A pattern that names an existing file selects that file
 * alone, whatever its name (e.g. a fixture).
 */
export function testFiles(pattern = TEST_FILE_PATTERN) {
  if (typeof pattern === "string" && existsSync(resolve(root, pattern)) && statSync(resolve(root, pattern)).isFile())
    return [resolve(root, pattern)];
  const given = pattern instanceof RegExp ? pattern : new RegExp(pattern, "i");
  const suiteFile = new RegExp(TEST_FILE_PATTERN, "i");
  const regex = { test: (path) => suiteFile.test(path) && given.test(path) };
  const walk = (dir) => {
    const out = [];
    for (const name of readdirSync(dir)) {
      if (name === "node_modules" || name.startsWith(".")) continue;
      const file = join(dir, name);
      if (statSync(file).isDirectory()) out.push(...walk(file));
      else if (regex.test(rel(file))) out.push(file);
    }
    return out;
  };
  return walk(join(root, "test")).sort((a, b) => rel(a).localeCompare(rel(b)));
}

/**
 * The test files matching `pattern`, split into those that run outside Node (`included`,
 * checkout-relative) and those that do not (`skipped`, with the reason).
 */
export function platformNeutralTestFiles(pattern = TEST_FILE_PATTERN) {
  const included = [];
  const skipped = [];
  for (const file of testFiles(pattern)) {
    const reason = nodeOnlyReason(file);
    if (reason) skipped.push({ file: rel(file), reason });
    else included.push(rel(file));
  }
  return { included, skipped };
}
