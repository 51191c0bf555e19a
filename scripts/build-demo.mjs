#!/usr/bin/env node
// Builds the browser demo into build/demo/: the bundled MNIST digits as one compact binary
// (mnist.bin), demo/main.ts bundled with esbuild (main.js), and the static files.
//
// mnist.bin layout (little-endian):
//   0  4 bytes  magic "PCMN"
//   4  uint32   number of samples N
//   8  uint16   rows (28)
//  10  uint16   columns (28)
//  12  N bytes  labels (0..9)
//  12+N  N*rows*columns bytes  pixels, row-major, round(value * 255)
// Samples are in the package's order: all 0s, then all 1s, ..., then all 9s.
import { build } from "esbuild";
import { noNodeBuiltins } from "./build-browser.mjs";
import { copyFileSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const ROWS = 28;
const COLS = 28;
const PIXELS = ROWS * COLS;

function digitFiles() {
  const require = createRequire(import.meta.url);
  const dir = join(dirname(require.resolve("mnist/package.json")), "src", "digits");
  return Array.from({ length: 10 }, (_, d) => join(dir, `${d}.json`));
}

/** Writes mnist.bin unless it is newer than every digit file; returns its path and sample count. */
export function buildMnistBinary(outFile) {
  const files = digitFiles();
  if (existsSync(outFile)) {
    const built = statSync(outFile).mtimeMs;
    if (files.every((f) => statSync(f).mtimeMs <= built)) {
      const header = readFileSync(outFile).subarray(0, 12);
      if (header.toString("latin1", 0, 4) === "PCMN") return { path: outFile, samples: header.readUInt32LE(4), rebuilt: false };
    }
  }
  const perClass = files.map((file, digit) => {
    const data = JSON.parse(readFileSync(file, "utf8")).data;
    if (!Array.isArray(data) || data.length % PIXELS !== 0) throw new Error(`${file}: expected { data: [...] } with 784 values per digit`);
    return { digit, data };
  });
  const total = perClass.reduce((s, c) => s + c.data.length / PIXELS, 0);
  const out = Buffer.alloc(12 + total + total * PIXELS);
  out.write("PCMN", 0, "latin1");
  out.writeUInt32LE(total, 4);
  out.writeUInt16LE(ROWS, 8);
  out.writeUInt16LE(COLS, 10);
  let sample = 0;
  for (const { digit, data } of perClass) {
    const count = data.length / PIXELS;
    out.fill(digit, 12 + sample, 12 + sample + count);
    const base = 12 + total + sample * PIXELS;
    for (let i = 0; i < data.length; i++) out[base + i] = Math.max(0, Math.min(255, Math.round(data[i] * 255)));
    sample += count;
  }
  mkdirSync(dirname(outFile), { recursive: true });
  writeFileSync(outFile, out);
  return { path: outFile, samples: total, rebuilt: true };
}

/** Builds build/demo (or `outDir`); returns the directory. */
export async function buildDemo({ outDir = join(root, "build", "demo"), minify = true, quiet = false } = {}) {
  const log = quiet ? () => {} : (line) => console.log(line);
  mkdirSync(outDir, { recursive: true });
  const started = performance.now();
  const mnist = buildMnistBinary(join(outDir, "mnist.bin"));
  log(`${mnist.rebuilt ? "wrote" : "kept"} ${mnist.path} (${mnist.samples} digits, ${(statSync(mnist.path).size / 1e6).toFixed(1)} MB)`);
  await build({
    entryPoints: [join(root, "demo", "main.ts")],
    outfile: join(outDir, "main.js"),
    bundle: true,
    format: "esm",
    platform: "browser",
    // Refuses Node builtins, except the thread pool's Node-only fallback (never run in a page).
    plugins: [noNodeBuiltins],
    target: ["es2022"],
    minify,
    sourcemap: true,
    logLevel: quiet ? "error" : "warning",
  });
  for (const file of ["index.html", "style.css"]) copyFileSync(join(root, "demo", file), join(outDir, file));
  log(`built ${outDir} (main.js ${(statSync(join(outDir, "main.js")).size / 1e3).toFixed(0)} kB) in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return outDir;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await buildDemo();
}
