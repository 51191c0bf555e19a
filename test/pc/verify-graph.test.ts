// verifyGraph: the Z-IL = BP property on one given graph, with its table, shrinking and
// replay; and `pcgraph verify --model` on a checkpoint, a saved model and a graph spec.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import fc from "fast-check";
import { GraphBuilder, layers, sequential } from "../../src/graph/builder.js";
import { Graph } from "../../src/graph/graph.js";
import { allowedLosses, formatVerifyReport, verifyGraph } from "../../src/pc/verify-graph.js";
import { releaseScratch } from "../../src/scratch.js";
import { memory } from "../../src/tensor.js";
import { describeGraph, graphArbitrary } from "../arbitraries.js";
import { leakChecked as leakCheckedTest } from "../util/leaks.js";

const test = suite("verifyGraph");

/** A test that checks, inside itself, that it freed every tensor. */
const leakChecked = leakCheckedTest(test);

/** h = relu(dense(x)); y = dense(tanh(dense(h)) + h): two paths of unequal length from h, which Z-IL must level. */
function skipGraph(backend: "wasm-simd" | "reference-f64" = "wasm-simd"): Graph {
  const g = new GraphBuilder();
  const x = g.input([6], "x");
  const h = g.relu(g.dense(x, 5));
  const y = g.dense(g.add([g.tanh(g.dense(h, 5)), h]), 3);
  return g.build({ output: y, loss: "softmaxCrossEntropy", seed: 3, backend });
}

leakChecked("on any graph of the property generator verifyGraph passes, with a row per backend and allowed loss, and leaves the graph as it was", () => {
  fc.assert(
    fc.property(graphArbitrary(6), fc.integer({ min: 0, max: 1000 }), (drawn, seed) => {
      const graph = new Graph(drawn.spec, { seed: drawn.seed, backend: "wasm-simd" });
      try {
        const before = graph.getWeights();
        const report = verifyGraph(graph, { runs: 3, seed, maxBatch: 4 });
        if (!report.passed) throw new Error(`${formatVerifyReport(report).join("\n")}\n${describeGraph(drawn)}`);
        const losses = allowedLosses(graph);
        assert.equal(report.table.map((r) => `${r.backend}/${r.loss}`), ["reference-f64", "wasm-simd"].flatMap((b) => losses.map((l) => `${b}/${l}`)));
        for (const backend of ["reference-f64", "wasm-simd"])
          assert.is(report.table.filter((r) => r.backend === backend).reduce((s, r) => s + r.cases, 0), 3, `${backend}: every case runs`);
        for (const [name, w] of graph.getWeights()) assert.equal(Array.from(w), Array.from(before.get(name)!), `${name} unchanged`);
      } finally {
        graph.dispose();
      }
    }),
    { numRuns: 8 },
  );
});

test("both losses where the output allows them: mse always, cross-entropy on a vector of 2 or more", () => {
  const image = new GraphBuilder();
  const x = image.input([1, 4, 4], "x");
  const imageGraph = image.build({ output: image.conv2d(x, 2, 3, { padding: "same" }), loss: "mse", seed: 1 });
  const vector = sequential([3], [layers.dense(4)], { loss: "mse", seed: 1 });
  const single = sequential([3], [layers.dense(1)], { loss: "mse", seed: 1 });
  try {
    assert.equal(allowedLosses(imageGraph), ["mse"]);
    assert.equal(allowedLosses(vector), ["mse", "softmaxCrossEntropy"]);
    assert.equal(allowedLosses(single), ["mse"]);
    assert.throws(() => verifyGraph(imageGraph, { losses: ["softmaxCrossEntropy"] }), /does not allow the softmaxCrossEntropy loss/);
  } finally {
    for (const g of [imageGraph, vector, single]) g.dispose();
  }
  releaseScratch();
  assert.is(memory().numTensors, 0);
});

leakChecked("a failing property (Z-IL without levelling, a negative control) is shrunk, printed with its seed, and replays", () => {
  const graph = skipGraph("reference-f64");
  const broken = { algorithm: "zil" as const, zil: { relay: false, schedule: "full" as const } };
  try {
    const report = verifyGraph(graph, { runs: 20, seed: 5, backends: ["reference-f64"], pc: broken });
    assert.not.ok(report.passed);
    const c = report.counterexample!;
    assert.ok(c.divergence > 1e-3, `divergence ${c.divergence}`);
    assert.is(c.shrunk.perturbation, 0, "shrunk to the stored weights");
    assert.is(c.shrunk.batch, 1, "shrunk to one sample");
    assert.ok(c.shrinks >= 1);
    assert.is(report.runs, 20);
    const text = formatVerifyReport(report).join("\n");
    assert.match(text, `case ${c.run + 1} of seed 5`);
    assert.match(text, JSON.stringify(c.shrunk));
    assert.match(text, "OVER");
    assert.match(text, `verifyGraph(graph, { seed: 5, runs: ${c.run + 1} })`);
    // Both replays fail again: the same seed up to the failing case, and the shrunk case alone.
    const again = verifyGraph(graph, { seed: 5, runs: c.run + 1, backends: ["reference-f64"], pc: broken });
    assert.equal(again.counterexample?.original, c.original);
    const alone = verifyGraph(graph, { replay: c.shrunk, backends: ["reference-f64"], pc: broken });
    assert.not.ok(alone.passed);
    assert.is(alone.counterexample!.divergence, c.divergence);
    // The same graph with levelling passes.
    assert.ok(verifyGraph(graph, { runs: 20, seed: 5 }).passed);
  } finally {
    graph.dispose();
  }
});

test.run();
