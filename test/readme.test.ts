// Every TypeScript block in README.md runs, with "pcgraph" resolved to this checkout.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { memory } from "../src/tensor.js";
import { releaseScratch } from "../src/scratch.js";

const readme = suite("README");
const root = join(import.meta.dirname ?? new URL(".", import.meta.url).pathname, "..");
const blocks = [...readFileSync(join(root, "README.md"), "utf8").matchAll(/```(?:ts|js)\n([\s\S]*?)```/g)].map((m) => m[1]);

readme("README has TypeScript examples", () => {
  assert.ok(blocks.length > 0);
});

blocks.forEach((code, i) => {
  readme(`README example ${i + 1} runs`, async () => {
    const before = memory().numTensors;
    const entry = pathToFileURL(join(root, "src", "index.ts")).href;
    // Inside the checkout, so the example shares this process's copy of the library.
    const dir = mkdtempSync(join(root, "test", ".readme-"));
    // .mjs: plain JavaScript keeps every import (TypeScript would drop the unused ones), so each one is resolved.
    const file = join(dir, `example${i + 1}.mjs`);
    const nodeEntry = pathToFileURL(join(root, "src", "node", "index.ts")).href;
    const source = code
      .replaceAll(/from "(npm:)?pcgraph"/g, `from ${JSON.stringify(entry)}`)
      .replaceAll(`from "pcgraph/node"`, `from ${JSON.stringify(nodeEntry)}`);
    writeFileSync(file, source);
    const log = console.log;
    const printed: unknown[] = [];
    console.log = (value: unknown) => void printed.push(value);
    try {
      await import(pathToFileURL(file).href);
    } finally {
      console.log = log;
      rmSync(dir, { recursive: true, force: true });
    }
    // After the example's own clean-up, not after releaseScratch(): what a reader sees.
    assert.is(memory().numTensors, before, "the example frees every tensor it creates");
    releaseScratch();
    checkPrintedValues(code, printed);
  });
});

/**
 * A `console.log(...)` line whose comment ends in ": <number>" (or ": ~<number>") states what
 * it prints: exactly that number, or (with ~) a number within a factor of 10 of it.
 */
function checkPrintedValues(code: string, printed: unknown[]): void {
  const logLines = code.split("\n").filter((line) => /^\s*console\.log\(/.test(line));
  logLines.forEach((line, k) => {
    const claim = /\/\/.*?:\s*(~?)(-?\d+(?:\.\d+)?(?:e-?\d+)?)\b/.exec(line);
    if (!claim) return;
    const value = Number(printed[k]);
    const stated = Number(claim[2]);
    const ok = claim[1] === "~" ? stated !== 0 && value / stated >= 0.1 && value / stated <= 10 : value === stated;
    assert.ok(ok, `README says ${claim[1]}${claim[2]} for \`${line.trim()}\`, the example prints ${String(printed[k])}`);
  });
}

readme.run();
