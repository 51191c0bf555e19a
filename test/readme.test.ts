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
    console.log = () => undefined;
    try {
      await import(pathToFileURL(file).href);
    } finally {
      console.log = log;
      rmSync(dir, { recursive: true, force: true });
    }
    releaseScratch();
    assert.is(memory().numTensors, before, "the example frees every tensor it creates");
  });
});

readme.run();
