// What the package ships and how it loads, checked on the checkout (the full consumer
// install from the packed tarball is scripts/check-package.mjs, run by CI):
//   - the tarball's file list is a whitelist: package.json, README.md, LICENSE, the bin
//     script, compiled JavaScript and declarations under dist/, and the JSON schemas of
//     docs/ (for users' config files); no source maps, test
//     bundles or demo data; every target of "exports", "types", "typesVersions" and "bin" is in it;
//   - nothing shipped imports a package at run time (no TypeScript loader, no wasm loader):
//     only Node built-ins, and only from the Node-only entries;
//   - require("pcgraph"), require("pcgraph/node") and require("pcgraph/browser") work and
//     give the very objects `import` gives;
//   - the command runs from dist/ with plain Node.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { builtinModules } from "node:module";
import { dirname, join, posix } from "node:path";
import { fileURLToPath } from "node:url";
import { suite } from "uvu";
import * as assert from "uvu/assert";
// @ts-expect-error -- a plain .mjs script without type declarations
import { runtimeSpecifiers } from "../scripts/test-files.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const manifest = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
const pkg = suite("the package");

interface PackedFile {
  path: string;
  size: number;
}

let packed: { files: PackedFile[]; unpackedSize: number } | undefined;

/** `npm pack --dry-run` of the checkout as it is (dist/ was just compiled by `npm test`). */
function packList(): { files: PackedFile[]; unpackedSize: number } {
  if (packed) return packed;
  const npm = spawnSync("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], { cwd: root, encoding: "utf8", timeout: 60_000 });
  assert.is(npm.status, 0, `npm pack --dry-run failed: ${npm.stderr}`);
  packed = JSON.parse(npm.stdout)[0];
  return packed!;
}

/** Shipped files allowed by the whitelist. */
export const SHIPPED = /^(package\.json|README\.md|LICENSE|bin\/pcgraph\.js|dist\/.+\.(js|d\.ts)|docs\/[^/]+\.schema\.json)$/;

pkg("the tarball holds only package.json, README, LICENSE, the bin script, compiled dist/ files and JSON schemas", () => {
  const { files, unpackedSize } = packList();
  const paths = files.map((f) => f.path);
  assert.equal(paths.filter((p) => !SHIPPED.test(p)), [], "files outside the whitelist");
  assert.equal(paths.filter((p) => /\.map$|^dist\/(browser-tests|demo)\//.test(p)), [], "source maps, test bundles or demo files");
  for (const required of ["LICENSE", "README.md", "package.json", "bin/pcgraph.js", "dist/index.js", "dist/index.d.ts"])
    assert.ok(paths.includes(required), `${required} ships`);
  // A guard well inside the 5 MB consumer-install target: the library, its four wasm modules (twice: Node and browser bundle) and the README.
  assert.ok(unpackedSize < 2_500_000, `unpacked size ${unpackedSize} bytes`);
  assert.match(readFileSync(join(root, "LICENSE"), "utf8"), /^MIT License/);
  assert.is(manifest.license, "MIT");
});

pkg("every path package.json points to (exports, main, types, typesVersions, bin) is in the tarball", () => {
  const paths = new Set(packList().files.map((f) => f.path));
  const targets: string[] = [manifest.main, manifest.types, ...Object.values(manifest.bin as Record<string, string>)];
  const collect = (value: unknown): void => {
    if (typeof value === "string") targets.push(value);
    else if (Array.isArray(value)) value.forEach(collect);
    else if (value && typeof value === "object") Object.values(value).forEach(collect);
  };
  collect(manifest.exports);
  collect(manifest.typesVersions);
  for (const target of targets) assert.ok(paths.has(posix.normalize(target)), `${target} is not in the tarball`);
  for (const entry of [".", "./node", "./browser"]) assert.ok(manifest.exports[entry]?.types, `exports["${entry}"] has types`);
});

pkg("no install scripts, and no runtime dependency beyond the optional data package", () => {
  for (const hook of ["preinstall", "install", "postinstall"]) assert.not.ok(manifest.scripts?.[hook], `a ${hook} script`);
  assert.equal(Object.keys(manifest.dependencies ?? {}), [], "runtime dependencies");
  assert.equal(Object.keys(manifest.peerDependencies ?? {}), ["mnist"]);
  assert.is(manifest.peerDependenciesMeta?.mnist?.optional, true, "mnist is an optional peer");
});

const builtins = new Set(builtinModules.flatMap((name) => [name, `node:${name}`]));

pkg("shipped JavaScript imports no package at run time, and Node built-ins only outside the library entry", () => {
  const js = packList().files.map((f) => f.path).filter((p) => p.endsWith(".js"));
  const library = new Set(["dist/browser/pcgraph.js"]);
  // The files the library entry reaches (relative imports from dist/index.js).
  const queue = ["dist/index.js"];
  while (queue.length) {
    const file = queue.pop()!;
    if (library.has(file)) continue;
    library.add(file);
    for (const s of runtimeSpecifiers(file, readFileSync(join(root, file), "utf8")) as string[])
      if (s.startsWith(".")) queue.push(posix.normalize(posix.join(posix.dirname(file), s)));
  }
  assert.ok(library.size > 20, "the walk follows the entry's imports");
  // The one exception: Node 20 has no global Worker, so the thread pool imports these
  // dynamically, on the path taken only where no web Worker exists.
  const nodeFallbacks: Record<string, string[]> = {
    "dist/backend/threads/spawn.js": ["node:worker_threads", "node:os"],
    "dist/browser/pcgraph.js": ["node:worker_threads", "node:os"],
  };
  const problems: string[] = [];
  for (const file of js) {
    const source = readFileSync(join(root, file), "utf8");
    for (const specifier of runtimeSpecifiers(file, source) as string[]) {
      if (specifier.startsWith(".")) continue;
      const fallback = nodeFallbacks[file]?.includes(specifier) && source.includes(`import("${specifier}")`);
      if (!builtins.has(specifier)) problems.push(`${file} imports the package "${specifier}"`);
      else if (library.has(file) && !fallback) problems.push(`${file} (reached from the library entry) imports ${specifier}`);
    }
  }
  assert.equal(problems, []);
});

/** Runs a CommonJS script with plain Node (no tsx) from the checkout, where "pcgraph" names this package. */
function node(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const { FORCE_COLOR, NODE_OPTIONS, ...env } = process.env;
  const run = spawnSync(process.execPath, args, { cwd: root, encoding: "utf8", timeout: 60_000, env: { ...env, NO_COLOR: "1" } });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

pkg("require() of every entry works and gives the same objects as import", () => {
  const script = `
    const main = require("pcgraph");
    const nodeEntry = require("pcgraph/node");
    const browser = require("pcgraph/browser");
    import("pcgraph").then((esm) => {
      const checks = {
        main: typeof main.GraphBuilder === "function" && typeof main.backprop === "function",
        node: typeof nodeEntry.saveCheckpoint === "function",
        browser: typeof browser.GraphBuilder === "function",
        shared: esm.GraphBuilder === main.GraphBuilder && esm.memory === main.memory,
      };
      console.log(JSON.stringify(checks));
    });`;
  const run = node(["-e", script]);
  assert.is(run.status, 0, run.stderr);
  assert.equal(JSON.parse(run.stdout), { main: true, node: true, browser: true, shared: true });
  assert.not.match(run.stderr, /Warning/, "no warning on require");
});

pkg("the command runs from dist/ with plain Node", () => {
  const run = node([join(root, "bin", "pcgraph.js"), "info"]);
  assert.is(run.status, 0, run.stderr);
  assert.match(run.stdout, /backend: wasm-(simd|scalar)/);
  const bin = readFileSync(join(root, "bin", "pcgraph.js"), "utf8");
  assert.equal(runtimeSpecifiers("bin/pcgraph.js", bin), ["../dist/cli/main.js"], "bin/pcgraph.js loads only the compiled CLI");
  assert.is(manifest.scripts.start, "node bin/pcgraph.js start", "npm start runs the compiled CLI");
});

pkg.run();
