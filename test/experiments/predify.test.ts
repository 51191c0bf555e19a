// A smoke run of `npm run experiment:predify` at a tiny scale (seconds): every stage runs,
// step 0 is the feedforward accuracy for every rate setting, and the table and the plot
// hold a row and a panel per input condition.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { runPredifyExperiment } from "../../experiments/predify.js";
import { leakChecked } from "../util/leaks.js";

const smoke = suite("experiment:predify (smoke)");
const test = leakChecked(smoke);

test("a tiny run trains the CNN and the decoders, picks rates and reports accuracy per step for each noise", async () => {
  const lines: string[] = [];
  const result = await runPredifyExperiment({
    datasets: ["digits"], trainSamples: 300, validationSamples: 60, testSamples: 100, backboneEpochs: 1, decoderEpochs: 1,
    batchSize: 32, steps: 2, sigmas: [0, 0.5], saltAndPepper: 0.2, grid: [{ beta: 0.6, lambda: 0.3, alpha: 0.01 }], log: (l) => lines.push(l),
  });
  const [digits] = result.datasets;
  assert.ok(digits.backboneAccuracy > 0.5, `CNN accuracy ${digits.backboneAccuracy}`);
  assert.ok(digits.reconstruction.after < digits.reconstruction.before, "decoder training lowered the reconstruction energy");
  assert.equal(digits.chosen, { beta: 0.6, lambda: 0.3, alpha: 0.01 });
  assert.is(digits.conditions.length, 3 * 2, "3 inputs x (paper, chosen) rates");
  for (const c of digits.conditions) assert.is(c.accuracy.length, 3);
  for (const corruption of ["clean", "gaussian 0.5", "salt & pepper 0.2"]) {
    const rows = digits.conditions.filter((c) => c.corruption === corruption);
    assert.is(rows.length, 2, corruption);
    assert.is(rows[0].accuracy[0], rows[1].accuracy[0], `${corruption}: step 0 is the same feedforward network`);
  }
  assert.match(result.markdown, "| input | beta / lambda / alpha | t=0 (FF) | 1 | 2 | change |");
  assert.match(result.markdown, "| gaussian 0.5 | 0.8 / 0.1 / 0.01 (paper) |");
  assert.match(result.markdown, "| salt & pepper 0.2 | 0.6 / 0.3 / 0.01 (chosen) |");
  assert.is((result.svg.match(/<g class="panel">/g) ?? []).length, 3);
  assert.is((result.svg.match(/<polyline/g) ?? []).length, 9);
  assert.match(result.host, /cores, load average/);
  assert.ok(lines.some((l) => l.includes("chosen rates")));
});

smoke.run();
