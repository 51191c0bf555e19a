// The library entry (src/index.ts) must load in any JavaScript runtime: browsers, Deno, Bun,
// workers. This walks its import graph through the TypeScript sources and checks that no
// module reachable from it imports a Node built-in, uses the `process` global, or depends on
// a package outside package.json "dependencies". File helpers, the CLI and the bundled MNIST
// loader are Node-only by design and must stay unreachable from the entry.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { builtinModules } from "node:module";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { dependencies?: Record<string, string> };

/** Node built-ins by bare name, with and without the "node:" scheme. */
const NODE_BUILTINS = new Set(builtinModules.flatMap((name) => [name, name.split("/")[0]]));

interface ModuleInfo {
  file: string;
  source: string;
  specifiers: string[];
}

interface ImportGraph {
  /** Reachable source files, root-relative with "/" separators. */
  modules: Map<string, ModuleInfo>;
  /** Bare package imports, mapped to the modules that import them. */
  packages: Map<string, string[]>;
  /** Node built-in imports: "module -> specifier". */
  nodeImports: string[];
  /** Relative imports that named no file. */
  unresolved: string[];
}

const rel = (file: string): string => relative(root, file).split(sep).join("/");

/**
 * The one place the library may name a Node module: Node 20 has no global Worker, so the
 * thread pool starts its workers through node:worker_threads (and sizes itself with node:os),
 * imported dynamically on the path taken only where no web Worker exists.
 */
const NODE_FALLBACKS: Record<string, string[]> = {
  "src/backend/threads/spawn.ts": ["node:worker_threads", "node:os"],
};

/**
 * The worker script's bootstrap: never imported by the library (the build compiles it into
 * the embedded worker script); in a Node worker it reaches its port through `require`.
 */
const WORKER_BOOTSTRAP = "src/backend/threads/worker-main.ts";

/** True for `import("specifier")` in code (a dynamic import), not a static one. */
const importedDynamically = (source: string, specifier: string): boolean =>
  codeOnly(source).includes(`import("${specifier}")`) &&
  !new RegExp(`from\\s*["']${specifier}["']|import\\s*["']${specifier}["']`).test(source);
const packageName = (specifier: string): string => specifier.split("/").slice(0, specifier.startsWith("@") ? 2 : 1).join("/");
const isNodeBuiltin = (specifier: string): boolean =>
  specifier.startsWith("node:") || NODE_BUILTINS.has(specifier) || NODE_BUILTINS.has(packageName(specifier));

/**
 * Every module specifier of a source file: `import ... from`, `export ... from`, side-effect
 * imports, `import type`, dynamic `import("...")` and `require("...")` (parsed by the
 * TypeScript scanner, so specifiers in comments and strings do not count).
 */
function specifiersOf(source: string): string[] {
  return ts.preProcessFile(source, true, true).importedFiles.map((f) => f.fileName);
}

/** "./x.js" names x.ts on disk (the sources use the extension of the compiled output). */
function resolveRelative(from: string, specifier: string): string | undefined {
  const base = resolve(dirname(from), specifier);
  const candidates = /\.[mc]?js$/.test(base)
    ? [base.replace(/\.([mc]?)js$/, ".$1ts"), base]
    : [base, `${base}.ts`, join(base, "index.ts")];
  return candidates.find((file) => existsSync(file) && statSync(file).isFile());
}

function walk(entry: string): ImportGraph {
  const graph: ImportGraph = { modules: new Map(), packages: new Map(), nodeImports: [], unresolved: [] };
  const queue = [resolve(root, entry)];
  while (queue.length) {
    const file = queue.shift()!;
    if (graph.modules.has(rel(file))) continue;
    const source = readFileSync(file, "utf8");
    const specifiers = specifiersOf(source);
    graph.modules.set(rel(file), { file, source, specifiers });
    for (const specifier of specifiers) {
      if (specifier.startsWith(".") || specifier.startsWith("/")) {
        const target = resolveRelative(file, specifier);
        if (target) queue.push(target);
        else graph.unresolved.push(`${rel(file)} -> ${specifier}`);
      } else if (isNodeBuiltin(specifier)) {
        const fallback = NODE_FALLBACKS[rel(file)]?.includes(specifier) && importedDynamically(source, specifier);
        if (!fallback) graph.nodeImports.push(`${rel(file)} -> ${specifier}`);
      } else {
        const name = packageName(specifier);
        graph.packages.set(name, [...(graph.packages.get(name) ?? []), rel(file)]);
      }
    }
  }
  return graph;
}

/** Source with comments removed (strings and template literals kept), via the TypeScript scanner. */
function codeOnly(source: string): string {
  const scanner = ts.createScanner(ts.ScriptTarget.Latest, false, ts.LanguageVariant.Standard, source);
  let out = "";
  for (let kind = scanner.scan(); kind !== ts.SyntaxKind.EndOfFileToken; kind = scanner.scan()) {
    if (kind === ts.SyntaxKind.SingleLineCommentTrivia || kind === ts.SyntaxKind.MultiLineCommentTrivia) out += " ";
    else out += scanner.getTokenText();
  }
  return out;
}

/** Fails when code (comments aside) uses `process` or the CommonJS globals. */
function assertNoNodeGlobals(name: string, source: string): void {
  const code = codeOnly(source);
  assert.not.ok(/\btypeof\s+process\b/.test(code), `${name} uses "typeof process"`);
  assert.not.ok(/(?<![.\w$])process\s*\./.test(code), `${name} uses process.*`);
  assert.not.ok(/(?<![.\w$])(?:__dirname|__filename|require)\b(?!\s*:)/.test(code), `${name} uses a CommonJS global`);
}

const library = walk("src/index.ts");

const portability = suite("library entry portability");

portability("the walker reaches the whole library", () => {
  assert.equal(library.unresolved, [], "relative imports that resolve to no file");
  for (const expected of ["src/backend/load.ts", "src/backend/wasm-binaries.generated.ts", "src/tensor.ts", "src/graph/builder.ts", "src/pc/engine.ts", "src/train/gradients.ts"]) {
    assert.ok(library.modules.has(expected), `${expected} should be reachable from src/index.ts`);
  }
});

portability("no module reachable from src/index.ts imports a Node built-in", () => {
  assert.equal(library.nodeImports, []);
  for (const [name, { specifiers }] of library.modules) {
    const allowed = NODE_FALLBACKS[name] ?? [];
    for (const banned of ["fs", "path", "process", "child_process", "zlib", "url", "os", "module", "buffer", "crypto", "util"]) {
      if (allowed.includes(`node:${banned}`)) continue;
      assert.not.ok(specifiers.includes(banned) || specifiers.includes(`node:${banned}`), `${name} imports ${banned}`);
    }
    assert.not.ok(specifiers.some((s) => s.startsWith("node:") && !allowed.includes(s)), `${name} imports a node: module`);
  }
});

portability("Node-only modules stay unreachable", () => {
  for (const name of library.modules.keys()) {
    assert.not.ok(name.startsWith("src/node/") || name.startsWith("src/cli/") || name === "src/train/data/mnist.ts", `${name} is Node-only`);
  }
});

portability("bare imports are runtime dependencies", () => {
  const dependencies = new Set(Object.keys(pkg.dependencies ?? {}));
  for (const [name, importers] of library.packages) {
    assert.ok(dependencies.has(name), `"${name}" (imported by ${importers.join(", ")}) is not in package.json "dependencies"`);
  }
  // The wasm is instantiated with the plain WebAssembly API (src/backend/instantiate.ts).
  assert.equal([...library.packages.keys()], [], "the library entry imports no package at all");
});

portability("the dependencies' ES module entries import no Node built-ins", () => {
  for (const name of library.packages.keys()) {
    const dir = join(root, "node_modules", name);
    const manifest = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as {
      exports?: unknown;
      module?: string;
      main?: string;
    };
    const exp = manifest.exports as Record<string, unknown> | string | undefined;
    const dot = typeof exp === "object" && exp && "." in exp ? (exp["."] as Record<string, unknown> | string) : exp;
    const entry = typeof dot === "string" ? dot : (dot?.import as string | undefined) ?? (dot?.default as string | undefined) ?? manifest.module ?? manifest.main ?? "index.js";
    const specifiers = specifiersOf(readFileSync(join(dir, entry), "utf8"));
    assert.equal(specifiers.filter(isNodeBuiltin), [], `${name}/${entry} imports Node built-ins`);
  }
});

portability("no reachable module refers to the process global", () => {
  for (const [name, { source }] of library.modules) assertNoNodeGlobals(name, source);
});

portability("every module outside the Node-only areas is portable too", () => {
  // Modules not (yet) exported from the entry, e.g. src/train/fit.ts, must stay loadable
  // everywhere as well; only src/node/, src/cli/ and the bundled MNIST loader may use Node.
  const nodeOnly = (name: string): boolean => name.startsWith("src/node/") || name.startsWith("src/cli/") || name === "src/train/data/mnist.ts";
  const sources = (dir: string): string[] =>
    readdirSync(dir).flatMap((entry) => {
      const file = join(dir, entry);
      return statSync(file).isDirectory() ? sources(file) : file.endsWith(".ts") ? [rel(file)] : [];
    });
  assert.not.ok(library.modules.has(WORKER_BOOTSTRAP), `${WORKER_BOOTSTRAP} is a worker script, not part of the library`);
  const portable = sources(join(root, "src")).filter((name) => !nodeOnly(name) && name !== WORKER_BOOTSTRAP);
  assert.ok(portable.includes("src/train/fit.ts"));
  for (const name of portable) {
    const graph = walk(name);
    assertNoNodeGlobals(name, graph.modules.get(name)!.source);
    assert.equal(graph.nodeImports, [], `${name} reaches Node built-ins`);
    assert.equal([...graph.modules.keys()].filter(nodeOnly), [], `${name} reaches Node-only modules`);
    const dependencies = new Set(Object.keys(pkg.dependencies ?? {}));
    for (const [pkgName, importers] of graph.packages) {
      assert.ok(dependencies.has(pkgName), `"${pkgName}" (imported by ${importers.join(", ")}) is not a runtime dependency`);
    }
  }
});

portability("the Node fallbacks are dynamic imports, and the only ones", () => {
  for (const [name, specifiers] of Object.entries(NODE_FALLBACKS)) {
    const module = library.modules.get(name);
    assert.ok(module, `${name} should be reachable from src/index.ts`);
    for (const specifier of specifiers) {
      assert.ok(module.specifiers.includes(specifier), `${name} no longer imports ${specifier}: drop it from the list`);
      assert.ok(importedDynamically(module.source, specifier), `${name} must import ${specifier} dynamically`);
    }
  }
  assert.not.ok(importedDynamically('import { Worker } from "node:worker_threads";', "node:worker_threads"));
});

portability("the walker flags Node-only code (src/cli/main.ts)", () => {
  const cli = walk("src/cli/main.ts");
  assert.ok(cli.nodeImports.length > 0, "src/cli/main.ts should reach node: imports");
  assert.ok(cli.nodeImports.some((edge) => edge.startsWith("src/cli/main.ts -> node:")), cli.nodeImports.join("\n"));
  assert.ok(cli.modules.has("src/index.ts") || cli.modules.size > 1, "the walker follows the CLI's relative imports");
});

portability("the walker reads every import form", () => {
  const source = [
    `import a from "pkg-a";`,
    `import { b, type C } from "./b.js";`,
    `import type { D } from "pkg-d";`,
    `import * as e from "node:fs";`,
    `import "side-effect";`,
    `export * from "./star.js";`,
    `export { f as g } from "pkg-f";`,
    `export type { H } from "./h.js";`,
    `const lazy = await import("zlib");`,
    `// import nothing from "in-a-comment";`,
    `const text = 'import x from "in-a-string"';`,
  ].join("\n");
  assert.equal(specifiersOf(source).sort(), ["./b.js", "./h.js", "./star.js", "node:fs", "pkg-a", "pkg-d", "pkg-f", "side-effect", "zlib"]);
  assert.ok(isNodeBuiltin("zlib") && isNodeBuiltin("node:fs") && isNodeBuiltin("fs/promises") && !isNodeBuiltin("uvu"));
  assert.ok(/\btypeof\s+process\b/.test(codeOnly("const n = typeof process;")));
  assert.not.ok(/\btypeof\s+process\b/.test(codeOnly("// typeof process\nconst n = 1;")));
});

portability.run();
