// The smoke version of `npm run experiment:memory`: small sizes, one seed, MNIST only. It
// checks the outputs exist and say what the full run says (tables with the floor beside
// every curve, plots, grids), not the figures themselves.
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { createContext } from "../../experiments/memory/context.js";
import { PARTS, runExperiments } from "../../experiments/memory/index.js";
import { memory } from "../../src/tensor.js";

const test = suite("memory experiment (smoke)");

test("npm run experiment:memory -- --smoke writes results.md, capacity / noise / hidden-fraction plots and image grids, and the PC-memory comparison", () => {
  const outDir = mkdtempSync(join(tmpdir(), "pcgraph-memory-experiment-"));
  const lines: string[] = [];
  const before = memory().numTensors;
  const context = createContext({ datasets: ["mnist"], outDir, smoke: true, seeds: 1, log: (line) => lines.push(line) });
  const report = runExperiments(context, PARTS);
  assert.is(memory().numTensors, before, "no tensor leaked");
  const files = readdirSync(outDir).sort();
  for (const criterion of ["paper", "strict"])
    for (const kind of ["capacity", "noise", "hidden-fraction"]) assert.ok(files.includes(`${kind}-mnist-${criterion}.svg`), `${kind}-mnist-${criterion}.svg`);
  for (const corruption of ["noise", "zeroed", "masked"]) assert.ok(files.includes(`grid-mnist-${corruption}.svg`));
  assert.is(readFileSync(join(outDir, "results.md"), "utf8"), report);
  // Every table ends with the floor; one table per corruption, criterion and curve.
  const tables = report.split("\n\n").filter((block) => block.startsWith("| similarity, separation"));
  assert.is(tables.length, 2 * (3 + 1 + 2));
  for (const table of tables) {
    const rows = table.split("\n");
    assert.is(rows.length, 2 + 5 * 5 + 1, "5 similarities x 5 separations and the floor");
    assert.match(rows[rows.length - 1], /^\| mean of stored \(floor\) \|/);
  }
  assert.match(report, /host: .* cores, load average/);
  // The printed log is the report, as it is made.
  assert.ok(lines.join("\n").includes(tables[0]));
  // Experiment 2: one table per corruption (methods x N), the training table, a plot and a grid per corruption.
  assert.is(PARTS.length, 2);
  const comparisons = report.split("\n\n").filter((block) => /^\| MNIST: (noise|half|quarter) \|/.test(block));
  assert.is(comparisons.length, 3);
  for (const table of comparisons) {
    const rows = table.split("\n").slice(2).map((row) => row.split("|")[1].trim());
    assert.equal(rows, ["PC memory, hidden 32", "autoencoder, hidden 32", "MHN (dot, softmax beta 1)"]);
  }
  assert.match(report, /\| network \| N=4 \| N=8 \|\n\| --- \| ---: \| ---: \|\n\| PC memory, hidden 32 \| \d+\*? \/ /);
  assert.ok(files.includes("pc-memory-mnist.svg"));
  for (const name of ["noise", "half", "quarter"]) assert.ok(files.includes(`pc-memory-grid-mnist-${name}.svg`), name);
  assert.match(report, /PC memory experiment time: \d+ s on the wasm-simd backend; host: /);
  const capacity = readFileSync(join(outDir, "capacity-mnist-strict.svg"), "utf8");
  assert.is((capacity.match(/<g class="panel">/g) ?? []).length, 15, "3 corruptions x 5 separations");
  assert.match(capacity, ">mean of stored (floor)</text>");
});

test.run();
