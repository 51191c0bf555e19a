// Runs only in the forced-scalar page (index.html?backend=wasm-scalar), after
// setBackend("wasm-scalar"): the scalar build is the default backend, and graphs built
// without a backend option run Z-IL on it and still update exactly as backprop does.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { leakChecked } from "../util/leaks.js";
import fc from "fast-check";
import { backendInfo, getBackend } from "../../src/backend/load.js";
import { Graph } from "../../src/graph/graph.js";
import { pcGradients } from "../../src/pc/engine.js";
import { randomBatch } from "../../src/pc/random-graph.js";
import { gradientDivergence } from "../../src/pc/verify.js";
import { backprop } from "../../src/reference/backprop.js";
import { tensor, type Tensor } from "../../src/tensor.js";
import { describeGraph, graphArbitrary } from "../arbitraries.js";

const scalar = leakChecked(suite("wasm-scalar as the default backend"));


scalar("backendInfo() reports the scalar build, and new tensors use it", () => {
  const info = backendInfo();
  assert.is(info.name, "wasm-scalar");
  assert.is(info.simd, false);
  assert.is(info.simdSupportedByRuntime, true, "Chromium supports wasm SIMD; the scalar build was forced");
  const t = tensor([1, 2, 3]);
  assert.is(t.backend.name, "wasm-scalar");
  t.dispose();
});

// Same tolerance as the wasm f32 property in test/pc/zil.test.ts (2e-4 of the largest gradient).
scalar("Z-IL update equals the reference BP gradient on graphs built on the default (scalar) backend", () => {
  fc.assert(
    fc.property(graphArbitrary(), (drawn) => {
      const graph = new Graph(drawn.spec, { seed: drawn.seed });
      assert.is(graph.backend, getBackend());
      assert.is(graph.backend.name, "wasm-scalar");
      const batch = randomBatch(graph, drawn.batch, drawn.seed + 1);
      let bp: Map<string, Tensor> | undefined;
      let pc: Map<string, Tensor> | undefined;
      try {
        bp = backprop(graph, batch).gradients;
        pc = pcGradients(graph, batch, { algorithm: "zil" }).gradients;
        const divergence = gradientDivergence(pc, bp);
        if (!(divergence <= 2e-4))
          throw new Error(`zil f32 scalar: divergence ${divergence.toExponential(3)} > 2e-4 on\n${describeGraph(drawn)}`);
      } finally {
        for (const t of [...(bp?.values() ?? []), ...(pc?.values() ?? [])]) t.dispose();
        for (const t of [...Object.values(batch.inputs), batch.target]) t.dispose();
        graph.dispose();
      }
    }),
    { numRuns: 60 },
  );
});

scalar.run();
