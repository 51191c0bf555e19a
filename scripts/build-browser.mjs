// Browser builds with esbuild:
//   dist/browser/pcgraph.js        the library as one ES module (minified; it ships, so
//                                  without a source map), typed by dist/browser/pcgraph.d.ts
//   build/browser-tests/tests.js   the in-browser test entry (test/browser/entry.ts) with
//                                  every platform-neutral suite matching a pattern (not shipped)
// Both are bundled for platform "browser" with no Node polyfills: any import of a Node
// builtin (node:fs, path, ...) stops the build with the chain of files that pulled it in.
// Usable as a script (`npm run build:browser`) or imported (`buildBrowser()`).
import { builtinModules } from "node:module";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { mkdirSync, writeFileSync } from "node:fs";
import * as esbuild from "esbuild";
import { platformNeutralTestFiles, TEST_FILE_PATTERN } from "./test-files.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const builtins = new Set(builtinModules.flatMap((name) => [name, `node:${name}`]));

/**
 * Node modules the library imports dynamically, only where no web Worker exists (Node 20's
 * thread pool): left as imports the browser never runs.
 */
const nodeFallbacks = { "src/backend/threads/spawn.ts": ["node:worker_threads", "node:os"] };

/** Refuses every Node builtin, naming the file that imported it. */
export const noNodeBuiltins = {
  name: "no-node-builtins",
  setup(build) {
    build.onResolve({ filter: /.*/ }, (args) => {
      const bare = args.path.split("/")[0];
      if (!args.path.startsWith("node:") && !builtins.has(args.path) && !builtins.has(bare)) return undefined;
      if (args.kind === "entry-point") return undefined;
      const from = args.importer ? relative(root, args.importer).split("\\").join("/") : "";
      if (args.kind === "dynamic-import" && nodeFallbacks[from]?.includes(args.path)) return { path: args.path, external: true };
      const importer = args.importer ? relative(root, args.importer) : "(entry)";
      return {
        errors: [{
          text: `Node builtin "${args.path}" imported by ${importer}: the browser bundle must not depend on Node`,
          detail: "move the Node-only code behind the pcgraph/node entry (src/node) instead",
        }],
      };
    });
  },
};

const common = {
  bundle: true,
  format: "esm",
  platform: "browser",
  target: "es2022",
  logLevel: "warning",
  metafile: true,
  plugins: [noNodeBuiltins],
  absWorkingDir: root,
};

/** Prints the import chain that led to a module, from the metafile (for error messages). */
function importers(metafile, file) {
  return Object.entries(metafile.inputs)
    .filter(([, input]) => input.imports.some((i) => i.path === file))
    .map(([name]) => name);
}

/**
 * The suites each test page runs, as a virtual module "pcgraph:test-suites" for the test
 * bundle: every platform-neutral suite matching `pattern` (picked by following imports,
 * scripts/test-files.mjs) on the default page; the scalar-default checks and every one of
 * them outside test/backend/ on the page that forces the scalar build.
 */
function testSuitesModule(pattern) {
  const { included } = platformNeutralTestFiles(pattern);
  const scalar = [
    ...(new RegExp(pattern, "i").test("test/browser/scalar-default.ts") || pattern === TEST_FILE_PATTERN ? ["test/browser/scalar-default.ts"] : []),
    // Everything above the kernels (whose suites run both builds explicitly on the default page).
    ...included.filter((f) => f.endsWith(".test.ts") && !f.startsWith("test/backend/")),
  ];
  const list = (files) => `[\n${files.map((f) => `  { file: ${JSON.stringify(f)}, load: () => import(${JSON.stringify(`./${f}`)}) },`).join("\n")}\n]`;
  const plugin = {
    name: "test-suites",
    setup(build) {
      build.onResolve({ filter: /^pcgraph:test-suites$/ }, () => ({ path: "test-suites", namespace: "pcgraph-test-suites" }));
      build.onLoad({ filter: /.*/, namespace: "pcgraph-test-suites" }, () => ({
        // Literal imports, so the bundler includes each file; evaluated when the page reaches it.
        contents: `export const defaultPage = ${list(included)};\nexport const scalarPage = ${list(scalar)};\n`,
        resolveDir: root,
        loader: "js",
      }));
    },
  };
  return { plugin, files: { defaultPage: included, scalarPage: scalar } };
}

/** Builds the library bundle, and the test bundle unless `tests` is false. */
export async function buildBrowser({ quiet = false, pattern = TEST_FILE_PATTERN, tests: withTests = true } = {}) {
  const started = Date.now();
  const wasm = join(root, "src", "backend", "wasm-binaries.generated.ts");
  if (!existsSync(wasm)) throw new Error(`${relative(root, wasm)} is missing: run \`npm run build:wasm\` (or \`npm install\`) first`);

  const library = await esbuild.build({
    ...common,
    entryPoints: [join(root, "src", "index.ts")],
    outfile: join(root, "dist", "browser", "pcgraph.js"),
    minify: true,
    legalComments: "none",
  });
  // The bundle exports exactly what the library entry does: its types are the entry's.
  mkdirSync(join(root, "dist", "browser"), { recursive: true });
  writeFileSync(join(root, "dist", "browser", "pcgraph.d.ts"),
    `// Types of the browser bundle (pcgraph/browser): the same exports as the library entry.\nexport * from "../index.js";\n`);

  // Nothing under src/node or src/cli belongs in the library bundle, even without a builtin.
  const nodeOnly = Object.keys(library.metafile.inputs).filter((f) => /^src\/(node|cli)\//.test(f));
  if (nodeOnly.length)
    throw new Error(`Node-only modules reached the browser bundle: ${nodeOnly.map((f) => `${f} (imported by ${importers(library.metafile, f).join(", ")})`).join("; ")}`);

  if (!withTests) {
    if (!quiet) console.log(`browser bundle: dist/browser/pcgraph.js (${(readFileSync(join(root, "dist", "browser", "pcgraph.js")).length / 1024).toFixed(0)} KiB) in ${Date.now() - started} ms`);
    return { library: library.metafile };
  }
  const suites = testSuitesModule(pattern);
  const tests = await esbuild.build({
    ...common,
    plugins: [...common.plugins, suites.plugin],
    entryPoints: { tests: join(root, "test", "browser", "entry.ts") },
    outdir: join(root, "build", "browser-tests"),
    sourcemap: true,
    // test/arbitraries.ts reads process.env.FC_SEED; in the page the seed comes from ?seed=.
    define: { "process.env.FC_SEED": "globalThis.__PCGRAPH_FC_SEED" },
  });

  if (!quiet) {
    const size = (file) => `${(readFileSync(join(root, file)).length / 1024).toFixed(0)} KiB`;
    console.log(`browser bundle: dist/browser/pcgraph.js (${size("dist/browser/pcgraph.js")}), ` +
      `tests: build/browser-tests/tests.js (${size("build/browser-tests/tests.js")}) in ${Date.now() - started} ms`);
  }
  return { library: library.metafile, tests: tests.metafile, pages: suites.files };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  // As a script: the library bundle only (`--tests` adds the test bundle).
  buildBrowser({ tests: process.argv.includes("--tests") }).catch((error) => {
    // esbuild has already printed its own diagnostics for build errors.
    if (!error?.errors) console.error(error instanceof Error ? error.message : error);
    console.error("browser build failed");
    process.exit(1);
  });
}
