// The headline claim: one Z-IL step updates every parameter exactly as backprop does, on
// every graph the builder accepts. Oracle: the reference backprop (src/reference).
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { leakChecked } from "../util/leaks.js";
import fc from "fast-check";
import { Graph } from "../../src/graph/graph.js";
import { GraphBuilder } from "../../src/graph/builder.js";
import { PCEngine, pcGradients, type PCOptions } from "../../src/pc/engine.js";
import { PCState } from "../../src/pc/state.js";
import { ParameterAccumulator } from "../../src/pc/dynamics.js";
import { zeroDivergenceLearning } from "../../src/pc/schedules.js";
import { outputError } from "../../src/graph/loss.js";
import { Tensor } from "../../src/tensor.js";
import { PCNetwork } from "../../src/pc/network.js";
import { randomBatch } from "../../src/pc/random-graph.js";
import { compareWithBackprop, divergenceTolerance, gradientDivergence, runVerify } from "../../src/pc/verify.js";
import { backprop } from "../../src/reference/backprop.js";
import { describeGraph, graphArbitrary } from "../arbitraries.js";

const zil = leakChecked(suite("Z-IL equals backprop"));


function expectEqual(label: string, options: PCOptions, backend: "reference-f64" | "wasm-simd", tolerance: number, runs: number): void {
  fc.assert(
    fc.property(graphArbitrary(), (drawn) => {
      const { divergence } = compareWithBackprop(drawn, backend, options);
      if (!(divergence <= tolerance))
        throw new Error(`${label}: divergence ${divergence.toExponential(3)} > ${tolerance} on\n${describeGraph(drawn)}`);
    }),
    { numRuns: runs },
  );
}

// Tolerance 1e-10: float64 sums in a different order (frontier vs sweep) differ by ~1e-15
// per operation; 1e-10 leaves room for depth 12 and still catches any real divergence.
zil("Z-IL update equals the reference BP gradient on any DAG, CNN and RNN (float64)", () => {
  expectEqual("zil f64", { algorithm: "zil" }, "reference-f64", divergenceTolerance["reference-f64"], 150);
});

// Tolerance 2e-4 of the largest gradient: in f32, e = x - mu loses ~2^-24 |x| per vertex,
// which relative to the gradient scale grows with depth; measured max over 100 graphs 1e-5.
zil("Z-IL update equals the reference BP gradient on the wasm f32 backend", () => {
  expectEqual("zil f32", { algorithm: "zil" }, "wasm-simd", divergenceTolerance["wasm-simd"], 60);
});

zil("the full Z-IL dynamics (every vertex at every step) give the same updates as the frontier", () => {
  expectEqual("zil full", { algorithm: "zil", zil: { schedule: "full" } }, "reference-f64", 1e-10, 60);
});

// FPA at gamma = 1 reaches BP's errors after as many steps as the longest path.
zil("FPA at convergence equals BP", () => {
  expectEqual("fpa", { algorithm: "fpa" }, "reference-f64", 1e-10, 60);
});

/** x -> dense -> tanh -> dense -> tanh -> dense(out), plus a skip x -> dense -> add at the top. */
function unequalPaths(backend: "reference-f64" = "reference-f64"): Graph {
  const g = new GraphBuilder();
  const x = g.input([4], "x");
  const h1 = g.tanh(g.dense(x, 5, { name: "d1" }));
  const h2 = g.tanh(g.dense(h1, 5, { name: "d2" }));
  const skip = g.dense(h1, 5, { name: "skip" });
  const sum = g.add([h2, skip]);
  const out = g.dense(sum, 3, { name: "out" });
  return g.build({ output: out, loss: "mse", seed: 5, backend });
}

function divergence(graph: Graph, options: PCOptions, batch = randomBatch(graph, 4, 9)): number {
  const bp = backprop(graph, batch).gradients;
  const pc = pcGradients(graph, batch, options).gradients;
  const d = gradientDivergence(pc, bp);
  for (const t of [...bp.values(), ...pc.values(), ...Object.values(batch.inputs), batch.target]) t.dispose();
  return d;
}

zil("levelling inserts relays on unequal paths, and without them neither clock is exact (negative control)", () => {
  const graph = unequalPaths();
  const network = new PCNetwork(graph, { relay: true });
  assert.ok(network.relayCount > 0, "the skip edge is relayed");
  assert.ok(network.isLevelled);
  assert.not.ok(new PCNetwork(graph, { relay: false }).isLevelled);
  assert.ok(divergence(graph, { algorithm: "zil" }) < 1e-12);
  const longest = divergence(graph, { algorithm: "zil", zil: { schedule: "full", relay: false } });
  const shortest = divergence(graph, { algorithm: "zil", zil: { schedule: "full", relay: false, clock: "shortest" } });
  assert.ok(longest > 1e-2, `longest-path clock without relays diverges (got ${longest})`);
  assert.ok(shortest > 1e-2, `shortest-path clock without relays diverges (got ${shortest})`);
  graph.dispose();
});

zil("with gamma != 1 the update of a vertex at distance d is scaled by gamma^d (negative control)", () => {
  const graph = unequalPaths();
  const batch = randomBatch(graph, 3, 2);
  const gamma = 0.5;
  const bp = backprop(graph, batch).gradients;
  const pc = pcGradients(graph, batch, { algorithm: "zil", gamma }).gradients;
  const network = new PCNetwork(graph, { relay: true });
  for (const v of network.vertices) {
    for (const p of v.params) {
      const expected = bp.get(p.name)!.dataSync().map((x) => x * gamma ** v.level);
      const actual = pc.get(p.name)!.dataSync();
      actual.forEach((a, i) => assert.ok(Math.abs(a - expected[i]) <= 1e-12 + 1e-9 * Math.abs(expected[i]), `${p.name} at level ${v.level}`));
    }
  }
  assert.ok(gradientDivergence(pc, bp) > 0.1);
  for (const t of [...bp.values(), ...pc.values(), ...Object.values(batch.inputs), batch.target]) t.dispose();
  graph.dispose();
});

zil("shared weights: contributions accumulated and applied once are exact; applied at once they drift by O(learning rate)", () => {
  const g = new GraphBuilder();
  const seq = g.input([5, 3], "seq");
  const out = g.dense(g.rnn(seq, 4, 5), 2, { name: "out" });
  const graph = g.build({ output: out, loss: "mse", seed: 3, backend: "reference-f64" });
  assert.ok(divergence(graph, { algorithm: "zil" }) < 1e-12);
  const drift = (learningRate: number) =>
    divergence(graph, { algorithm: "zil", zil: { sharedUpdates: "immediate", learningRate } });
  const small = drift(1e-3);
  const large = drift(1e-2);
  assert.ok(small > 1e-6, `immediate updates drift (got ${small})`);
  assert.ok(large / small > 5 && large / small < 20, `drift grows in proportion to the learning rate (ratio ${large / small})`);
  graph.dispose();
});

zil("over k successive SGD steps, a Z-IL-trained and a BP-trained copy keep equal weights", () => {
  fc.assert(
    fc.property(graphArbitrary(8), fc.integer({ min: 2, max: 5 }), (drawn, steps) => {
      const a = new Graph(drawn.spec, { seed: drawn.seed, backend: "reference-f64" });
      const b = new Graph(drawn.spec, { seed: drawn.seed, backend: "reference-f64" });
      const sgd = (graph: Graph, gradients: Map<string, Tensor>) => {
        for (const p of graph.parameters) graph.backend.axpy(p.size, -0.01, gradients.get(p.name)!.address, p.tensor.address);
      };
      for (let step = 0; step < steps; step++) {
        const batchA = randomBatch(a, drawn.batch, drawn.seed + step);
        const batchB = randomBatch(b, drawn.batch, drawn.seed + step);
        const za = pcGradients(a, batchA, { algorithm: "zil" }).gradients;
        const gb = backprop(b, batchB).gradients;
        sgd(a, za);
        sgd(b, gb);
        for (const t of [...za.values(), ...gb.values(), ...Object.values(batchA.inputs), batchA.target, ...Object.values(batchB.inputs), batchB.target]) t.dispose();
      }
      const wa = a.getWeights();
      const wb = b.getWeights();
      let worst = 0;
      let scale = 0;
      for (const [name, values] of wb) values.forEach((v, i) => {
        worst = Math.max(worst, Math.abs(v - wa.get(name)![i]));
        scale = Math.max(scale, Math.abs(v));
      });
      a.dispose();
      b.dispose();
      // A random graph (e.g. log of a sigmoid) can blow up under SGD itself; that says nothing about Z-IL.
      fc.pre(Number.isFinite(scale));
      if (!(worst <= 1e-10 * Math.max(1, scale))) throw new Error(`weights differ by ${worst} after ${steps} steps on\n${describeGraph(drawn)}`);
    }),
    { numRuns: 40 },
  );
});

/**
 * Largest violation of e_v = x_v - f(x of parents) (and, at the output, e = -dL/dmu) over
 * every vertex, recomputing each prediction from the current values: relative to
 * |x| + |mu| per entry, since e is a difference of the two.
 */
export function errorUnitInconsistency(state: PCState): { worst: number; vertex: string } {
  let worst = { worst: 0, vertex: "" };
  for (const v of state.network.vertices) {
    if (v.isInput || v.level < 0) continue;
    const mu = new Tensor(state.prediction[v.index]!.shape, state.backend);
    const expected = new Tensor(mu.shape, state.backend);
    try {
      v.op!.forward(state.parentValues(v), state.params(v), mu);
      if (v.isOutput) outputError(state.network.graph.loss, mu, state.target!, expected, state.outputWeight);
      else state.backend.sub(mu.size, state.value[v.index].address, mu.address, expected.address);
      const e = state.error[v.index]!.dataSync();
      const want = expected.dataSync();
      const x = state.value[v.index].dataSync();
      const m = mu.dataSync();
      for (let i = 0; i < e.length; i++) {
        const scale = v.isOutput ? Math.abs(want[i]) + 1e-300 : Math.abs(x[i]) + Math.abs(m[i]) + 1e-300;
        const error = Math.abs(e[i] - want[i]) / scale;
        if (error > worst.worst) worst = { worst: error, vertex: v.name };
      }
    } finally {
      mu.dispose();
      expected.dispose();
    }
  }
  return worst;
}

// The full schedule runs the true PC dynamics: after every step each error unit must equal
// x - f(x of parents) for the values at that time. (The frontier schedule deliberately
// leaves errors behind the wavefront stale, since nothing reads them again.)
// Tolerance 1e-12 relative to |x| + |mu|: float64 rounding of one subtraction and one forward pass.
zil("the full Z-IL dynamics keep every error unit equal to x - f(x of parents)", () => {
  fc.assert(
    fc.property(graphArbitrary(8), (drawn) => {
      const graph = new Graph(drawn.spec, { seed: drawn.seed, backend: "reference-f64" });
      const batch = randomBatch(graph, drawn.batch, drawn.seed + 1);
      const engine = new PCEngine(graph, { algorithm: "zil", zil: { schedule: "full" } });
      try {
        engine.run(batch);
        const { worst, vertex } = errorUnitInconsistency(engine.lastState!);
        if (!(worst <= 1e-12)) throw new Error(`error units of "${vertex}" off by ${worst.toExponential(3)} (relative) on\n${describeGraph(drawn)}`);
      } finally {
        engine.dispose();
        for (const t of [...Object.values(batch.inputs), batch.target]) t.dispose();
        graph.dispose();
      }
    }),
    { numRuns: 60 },
  );
});

// The wavefront's own rule: its vertices' predictions cannot change during their step, so
// their error units move exactly as their value units do; after the run every free vertex
// still has e = x - mu with its stored prediction. At gamma = 0.5, so that a step that moved
// x and e by different amounts shows. Tolerance: float64 rounding of x + c vs e + c.
zil("the wavefront moves error units exactly as value units (e = x - mu holds with the stored prediction, gamma 0.5)", () => {
  fc.assert(
    fc.property(graphArbitrary(8), (drawn) => {
      const graph = new Graph(drawn.spec, { seed: drawn.seed, backend: "reference-f64" });
      const batch = randomBatch(graph, drawn.batch, drawn.seed + 1);
      const engine = new PCEngine(graph, { algorithm: "zil", gamma: 0.5 });
      try {
        engine.run(batch);
        const state = engine.lastState!;
        for (const v of state.network.vertices) {
          if (v.isInput || v.isOutput || v.level < 0) continue;
          const x = state.value[v.index].dataSync();
          const mu = state.prediction[v.index]!.dataSync();
          const e = state.error[v.index]!.dataSync();
          for (let i = 0; i < e.length; i++) {
            if (!(Math.abs(e[i] - (x[i] - mu[i])) <= 1e-12 * (Math.abs(x[i]) + Math.abs(mu[i])) + 1e-300))
              throw new Error(`"${v.name}"[${i}]: e ${e[i]}, x - mu ${x[i] - mu[i]} on\n${describeGraph(drawn)}`);
          }
        }
      } finally {
        engine.dispose();
        for (const t of [...Object.values(batch.inputs), batch.target]) t.dispose();
        graph.dispose();
      }
    }),
    { numRuns: 60 },
  );
});

// Unobserved (no listener, no energies), the wavefront writes only what the run reads again
// (schedules.ts, frontierStep); reading lastState completes the rest. Everything must match an
// observed run bit for bit: gradients, and after settling every value, prediction and error
// unit. Two batches through one engine, so that units and accumulators left from the first
// run cannot leak into the second.
zil("an unobserved run gives the observed run's gradients and, once its state is read, its units, bit for bit (up to the sign of zero)", () => {
  fc.assert(
    fc.property(graphArbitrary(8), fc.constantFrom<"reference-f64" | "wasm-simd">("reference-f64", "wasm-simd"), fc.constantFrom(1, 0.5),
      (drawn, backend, gamma) => {
      const graph = new Graph(drawn.spec, { seed: drawn.seed, backend });
      const batches = [randomBatch(graph, drawn.batch, drawn.seed + 1), randomBatch(graph, drawn.batch, drawn.seed + 2)];
      const quiet = new PCEngine(graph, { algorithm: "zil", gamma });
      const watched = new PCEngine(graph, { algorithm: "zil", gamma, recordEnergy: true });
      // Bits, but for the sign of a zero: the observed run forms an error as 0 + gamma * change,
      // the unobserved one as gamma * change, which differ for a change of -0 (equal numbers).
      const unsigned = (x: number) => (x === 0 ? 0 : x);
      const bits = (t: Tensor | null) => (t ? Array.from(new Uint32Array(Float32Array.from(t.dataSync(), unsigned).buffer)) : []);
      const bits64 = (t: Tensor | null) => (t ? Array.from(t.dataSync(), (x) => String(unsigned(x))) : []);
      const read = backend === "wasm-simd" ? bits : bits64;
      try {
        for (const [b, batch] of batches.entries()) {
          const quietGradients = quiet.run(batch).gradients;
          const watchedGradients = watched.run(batch).gradients;
          for (const p of graph.parameters)
            assert.equal(read(quietGradients.get(p.name)!), read(watchedGradients.get(p.name)!), `${backend} batch ${b} gradient ${p.name} on\n${describeGraph(drawn)}`);
          const [q, w] = [quiet.lastState!, watched.lastState!];
          for (const v of q.network.vertices) {
            for (const units of ["value", "prediction", "error"] as const)
              assert.equal(read(q[units][v.index]), read(w[units][v.index]), `${backend} batch ${b} ${units} of "${v.name}" on\n${describeGraph(drawn)}`);
          }
        }
      } finally {
        quiet.dispose();
        watched.dispose();
        for (const batch of batches) for (const t of [...Object.values(batch.inputs), batch.target]) t.dispose();
        graph.dispose();
      }
    }),
    { numRuns: 40 },
  );
});

// An unobserved run stores its errors negated, so its sums are the gradients themselves; the
// engine keeps them where they were accumulated. A caller's own map gets them copied, bit for
// bit the engine's, and the flag goes with zero().
zil("an accumulator's estimates land in a caller's map as in the engine's own, after negated sums", () => {
  fc.assert(
    fc.property(graphArbitrary(6), (drawn) => {
      const graph = new Graph(drawn.spec, { seed: drawn.seed, backend: "wasm-simd" });
      const batch = randomBatch(graph, drawn.batch, drawn.seed + 3);
      const engine = new PCEngine(graph, { algorithm: "zil" });
      const state = new PCState(new PCNetwork(graph, { relay: true }), drawn.batch);
      const acc = new ParameterAccumulator(graph.parameters);
      const out = new Map<string, Tensor>();
      try {
        state.load(batch);
        acc.zero();
        zeroDivergenceLearning(state, acc, {
          gamma: 1, schedule: "frontier", clock: "longest", sharedUpdates: "accumulate", learningRate: 0, recordEnergy: false,
        });
        assert.ok(acc.negated, "an unobserved accumulating run stores negated errors");
        acc.toGradients(1, out);
        const expected = engine.run(batch).gradients;
        for (const p of graph.parameters)
          assert.equal(Array.from(out.get(p.name)!.dataSync()), Array.from(expected.get(p.name)!.dataSync()), `${p.name} on\n${describeGraph(drawn)}`);
        acc.zero();
        assert.not.ok(acc.negated, "zero() clears the flag");
      } finally {
        for (const t of out.values()) t.dispose();
        acc.dispose();
        state.dispose();
        engine.dispose();
        for (const t of [...Object.values(batch.inputs), batch.target]) t.dispose();
        graph.dispose();
      }
    }),
    { numRuns: 20 },
  );
});

// Levelling is structural: with relays every edge from a free vertex that reaches the
// output descends exactly one level, and an edge spanning k levels gets exactly k - 1 relays (counted here from the
// levels of the unrelayed network).
zil("relays level every graph: each edge descends one level, with span - 1 relays per edge", () => {
  fc.assert(
    fc.property(graphArbitrary(), (drawn) => {
      const graph = new Graph(drawn.spec, { seed: drawn.seed, backend: "reference-f64" });
      try {
        const plain = new PCNetwork(graph, { relay: false });
        let expected = 0;
        for (const v of plain.vertices)
          if (!v.isInput && v.level >= 0)
            for (const { vertex: child } of v.children) if (child.level >= 0) expected += v.level - child.level - 1;
        const relayed = new PCNetwork(graph, { relay: true });
        // Clamped inputs never move, so their edges need no relay.
        for (const v of relayed.vertices)
          if (!v.isInput && v.level >= 0)
            for (const { vertex: child } of v.children)
              if (child.level >= 0 && v.level - child.level !== 1)
                throw new Error(`edge ${v.name} -> ${child.name} spans ${v.level - child.level} levels after relaying on\n${describeGraph(drawn)}`);
        if (relayed.relayCount !== expected) throw new Error(`${relayed.relayCount} relays, expected ${expected} on\n${describeGraph(drawn)}`);
      } finally {
        graph.dispose();
      }
    }),
    { numRuns: 150 },
  );
});

zil("verify reports a pass on random graphs for both backends, with the worst graph named", () => {
  const report = runVerify({ runs: 20, seed: 3 });
  assert.ok(report.passed);
  for (const backend of ["reference-f64", "wasm-simd"]) {
    assert.ok(report.maxDivergence[backend] <= divergenceTolerance[backend as "wasm-simd"]);
    assert.ok(report.worst[backend] === undefined || report.worst[backend].run < 20);
  }
});

zil.run();
