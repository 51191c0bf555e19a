// Inference you can watch: every PC algorithm reports each step's energy and error norms
// to a listener or an async iterator, the events agree with the algorithm's own record, and
// nothing is computed (nor any result changed) when nobody listens.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { GraphBuilder } from "../../src/graph/builder.js";
import type { Graph } from "../../src/graph/graph.js";
import { PCEngine, type PCAlgorithm } from "../../src/pc/engine.js";
import { fullyConnected } from "../../src/pc/graph/topology.js";
import { randomBatch } from "../../src/pc/random-graph.js";
import type { StepEvent } from "../../src/pc/steps.js";
import { PCGraph } from "../../src/train/pc-graph.js";
import { randomArray } from "../arbitraries.js";
import { leakFree } from "../util/leaks.js";

const steps = suite("step stream");

function mlp(): Graph {
  const g = new GraphBuilder();
  const x = g.input([6], "x");
  const h = g.tanh(g.dense(x, 5, { name: "d1" }), "t1");
  return g.build({ output: g.dense(h, 3, { name: "out" }), loss: "mse", seed: 3, backend: "reference-f64" });
}

function disposeBatch(batch: ReturnType<typeof randomBatch>): void {
  for (const t of [...Object.values(batch.inputs), batch.target]) t.dispose();
}

/** Counts calls of one kernel on a backend while fn runs. */
function countCalls(graph: { backend: object }, kernel: "sumSquares", fn: () => void): number {
  const backend = graph.backend as Record<string, unknown>;
  const original = backend[kernel] as (...args: unknown[]) => unknown;
  let calls = 0;
  backend[kernel] = function (this: unknown, ...args: unknown[]) {
    calls++;
    return original.apply(this, args);
  };
  try {
    fn();
  } finally {
    backend[kernel] = original;
  }
  return calls;
}

for (const algorithm of ["il", "fpa", "zil"] as PCAlgorithm[])
  steps(`${algorithm}: onStep hears step 0 and every inference step, with the energy and every vertex's error norm`, leakFree(() => {
    const graph = mlp();
    const batch = randomBatch(graph, 4, 1);
    const events: StepEvent[] = [];
    const engine = new PCEngine(graph, { algorithm, steps: 6, recordEnergy: true, onStep: (e) => events.push(e) });
    const result = engine.run(batch);
    const expectedSteps = algorithm === "il" ? result.steps : algorithm === "fpa" ? 6 : engine.network.depth;
    assert.ok(expectedSteps > 0);
    assert.equal(events.map((e) => e.step), Array.from({ length: expectedSteps + 1 }, (_, i) => i));
    assert.equal(events.map((e) => e.energy), result.energies, "the same energies as recordEnergy");
    const names = engine.network.vertices.filter((v) => !v.isInput).map((v) => v.name).sort();
    for (const e of events) assert.equal(Object.keys(e.errorNorms).sort(), names);
    assert.ok(events[0].errorNorms.out > 0);
    // IL reports the residual its tolerance reads (max |dF/dx|); FPA and Z-IL compute none.
    if (algorithm === "il") {
      assert.ok(events.every((e) => Number.isFinite(e.residual)));
      assert.is(events[events.length - 1].residual, result.inference!.residual);
    } else assert.ok(events.every((e) => Number.isNaN(e.residual)));
    engine.dispose();
    disposeBatch(batch);
    graph.dispose();
  }));

steps("without a listener nothing extra is computed and Z-IL's gradients are bit for bit those with one", leakFree(() => {
  const graph = mlp();
  const batch = randomBatch(graph, 4, 2);
  const quiet = new PCEngine(graph, { algorithm: "zil" });
  const loud = new PCEngine(graph, { algorithm: "zil", onStep: () => undefined });
  let a: Map<string, Float64Array> = new Map();
  const quietCalls = countCalls(graph, "sumSquares", () => {
    a = new Map([...quiet.run(batch).gradients].map(([k, t]) => [k, Float64Array.from(t.dataSync())]));
  });
  const loudCalls = countCalls(graph, "sumSquares", () => loud.run(batch));
  assert.is(quietCalls, 1, "only the feedforward loss (every run reports it): no energy or norm without a listener");
  assert.ok(loudCalls > 0);
  for (const [name, t] of loud.run(batch).gradients) assert.equal(Array.from(t.dataSync()), Array.from(a.get(name)!), name);
  quiet.dispose();
  loud.dispose();
  disposeBatch(batch);
  graph.dispose();
}));

steps("PCEngine.steps yields the same events as onStep and returns the run's result", leakFree(async () => {
  const graph = mlp();
  const batch = randomBatch(graph, 3, 4);
  const heard: StepEvent[] = [];
  const engine = new PCEngine(graph, { algorithm: "il", steps: 5, onStep: (e) => heard.push(e) });
  const iterated: StepEvent[] = [];
  const it = engine.steps(batch);
  let next = await it.next();
  while (!next.done) {
    iterated.push(next.value);
    next = await it.next();
  }
  assert.equal(iterated, heard);
  assert.is(iterated.length, 6);
  assert.ok(next.value.gradients.size > 0);
  engine.dispose();
  disposeBatch(batch);
  graph.dispose();
}));

steps("PC graph queries: onStep and querySteps report F / B and each group's error norm, the same sequence", leakFree(async () => {
  const net = new PCGraph(fullyConnected([["a", 4, "tanh"], ["b", 3, "tanh"], ["c", 2]]), { seed: 5, backend: "reference-f64" });
  const a = randomArray(2 * 4, 9);
  const heard: StepEvent[] = [];
  const q = { clamp: { a }, read: ["b", "c"], steps: 8, gamma: 0.1, tolerance: 0 };
  const result = net.query({ ...q, onStep: (e) => heard.push(e) });
  assert.is(heard.length, 9);
  assert.equal(heard.map((e) => e.step), [0, 1, 2, 3, 4, 5, 6, 7, 8]);
  assert.is(heard[8].energy, result.energy);
  for (const e of heard) assert.equal(Object.keys(e.errorNorms).sort(), ["a", "b", "c"]);
  // F / B = 1/2 sum over groups of (norm^2): the norms are sqrt(sum e^2 / B)
  for (const e of heard) {
    const fromNorms = Object.values(e.errorNorms).reduce((s, n) => s + 0.5 * n * n, 0);
    assert.ok(Math.abs(fromNorms - e.energy) < 1e-12 * (1 + e.energy), `${fromNorms} vs ${e.energy}`);
  }
  const iterated: StepEvent[] = [];
  const it = net.querySteps(q);
  let next = await it.next();
  while (!next.done) {
    const { read, predict, ...event } = next.value;
    assert.is(read("b").length, 6);
    assert.is(predict("b").length, 6);
    iterated.push(event);
    next = await it.next();
  }
  assert.equal(iterated, heard);
  assert.equal(Array.from(next.value.values.b), Array.from(result.values.b));
  net.dispose();
}));

steps.run();
