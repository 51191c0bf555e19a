// Properties of inference learning (IL): the inference dynamics descend the energy, and IL's
// update approaches BP's only as the output error's weight shrinks (arXiv 2206.02629).
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { leakChecked } from "../util/leaks.js";
import fc from "fast-check";
import { Graph } from "../../src/graph/graph.js";
import { GraphBuilder } from "../../src/graph/builder.js";
import { pcGradients } from "../../src/pc/engine.js";
import { randomBatch } from "../../src/pc/random-graph.js";
import { gradientDivergence } from "../../src/pc/verify.js";
import { backprop } from "../../src/reference/backprop.js";
import { describeGraph, graphArbitrary } from "../arbitraries.js";

const il = leakChecked(suite("inference learning"));


// Tolerance: each step is gradient descent on F with step gamma; for gamma below 2 / (largest
// curvature) F cannot rise. 1e-12 relative absorbs float64 rounding of F itself.
il("the energy never increases during inference for a small inference rate", () => {
  fc.assert(
    fc.property(graphArbitrary(8), (drawn) => {
      const graph = new Graph(drawn.spec, { seed: drawn.seed, backend: "reference-f64" });
      const batch = randomBatch(graph, drawn.batch, drawn.seed + 1);
      try {
        const { energies, gradients } = pcGradients(graph, batch, { algorithm: "il", steps: 25, gamma: 0.001 });
        for (const g of gradients.values()) g.dispose();
        for (let t = 1; t < energies.length; t++)
          if (energies[t] > energies[t - 1] * (1 + 1e-12) + 1e-15)
            throw new Error(`energy rose at step ${t}: ${energies[t - 1]} -> ${energies[t]} on\n${describeGraph(drawn)}`);
        assert.ok(energies[energies.length - 1] < energies[0] || energies[0] === 0, "inference lowers the energy");
      } finally {
        for (const t of [...Object.values(batch.inputs), batch.target]) t.dispose();
        graph.dispose();
      }
    }),
    { numRuns: 60 },
  );
});

il("a larger inference rate than the curvature allows can raise the energy (the property above has teeth)", () => {
  const g = new GraphBuilder();
  const x = g.input([6], "x");
  const out = g.dense(g.tanh(g.dense(x, 8)), 3);
  const graph = g.build({ output: out, loss: "mse", seed: 4, backend: "reference-f64", });
  const batch = randomBatch(graph, 4, 1);
  const { energies, gradients } = pcGradients(graph, batch, { algorithm: "il", steps: 10, gamma: 2.5 });
  for (const t of [...gradients.values(), ...Object.values(batch.inputs), batch.target]) t.dispose();
  graph.dispose();
  assert.ok(energies.some((e, t) => t > 0 && e > energies[t - 1]), `energies ${energies.map((e) => e.toFixed(4)).join(", ")}`);
});

il("at equilibrium IL's update approaches BP's as the output-error weight shrinks", () => {
  const g = new GraphBuilder();
  const x = g.input([5], "x");
  const h = g.tanh(g.dense(x, 6));
  const out = g.dense(g.tanh(g.dense(h, 6)), 3);
  const graph = g.build({ output: out, loss: "mse", seed: 2, backend: "reference-f64" });
  const batch = randomBatch(graph, 4, 3);
  const bp = backprop(graph, batch).gradients;
  const divergences: number[] = [];
  for (const outputWeight of [1, 0.1, 0.01, 0.001]) {
    // IL's defaults: inference runs until the residual max |dF/dx| is 1e-3 of its initial value.
    const { gradients, inference } = pcGradients(graph, batch, { algorithm: "il", outputWeight, recordEnergy: false });
    assert.ok(inference!.converged, `inference converged at output weight ${outputWeight}`);
    divergences.push(gradientDivergence(gradients, bp));
    for (const t of gradients.values()) t.dispose();
  }
  console.log(`  IL divergence from BP at output weight 1, 0.1, 0.01, 0.001: ${divergences.map((d) => d.toExponential(2)).join(", ")}`);
  for (let i = 1; i < divergences.length; i++) assert.ok(divergences[i] < divergences[i - 1], "divergence shrinks with the weight");
  assert.ok(divergences[0] > 0.05, "at weight 1 IL is not BP");
  assert.ok(divergences[3] < 0.01, "at weight 0.001 IL is within 1% of BP");
  for (const t of [...bp.values(), ...Object.values(batch.inputs), batch.target]) t.dispose();
  graph.dispose();
});

il.run();
