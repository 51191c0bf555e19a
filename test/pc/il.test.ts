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

// On chains of smooth, bounded activations the energy's curvature in x is O(1 + |W|^2), so
// gamma = 0.1 is a stable step: inference is gradient descent on F and must lower it at
// every one of 400 steps. (A value update along +e instead of -e climbs the own-error term
// and diverges within these steps; at gamma = 0.001 over 25 steps, above, it would not show.)
const smoothChain = fc.record({
  inputs: fc.integer({ min: 1, max: 6 }),
  hidden: fc.array(fc.record({ units: fc.integer({ min: 1, max: 6 }), fn: fc.constantFrom("tanh", "sigmoid") as fc.Arbitrary<"tanh" | "sigmoid"> }), { minLength: 1, maxLength: 4 }),
  outputs: fc.integer({ min: 1, max: 4 }),
  loss: fc.constantFrom("mse", "softmaxCrossEntropy") as fc.Arbitrary<"mse" | "softmaxCrossEntropy">,
  batch: fc.integer({ min: 1, max: 4 }),
  seed: fc.integer({ min: 0, max: 100_000 }),
});

il("inference on smooth chains lowers the energy at every one of 400 steps at gamma 0.1", () => {
  fc.assert(
    fc.property(smoothChain, (c) => {
      const g = new GraphBuilder();
      let x = g.input([c.inputs], "x");
      for (const h of c.hidden) x = g.activation(h.fn, g.dense(x, h.units));
      const graph = g.build({ output: g.dense(x, c.outputs), loss: c.loss, seed: c.seed, backend: "reference-f64" });
      const batch = randomBatch(graph, c.batch, c.seed + 1);
      try {
        const { energies, gradients } = pcGradients(graph, batch, { algorithm: "il", steps: 400, gamma: 0.1, momentum: 0, tolerance: 0 });
        for (const t of gradients.values()) t.dispose();
        const label = `${c.inputs}-${c.hidden.map((h) => `${h.units}${h.fn}`).join("-")}-${c.outputs} ${c.loss}, batch ${c.batch}, seed ${c.seed}`;
        for (let t = 1; t < energies.length; t++)
          if (energies[t] > energies[t - 1] * (1 + 1e-12) + 1e-15)
            throw new Error(`energy rose at step ${t}: ${energies[t - 1]} -> ${energies[t]} on ${label}`);
        if (!(energies[energies.length - 1] < energies[0] || energies[0] === 0)) throw new Error(`inference did not lower the energy on ${label}`);
      } finally {
        for (const t of [...Object.values(batch.inputs), batch.target]) t.dispose();
        graph.dispose();
      }
    }),
    { numRuns: 40 },
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
