// The smoke version of `npm run experiment:pcgraph`: every row of the table trains (a few
// hundred digits, one epoch), every query runs, the figures are written as valid PNG and
// SVG files, and the README is left alone.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runPCGraphExperiment } from "../../experiments/pcgraph.js";
import { leakFree } from "../util/leaks.js";

const experiment = suite("experiment:pcgraph (smoke)");

experiment("the smoke run fills every row and writes the generation, completion and energy figures", leakFree(async () => {
  const dir = mkdtempSync(join(tmpdir(), "pcgraph-experiment-"));
  const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
  try {
    const report = await runPCGraphExperiment({ smoke: true, out: dir, datasets: ["mnist"], log: () => undefined });
    const labels = report.results.map((r) => `${r.label}/${r.algorithm}`);
    assert.equal(labels, ["BP/bp", "discriminative/pc", "discriminative/ipc", "PRECO's settings/ipc", "generative/pc", "fully connected/pc", "fully connected/ipc"]);
    for (const r of report.results) {
      assert.ok(r.accuracy >= 0 && r.accuracy <= 1, `${r.label}: accuracy ${r.accuracy}`);
      assert.ok(r.seconds > 0);
    }
    for (const r of report.results.filter((x) => x.label === "generative" || x.label === "fully connected"))
      assert.ok(Number.isFinite(r.completion) && Number.isFinite(r.denoising), `${r.label}: completion ${r.completion}, denoising ${r.denoising}`);
    assert.match(report.markdown, /\| topology \| algorithm \| classification acc \| completion MSE \(bottom half\) \| denoising MSE \(σ 0\.3\) \| training time \|/);
    assert.match(report.markdown, /host: |on .*cores/);
    for (const file of report.files) {
      const bytes = readFileSync(file);
      if (file.endsWith(".png")) assert.equal([...bytes.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], file);
      else assert.match(bytes.toString("utf8"), /<svg /);
    }
    assert.is(report.files.length, 3);
    assert.is(readFileSync(new URL("../../README.md", import.meta.url), "utf8"), readme, "the smoke run leaves the README alone");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}));

experiment.run();
