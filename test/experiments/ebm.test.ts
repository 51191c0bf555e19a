// The smoke version of `npm run experiment:ebm`: small sizes, one epoch. It checks that the
// outputs exist and say what the full run says (both tables for both datasets, the log-log
// plot with a line per method and backend, the host line), not the figures themselves.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { runExperiment } from "../../experiments/ebm/index.js";
import { fashionMnistAvailable } from "../../src/node/fashion-mnist.js";
import { releaseScratch } from "../../src/scratch.js";
import { memory } from "../../src/tensor.js";

const test = suite("energy-based experiment (smoke)");

test("npm run experiment:ebm -- --smoke writes results.md with the alignment, weak-feedback and training tables and alignment.svg", async () => {
  const out = mkdtempSync(join(tmpdir(), "pcgraph-ebm-experiment-"));
  const lines: string[] = [];
  releaseScratch();
  const before = memory().numTensors;
  try {
    const report = await runExperiment({ smoke: true, out, epochs: 1, parts: ["alignment", "weak-feedback", "training"], datasets: ["mnist", "fashion-mnist"], log: (line) => lines.push(line) });
    releaseScratch();
    assert.is(memory().numTensors, before, "no tensor leaked");
    assert.equal(readdirSync(out).sort(), ["alignment.svg", "results.md"]);
    assert.is(readFileSync(join(out, "results.md"), "utf8"), report);
    assert.match(report, /host: .* cores, .*load average/);
    for (const method of ["nudged PC", "EqProp one-sided", "EqProp symmetric", "CHL nudged"]) {
      assert.match(report, `| ${method} | float64 |`);
      assert.match(report, `| ${method} | float32 (wasm-simd) |`);
    }
    assert.match(report, /Fitted slope of log\(relative error\) against log\(beta\)/);
    assert.match(report, "## Weak feedback");
    for (const row of ["| hard sigmoid | CHL nudged (beta 1e-5) |", "| linear | CHL full clamp |", "| linear | EqProp symmetric (beta 1e-4) |"]) assert.match(report, row);
    const trainingTables = report.split("\n\n").filter((block) => block.startsWith("| method | test accuracy"));
    assert.is(trainingTables.length, fashionMnistAvailable() ? 2 : 1);
    for (const table of trainingTables) for (const method of ["EqProp symmetric", "CHL", "nudged PC", "Z-IL", "BP"]) assert.match(table, `| ${method} |`);
    const svg = readFileSync(join(out, "alignment.svg"), "utf8");
    assert.is((svg.match(/<polyline class="series-\d+"/g) ?? []).length, 8, "4 methods x 2 backends");
    assert.is((svg.match(/<g class="legend-entry">/g) ?? []).length, 8);
    assert.match(svg, ">EqProp symmetric (f64)</text>");
    assert.ok(lines.join("\n").includes(trainingTables[0]), "the printed log holds the tables");
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test.run();
