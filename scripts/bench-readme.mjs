#!/usr/bin/env node
// npm run bench:readme — regenerates every benchmark table of README.md from one run: runs
// bench/kernels.ts, bench/train.ts, bench/threads.ts and the headless-Chromium benchmark
// (scripts/bench-browser.mjs) one after the other (each prints the
// host, the date, the measured ceilings and the load beside its tables) and replaces the text
// between each pair of markers
//   <!-- bench:NAME -->  ...  <!-- /bench:NAME -->
// with that benchmark's output. README.md is written atomically, and only once every
// benchmark has finished. Run it on a quiet machine: the load average printed beside each
// table tells readers whether it was.
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const tsx = join(root, "node_modules", "tsx", "dist", "cli.mjs");
const benchmarks = [
  { name: "kernels", args: ["bench/kernels.ts"] },
  { name: "train", args: ["bench/train.ts"] },
  { name: "threads", args: ["bench/threads.ts"] },
  { name: "browser", node: ["scripts/bench-browser.mjs"] },
];

/** Every printed line its own paragraph, tables kept whole, with blank lines around them. */
function asMarkdown(text) {
  const blocks = [];
  for (const line of text.split("\n").map((l) => l.trimEnd()).filter((l) => l !== "")) {
    const table = line.startsWith("|");
    if (table && blocks.length && blocks[blocks.length - 1].table) blocks[blocks.length - 1].lines.push(line);
    else blocks.push({ table, lines: [line] });
  }
  return blocks.map((b) => b.lines.join("\n")).join("\n\n");
}

const readmePath = join(root, "README.md");
const markers = (name) => new RegExp(`(<!-- bench:${name} -->)[\\s\\S]*?(<!-- /bench:${name} -->)`);
for (const { name } of benchmarks) {
  if (!markers(name).test(readFileSync(readmePath, "utf8"))) {
    console.error(`README.md has no <!-- bench:${name} --> ... <!-- /bench:${name} --> markers`);
    process.exit(1);
  }
}

// Each benchmark's output is also kept in bench/results/ (not committed).
mkdirSync(join(root, "bench", "results"), { recursive: true });
const outputs = {};
for (const { name, args, node } of benchmarks) {
  const file = (args ?? node)[0];
  console.log(`running ${file} ...`);
  const started = Date.now();
  const run = spawnSync(process.execPath, args ? [tsx, ...args] : node, { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "inherit"], maxBuffer: 64 << 20 });
  if (run.status !== 0) {
    console.error(run.stdout);
    console.error(`${file} failed (exit ${run.status}); README.md is unchanged`);
    process.exit(1);
  }
  outputs[name] = asMarkdown(run.stdout);
  writeFileSync(join(root, "bench", "results", `${name}.md`), outputs[name] + "\n");
  console.log(`${file}: ${((Date.now() - started) / 1000).toFixed(0)} s`);
}

let readme = readFileSync(readmePath, "utf8");
for (const { name } of benchmarks) readme = readme.replace(markers(name), (_, open, close) => `${open}\n\n${outputs[name]}\n\n${close}`);
const temp = `${readmePath}.${process.pid}.tmp`;
writeFileSync(temp, readme);
renameSync(temp, readmePath);
console.log("README.md: benchmark tables replaced");
