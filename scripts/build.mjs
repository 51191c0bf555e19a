// `npm run build` (and `npm install`'s prepare step): everything that ships, from scratch.
//   1. the two wasm builds, embedded in src/backend/wasm-binaries.generated.ts
//   2. dist/ emptied, then the TypeScript compiled into it (JavaScript and declarations)
//   3. dist/browser/pcgraph.js, the one-file browser bundle, and its declarations
// dist/ holds only what the package ships; test bundles and the demo build go to build/.
import { spawnSync } from "node:child_process";
import { rmSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const run = (what, file, args = []) => {
  const started = performance.now();
  const { status } = spawnSync(process.execPath, [file, ...args], { cwd: root, stdio: "inherit" });
  if (status !== 0) {
    console.error(`build failed: ${what}`);
    process.exit(status ?? 1);
  }
  return ((performance.now() - started) / 1000).toFixed(1);
};

run("wasm", join(root, "scripts", "build-wasm.mjs"));
rmSync(join(root, "dist"), { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
const seconds = run("TypeScript", tsc, ["-p", "tsconfig.json"]);
console.log(`compiled src/ into dist/ in ${seconds} s`);
run("browser bundle", join(root, "scripts", "build-browser.mjs"));
